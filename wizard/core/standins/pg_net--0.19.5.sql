-- migration-wizard stand-in for the pg_net extension, for the wizard's local database only.
-- Written in SQL and PL/pgSQL: not the real extension. net.http_get/http_post/http_delete record
-- the request in net.http_request_queue and return its id, as pg_net does, but no worker exists:
-- nothing is ever sent, and net._http_response stays empty.

\echo Use "CREATE EXTENSION pg_net" to load this file. \quit

CREATE SCHEMA net;
COMMENT ON SCHEMA net IS 'migration-wizard stand-in: not the real pg_net; requests are recorded and never sent';

CREATE DOMAIN net.http_method AS text CHECK (VALUE IN ('GET', 'POST', 'DELETE'));

CREATE TABLE net.http_request_queue (
    id bigserial PRIMARY KEY,
    method net.http_method NOT NULL,
    url text NOT NULL,
    headers jsonb NOT NULL,
    body bytea,
    timeout_milliseconds integer NOT NULL
);
COMMENT ON TABLE net.http_request_queue IS
    'migration-wizard stand-in: not the real pg_net; the requests recorded here are never sent';

CREATE TABLE net._http_response (
    id bigint,
    status_code integer,
    content_type text,
    headers jsonb,
    content text,
    timed_out boolean,
    error_msg text,
    created timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE net._http_response IS
    'migration-wizard stand-in: not the real pg_net; stays empty, no request is ever sent';

CREATE FUNCTION net.standin_urlencode(value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT
SET search_path = pg_catalog
AS $body$
DECLARE
    bytes bytea := convert_to(value, 'UTF8');
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
COMMENT ON FUNCTION net.standin_urlencode(text) IS
    'migration-wizard stand-in: percent-encoding of query parameters; not part of the real pg_net';

-- The URL with the query parameters appended (percent-encoded).
CREATE FUNCTION net.standin_url(url text, params jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog
AS $body$
DECLARE
    query text;
BEGIN
    IF params IS NULL OR params = '{}'::jsonb THEN
        RETURN url;
    END IF;
    SELECT string_agg(net.standin_urlencode(key) || '=' || net.standin_urlencode(value), '&' ORDER BY key)
      INTO query FROM jsonb_each_text(params);
    RETURN url || CASE WHEN position('?' IN url) > 0 THEN '&' ELSE '?' END || query;
END
$body$;
COMMENT ON FUNCTION net.standin_url(text, jsonb) IS
    'migration-wizard stand-in: helper of the request functions; not part of the real pg_net';

CREATE FUNCTION net.http_get(url text, params jsonb DEFAULT '{}'::jsonb, headers jsonb DEFAULT '{}'::jsonb,
                             timeout_milliseconds integer DEFAULT 5000)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog
AS $body$
DECLARE
    id bigint;
BEGIN
    INSERT INTO net.http_request_queue (method, url, headers, body, timeout_milliseconds)
        VALUES ('GET', net.standin_url(url, params), coalesce(headers, '{}'::jsonb), NULL, timeout_milliseconds)
        RETURNING http_request_queue.id INTO id;
    RETURN id;
END
$body$;
COMMENT ON FUNCTION net.http_get(text, jsonb, jsonb, integer) IS
    'migration-wizard stand-in: not the real pg_net; records the request, never sends it';

CREATE FUNCTION net.http_post(url text, body jsonb DEFAULT '{}'::jsonb, params jsonb DEFAULT '{}'::jsonb,
                              headers jsonb DEFAULT '{"Content-Type": "application/json"}'::jsonb,
                              timeout_milliseconds integer DEFAULT 5000)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog
AS $body$
DECLARE
    id bigint;
BEGIN
    INSERT INTO net.http_request_queue (method, url, headers, body, timeout_milliseconds)
        VALUES ('POST', net.standin_url(url, params), coalesce(headers, '{}'::jsonb),
                convert_to(coalesce(body::text, ''), 'UTF8'), timeout_milliseconds)
        RETURNING http_request_queue.id INTO id;
    RETURN id;
END
$body$;
COMMENT ON FUNCTION net.http_post(text, jsonb, jsonb, jsonb, integer) IS
    'migration-wizard stand-in: not the real pg_net; records the request, never sends it';

CREATE FUNCTION net.http_delete(url text, params jsonb DEFAULT '{}'::jsonb, headers jsonb DEFAULT '{}'::jsonb,
                                timeout_milliseconds integer DEFAULT 5000, body jsonb DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog
AS $body$
DECLARE
    id bigint;
BEGIN
    INSERT INTO net.http_request_queue (method, url, headers, body, timeout_milliseconds)
        VALUES ('DELETE', net.standin_url(url, params), coalesce(headers, '{}'::jsonb),
                convert_to(body::text, 'UTF8'), timeout_milliseconds)
        RETURNING http_request_queue.id INTO id;
    RETURN id;
END
$body$;
COMMENT ON FUNCTION net.http_delete(text, jsonb, jsonb, integer, jsonb) IS
    'migration-wizard stand-in: not the real pg_net; records the request, never sends it';

GRANT USAGE ON SCHEMA net TO PUBLIC;
