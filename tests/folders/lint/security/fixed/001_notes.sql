-- The security lint triggers, fixed: no rule of the security category fires.
CREATE TABLE public.open_notes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  owner_id uuid NOT NULL,
  body text NOT NULL
);
ALTER TABLE public.open_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY open_notes_own ON public.open_notes FOR SELECT TO authenticated
  USING (owner_id = (SELECT auth.uid()));

CREATE TABLE public.locked_notes (id bigint PRIMARY KEY, body text);
ALTER TABLE public.locked_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY locked_notes_service ON public.locked_notes FOR SELECT TO service_role USING (true);

CREATE TABLE public.half_notes (id bigint PRIMARY KEY, owner_id uuid NOT NULL);
ALTER TABLE public.half_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY half_notes_own ON public.half_notes FOR SELECT TO authenticated
  USING (owner_id = (SELECT auth.uid()));

CREATE VIEW public.open_notes_view WITH (security_invoker = true) AS SELECT id, body FROM public.open_notes;

CREATE SCHEMA private;
CREATE VIEW private.user_emails AS SELECT id, email FROM auth.users;

CREATE FUNCTION public.note_count() RETURNS bigint LANGUAGE sql STABLE
SET search_path = ''
AS $$ SELECT count(*) FROM public.open_notes $$;

CREATE TABLE public.staff_notes (id bigint PRIMARY KEY, body text);
ALTER TABLE public.staff_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY staff_notes_staff ON public.staff_notes FOR SELECT TO authenticated
  USING (((SELECT auth.jwt()) -> 'app_metadata' ->> 'role') = 'staff');

CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA extensions;
