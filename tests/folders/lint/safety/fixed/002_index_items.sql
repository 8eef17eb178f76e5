-- wizard:no-transaction
CREATE INDEX CONCURRENTLY items_name_idx ON public.items (name);
