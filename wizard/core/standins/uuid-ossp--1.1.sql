-- migration-wizard stand-in for the uuid-ossp extension, for the wizard's local database only.
-- Written in SQL and PL/pgSQL over PostgreSQL's built-ins: not the real extension.
-- What differs: uuid_generate_v1() puts a random multicast node in place of the machine's MAC
-- address (as uuid_generate_v1mc() does). Versions 3, 4 and 5 are exact.
-- Function bodies are SQL-standard (BEGIN ATOMIC): they resolve their references when created, so
-- the extension can live in any schema (CREATE EXTENSION ... WITH SCHEMA extensions).

\echo Use "CREATE EXTENSION ""uuid-ossp""" to load this file. \quit

-- SHA-1 is not built into PostgreSQL (md5 and the SHA-2 family are): version 5 needs it.
CREATE FUNCTION uuid_ossp_standin_sha1(data bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $body$
DECLARE
    mask constant bigint := 4294967295;
    h0 bigint := 1732584193;   -- 0x67452301
    h1 bigint := 4023233417;   -- 0xEFCDAB89
    h2 bigint := 2562383102;   -- 0x98BADCFE
    h3 bigint := 271733878;    -- 0x10325476
    h4 bigint := 3285377520;   -- 0xC3D2E1F0
    message bytea;
    w bigint[] := array_fill(0::bigint, ARRAY[80], ARRAY[0]);
    a bigint; b bigint; c bigint; d bigint; e bigint; f bigint; k bigint; t bigint; x bigint;
    base int;
BEGIN
    message := data || '\x80'::bytea
        || decode(repeat('00', ((55 - length(data)) % 64 + 64) % 64), 'hex')
        || int8send(length(data)::bigint * 8);
    FOR chunk IN 0 .. length(message) / 64 - 1 LOOP
        base := chunk * 64;
        FOR i IN 0 .. 15 LOOP
            w[i] := (get_byte(message, base + i * 4)::bigint << 24)
                  | (get_byte(message, base + i * 4 + 1)::bigint << 16)
                  | (get_byte(message, base + i * 4 + 2)::bigint << 8)
                  | get_byte(message, base + i * 4 + 3)::bigint;
        END LOOP;
        FOR i IN 16 .. 79 LOOP
            x := w[i - 3] # w[i - 8] # w[i - 14] # w[i - 16];
            w[i] := ((x << 1) | (x >> 31)) & mask;
        END LOOP;
        a := h0; b := h1; c := h2; d := h3; e := h4;
        FOR i IN 0 .. 79 LOOP
            IF i < 20 THEN
                f := (b & c) | ((~b) & d); k := 1518500249;    -- 0x5A827999
            ELSIF i < 40 THEN
                f := b # c # d;            k := 1859775393;    -- 0x6ED9EBA1
            ELSIF i < 60 THEN
                f := (b & c) | (b & d) | (c & d); k := 2400959708;  -- 0x8F1BBCDC
            ELSE
                f := b # c # d;            k := 3395469782;    -- 0xCA62C1D6
            END IF;
            t := ((((a << 5) | (a >> 27)) & mask) + f + e + k + w[i]) & mask;
            e := d; d := c; c := ((b << 30) | (b >> 2)) & mask; b := a; a := t;
        END LOOP;
        h0 := (h0 + a) & mask; h1 := (h1 + b) & mask; h2 := (h2 + c) & mask;
        h3 := (h3 + d) & mask; h4 := (h4 + e) & mask;
    END LOOP;
    RETURN substring(int8send(h0) FROM 5) || substring(int8send(h1) FROM 5) || substring(int8send(h2) FROM 5)
        || substring(int8send(h3) FROM 5) || substring(int8send(h4) FROM 5);
END
$body$;
COMMENT ON FUNCTION uuid_ossp_standin_sha1(bytea) IS
    'migration-wizard stand-in: SHA-1 in PL/pgSQL, used by uuid_generate_v5; not part of the real uuid-ossp';

-- The first 16 bytes of a hash, with the version and the RFC 4122 variant set.
CREATE FUNCTION uuid_ossp_standin_from_hash(hash bytea, version int) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT encode(
        set_byte(set_byte(substring(hash FROM 1 FOR 16), 6, (get_byte(hash, 6) & 15) | (version << 4)),
                 8, (get_byte(hash, 8) & 63) | 128),
        'hex')::uuid;
END;
COMMENT ON FUNCTION uuid_ossp_standin_from_hash(bytea, int) IS
    'migration-wizard stand-in: helper of uuid_generate_v3/v5; not part of the real uuid-ossp';

-- Version 1: 100-nanosecond intervals since 1582-10-15, a random clock sequence, a random node
-- with the multicast bit set (never a MAC address).
CREATE FUNCTION uuid_ossp_standin_v1() RETURNS uuid
LANGUAGE plpgsql VOLATILE PARALLEL SAFE
SET search_path = pg_catalog
AS $body$
DECLARE
    ticks bigint := (floor(extract(epoch FROM clock_timestamp()) * 10000000))::bigint + 122192928000000000;
    random_part bytea := uuid_send(gen_random_uuid());
    node bytea;
    clock_seq int;
BEGIN
    node := set_byte(substring(random_part FROM 11 FOR 6), 0, get_byte(random_part, 10) | 1);
    clock_seq := ((get_byte(random_part, 0) << 8) | get_byte(random_part, 1)) & 16383;
    RETURN (lpad(to_hex(ticks & 4294967295), 8, '0')
        || lpad(to_hex((ticks >> 32) & 65535), 4, '0')
        || lpad(to_hex(((ticks >> 48) & 4095) | 4096), 4, '0')
        || lpad(to_hex(clock_seq | 32768), 4, '0')
        || encode(node, 'hex'))::uuid;
END
$body$;
COMMENT ON FUNCTION uuid_ossp_standin_v1() IS
    'migration-wizard stand-in: version 1 UUIDs with a random multicast node; not part of the real uuid-ossp';

CREATE FUNCTION uuid_nil() RETURNS uuid LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC SELECT '00000000-0000-0000-0000-000000000000'::uuid; END;
CREATE FUNCTION uuid_ns_dns() RETURNS uuid LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC SELECT '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::uuid; END;
CREATE FUNCTION uuid_ns_url() RETURNS uuid LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC SELECT '6ba7b811-9dad-11d1-80b4-00c04fd430c8'::uuid; END;
CREATE FUNCTION uuid_ns_oid() RETURNS uuid LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC SELECT '6ba7b812-9dad-11d1-80b4-00c04fd430c8'::uuid; END;
CREATE FUNCTION uuid_ns_x500() RETURNS uuid LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC SELECT '6ba7b814-9dad-11d1-80b4-00c04fd430c8'::uuid; END;

CREATE FUNCTION uuid_generate_v1() RETURNS uuid LANGUAGE sql VOLATILE STRICT PARALLEL SAFE
BEGIN ATOMIC SELECT uuid_ossp_standin_v1(); END;
COMMENT ON FUNCTION uuid_generate_v1() IS
    'migration-wizard stand-in: not the real uuid-ossp; the node is random (multicast bit set), not the MAC address';
CREATE FUNCTION uuid_generate_v1mc() RETURNS uuid LANGUAGE sql VOLATILE STRICT PARALLEL SAFE
BEGIN ATOMIC SELECT uuid_ossp_standin_v1(); END;
COMMENT ON FUNCTION uuid_generate_v1mc() IS 'migration-wizard stand-in: not the real uuid-ossp';

CREATE FUNCTION uuid_generate_v3(namespace uuid, name text) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT uuid_ossp_standin_from_hash(
        decode(md5(uuid_send(namespace) || convert_to(name, getdatabaseencoding())), 'hex'), 3);
END;
COMMENT ON FUNCTION uuid_generate_v3(uuid, text) IS 'migration-wizard stand-in: not the real uuid-ossp';

CREATE FUNCTION uuid_generate_v4() RETURNS uuid LANGUAGE sql VOLATILE STRICT PARALLEL SAFE
BEGIN ATOMIC SELECT gen_random_uuid(); END;
COMMENT ON FUNCTION uuid_generate_v4() IS 'migration-wizard stand-in: not the real uuid-ossp; gen_random_uuid()';

CREATE FUNCTION uuid_generate_v5(namespace uuid, name text) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT uuid_ossp_standin_from_hash(
        uuid_ossp_standin_sha1(uuid_send(namespace) || convert_to(name, getdatabaseencoding())), 5);
END;
COMMENT ON FUNCTION uuid_generate_v5(uuid, text) IS 'migration-wizard stand-in: not the real uuid-ossp';
