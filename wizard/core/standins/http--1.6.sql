-- migration-wizard stand-in for the http extension (pgsql-http), for the wizard's local database only.
-- Written in SQL and PL/pgSQL: not the real extension. Its types and functions exist, so that
-- migrations creating functions, triggers and views that call them apply. A call records the
-- request in @extschema@.http_standin_requests, sends nothing, and returns a fake response:
-- status 501, text/plain, a body saying so.

\echo Use "CREATE EXTENSION http" to load this file. \quit

CREATE DOMAIN @extschema@.http_method AS text
    CHECK (VALUE ILIKE 'get' OR VALUE ILIKE 'post' OR VALUE ILIKE 'put' OR VALUE ILIKE 'delete'
           OR VALUE ILIKE 'patch' OR VALUE ILIKE 'head');
CREATE DOMAIN @extschema@.content_type AS text CHECK (VALUE ~ '^\S+\/\S+');

CREATE TYPE @extschema@.http_header AS (field varchar, value varchar);
CREATE TYPE @extschema@.http_response AS (
    status integer,
    content_type varchar,
    headers @extschema@.http_header[],
    content varchar
);
CREATE TYPE @extschema@.http_request AS (
    method @extschema@.http_method,
    uri varchar,
    headers @extschema@.http_header[],
    content_type varchar,
    content varchar
);

CREATE TABLE @extschema@.http_standin_requests (
    id bigserial PRIMARY KEY,
    method text NOT NULL,
    uri text NOT NULL,
    headers @extschema@.http_header[],
    content_type text,
    content text,
    created timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE @extschema@.http_standin_requests IS
    'migration-wizard stand-in: not part of the real http extension; the requests recorded here were never sent';

CREATE FUNCTION @extschema@.http(request @extschema@.http_request) RETURNS @extschema@.http_response
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog
AS $body$
BEGIN
    INSERT INTO @extschema@.http_standin_requests (method, uri, headers, content_type, content)
        VALUES (upper(request.method), request.uri, request.headers, request.content_type, request.content);
    RETURN ROW(501, 'text/plain', ARRAY[]::@extschema@.http_header[],
               'migration-wizard stand-in: the request was recorded, not sent (the local database has no real http extension)'
              )::@extschema@.http_response;
END
$body$;
COMMENT ON FUNCTION @extschema@.http(@extschema@.http_request) IS
    'migration-wizard stand-in: not the real http; records the request, never sends it, returns a fake 501';

CREATE FUNCTION @extschema@.http_header(field varchar, value varchar) RETURNS @extschema@.http_header
LANGUAGE sql IMMUTABLE
AS $body$ SELECT ROW($1, $2)::@extschema@.http_header $body$;

CREATE FUNCTION @extschema@.urlencode(string varchar) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT
SET search_path = pg_catalog
AS $body$
DECLARE
    bytes bytea := convert_to(string, 'UTF8');
    result text := '';
    b int;
BEGIN
    FOR i IN 0 .. length(bytes) - 1 LOOP
        b := get_byte(bytes, i);
        IF b < 128 AND chr(b) ~ '[A-Za-z0-9._~-]' THEN
            result := result || chr(b);
        ELSE
            result := result || '%' || upper(lpad(to_hex(b), 2, '0'));
        END IF;
    END LOOP;
    RETURN result;
END
$body$;

CREATE FUNCTION @extschema@.urlencode(data jsonb) RETURNS text
LANGUAGE sql IMMUTABLE STRICT
AS $body$
    SELECT coalesce(string_agg(@extschema@.urlencode(key) || '=' || @extschema@.urlencode(value), '&'), '')
      FROM jsonb_each_text($1)
$body$;

CREATE FUNCTION @extschema@.http_get(uri varchar) RETURNS @extschema@.http_response
LANGUAGE sql
AS $body$ SELECT @extschema@.http(ROW('GET', $1, NULL, NULL, NULL)::@extschema@.http_request) $body$;

CREATE FUNCTION @extschema@.http_get(uri varchar, data jsonb) RETURNS @extschema@.http_response
LANGUAGE sql
AS $body$
    SELECT @extschema@.http(ROW('GET', $1 || '?' || @extschema@.urlencode($2), NULL, NULL, NULL)::@extschema@.http_request)
$body$;

CREATE FUNCTION @extschema@.http_post(uri varchar, content varchar, content_type varchar) RETURNS @extschema@.http_response
LANGUAGE sql
AS $body$ SELECT @extschema@.http(ROW('POST', $1, NULL, $3, $2)::@extschema@.http_request) $body$;

CREATE FUNCTION @extschema@.http_post(uri varchar, data jsonb) RETURNS @extschema@.http_response
LANGUAGE sql
AS $body$
    SELECT @extschema@.http(ROW('POST', $1, NULL, 'application/x-www-form-urlencoded',
                                @extschema@.urlencode($2))::@extschema@.http_request)
$body$;

CREATE FUNCTION @extschema@.http_put(uri varchar, content varchar, content_type varchar) RETURNS @extschema@.http_response
LANGUAGE sql
AS $body$ SELECT @extschema@.http(ROW('PUT', $1, NULL, $3, $2)::@extschema@.http_request) $body$;

CREATE FUNCTION @extschema@.http_patch(uri varchar, content varchar, content_type varchar) RETURNS @extschema@.http_response
LANGUAGE sql
AS $body$ SELECT @extschema@.http(ROW('PATCH', $1, NULL, $3, $2)::@extschema@.http_request) $body$;

CREATE FUNCTION @extschema@.http_delete(uri varchar) RETURNS @extschema@.http_response
LANGUAGE sql
AS $body$ SELECT @extschema@.http(ROW('DELETE', $1, NULL, NULL, NULL)::@extschema@.http_request) $body$;

CREATE FUNCTION @extschema@.http_delete(uri varchar, content varchar, content_type varchar) RETURNS @extschema@.http_response
LANGUAGE sql
AS $body$ SELECT @extschema@.http(ROW('DELETE', $1, NULL, $3, $2)::@extschema@.http_request) $body$;

CREATE FUNCTION @extschema@.http_head(uri varchar) RETURNS @extschema@.http_response
LANGUAGE sql
AS $body$ SELECT @extschema@.http(ROW('HEAD', $1, NULL, NULL, NULL)::@extschema@.http_request) $body$;

-- libcurl options: accepted and kept nowhere (no request is ever made).
CREATE FUNCTION @extschema@.http_set_curlopt(curlopt varchar, value varchar) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $body$ SELECT true $body$;
CREATE FUNCTION @extschema@.http_reset_curlopt() RETURNS boolean
LANGUAGE sql IMMUTABLE AS $body$ SELECT true $body$;
CREATE FUNCTION @extschema@.http_list_curlopt(OUT curlopt text, OUT value text) RETURNS SETOF record
LANGUAGE sql IMMUTABLE AS $body$ SELECT NULL::text, NULL::text WHERE false $body$;

DO $standin$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure
               FROM pg_catalog.pg_proc p
               JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid
                                          AND d.deptype = 'e'
               JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'http'
              WHERE pg_catalog.obj_description(p.oid, 'pg_proc') IS NULL
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON FUNCTION %s IS %L', f,
            'migration-wizard stand-in: not the real http; no request is ever sent, responses are a fake 501');
    END LOOP;
END
$standin$;
