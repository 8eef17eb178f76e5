-- migration-wizard stand-in for the pgcrypto extension, for the wizard's local database only.
-- Written in SQL and PL/pgSQL over PostgreSQL's built-ins: not the real extension.
-- What works: digest() and hmac() (md5, sha1, sha224, sha256, sha384, sha512; exact),
-- gen_random_bytes() and gen_random_uuid() (from PostgreSQL's strong random source),
-- gen_salt() and crypt() with a scheme of the stand-in's own (see below).
-- What does not: bcrypt, md5-crypt, DES and sha-crypt hashes (crypt() with such a salt raises an
-- error), PGP, armor, encrypt/decrypt (calls raise an error, SQLSTATE 0A000).
-- Function bodies that call other functions of the extension are SQL-standard (BEGIN ATOMIC): they
-- resolve their references when created, so the extension can live in any schema.

\echo Use "CREATE EXTENSION pgcrypto" to load this file. \quit

-- SHA-1 is not built into PostgreSQL (md5 and the SHA-2 family are).
CREATE FUNCTION pgcrypto_standin_sha1(data bytea) RETURNS bytea
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
COMMENT ON FUNCTION pgcrypto_standin_sha1(bytea) IS
    'migration-wizard stand-in: SHA-1 in PL/pgSQL; not part of the real pgcrypto';

-- Raises an error with the message given (used where an expression must fail).
CREATE FUNCTION pgcrypto_standin_fail(message text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $body$
BEGIN
    RAISE EXCEPTION '%', message USING ERRCODE = 'invalid_parameter_value';
END
$body$;
COMMENT ON FUNCTION pgcrypto_standin_fail(text) IS
    'migration-wizard stand-in: raises an error; not part of the real pgcrypto';

CREATE FUNCTION digest(data bytea, type text) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE lower(type)
        WHEN 'md5' THEN decode(md5(data), 'hex')
        WHEN 'sha1' THEN pgcrypto_standin_sha1(data)
        WHEN 'sha224' THEN sha224(data)
        WHEN 'sha256' THEN sha256(data)
        WHEN 'sha384' THEN sha384(data)
        WHEN 'sha512' THEN sha512(data)
        ELSE pgcrypto_standin_fail('Cannot use "' || type || '": No such hash algorithm')::bytea
    END;
END;
COMMENT ON FUNCTION digest(bytea, text) IS 'migration-wizard stand-in: not the real pgcrypto';

CREATE FUNCTION digest(data text, type text) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT digest(convert_to(data, getdatabaseencoding()), type);
END;
COMMENT ON FUNCTION digest(text, text) IS 'migration-wizard stand-in: not the real pgcrypto';

-- The key of HMAC, padded to the hash's block size and XORed with a pad byte (RFC 2104).
CREATE FUNCTION pgcrypto_standin_hmac_pad(key bytea, block_size int, pad int) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $body$
DECLARE
    padded bytea := key || decode(repeat('00', block_size - length(key)), 'hex');
BEGIN
    FOR i IN 0 .. block_size - 1 LOOP
        padded := set_byte(padded, i, get_byte(padded, i) # pad);
    END LOOP;
    RETURN padded;
END
$body$;
COMMENT ON FUNCTION pgcrypto_standin_hmac_pad(bytea, int, int) IS
    'migration-wizard stand-in: helper of hmac(); not part of the real pgcrypto';

CREATE FUNCTION hmac(data bytea, key bytea, type text) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    WITH block AS (
        SELECT CASE WHEN lower(type) IN ('sha384', 'sha512') THEN 128 ELSE 64 END AS size
    ), normalized AS (
        SELECT CASE WHEN length(key) > block.size THEN digest(key, type) ELSE key END AS key, block.size
          FROM block
    )
    SELECT digest(pgcrypto_standin_hmac_pad(n.key, n.size, 92)
                  || digest(pgcrypto_standin_hmac_pad(n.key, n.size, 54) || data, type), type)
      FROM normalized n;
END;
COMMENT ON FUNCTION hmac(bytea, bytea, text) IS 'migration-wizard stand-in: not the real pgcrypto';

CREATE FUNCTION hmac(data text, key text, type text) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT hmac(convert_to(data, getdatabaseencoding()), convert_to(key, getdatabaseencoding()), type);
END;
COMMENT ON FUNCTION hmac(text, text, text) IS 'migration-wizard stand-in: not the real pgcrypto';

-- Random bytes from PostgreSQL's strong random source: the 14 fully random bytes of each
-- gen_random_uuid() (bytes 6 and 8 carry the version and variant).
CREATE FUNCTION gen_random_bytes(count integer) RETURNS bytea
LANGUAGE plpgsql VOLATILE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $body$
DECLARE
    result bytea := '';
    u bytea;
BEGIN
    IF count < 1 OR count > 1024 THEN
        RAISE EXCEPTION 'Length not in range' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WHILE length(result) < count LOOP
        u := uuid_send(gen_random_uuid());
        result := result || substring(u FROM 1 FOR 6) || substring(u FROM 8 FOR 1) || substring(u FROM 10 FOR 7);
    END LOOP;
    RETURN substring(result FROM 1 FOR count);
END
$body$;
COMMENT ON FUNCTION gen_random_bytes(integer) IS 'migration-wizard stand-in: not the real pgcrypto';

CREATE FUNCTION gen_random_uuid() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE
BEGIN ATOMIC SELECT pg_catalog.gen_random_uuid(); END;
COMMENT ON FUNCTION gen_random_uuid() IS 'migration-wizard stand-in: not the real pgcrypto; PostgreSQL''s gen_random_uuid()';

-- Password hashing: the stand-in's own scheme, NOT bcrypt. gen_salt() accepts pgcrypto's
-- algorithm names and returns "$wizard-standin-<algorithm>$<count>$<16 salt characters>$";
-- crypt(password, salt) returns that prefix followed by 1000 rounds of SHA-256 over salt and
-- password, base64-encoded. crypt(password, stored_hash) = stored_hash verifies a password as with
-- the real pgcrypto, but the hashes mean nothing to another system (Supabase Auth cannot verify
-- them), and crypt() given a real bcrypt, md5-crypt, DES or sha-crypt salt raises an error.
CREATE FUNCTION gen_salt(type text, iter_count integer) RETURNS text
LANGUAGE plpgsql VOLATILE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $body$
DECLARE
    alphabet constant text := './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    u1 bytea := uuid_send(gen_random_uuid());
    u2 bytea := uuid_send(gen_random_uuid());
    random bytea;  -- the fully random bytes of two UUIDs (not those carrying version and variant)
    salt text := '';
BEGIN
    IF lower(type) NOT IN ('bf', 'md5', 'xdes', 'des', 'sha256crypt', 'sha512crypt') THEN
        RAISE EXCEPTION 'gen_salt: Unknown salt algorithm' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    random := substring(u1 FROM 1 FOR 6) || substring(u1 FROM 10 FOR 7) || substring(u2 FROM 1 FOR 6);
    FOR i IN 0 .. 15 LOOP
        salt := salt || substr(alphabet, (get_byte(random, i) % 64) + 1, 1);
    END LOOP;
    RETURN '$wizard-standin-' || lower(type) || '$' || iter_count || '$' || salt || '$';
END
$body$;
COMMENT ON FUNCTION gen_salt(text, integer) IS
    'migration-wizard stand-in: not the real pgcrypto; a salt for the stand-in''s own crypt() scheme, not bcrypt';

CREATE FUNCTION gen_salt(type text) RETURNS text LANGUAGE sql VOLATILE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT gen_salt(type, CASE lower(type) WHEN 'bf' THEN 6 WHEN 'xdes' THEN 725 WHEN 'sha256crypt' THEN 5000
                                            WHEN 'sha512crypt' THEN 5000 ELSE 0 END);
END;
COMMENT ON FUNCTION gen_salt(text) IS
    'migration-wizard stand-in: not the real pgcrypto; a salt for the stand-in''s own crypt() scheme, not bcrypt';

CREATE FUNCTION crypt(password text, salt text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $body$
DECLARE
    prefix text := substring(salt FROM '^\$wizard-standin-[a-z0-9]+\$[0-9]+\$[./0-9A-Za-z]{16}\$');
    secret bytea := convert_to(password, getdatabaseencoding());
    hash bytea;
BEGIN
    IF prefix IS NULL THEN
        RAISE EXCEPTION 'crypt() with this salt is not available in the migration-wizard stand-in for pgcrypto' USING
            ERRCODE = 'feature_not_supported',
            DETAIL = 'The local database has a stand-in, not the real pgcrypto: it hashes only with salts from its own gen_salt(), not bcrypt, md5-crypt, DES or sha-crypt.',
            HINT = 'Make the hash here with crypt(password, gen_salt(''bf'')), or use Supabase or a PostgreSQL with the pgcrypto package.';
    END IF;
    hash := sha256(convert_to(prefix, 'UTF8') || secret);
    FOR i IN 1 .. 1000 LOOP
        hash := sha256(hash || secret);
    END LOOP;
    RETURN prefix || rtrim(encode(hash, 'base64'), '=');
END
$body$;
COMMENT ON FUNCTION crypt(text, text) IS
    'migration-wizard stand-in: not the real pgcrypto; hashes with the stand-in''s own scheme (iterated SHA-256), not bcrypt';

-- Encryption is not available in the stand-in: these exist so that migrations creating functions
-- or views that call them apply; a call raises a clear error (SQLSTATE 0A000).

CREATE FUNCTION pgp_sym_encrypt(text, text) RETURNS bytea LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'pgp_sym_encrypt() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION pgp_sym_encrypt(text, text) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION pgp_sym_encrypt(text, text, text) RETURNS bytea LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'pgp_sym_encrypt() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION pgp_sym_encrypt(text, text, text) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION pgp_sym_encrypt_bytea(bytea, text) RETURNS bytea LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'pgp_sym_encrypt_bytea() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION pgp_sym_encrypt_bytea(bytea, text) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION pgp_sym_encrypt_bytea(bytea, text, text) RETURNS bytea LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'pgp_sym_encrypt_bytea() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION pgp_sym_encrypt_bytea(bytea, text, text) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION pgp_sym_decrypt(bytea, text) RETURNS text LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'pgp_sym_decrypt() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION pgp_sym_decrypt(bytea, text) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION pgp_sym_decrypt(bytea, text, text) RETURNS text LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'pgp_sym_decrypt() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION pgp_sym_decrypt(bytea, text, text) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION pgp_sym_decrypt_bytea(bytea, text) RETURNS bytea LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'pgp_sym_decrypt_bytea() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION pgp_sym_decrypt_bytea(bytea, text) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION pgp_sym_decrypt_bytea(bytea, text, text) RETURNS bytea LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'pgp_sym_decrypt_bytea() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION pgp_sym_decrypt_bytea(bytea, text, text) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION pgp_pub_encrypt(text, bytea) RETURNS bytea LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'pgp_pub_encrypt() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION pgp_pub_encrypt(text, bytea) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION pgp_pub_encrypt(text, bytea, text) RETURNS bytea LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'pgp_pub_encrypt() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION pgp_pub_encrypt(text, bytea, text) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION pgp_pub_encrypt_bytea(bytea, bytea) RETURNS bytea LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'pgp_pub_encrypt_bytea() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION pgp_pub_encrypt_bytea(bytea, bytea) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION pgp_pub_encrypt_bytea(bytea, bytea, text) RETURNS bytea LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'pgp_pub_encrypt_bytea() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION pgp_pub_encrypt_bytea(bytea, bytea, text) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION pgp_pub_decrypt(bytea, bytea) RETURNS text LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'pgp_pub_decrypt() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION pgp_pub_decrypt(bytea, bytea) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION pgp_pub_decrypt(bytea, bytea, text) RETURNS text LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'pgp_pub_decrypt() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION pgp_pub_decrypt(bytea, bytea, text) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION pgp_pub_decrypt(bytea, bytea, text, text) RETURNS text LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'pgp_pub_decrypt() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION pgp_pub_decrypt(bytea, bytea, text, text) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION pgp_pub_decrypt_bytea(bytea, bytea) RETURNS bytea LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'pgp_pub_decrypt_bytea() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION pgp_pub_decrypt_bytea(bytea, bytea) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION pgp_pub_decrypt_bytea(bytea, bytea, text) RETURNS bytea LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'pgp_pub_decrypt_bytea() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION pgp_pub_decrypt_bytea(bytea, bytea, text) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION pgp_pub_decrypt_bytea(bytea, bytea, text, text) RETURNS bytea LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'pgp_pub_decrypt_bytea() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION pgp_pub_decrypt_bytea(bytea, bytea, text, text) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION pgp_key_id(bytea) RETURNS text LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'pgp_key_id() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION pgp_key_id(bytea) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION armor(bytea) RETURNS text LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'armor() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION armor(bytea) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION armor(bytea, text[], text[]) RETURNS text LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'armor() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION armor(bytea, text[], text[]) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION dearmor(text) RETURNS bytea LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'dearmor() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION dearmor(text) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION encrypt(bytea, bytea, text) RETURNS bytea LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'encrypt() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION encrypt(bytea, bytea, text) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION decrypt(bytea, bytea, text) RETURNS bytea LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'decrypt() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION decrypt(bytea, bytea, text) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION encrypt_iv(bytea, bytea, bytea, text) RETURNS bytea LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'encrypt_iv() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION encrypt_iv(bytea, bytea, bytea, text) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
CREATE FUNCTION decrypt_iv(bytea, bytea, bytea, text) RETURNS bytea LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'decrypt_iv() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported',
        HINT = 'The local database has a stand-in, not the real pgcrypto: run this on Supabase or on a PostgreSQL with the pgcrypto package.';
END
$body$;
COMMENT ON FUNCTION decrypt_iv(bytea, bytea, bytea, text) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';

CREATE FUNCTION pgp_armor_headers(text, OUT key text, OUT value text) RETURNS SETOF record LANGUAGE plpgsql VOLATILE AS $body$
BEGIN
    RAISE EXCEPTION 'pgp_armor_headers() is not available in the migration-wizard stand-in for pgcrypto' USING
        ERRCODE = 'feature_not_supported';
END
$body$;
COMMENT ON FUNCTION pgp_armor_headers(text) IS 'migration-wizard stand-in: not the real pgcrypto; calling it raises an error';
