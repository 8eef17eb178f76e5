-- migration-wizard stand-in for the pg_graphql extension, for the wizard's local database only.
-- Not the real extension: the schemas graphql and graphql_public and their entry points exist, so
-- that migrations granting on them or commenting for them apply; every query is answered with a
-- GraphQL error saying that the local database has no GraphQL.

\echo Use "CREATE EXTENSION pg_graphql" to load this file. \quit

-- "CREATE EXTENSION pg_graphql WITH SCHEMA graphql" (as Supabase's dumps write it) needs the
-- schema first; plain "CREATE EXTENSION pg_graphql" does not: create each only when missing.
DO $standin$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = 'graphql') THEN
        CREATE SCHEMA graphql;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = 'graphql_public') THEN
        CREATE SCHEMA graphql_public;
    END IF;
END
$standin$;

CREATE FUNCTION graphql.resolve(query text, variables jsonb DEFAULT '{}'::jsonb,
                                "operationName" text DEFAULT NULL, extensions jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql STABLE
AS $body$
    SELECT pg_catalog.jsonb_build_object('errors', pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
        'message', 'migration-wizard stand-in: the local database has no GraphQL (pg_graphql is a stand-in)')))
$body$;
COMMENT ON FUNCTION graphql.resolve(text, jsonb, text, jsonb) IS
    'migration-wizard stand-in: not the real pg_graphql; answers every query with an error';

-- Supabase's own entry point, when nothing made it yet.
DO $standin$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname = 'graphql_public' AND p.proname = 'graphql') THEN
        CREATE FUNCTION graphql_public.graphql("operationName" text DEFAULT NULL, query text DEFAULT NULL,
                                               variables jsonb DEFAULT NULL, extensions jsonb DEFAULT NULL)
        RETURNS jsonb
        LANGUAGE sql STABLE
        AS $body$ SELECT graphql.resolve(query, coalesce(variables, '{}'::jsonb), "operationName", extensions) $body$;
        COMMENT ON FUNCTION graphql_public.graphql(text, text, jsonb, jsonb) IS
            'migration-wizard stand-in: not the real pg_graphql; answers every query with an error';
    END IF;
END
$standin$;

GRANT USAGE ON SCHEMA graphql, graphql_public TO PUBLIC;
