-- A database webhook, as the dashboard makes one: every new order is posted to an edge function.
create trigger "order-created"
  after insert on public.orders
  for each row
  execute function supabase_functions.http_request(
    'https://project-ref.supabase.invalid/functions/v1/order-created',
    'POST',
    '{"Content-Type":"application/json","Authorization":"Bearer not-a-real-key"}',
    '{"source":"database"}',
    '2500'
  );
