-- migration-wizard stand-in for the pgsodium extension, for the wizard's local database only.
-- Not the real extension: it makes "CREATE EXTENSION pgsodium" succeed and provides the schema, the
-- roles that grants name (pgsodium_keyiduser, pgsodium_keyholder, pgsodium_keymaker) and the key
-- table with its types, which data dumps of a project fill (rows of pgsodium.key, a setval of
-- pgsodium.key_key_id_seq). None of pgsodium's functions exist: no encryption, no key derivation,
-- no transparent column encryption; a row of pgsodium.key is only a row.

\echo Use "CREATE EXTENSION pgsodium" to load this file. \quit

DO $standin$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pgsodium_keyiduser') THEN
        CREATE ROLE pgsodium_keyiduser NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pgsodium_keyholder') THEN
        CREATE ROLE pgsodium_keyholder NOLOGIN IN ROLE pgsodium_keyiduser;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pgsodium_keymaker') THEN
        CREATE ROLE pgsodium_keymaker NOLOGIN IN ROLE pgsodium_keyholder;
    END IF;
END
$standin$;

GRANT USAGE ON SCHEMA pgsodium TO pgsodium_keyiduser;

CREATE TYPE pgsodium.key_status AS ENUM ('default', 'valid', 'invalid', 'expired');
CREATE TYPE pgsodium.key_type AS ENUM ('aead-ietf', 'aead-det', 'hmacsha512', 'hmacsha256', 'auth', 'shorthash',
                                       'generichash', 'kdf', 'secretbox', 'secretstream', 'stream_xchacha20');

CREATE TABLE pgsodium.key (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    status pgsodium.key_status DEFAULT 'valid',
    created timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    expires timestamptz,
    key_type pgsodium.key_type,
    key_id bigserial,
    key_context bytea DEFAULT '\x7067736f6469756d'::bytea,
    name text UNIQUE,
    associated_data text DEFAULT 'associated',
    raw_key bytea,
    raw_key_nonce bytea,
    parent_key uuid REFERENCES pgsodium.key (id),
    comment text,
    user_data text
);
COMMENT ON TABLE pgsodium.key IS 'migration-wizard stand-in: pgsodium''s key table, rows only; no key is derived or used';
GRANT SELECT ON pgsodium.key TO pgsodium_keyholder;
GRANT ALL ON pgsodium.key TO pgsodium_keymaker;
