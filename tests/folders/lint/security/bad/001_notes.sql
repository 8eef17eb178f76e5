-- Security lint triggers: every rule of the security category fires on this folder.
CREATE TABLE public.open_notes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  owner_id uuid NOT NULL,
  body text NOT NULL
);

CREATE TABLE public.locked_notes (id bigint PRIMARY KEY, body text);
ALTER TABLE public.locked_notes ENABLE ROW LEVEL SECURITY;

CREATE TABLE public.half_notes (id bigint PRIMARY KEY, owner_id uuid NOT NULL);
CREATE POLICY half_notes_own ON public.half_notes FOR SELECT TO authenticated
  USING (owner_id = (SELECT auth.uid()));

CREATE VIEW public.open_notes_view AS SELECT id, body FROM public.open_notes;

CREATE VIEW public.user_emails AS SELECT id, email FROM auth.users;

CREATE FUNCTION public.note_count() RETURNS bigint LANGUAGE sql STABLE
AS $$ SELECT count(*) FROM open_notes $$;

CREATE TABLE public.staff_notes (id bigint PRIMARY KEY, body text);
ALTER TABLE public.staff_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY staff_notes_staff ON public.staff_notes FOR SELECT TO authenticated
  USING (((SELECT auth.jwt()) -> 'user_metadata' ->> 'role') = 'staff');

CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;
