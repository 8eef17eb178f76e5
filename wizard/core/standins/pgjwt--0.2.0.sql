-- migration-wizard stand-in for the pgjwt extension, for the wizard's local database only.
-- Written in SQL from the JSON Web Token specification (RFC 7519, HMAC algorithms of RFC 7518):
-- not the real extension. sign() and verify() work for HS256, HS384 and HS512, with pgcrypto's
-- hmac() (wherever pgcrypto is installed: @extschema:pgcrypto@).

\echo Use "CREATE EXTENSION pgjwt" to load this file. \quit

CREATE FUNCTION @extschema@.url_encode(data bytea) RETURNS text
LANGUAGE sql IMMUTABLE
AS $body$ SELECT pg_catalog.translate(pg_catalog.encode(data, 'base64'), E'+/=\n', '-_') $body$;

CREATE FUNCTION @extschema@.url_decode(data text) RETURNS bytea
LANGUAGE sql IMMUTABLE
AS $body$
    SELECT pg_catalog.decode(
        pg_catalog.rpad(pg_catalog.translate(data, '-_', '+/'),
                        ((pg_catalog.length(data) + 3) / 4) * 4, '='),
        'base64')
$body$;

CREATE FUNCTION @extschema@.algorithm_sign(signables text, secret text, algorithm text) RETURNS text
LANGUAGE sql IMMUTABLE
AS $body$
    SELECT @extschema@.url_encode(@extschema:pgcrypto@.hmac(
        signables, secret,
        CASE algorithm WHEN 'HS256' THEN 'sha256' WHEN 'HS384' THEN 'sha384' WHEN 'HS512' THEN 'sha512'
                       ELSE '' END))
$body$;

CREATE FUNCTION @extschema@.sign(payload json, secret text, algorithm text DEFAULT 'HS256') RETURNS text
LANGUAGE sql IMMUTABLE
AS $body$
    WITH parts AS (
        SELECT @extschema@.url_encode(pg_catalog.convert_to('{"alg":"' || algorithm || '","typ":"JWT"}', 'UTF8'))
                   || '.' || @extschema@.url_encode(pg_catalog.convert_to(payload::text, 'UTF8')) AS signables
    )
    SELECT parts.signables || '.' || @extschema@.algorithm_sign(parts.signables, secret, algorithm) FROM parts
$body$;

CREATE FUNCTION @extschema@.try_cast_double(inp text) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE
AS $body$
BEGIN
    RETURN inp::double precision;
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END
$body$;

-- Valid: the signature matches, and now is between "nbf" and "exp" when the token has them.
CREATE FUNCTION @extschema@.verify(token text, secret text, algorithm text DEFAULT 'HS256')
RETURNS TABLE (header json, payload json, valid boolean)
LANGUAGE sql IMMUTABLE
AS $body$
    WITH parts AS (
        SELECT pg_catalog.string_to_array(token, '.') AS r
    ), decoded AS (
        SELECT pg_catalog.convert_from(@extschema@.url_decode(r[1]), 'UTF8')::json AS header,
               pg_catalog.convert_from(@extschema@.url_decode(r[2]), 'UTF8')::json AS payload,
               r[3] = @extschema@.algorithm_sign(r[1] || '.' || r[2], secret, algorithm) AS signature_ok
          FROM parts
    )
    SELECT header, payload,
           signature_ok AND pg_catalog.tstzrange(
               pg_catalog.to_timestamp(@extschema@.try_cast_double(payload ->> 'nbf')),
               pg_catalog.to_timestamp(@extschema@.try_cast_double(payload ->> 'exp'))
           ) @> CURRENT_TIMESTAMP
      FROM decoded
$body$;

DO $standin$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure
               FROM pg_catalog.pg_proc p
               JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid
                                          AND d.deptype = 'e'
               JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'pgjwt'
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON FUNCTION %s IS %L', f,
            'migration-wizard stand-in: not the real pgjwt; HS256, HS384 and HS512 only');
    END LOOP;
END
$standin$;
