-- Performance lint triggers: every rule of the performance category fires on this folder.
CREATE TABLE public.customers (id bigint PRIMARY KEY, owner_id uuid NOT NULL);
ALTER TABLE public.customers ENABLE ROW LEVEL SECURITY;
CREATE POLICY customers_own ON public.customers FOR SELECT TO authenticated
  USING (owner_id = auth.uid());

CREATE TABLE public.orders (
  id bigint PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES public.customers (id),
  placed_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE public.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_recent ON public.orders FOR SELECT TO authenticated
  USING (placed_at > now() - interval '30 days');
CREATE POLICY orders_all_staff ON public.orders FOR ALL TO authenticated
  USING ((SELECT auth.jwt()) ->> 'role' = 'staff');
CREATE INDEX orders_placed_at_idx ON public.orders (placed_at);
CREATE INDEX orders_placed_at_again ON public.orders (placed_at);

CREATE TABLE public.order_events (order_id bigint, happened_at timestamptz);
ALTER TABLE public.order_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY order_events_staff ON public.order_events FOR SELECT TO authenticated
  USING ((SELECT auth.jwt()) ->> 'role' = 'staff');
