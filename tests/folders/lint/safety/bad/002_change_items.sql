-- Migration-safety lint triggers: every rule of the safety category fires on this file.
CREATE INDEX items_name_idx ON public.items (name);
ALTER TABLE public.items ADD COLUMN token uuid DEFAULT gen_random_uuid();
ALTER TABLE public.items ALTER COLUMN name SET NOT NULL;
ALTER TABLE public.items ADD CONSTRAINT items_owner_fk FOREIGN KEY (owner_id) REFERENCES public.owners (id);
ALTER TABLE public.items ALTER COLUMN price TYPE bigint;
ALTER TABLE public.items DROP COLUMN legacy;
DROP TABLE public.old_items;
