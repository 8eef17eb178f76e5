-- Supabase compatibility objects for a plain PostgreSQL.
-- Creates what migrations written for Supabase expect: the roles anon, authenticated and
-- service_role, and auth.uid(), auth.role(), auth.jwt(), auth.email() reading the request's JWT
-- claims the way Supabase does. Guarded and idempotent: running it twice changes nothing, and the
-- wizard never runs it on a Supabase project.
DO $compat$
DECLARE
  wanted text[][] := ARRAY[['anon', 'NOLOGIN NOINHERIT'],
                           ['authenticated', 'NOLOGIN NOINHERIT'],
                           ['service_role', 'NOLOGIN NOINHERIT BYPASSRLS']];
BEGIN
  FOR i IN 1 .. array_length(wanted, 1) LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = wanted[i][1]) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I %s', wanted[i][1], wanted[i][2]);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;  -- created meanwhile by a run on another database of the same server
      END;
    END IF;
  END LOOP;
END
$compat$;

CREATE SCHEMA IF NOT EXISTS auth;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;

CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb
LANGUAGE sql STABLE
AS $$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid
LANGUAGE sql STABLE
AS $$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

CREATE OR REPLACE FUNCTION auth.role() RETURNS text
LANGUAGE sql STABLE
AS $$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

CREATE OR REPLACE FUNCTION auth.email() RETURNS text
LANGUAGE sql STABLE
AS $$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;

GRANT EXECUTE ON FUNCTION auth.uid(), auth.role(), auth.jwt(), auth.email()
  TO anon, authenticated, service_role;
