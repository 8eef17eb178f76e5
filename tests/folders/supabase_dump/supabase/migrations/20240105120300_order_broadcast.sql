-- Each customer hears about their own orders on a private channel, "orders:<their id>".
create or replace function public.broadcast_order_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform realtime.broadcast_changes(
    'orders:' || coalesce(new.customer_id, old.customer_id)::text,
    tg_op, tg_op, tg_table_name, tg_table_schema, new, old
  );
  return null;
end;
$$;

create trigger broadcast_order_change
  after insert or update or delete on public.orders
  for each row execute function public.broadcast_order_change();

create policy "customers hear their own orders" on realtime.messages
  for select to authenticated
  using (realtime.topic() = 'orders:' || (select auth.uid())::text);
