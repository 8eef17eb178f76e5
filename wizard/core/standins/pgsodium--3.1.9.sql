-- migration-wizard stand-in for the pgsodium extension, for the wizard's local database only.
-- Not the real extension: it makes "CREATE EXTENSION pgsodium" succeed and provides the schema and
-- the roles that grants name (pgsodium_keyiduser, pgsodium_keyholder, pgsodium_keymaker). None of
-- pgsodium's functions exist: no encryption, no key management, no transparent column encryption.

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
