"""What a fresh Supabase project has: the baseline of pre-flight without a database.

Without any way to the database (``plan --offline``, the manual path), pre-flight cannot ask the
catalog what exists. It asks this baseline instead: the schemas, tables (with their columns),
functions, types and roles that every new Supabase project has before its first migration
(Supabase Auth's ``auth`` schema, Storage's ``storage`` schema, the ``extensions`` schema with
``uuid-ossp``, ``pgcrypto`` and ``pg_stat_statements``, Realtime, Vault, GraphQL), and the
functions, types and relations PostgreSQL itself has in ``pg_catalog`` and
``information_schema``. Unqualified names resolve as on a Supabase project, whose search_path is
``"$user", public, extensions`` (pg_catalog first, implicitly).

The Supabase part is a description written here (facts from Supabase's documentation and public
schema definitions: names only); PostgreSQL's part is read from real servers by

    python -m wizard.core.baseline --regenerate [--database-url URL ...]

which, without a URL, starts the embedded PostgreSQL (and Debian's PostgreSQL 15 when the machine
has it) in a temporary directory, and writes the union of their names to ``baseline.json`` beside
this file. Loaded only for an offline analysis.

What a baseline cannot know: what the real database already holds (its migration history, and
objects made by hand in the dashboard). An offline analysis counts every file as pending.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from wizard.core.local import LocalServer

DATA_FILE = Path(__file__).with_name("baseline.json")
SEARCH_PATH = ("pg_catalog", "public", "extensions")

# -- a fresh Supabase project (names only) ----------------------------------------------------------

_TABLES: dict[str, dict[str, str]] = {
    "auth": {
        "users": "instance_id id aud role email encrypted_password email_confirmed_at invited_at confirmation_token "
                 "confirmation_sent_at recovery_token recovery_sent_at email_change_token_new email_change "
                 "email_change_sent_at last_sign_in_at raw_app_meta_data raw_user_meta_data is_super_admin "
                 "created_at updated_at phone phone_confirmed_at phone_change phone_change_token "
                 "phone_change_sent_at confirmed_at email_change_token_current email_change_confirm_status "
                 "banned_until reauthentication_token reauthentication_sent_at is_sso_user deleted_at "
                 "is_anonymous",
        "identities": "provider_id user_id identity_data provider last_sign_in_at created_at updated_at email id",
        "sessions": "id user_id created_at updated_at factor_id aal not_after refreshed_at user_agent ip tag "
                    "oauth_client_id refresh_token_hmac_key refresh_token_counter scopes",
        "refresh_tokens": "instance_id id token user_id revoked created_at updated_at parent session_id",
        "audit_log_entries": "instance_id id payload created_at ip_address",
        "instances": "id uuid raw_base_config created_at updated_at",
        "schema_migrations": "version",
        "mfa_factors": "id user_id friendly_name factor_type status created_at updated_at secret phone "
                       "last_challenged_at web_authn_credential web_authn_aaguid last_webauthn_challenge_data",
        "mfa_challenges": "id factor_id created_at verified_at ip_address otp_code web_authn_session_data",
        "mfa_amr_claims": "session_id created_at updated_at authentication_method id",
        "sso_providers": "id resource_id created_at updated_at disabled",
        "sso_domains": "id sso_provider_id domain created_at updated_at",
        "saml_providers": "id sso_provider_id entity_id metadata_xml metadata_url attribute_mapping created_at "
                          "updated_at name_id_format",
        "saml_relay_states": "id sso_provider_id request_id for_email redirect_to created_at updated_at flow_state_id",
        "flow_state": "id user_id auth_code code_challenge_method code_challenge provider_type provider_access_token "
                      "provider_refresh_token created_at updated_at authentication_method auth_code_issued_at "
                      "invite_token referrer oauth_client_state_id linking_target_id email_optional",
        "one_time_tokens": "id user_id token_type token_hash relates_to created_at updated_at",
    },
    "storage": {
        "buckets": "id name owner created_at updated_at public avif_autodetection file_size_limit allowed_mime_types "
                   "owner_id type",
        "objects": "id bucket_id name owner created_at updated_at last_accessed_at metadata path_tokens version "
                   "owner_id user_metadata level",
        "migrations": "id name hash executed_at",
        "s3_multipart_uploads": "id in_progress_size upload_signature bucket_id key version owner_id created_at "
                                "user_metadata",
        "s3_multipart_uploads_parts": "id upload_id size part_number bucket_id key etag owner_id version created_at",
    },
    "realtime": {
        "messages": "topic extension payload event private updated_at inserted_at id",
        "subscription": "id subscription_id entity filters claims claims_role created_at",
        "schema_migrations": "version inserted_at",
    },
    "vault": {
        "secrets": "id name description secret key_id nonce created_at updated_at",
        "decrypted_secrets": "id name description secret decrypted_secret key_id nonce created_at updated_at",
    },
    # database webhooks (on every local Supabase stack; on a hosted project once webhooks are enabled)
    "supabase_functions": {
        "hooks": "id hook_table_id hook_name created_at request_id",
        "migrations": "version inserted_at",
    },
    "extensions": {
        "pg_stat_statements": "",  # a view; its columns vary with the extension's version
        "pg_stat_statements_info": "dealloc stats_reset",
    },
}

_FUNCTIONS: dict[str, str] = {
    "auth": "uid role jwt email",
    "storage": "foldername filename extension search get_size_by_bucket can_insert_object "
               "list_objects_with_delimiter list_multipart_uploads_with_delimiter operation update_updated_at_column "
               "get_level get_prefix get_prefixes add_prefixes delete_prefix",
    "extensions": (
        # uuid-ossp
        "uuid_generate_v1 uuid_generate_v1mc uuid_generate_v3 uuid_generate_v4 uuid_generate_v5 uuid_nil "
        "uuid_ns_dns uuid_ns_url uuid_ns_oid uuid_ns_x500 "
        # pgcrypto
        "digest hmac crypt gen_salt encrypt decrypt encrypt_iv decrypt_iv gen_random_bytes gen_random_uuid "
        "pgp_sym_encrypt pgp_sym_decrypt pgp_sym_encrypt_bytea pgp_sym_decrypt_bytea pgp_pub_encrypt "
        "pgp_pub_decrypt pgp_pub_encrypt_bytea pgp_pub_decrypt_bytea pgp_key_id armor dearmor pgp_armor_headers "
        # pg_stat_statements, and Supabase's event triggers kept in the schema
        "pg_stat_statements pg_stat_statements_info pg_stat_statements_reset "
        "grant_pg_cron_access grant_pg_graphql_access grant_pg_net_access pgrst_ddl_watch pgrst_drop_watch "
        "set_graphql_placeholder"
    ),
    "realtime": "send broadcast_changes topic apply_rls build_prepared_statement_sql cast check_equality_op "
                "is_visible_through_filters list_changes quote_wal2json subscription_check_filters to_regrole",
    "vault": "create_secret update_secret",
    "graphql_public": "graphql",
    "graphql": "resolve comment_directive exception get_schema_version increment_schema_version",
    "pgbouncer": "get_auth",
    "supabase_functions": "http_request",
}

_TYPES: dict[str, str] = {
    "auth": "aal_level code_challenge_method factor_status factor_type one_time_token_type",
    "storage": "buckettype",
    "realtime": "action equality_op user_defined_filter wal_column wal_rls",
}

SCHEMAS = ("public", "auth", "storage", "extensions", "realtime", "vault", "graphql", "graphql_public", "pgbouncer",
           "supabase_functions", "pg_catalog", "information_schema")
ROLES = ("postgres", "anon", "authenticated", "service_role", "authenticator", "supabase_admin",
         "supabase_auth_admin", "supabase_storage_admin", "supabase_realtime_admin", "supabase_replication_admin",
         "supabase_read_only_user", "supabase_functions_admin", "dashboard_user", "pgbouncer")
EXTENSIONS = ("plpgsql", "uuid-ossp", "pgcrypto", "pg_stat_statements", "pg_graphql", "supabase_vault")
PUBLICATIONS = ("supabase_realtime",)


# -- the baseline as pre-flight reads it -----------------------------------------------------------

@dataclass(frozen=True)
class Baseline:
    schemas: frozenset[str]
    relations: dict[str, dict[str, frozenset[str] | None]]  # schema -> relation -> its columns (None: not listed)
    functions: dict[str, frozenset[str]]
    types: dict[str, frozenset[str]]
    roles: frozenset[str]
    servers: tuple[str, ...]  # the PostgreSQL servers PostgreSQL's names were read from

    def has(self, kind: str, schema: str | None, name: str, table: str | None = None) -> bool:
        """Whether a fresh Supabase project has the object. ``kind`` is what pre-flight looks up:
        relation, column (of ``table``, schema-qualified), function, type or schema."""
        if kind == "schema":
            return name in self.schemas
        if kind == "column":
            table_schema, _, table_name = (table or "").rpartition(".")
            columns = self._relation(table_schema or None, table_name)
            if isinstance(columns, bool):
                return columns  # without a column list, or no such relation
            return name in columns
        if kind == "relation":
            return self._relation(schema, name) is not False
        if kind in ("function", "type"):
            names = self.functions if kind == "function" else self.types
            schemas = SEARCH_PATH if schema is None else (schema,)
            return any(name in names.get(s, ()) for s in schemas)
        return False

    def _relation(self, schema: str | None, name: str) -> frozenset[str] | bool:
        """The relation's columns; True when it exists without a column list; False when it does not."""
        for s in SEARCH_PATH if schema is None else (schema,):
            found = self.relations.get(s, {})
            if name in found:
                columns = found[name]
                return columns if columns is not None else True
        return False


@cache
def load() -> Baseline:
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    relations: dict[str, dict[str, frozenset[str] | None]] = {}
    for schema, tables in data["relations"].items():
        relations[schema] = {name: (frozenset(columns.split()) if columns else None) for name, columns in tables.items()}
    return Baseline(
        schemas=frozenset(data["schemas"]),
        relations=relations,
        functions={schema: frozenset(names.split()) for schema, names in data["functions"].items()},
        types={schema: frozenset(names.split()) for schema, names in data["types"].items()},
        roles=frozenset(data["roles"]),
        servers=tuple(data["servers"]),
    )


# -- regeneration from real servers ---------------------------------------------------------------

_CATALOG_SCHEMAS = ("pg_catalog", "information_schema")

_READ_FUNCTIONS = """
SELECT n.nspname, p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = ANY (%s)"""
# Types by name; array types (_int4) and the row types of catalog relations left out.
_READ_TYPES = """
SELECT n.nspname, t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname = ANY (%s) AND t.typcategory <> 'A' AND (t.typrelid = 0 OR t.typtype <> 'c')"""
class ServerNames(TypedDict):
    """PostgreSQL's own names on one server, by schema."""

    functions: dict[str, set[str]]
    types: dict[str, set[str]]
    relations: dict[str, dict[str, set[str]]]  # schema -> relation -> its columns


class Document(TypedDict):
    """The data file (``baseline.json``): names joined by spaces."""

    about: str
    servers: list[str]
    schemas: list[str]
    roles: list[str]
    extensions: list[str]
    publications: list[str]
    relations: dict[str, dict[str, str]]  # schema -> relation -> its columns
    functions: dict[str, str]
    types: dict[str, str]


_READ_RELATIONS = """
SELECT n.nspname, c.relname, string_agg(a.attname, ' ' ORDER BY a.attnum)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE n.nspname = ANY (%s) AND c.relkind IN ('r', 'v', 'm', 'p', 'f', 'S')
 GROUP BY 1, 2"""


def read_server(url: str) -> tuple[str, ServerNames]:
    """PostgreSQL's own names, read from a server: its version, and functions, types and
    relations with their columns, by schema."""
    import psycopg

    from wizard.core.db.direct import DirectDatabase

    schemas = list(_CATALOG_SCHEMAS)
    with psycopg.connect(url, autocommit=True) as conn:
        db = DirectDatabase(conn)
        version = db.query("SELECT current_setting('server_version')")[0][0].split()[0]
        names: ServerNames = {"functions": {}, "types": {}, "relations": {}}
        for schema, name in db.query(_READ_FUNCTIONS, (schemas,)):
            names["functions"].setdefault(schema, set()).add(name)
        for schema, name in db.query(_READ_TYPES, (schemas,)):
            names["types"].setdefault(schema, set()).add(name)
        for schema, name, columns in db.query(_READ_RELATIONS, (schemas,)):
            names["relations"].setdefault(schema, {})[name] = set((columns or "").split())
    return version, names


def build(servers: list[tuple[str, ServerNames]]) -> Document:
    """The data file's document: the union of the servers' names and the Supabase description."""
    functions: dict[str, set[str]] = {s: set(n.split()) for s, n in _FUNCTIONS.items()}
    types: dict[str, set[str]] = {s: set(n.split()) for s, n in _TYPES.items()}
    relations: dict[str, dict[str, set[str]]] = {
        s: {t: set(c.split()) for t, c in tables.items()} for s, tables in _TABLES.items()}
    for _, names in servers:
        for schema, found in names["functions"].items():
            functions.setdefault(schema, set()).update(found)
        for schema, found in names["types"].items():
            types.setdefault(schema, set()).update(found)
        for schema, tables in names["relations"].items():
            for table, columns in tables.items():
                relations.setdefault(schema, {}).setdefault(table, set()).update(columns)
    return {
        "about": "What a fresh Supabase project has, for pre-flight without a database. Generated by "
                 "'python -m wizard.core.baseline --regenerate': do not edit by hand.",
        "servers": sorted(version for version, _ in servers),
        "schemas": sorted(SCHEMAS),
        "roles": sorted(ROLES),
        "extensions": sorted(EXTENSIONS),
        "publications": sorted(PUBLICATIONS),
        "relations": {s: {t: " ".join(sorted(c)) for t, c in sorted(tables.items())}
                      for s, tables in sorted(relations.items())},
        "functions": {s: " ".join(sorted(n)) for s, n in sorted(functions.items())},
        "types": {s: " ".join(sorted(n)) for s, n in sorted(types.items())},
    }


def _local_servers(directory: Path) -> list[LocalServer]:
    """Servers to read: the embedded PostgreSQL, and Debian's PostgreSQL 15 when installed."""
    from wizard.core.local import LocalServer

    debian_15 = Path("/usr/lib/postgresql/15/bin")
    servers = [LocalServer(directory / "embedded")]
    if (debian_15 / "initdb").exists():
        servers.append(LocalServer(directory / "pg15", debian_15))
    return servers


def regenerate(urls: list[str], output: Path = DATA_FILE) -> Document:
    import tempfile

    read = [read_server(url) for url in urls]
    if not urls:
        with tempfile.TemporaryDirectory(prefix="wizard-baseline-") as directory:
            for server in _local_servers(Path(directory)):
                try:
                    read.append(read_server(server.start()))
                finally:
                    server.stop()
    document = build(read)
    output.write_text(json.dumps(document, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    return document


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m wizard.core.baseline", description=__doc__.split("\n\n")[0])
    parser.add_argument("--regenerate", action="store_true", help=f"read the servers and write {DATA_FILE.name}")
    parser.add_argument("--database-url", action="append", default=[], metavar="URL",
                        help="a server to read (repeatable); default: the embedded PostgreSQL, and Debian's 15")
    args = parser.parse_args(argv)
    if not args.regenerate:
        baseline = load()
        print(f"{DATA_FILE}: {sum(len(t) for t in baseline.relations.values())} relations, "
              f"{sum(len(f) for f in baseline.functions.values())} function names, "
              f"{sum(len(t) for t in baseline.types.values())} type names; PostgreSQL {', '.join(baseline.servers)}")
        return 0
    document = regenerate(args.database_url)
    print(f"wrote {DATA_FILE} ({DATA_FILE.stat().st_size:,} bytes) from PostgreSQL {', '.join(document['servers'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
