-- The address order events go to is kept in Vault; a function reads it back.
select vault.create_secret('https://hooks.example.invalid/orders', 'order_events_url', 'Where order events are posted');

create or replace function public.order_events_url()
returns text
language sql
security definer
set search_path = ''
as $$
  select decrypted_secret from vault.decrypted_secrets where name = 'order_events_url'
$$;

revoke all on function public.order_events_url() from public, anon, authenticated;
