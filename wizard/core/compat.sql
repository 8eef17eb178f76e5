-- A Supabase-shaped database on a plain PostgreSQL.
--
-- Creates what migrations written for Supabase reference, with Supabase's names, columns and
-- types: the roles (anon, authenticated, service_role, authenticator and the administrative ones),
-- the extensions schema (with uuid-ossp and pgcrypto where the server has them, and on the
-- database's search_path), auth.users and the auth tables migrations join, auth.uid(), role(),
-- jwt(), email() reading the request's JWT claims, storage.buckets, storage.objects and the storage
-- helper functions, pg_graphql (schemas graphql, graphql_public) and supabase_vault (schema vault)
-- where the server has them, the schema supabase_functions of database webhooks with a stand-in
-- http_request() that records requests and sends none, realtime.messages with realtime.send() and
-- broadcast_changes() storing messages that are never broadcast, the supabase_realtime
-- publication, and Supabase's default grants.
--
-- Guarded and idempotent: running it twice changes nothing. Only the tables are made, not the
-- services that fill them (no sign-up, no file upload): migrations apply, triggers on auth.users
-- fire. It refuses to run on a Supabase project, and marks what it makes (a comment on the auth
-- schema and on the roles supabase_admin and supabase_auth_admin) so that a database shaped by it
-- is never taken for a Supabase project.

-- == Roles (shared by every database of the server) ===========================================

DO $roles$
BEGIN
  IF EXISTS (SELECT FROM pg_roles
              WHERE rolname IN ('supabase_admin', 'supabase_auth_admin')
                AND coalesce(shobj_description(oid, 'pg_authid'), '') NOT LIKE 'Made by migration-wizard%') THEN
    RAISE EXCEPTION 'this is a Supabase project: its Supabase objects are Supabase''s own'
      USING HINT = 'The Supabase compatibility step is for plain PostgreSQL only.';
  END IF;

  -- Each role is created only when missing; a run on another database of the same server may
  -- create it meanwhile, which is as good.
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN
    BEGIN CREATE ROLE anon NOLOGIN NOINHERIT;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN
    BEGIN CREATE ROLE authenticated NOLOGIN NOINHERIT;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
    BEGIN CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
  END IF;
  -- The API's login role switches to the three above; it has no password here.
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN
    BEGIN CREATE ROLE authenticator LOGIN NOINHERIT;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
  END IF;
  -- Supabase's administrative roles own its services' objects; here they cannot log in.
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'supabase_admin') THEN
    BEGIN CREATE ROLE supabase_admin NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'supabase_auth_admin') THEN
    BEGIN CREATE ROLE supabase_auth_admin NOLOGIN NOINHERIT;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'supabase_storage_admin') THEN
    BEGIN CREATE ROLE supabase_storage_admin NOLOGIN NOINHERIT;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'supabase_functions_admin') THEN
    BEGIN CREATE ROLE supabase_functions_admin NOLOGIN NOINHERIT;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dashboard_user') THEN
    BEGIN CREATE ROLE dashboard_user NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
  END IF;

  -- The mark that tells this server apart from a Supabase project. A run on another database
  -- may write the same meanwhile (a unique violation, or "tuple concurrently updated").
  IF coalesce(shobj_description((SELECT oid FROM pg_roles WHERE rolname = 'supabase_admin'), 'pg_authid'), '')
       NOT LIKE 'Made by migration-wizard%' THEN
    BEGIN COMMENT ON ROLE supabase_admin IS 'Made by migration-wizard''s Supabase compatibility step: not a Supabase project';
    EXCEPTION WHEN unique_violation OR internal_error THEN NULL; END;
  END IF;
  IF coalesce(shobj_description((SELECT oid FROM pg_roles WHERE rolname = 'supabase_auth_admin'), 'pg_authid'), '')
       NOT LIKE 'Made by migration-wizard%' THEN
    BEGIN COMMENT ON ROLE supabase_auth_admin IS 'Made by migration-wizard''s Supabase compatibility step: not a Supabase project';
    EXCEPTION WHEN unique_violation OR internal_error THEN NULL; END;
  END IF;

  IF NOT pg_has_role('authenticator', 'anon', 'MEMBER')
     OR NOT pg_has_role('authenticator', 'authenticated', 'MEMBER')
     OR NOT pg_has_role('authenticator', 'service_role', 'MEMBER') THEN
    BEGIN GRANT anon, authenticated, service_role TO authenticator;
    EXCEPTION WHEN unique_violation OR internal_error THEN NULL; END;
  END IF;
END
$roles$;

-- == Schemas and extensions ====================================================================

CREATE SCHEMA IF NOT EXISTS extensions;
CREATE SCHEMA IF NOT EXISTS auth;
CREATE SCHEMA IF NOT EXISTS storage;

-- The mark of this version of the step: raise its number whenever this file makes more, so that
-- databases shaped before get the new objects on their next run.
COMMENT ON SCHEMA auth IS 'Supabase-shaped, made by migration-wizard''s compatibility step (4): not a Supabase project';

DO $extensions$
BEGIN
  -- Supabase enables both on every project, in the extensions schema. A server without them
  -- (no contrib) gets neither: migrations that use them say so when they run.
  IF EXISTS (SELECT FROM pg_available_extensions WHERE name = 'uuid-ossp') THEN
    CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA extensions;
  END IF;
  IF EXISTS (SELECT FROM pg_available_extensions WHERE name = 'pgcrypto') THEN
    CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA extensions;
  END IF;
  -- Preinstalled on every project too, each in a schema of its own, which Supabase's dumps name
  -- ("CREATE EXTENSION IF NOT EXISTS pg_graphql WITH SCHEMA graphql": a no-op once it is there).
  -- The schemas come with the extensions, so they are made by EXECUTE, only where the server has
  -- them: on a server without, a folder's own CREATE EXTENSION of them is a pre-flight error at
  -- its line (the extension is not available), where empty schemas would only move the failure.
  IF EXISTS (SELECT FROM pg_available_extensions WHERE name = 'pg_graphql')
     AND NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_graphql') THEN
    EXECUTE 'CREATE SCHEMA IF NOT EXISTS graphql';
    EXECUTE 'CREATE SCHEMA IF NOT EXISTS graphql_public';  -- the API's entry point, graphql_public.graphql()
    CREATE EXTENSION IF NOT EXISTS pg_graphql WITH SCHEMA graphql;
    GRANT USAGE ON SCHEMA graphql, graphql_public TO anon, authenticated, service_role;
  END IF;
  IF EXISTS (SELECT FROM pg_available_extensions WHERE name = 'supabase_vault')
     AND NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'supabase_vault') THEN
    EXECUTE 'CREATE SCHEMA IF NOT EXISTS vault';
    CREATE EXTENSION IF NOT EXISTS supabase_vault WITH SCHEMA vault;
  END IF;
  -- pgsodium: preinstalled on projects made before its deprecation and in Supabase's local
  -- development, so dumps of their data fill pgsodium.key. Only the wizard's stand-in is installed:
  -- the real extension needs shared_preload_libraries and a root key the step cannot provide.
  IF EXISTS (SELECT FROM pg_available_extensions
              WHERE name = 'pgsodium' AND comment LIKE 'migration-wizard stand-in%')
     AND NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pgsodium') THEN
    EXECUTE 'CREATE EXTENSION IF NOT EXISTS pgsodium';
  END IF;
END
$extensions$;

-- Unqualified uuid_generate_v4(), crypt() ... resolve through the extensions schema, as on
-- Supabase: for every new session of this database, and for this one (the migrations of the same
-- run). The database's setting, not a role's: roles are shared with the server's other databases.
DO $search_path$
DECLARE
  setting text;
BEGIN
  SELECT s INTO setting
    FROM pg_db_role_setting d, unnest(d.setconfig) s
   WHERE d.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND d.setrole = 0 AND s LIKE 'search_path=%';
  IF setting IS NULL OR setting !~ '(^|[=, ])"?extensions"?($|,)' THEN
    BEGIN
      -- An empty path (SET search_path = '') is stored as "", which cannot start a list.
      EXECUTE format('ALTER DATABASE %I SET search_path = %s', current_database(),
                     coalesce(nullif(substr(setting, length('search_path=') + 1), '""') || ', ',
                              CASE WHEN setting IS NULL THEN '"$user", public, ' ELSE '' END) || 'extensions');
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE WARNING 'extensions is not on the database''s search_path: only its owner may set it'
        USING HINT = 'Qualify calls (extensions.uuid_generate_v4()), or have the owner run ALTER DATABASE ... SET search_path = "$user", public, extensions.';
    END;
  END IF;
  IF NOT 'extensions' = ANY (current_schemas(false)) THEN
    PERFORM set_config('search_path', current_setting('search_path') || ', extensions', false);
  END IF;
END
$search_path$;

-- == auth: the tables of Supabase Auth that migrations reference ==============================

DO $auth_types$
BEGIN
  IF to_regtype('auth.aal_level') IS NULL THEN
    CREATE TYPE auth.aal_level AS ENUM ('aal1', 'aal2', 'aal3');
  END IF;
  IF to_regtype('auth.factor_type') IS NULL THEN
    CREATE TYPE auth.factor_type AS ENUM ('totp', 'webauthn', 'phone');
  END IF;
  IF to_regtype('auth.factor_status') IS NULL THEN
    CREATE TYPE auth.factor_status AS ENUM ('unverified', 'verified');
  END IF;
  IF to_regtype('auth.code_challenge_method') IS NULL THEN
    CREATE TYPE auth.code_challenge_method AS ENUM ('s256', 'plain');
  END IF;
  IF to_regtype('auth.one_time_token_type') IS NULL THEN
    CREATE TYPE auth.one_time_token_type AS ENUM ('confirmation_token', 'reauthentication_token', 'recovery_token',
                                                  'email_change_token_new', 'email_change_token_current',
                                                  'phone_change_token');
  END IF;
END
$auth_types$;

CREATE TABLE IF NOT EXISTS auth.users (
  instance_id uuid,
  id uuid NOT NULL PRIMARY KEY,
  aud varchar(255),
  role varchar(255),
  email varchar(255),
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  invited_at timestamptz,
  confirmation_token varchar(255),
  confirmation_sent_at timestamptz,
  recovery_token varchar(255),
  recovery_sent_at timestamptz,
  email_change_token_new varchar(255),
  email_change varchar(255),
  email_change_sent_at timestamptz,
  last_sign_in_at timestamptz,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  is_super_admin boolean,
  created_at timestamptz,
  updated_at timestamptz,
  phone text UNIQUE DEFAULT NULL,
  phone_confirmed_at timestamptz,
  phone_change text DEFAULT '',
  phone_change_token varchar(255) DEFAULT '',
  phone_change_sent_at timestamptz,
  confirmed_at timestamptz GENERATED ALWAYS AS (LEAST(email_confirmed_at, phone_confirmed_at)) STORED,
  email_change_token_current varchar(255) DEFAULT '',
  email_change_confirm_status smallint DEFAULT 0 CHECK (email_change_confirm_status BETWEEN 0 AND 2),
  banned_until timestamptz,
  reauthentication_token varchar(255) DEFAULT '',
  reauthentication_sent_at timestamptz,
  is_sso_user boolean NOT NULL DEFAULT false,
  deleted_at timestamptz,
  is_anonymous boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE auth.users IS 'Auth: Stores user login data within a secure schema.';
CREATE INDEX IF NOT EXISTS users_instance_id_idx ON auth.users (instance_id);
CREATE INDEX IF NOT EXISTS users_instance_id_email_idx ON auth.users (instance_id, lower(email));
CREATE UNIQUE INDEX IF NOT EXISTS users_email_partial_key ON auth.users (email) WHERE is_sso_user = false;
CREATE INDEX IF NOT EXISTS users_is_anonymous_idx ON auth.users (is_anonymous);

CREATE TABLE IF NOT EXISTS auth.identities (
  provider_id text NOT NULL,
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  identity_data jsonb NOT NULL,
  provider text NOT NULL,
  last_sign_in_at timestamptz,
  created_at timestamptz,
  updated_at timestamptz,
  email text GENERATED ALWAYS AS (lower(identity_data ->> 'email')) STORED,
  id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  CONSTRAINT identities_provider_id_provider_unique UNIQUE (provider_id, provider)
);
CREATE INDEX IF NOT EXISTS identities_user_id_idx ON auth.identities (user_id);
CREATE INDEX IF NOT EXISTS identities_email_idx ON auth.identities (email text_pattern_ops);

CREATE TABLE IF NOT EXISTS auth.sessions (
  id uuid NOT NULL PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  created_at timestamptz,
  updated_at timestamptz,
  factor_id uuid,
  aal auth.aal_level,
  not_after timestamptz,
  refreshed_at timestamp,
  user_agent text,
  ip inet,
  tag text
);
CREATE INDEX IF NOT EXISTS sessions_user_id_idx ON auth.sessions (user_id);
CREATE INDEX IF NOT EXISTS sessions_not_after_idx ON auth.sessions (not_after DESC);
-- Columns Supabase Auth added later (a newer project's data dump names them).
ALTER TABLE auth.sessions
  ADD COLUMN IF NOT EXISTS oauth_client_id uuid,
  ADD COLUMN IF NOT EXISTS refresh_token_hmac_key text,
  ADD COLUMN IF NOT EXISTS refresh_token_counter bigint,
  ADD COLUMN IF NOT EXISTS scopes text CHECK (char_length(scopes) <= 4096);
CREATE INDEX IF NOT EXISTS user_id_created_at_idx ON auth.sessions (user_id, created_at);

CREATE TABLE IF NOT EXISTS auth.refresh_tokens (
  instance_id uuid,
  id bigserial PRIMARY KEY,
  token varchar(255) UNIQUE,
  user_id varchar(255),
  revoked boolean,
  created_at timestamptz,
  updated_at timestamptz,
  parent varchar(255),
  session_id uuid REFERENCES auth.sessions (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS refresh_tokens_instance_id_user_id_idx ON auth.refresh_tokens (instance_id, user_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_session_id_revoked_idx ON auth.refresh_tokens (session_id, revoked);

CREATE TABLE IF NOT EXISTS auth.mfa_factors (
  id uuid NOT NULL PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  friendly_name text,
  factor_type auth.factor_type NOT NULL,
  status auth.factor_status NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  secret text,
  phone text,
  last_challenged_at timestamptz UNIQUE
);
CREATE INDEX IF NOT EXISTS mfa_factors_user_id_idx ON auth.mfa_factors (user_id);
ALTER TABLE auth.mfa_factors
  ADD COLUMN IF NOT EXISTS web_authn_credential jsonb,
  ADD COLUMN IF NOT EXISTS web_authn_aaguid uuid,
  ADD COLUMN IF NOT EXISTS last_webauthn_challenge_data jsonb;

CREATE TABLE IF NOT EXISTS auth.mfa_challenges (
  id uuid NOT NULL PRIMARY KEY,
  factor_id uuid NOT NULL REFERENCES auth.mfa_factors (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  verified_at timestamptz,
  ip_address inet NOT NULL,
  otp_code text,
  web_authn_session_data jsonb
);
CREATE INDEX IF NOT EXISTS mfa_challenge_created_at_idx ON auth.mfa_challenges (created_at DESC);

-- The methods a session was authenticated with (password, otp, totp, ...).
CREATE TABLE IF NOT EXISTS auth.mfa_amr_claims (
  session_id uuid NOT NULL REFERENCES auth.sessions (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  authentication_method text NOT NULL,
  id uuid NOT NULL,
  CONSTRAINT amr_id_pk PRIMARY KEY (id),
  CONSTRAINT mfa_amr_claims_session_id_authentication_method_pkey UNIQUE (session_id, authentication_method)
);

-- PKCE and OAuth sign-ins under way.
CREATE TABLE IF NOT EXISTS auth.flow_state (
  id uuid NOT NULL PRIMARY KEY,
  user_id uuid,
  auth_code text,
  code_challenge_method auth.code_challenge_method,
  code_challenge text,
  provider_type text NOT NULL,
  provider_access_token text,
  provider_refresh_token text,
  created_at timestamptz,
  updated_at timestamptz,
  authentication_method text NOT NULL,
  auth_code_issued_at timestamptz,
  invite_token text,
  referrer text,
  oauth_client_state_id uuid,
  linking_target_id uuid,
  email_optional boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS idx_auth_code ON auth.flow_state (auth_code);
CREATE INDEX IF NOT EXISTS idx_user_id_auth_method ON auth.flow_state (user_id, authentication_method);
CREATE INDEX IF NOT EXISTS flow_state_created_at_idx ON auth.flow_state (created_at DESC);

-- Hashed confirmation, recovery and change tokens, one of each kind per user.
CREATE TABLE IF NOT EXISTS auth.one_time_tokens (
  id uuid NOT NULL PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  token_type auth.one_time_token_type NOT NULL,
  token_hash text NOT NULL CHECK (char_length(token_hash) > 0),
  relates_to text NOT NULL,
  created_at timestamp NOT NULL DEFAULT now(),
  updated_at timestamp NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS one_time_tokens_user_id_token_type_key ON auth.one_time_tokens (user_id, token_type);
CREATE INDEX IF NOT EXISTS one_time_tokens_token_hash_hash_idx ON auth.one_time_tokens USING hash (token_hash);
CREATE INDEX IF NOT EXISTS one_time_tokens_relates_to_hash_idx ON auth.one_time_tokens USING hash (relates_to);

-- Single sign-on: the identity providers, their email domains, SAML connections and requests.
CREATE TABLE IF NOT EXISTS auth.sso_providers (
  id uuid NOT NULL PRIMARY KEY,
  resource_id text CONSTRAINT "resource_id not empty" CHECK (resource_id = NULL OR char_length(resource_id) > 0),
  created_at timestamptz,
  updated_at timestamptz,
  disabled boolean
);
CREATE UNIQUE INDEX IF NOT EXISTS sso_providers_resource_id_idx ON auth.sso_providers (lower(resource_id));

CREATE TABLE IF NOT EXISTS auth.sso_domains (
  id uuid NOT NULL PRIMARY KEY,
  sso_provider_id uuid NOT NULL REFERENCES auth.sso_providers (id) ON DELETE CASCADE,
  domain text NOT NULL CONSTRAINT "domain not empty" CHECK (char_length(domain) > 0),
  created_at timestamptz,
  updated_at timestamptz
);
CREATE INDEX IF NOT EXISTS sso_domains_sso_provider_id_idx ON auth.sso_domains (sso_provider_id);
CREATE UNIQUE INDEX IF NOT EXISTS sso_domains_domain_idx ON auth.sso_domains (lower(domain));

CREATE TABLE IF NOT EXISTS auth.saml_providers (
  id uuid NOT NULL PRIMARY KEY,
  sso_provider_id uuid NOT NULL REFERENCES auth.sso_providers (id) ON DELETE CASCADE,
  entity_id text NOT NULL UNIQUE CONSTRAINT "entity_id not empty" CHECK (char_length(entity_id) > 0),
  metadata_xml text NOT NULL CONSTRAINT "metadata_xml not empty" CHECK (char_length(metadata_xml) > 0),
  metadata_url text CONSTRAINT "metadata_url not empty" CHECK (metadata_url = NULL OR char_length(metadata_url) > 0),
  attribute_mapping jsonb,
  created_at timestamptz,
  updated_at timestamptz,
  name_id_format text
);
CREATE INDEX IF NOT EXISTS saml_providers_sso_provider_id_idx ON auth.saml_providers (sso_provider_id);

CREATE TABLE IF NOT EXISTS auth.saml_relay_states (
  id uuid NOT NULL PRIMARY KEY,
  sso_provider_id uuid NOT NULL REFERENCES auth.sso_providers (id) ON DELETE CASCADE,
  request_id text NOT NULL CONSTRAINT "request_id not empty" CHECK (char_length(request_id) > 0),
  for_email text,
  redirect_to text,
  created_at timestamptz,
  updated_at timestamptz,
  flow_state_id uuid REFERENCES auth.flow_state (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS saml_relay_states_sso_provider_id_idx ON auth.saml_relay_states (sso_provider_id);
CREATE INDEX IF NOT EXISTS saml_relay_states_for_email_idx ON auth.saml_relay_states (for_email);
CREATE INDEX IF NOT EXISTS saml_relay_states_created_at_idx ON auth.saml_relay_states (created_at DESC);

CREATE TABLE IF NOT EXISTS auth.audit_log_entries (
  instance_id uuid,
  id uuid NOT NULL PRIMARY KEY,
  payload json,
  created_at timestamptz,
  ip_address varchar(64) NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_logs_instance_id_idx ON auth.audit_log_entries (instance_id);

CREATE TABLE IF NOT EXISTS auth.instances (
  id uuid NOT NULL PRIMARY KEY,
  uuid uuid,
  raw_base_config text,
  created_at timestamptz,
  updated_at timestamptz
);

-- Supabase Auth's own record of its schema's versions (empty here: no Auth server runs). Not the
-- history of the project's migrations, which is supabase_migrations.schema_migrations.
CREATE TABLE IF NOT EXISTS auth.schema_migrations (
  version varchar(255) NOT NULL PRIMARY KEY
);

-- The request's identity, read from the JWT claims PostgREST sets (request.jwt.claims), or from
-- the older one-setting-per-claim form.
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

-- == storage: the tables of Supabase Storage ===================================================

CREATE TABLE IF NOT EXISTS storage.buckets (
  id text NOT NULL PRIMARY KEY,
  name text NOT NULL,
  owner uuid,
  created_at timestamptz DEFAULT now(),
  updated_at timestamptz DEFAULT now(),
  public boolean DEFAULT false,
  avif_autodetection boolean DEFAULT false,
  file_size_limit bigint,
  allowed_mime_types text[],
  owner_id text
);
COMMENT ON COLUMN storage.buckets.owner IS 'Field is deprecated, use owner_id instead';
CREATE UNIQUE INDEX IF NOT EXISTS bname ON storage.buckets (name);

CREATE TABLE IF NOT EXISTS storage.objects (
  id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  bucket_id text,
  name text,
  owner uuid,
  created_at timestamptz DEFAULT now(),
  updated_at timestamptz DEFAULT now(),
  last_accessed_at timestamptz DEFAULT now(),
  metadata jsonb,
  path_tokens text[] GENERATED ALWAYS AS (string_to_array(name, '/')) STORED,
  version text,
  owner_id text,
  user_metadata jsonb,
  CONSTRAINT "objects_bucketId_fkey" FOREIGN KEY (bucket_id) REFERENCES storage.buckets (id)
);
COMMENT ON COLUMN storage.objects.owner IS 'Field is deprecated, use owner_id instead';
CREATE UNIQUE INDEX IF NOT EXISTS bucketid_objname ON storage.objects (bucket_id, name);
CREATE INDEX IF NOT EXISTS name_prefix_search ON storage.objects (name text_pattern_ops);

-- Access to buckets and files is decided by the policies projects write on these tables.
ALTER TABLE storage.buckets ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;

-- 'folder/sub/photo.png': foldername {folder,sub}, filename photo.png, extension png.
CREATE OR REPLACE FUNCTION storage.foldername(name text) RETURNS text[]
LANGUAGE sql IMMUTABLE
AS $$
  SELECT (string_to_array(name, '/'))[1 : array_length(string_to_array(name, '/'), 1) - 1]
$$;

CREATE OR REPLACE FUNCTION storage.filename(name text) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
  SELECT (string_to_array(name, '/'))[array_length(string_to_array(name, '/'), 1)]
$$;

CREATE OR REPLACE FUNCTION storage.extension(name text) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
  SELECT CASE WHEN storage.filename(name) LIKE '%.%'
              THEN regexp_replace(storage.filename(name), '^.*\.', '')
              ELSE '' END
$$;

-- == supabase_functions: database webhooks ======================================================

-- A webhook is a trigger executing supabase_functions.http_request(url, method, headers, params,
-- timeout_ms), which on Supabase queues the request with pg_net. Here nothing is ever sent: the
-- stand-in records the request it would make in supabase_functions.stand_in_requests, and the
-- hook in supabase_functions.hooks as Supabase does. Each object is made only when missing, so a
-- schema of that name made otherwise keeps its own function.
CREATE SCHEMA IF NOT EXISTS supabase_functions;

CREATE TABLE IF NOT EXISTS supabase_functions.hooks (
  id bigserial PRIMARY KEY,
  hook_table_id integer NOT NULL,
  hook_name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  request_id bigint
);
COMMENT ON TABLE supabase_functions.hooks IS 'Supabase Functions Hooks: Audit trail for triggered hooks.';
CREATE INDEX IF NOT EXISTS supabase_functions_hooks_request_id_idx ON supabase_functions.hooks (request_id);
CREATE INDEX IF NOT EXISTS supabase_functions_hooks_h_table_id_h_name_idx ON supabase_functions.hooks (hook_table_id, hook_name);

CREATE TABLE IF NOT EXISTS supabase_functions.stand_in_requests (
  id bigserial PRIMARY KEY,
  hook_table_id integer NOT NULL,
  hook_name text NOT NULL,
  method text NOT NULL,
  url text NOT NULL,
  headers jsonb NOT NULL,
  params jsonb NOT NULL,
  timeout_milliseconds integer NOT NULL,
  payload jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE supabase_functions.stand_in_requests IS
  'migration-wizard stand-in: the requests supabase_functions.http_request() would send (payload: the POST body). None was sent; not a Supabase table';

DO $webhooks$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname = 'supabase_functions' AND p.proname = 'http_request') THEN
    CREATE FUNCTION supabase_functions.http_request() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = supabase_functions
    AS $body$
    DECLARE
      url text := TG_ARGV[0];
      method text := TG_ARGV[1];
      headers jsonb := '{"Content-Type": "application/json"}';
      params jsonb := '{}';
      timeout_ms integer := 1000;
      payload jsonb;
      request bigint;
    BEGIN
      IF url IS NULL OR url = 'null' THEN
        RAISE EXCEPTION 'url argument is missing';
      END IF;
      IF method IS NULL OR method = 'null' THEN
        RAISE EXCEPTION 'method argument is missing';
      END IF;
      IF TG_ARGV[2] IS NOT NULL AND TG_ARGV[2] <> 'null' THEN
        headers := TG_ARGV[2]::jsonb;
      END IF;
      IF TG_ARGV[3] IS NOT NULL AND TG_ARGV[3] <> 'null' THEN
        params := TG_ARGV[3]::jsonb;
      END IF;
      IF TG_ARGV[4] IS NOT NULL AND TG_ARGV[4] <> 'null' THEN
        timeout_ms := TG_ARGV[4]::integer;
      END IF;
      IF method = 'POST' THEN
        payload := jsonb_build_object('old_record', OLD, 'record', NEW, 'type', TG_OP,
                                      'table', TG_TABLE_NAME, 'schema', TG_TABLE_SCHEMA);
      ELSIF method <> 'GET' THEN
        RAISE EXCEPTION 'method argument % is invalid', method;
      END IF;
      INSERT INTO supabase_functions.stand_in_requests
             (hook_table_id, hook_name, method, url, headers, params, timeout_milliseconds, payload)
      VALUES (TG_RELID, TG_NAME, method, url, headers, params, timeout_ms, payload)
      RETURNING id INTO request;
      INSERT INTO supabase_functions.hooks (hook_table_id, hook_name, request_id) VALUES (TG_RELID, TG_NAME, request);
      RETURN NEW;
    END
    $body$;
    COMMENT ON FUNCTION supabase_functions.http_request() IS
      'migration-wizard stand-in: records the request in supabase_functions.stand_in_requests and never sends it';
  END IF;
END
$webhooks$;

-- == realtime ==================================================================================

-- Broadcast from the database: realtime.send() and realtime.broadcast_changes() store a message in
-- realtime.messages, whose policies decide who may receive it on a topic (realtime.topic()). Here
-- the messages are stored and never broadcast (no Realtime server runs), in one table, where
-- Supabase keeps one partition per day.
CREATE SCHEMA IF NOT EXISTS realtime;

CREATE TABLE IF NOT EXISTS realtime.messages (
  topic text NOT NULL,
  extension text NOT NULL,
  payload jsonb,
  event text,
  private boolean DEFAULT false,
  updated_at timestamp NOT NULL DEFAULT now(),
  inserted_at timestamp NOT NULL DEFAULT now(),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  PRIMARY KEY (id, inserted_at)
);
ALTER TABLE realtime.messages ENABLE ROW LEVEL SECURITY;

DO $broadcast$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname = 'realtime' AND p.proname = 'topic') THEN
    -- The topic of the message being sent or received, for policies on realtime.messages.
    CREATE FUNCTION realtime.topic() RETURNS text
    LANGUAGE sql STABLE
    AS $body$ SELECT nullif(current_setting('realtime.topic', true), '')::text $body$;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname = 'realtime' AND p.proname = 'send') THEN
    CREATE FUNCTION realtime.send(payload jsonb, event text, topic text, private boolean DEFAULT true) RETURNS void
    LANGUAGE plpgsql
    AS $body$
    BEGIN
      BEGIN
        PERFORM set_config('realtime.topic', topic, true);
        INSERT INTO realtime.messages (payload, event, topic, private, extension)
        VALUES (payload, event, topic, private, 'broadcast');
      EXCEPTION WHEN OTHERS THEN
        -- As on Supabase: a message that cannot be stored does not fail the sender's statement.
        RAISE WARNING 'ErrorSendingBroadcastMessage: %', SQLERRM;
      END;
    END
    $body$;
    COMMENT ON FUNCTION realtime.send(jsonb, text, text, boolean) IS
      'migration-wizard stand-in: stores the message in realtime.messages; nothing is broadcast';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname = 'realtime' AND p.proname = 'broadcast_changes') THEN
    -- Called by a row trigger: realtime.broadcast_changes('topic', TG_OP, TG_OP, TG_TABLE_NAME,
    -- TG_TABLE_SCHEMA, NEW, OLD).
    CREATE FUNCTION realtime.broadcast_changes(topic_name text, event_name text, operation text, table_name text,
                                               table_schema text, new record, old record, level text DEFAULT 'ROW')
    RETURNS void
    LANGUAGE plpgsql
    AS $body$
    BEGIN
      IF level = 'STATEMENT' THEN
        RAISE EXCEPTION 'function can only be triggered for each row, not for each statement';
      END IF;
      IF operation NOT IN ('INSERT', 'UPDATE', 'DELETE') THEN
        RAISE EXCEPTION 'Unexpected operation type: %', operation;
      END IF;
      PERFORM realtime.send(jsonb_build_object('old_record', old, 'record', new, 'operation', operation,
                                               'table', table_name, 'schema', table_schema),
                            event_name, topic_name);
    END
    $body$;
    COMMENT ON FUNCTION realtime.broadcast_changes(text, text, text, text, text, record, record, text) IS
      'migration-wizard stand-in: stores the change as a message in realtime.messages; nothing is broadcast';
  END IF;
END
$broadcast$;

DO $realtime$
BEGIN
  -- Empty, as on a new project: migrations add their tables to it.
  IF NOT EXISTS (SELECT FROM pg_publication WHERE pubname = 'supabase_realtime') THEN
    CREATE PUBLICATION supabase_realtime;
  END IF;
END
$realtime$;

-- == Grants, as Supabase makes them ============================================================

GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;

GRANT USAGE ON SCHEMA extensions TO anon, authenticated, service_role;
GRANT ALL ON SCHEMA extensions TO dashboard_user;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA extensions TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA extensions GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA extensions GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA extensions GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;

-- The API roles may call auth's functions but not read its tables.
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
GRANT ALL ON SCHEMA auth TO supabase_auth_admin, dashboard_user;
GRANT ALL ON ALL TABLES IN SCHEMA auth TO supabase_auth_admin, dashboard_user;
GRANT ALL ON ALL SEQUENCES IN SCHEMA auth TO supabase_auth_admin, dashboard_user;
GRANT EXECUTE ON FUNCTION auth.uid(), auth.role(), auth.jwt(), auth.email()
  TO anon, authenticated, service_role, dashboard_user;

GRANT USAGE ON SCHEMA storage TO anon, authenticated, service_role;
GRANT ALL ON SCHEMA storage TO supabase_storage_admin, dashboard_user;
GRANT ALL ON storage.buckets, storage.objects TO anon, authenticated, service_role, supabase_storage_admin, dashboard_user;
GRANT EXECUTE ON FUNCTION storage.foldername(text), storage.filename(text), storage.extension(text)
  TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA storage GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA storage GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA storage GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;

GRANT USAGE ON SCHEMA supabase_functions TO anon, authenticated, service_role;
GRANT ALL ON SCHEMA supabase_functions TO supabase_functions_admin;
GRANT ALL ON supabase_functions.hooks, supabase_functions.stand_in_requests
  TO anon, authenticated, service_role, supabase_functions_admin;
GRANT ALL ON SEQUENCE supabase_functions.hooks_id_seq, supabase_functions.stand_in_requests_id_seq
  TO anon, authenticated, service_role, supabase_functions_admin;
REVOKE ALL ON FUNCTION supabase_functions.http_request() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION supabase_functions.http_request() TO anon, authenticated, service_role, supabase_functions_admin;
ALTER DEFAULT PRIVILEGES IN SCHEMA supabase_functions GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA supabase_functions GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA supabase_functions GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;

GRANT USAGE ON SCHEMA realtime TO anon, authenticated, service_role;
GRANT ALL ON realtime.messages TO anon, authenticated, service_role, dashboard_user;
GRANT EXECUTE ON FUNCTION realtime.topic() TO anon, authenticated, service_role;
