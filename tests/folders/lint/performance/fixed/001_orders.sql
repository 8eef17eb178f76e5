-- The performance lint triggers, fixed: no rule of the performance category fires.
CREATE TABLE public.customers (id bigint PRIMARY KEY, owner_id uuid NOT NULL);
ALTER TABLE public.customers ENABLE ROW LEVEL SECURITY;
CREATE POLICY customers_own ON public.customers FOR SELECT TO authenticated
  USING (owner_id = (SELECT auth.uid()));

CREATE TABLE public.orders (
  id bigint PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES public.customers (id),
  placed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_id_idx ON public.orders (customer_id);
ALTER TABLE public.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_select ON public.orders FOR SELECT TO authenticated
  USING (placed_at > now() - interval '30 days' OR (SELECT auth.jwt()) ->> 'role' = 'staff');
CREATE POLICY orders_insert_staff ON public.orders FOR INSERT TO authenticated
  WITH CHECK ((SELECT auth.jwt()) ->> 'role' = 'staff');
CREATE POLICY orders_update_staff ON public.orders FOR UPDATE TO authenticated
  USING ((SELECT auth.jwt()) ->> 'role' = 'staff');
CREATE POLICY orders_delete_staff ON public.orders FOR DELETE TO authenticated
  USING ((SELECT auth.jwt()) ->> 'role' = 'staff');
CREATE INDEX orders_placed_at_idx ON public.orders (placed_at);

CREATE TABLE public.order_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id bigint,
  happened_at timestamptz
);
ALTER TABLE public.order_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY order_events_staff ON public.order_events FOR SELECT TO authenticated
  USING ((SELECT auth.jwt()) ->> 'role' = 'staff');
