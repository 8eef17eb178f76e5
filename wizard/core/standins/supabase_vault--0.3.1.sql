-- migration-wizard stand-in for the supabase_vault extension, for the wizard's local database only.
-- Written in SQL and PL/pgSQL: not the real extension. vault.secrets, vault.decrypted_secrets,
-- vault.create_secret() and vault.update_secret() behave as Supabase's do, but the secret is
-- stored as given, UNENCRYPTED: the "secret" column holds the plain text, and key_id and nonce
-- stay empty. Keep real secrets out of the local database.

\echo Use "CREATE EXTENSION supabase_vault" to load this file. \quit

CREATE TABLE vault.secrets (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text,
    description text NOT NULL DEFAULT '',
    secret text NOT NULL,
    key_id uuid,
    nonce bytea,
    created_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX secrets_name_idx ON vault.secrets (name) WHERE name IS NOT NULL;
COMMENT ON TABLE vault.secrets IS
    'migration-wizard stand-in: not the real supabase_vault; secrets here are stored UNENCRYPTED';

CREATE VIEW vault.decrypted_secrets AS
SELECT s.id, s.name, s.description, s.secret, s.secret AS decrypted_secret, s.key_id, s.nonce,
       s.created_at, s.updated_at
  FROM vault.secrets s;
COMMENT ON VIEW vault.decrypted_secrets IS
    'migration-wizard stand-in: not the real supabase_vault; nothing is encrypted, nothing is decrypted';

CREATE FUNCTION vault.create_secret(new_secret text, new_name text DEFAULT NULL,
                                    new_description text DEFAULT '', new_key_id uuid DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog
AS $body$
DECLARE
    id uuid;
BEGIN
    INSERT INTO vault.secrets (secret, name, description)
        VALUES (new_secret, new_name, coalesce(new_description, ''))
        RETURNING secrets.id INTO id;
    RETURN id;
END
$body$;
COMMENT ON FUNCTION vault.create_secret(text, text, text, uuid) IS
    'migration-wizard stand-in: not the real supabase_vault; stores the secret UNENCRYPTED';

CREATE FUNCTION vault.update_secret(secret_id uuid, new_secret text DEFAULT NULL, new_name text DEFAULT NULL,
                                    new_description text DEFAULT NULL, new_key_id uuid DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog
AS $body$
BEGIN
    UPDATE vault.secrets s
       SET secret = coalesce(new_secret, s.secret),
           name = coalesce(new_name, s.name),
           description = coalesce(new_description, s.description),
           updated_at = now()
     WHERE s.id = secret_id;
END
$body$;
COMMENT ON FUNCTION vault.update_secret(uuid, text, text, text, uuid) IS
    'migration-wizard stand-in: not the real supabase_vault; stores the secret UNENCRYPTED';

REVOKE ALL ON vault.secrets, vault.decrypted_secrets FROM PUBLIC;
REVOKE ALL ON FUNCTION vault.create_secret(text, text, text, uuid), vault.update_secret(uuid, text, text, text, uuid)
    FROM PUBLIC;
