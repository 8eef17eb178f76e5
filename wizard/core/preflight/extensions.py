"""Extensions: what well-known ones create, and those the server (or a Supabase project) lacks."""

from __future__ import annotations

from wizard.core.catalog import Migration
from wizard.core.db import Connectable, database
from wizard.core.effects import Node
from wizard.core.preflight.findings import ERROR, WARNING, Finding

# What well-known extensions create: the schemas of their own, and the names of their functions and
# types (in the schema they are installed into). A use of one of them after the migration's CREATE
# EXTENSION is no missing dependency; the extension's availability is checked on its own
# (missing_extensions).
_EXTENSION_SCHEMAS = {
    "pg_cron": ("cron",), "pg_net": ("net",), "supabase_vault": ("vault",), "pgsodium": ("pgsodium",),
    "pg_graphql": ("graphql", "graphql_public"), "pgmq": ("pgmq",),
}
_FIXED_SCHEMA = {"supabase_vault": "vault", "pgsodium": "pgsodium", "pgmq": "pgmq"}
_EXTENSION_NAMES = {
    "uuid-ossp": ("uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v3", "uuid_generate_v4",
                  "uuid_generate_v5", "uuid_nil", "uuid_ns_dns", "uuid_ns_url", "uuid_ns_oid", "uuid_ns_x500"),
    "pgcrypto": ("digest", "hmac", "crypt", "gen_salt", "gen_random_bytes", "gen_random_uuid", "pgp_sym_encrypt",
                 "pgp_sym_decrypt", "pgp_sym_encrypt_bytea", "pgp_sym_decrypt_bytea", "pgp_pub_encrypt",
                 "pgp_pub_decrypt", "pgp_pub_encrypt_bytea", "pgp_pub_decrypt_bytea", "pgp_key_id", "armor",
                 "dearmor", "pgp_armor_headers", "encrypt", "decrypt", "encrypt_iv", "decrypt_iv"),
    "http": ("http", "http_get", "http_post", "http_put", "http_patch", "http_delete", "http_head",
             "http_header", "urlencode", "http_set_curlopt", "http_reset_curlopt", "http_list_curlopt",
             "http_method", "http_response", "http_request", "content_type"),
    "pg_trgm": ("similarity", "word_similarity", "strict_word_similarity", "show_trgm", "show_limit", "set_limit"),
    "vector": ("vector", "halfvec", "sparsevec", "cosine_distance", "l2_distance", "l1_distance",
               "inner_product", "vector_dims", "vector_norm", "l2_normalize"),
    "citext": ("citext",),
    "hstore": ("hstore", "akeys", "avals", "skeys", "svals", "each", "exist", "defined", "delete", "slice"),
    "ltree": ("ltree", "lquery", "ltxtquery", "nlevel", "subltree", "subpath", "index", "text2ltree",
              "ltree2text", "lca"),
    "moddatetime": ("moddatetime",),
    "unaccent": ("unaccent",),
    "fuzzystrmatch": ("levenshtein", "levenshtein_less_equal", "soundex", "difference", "metaphone",
                      "dmetaphone", "dmetaphone_alt", "daitch_mokotoff"),
    "pgjwt": ("sign", "verify", "url_encode", "url_decode", "algorithm_sign", "try_cast_double"),
    "pg_jsonschema": ("json_matches_schema", "jsonb_matches_schema", "jsonschema_is_valid",
                      "jsonschema_validation_errors"),
    "pg_hashids": ("id_encode", "id_decode", "id_decode_once"),
    "cube": ("cube",),
    "earthdistance": ("earth", "earth_distance", "ll_to_earth", "earth_box", "latitude", "longitude"),
    "postgis": ("geometry", "geography", "box2d", "box3d"),
}


class _ExtensionObjects:
    """What the CREATE EXTENSION statements seen so far provide."""

    def __init__(self) -> None:
        self.schemas: set[str] = set()
        self.names: set[tuple[str | None, str]] = set()  # (schema or None for "any", name)
        self.prefixes: set[str] = set()

    def add(self, node: Node) -> None:
        name = node.get("extname") or ""
        schema = _FIXED_SCHEMA.get(name)
        for option in node.get("options", []):
            element = option.get("DefElem", {})
            if element.get("defname") == "schema":
                schema = element.get("arg", {}).get("String", {}).get("sval")
        self.schemas.update(_EXTENSION_SCHEMAS.get(name, ()))
        for function in _EXTENSION_NAMES.get(name, ()):
            self.names.add((None, function))
        if name == "postgis":
            self.prefixes.add("st_")
        if name not in _EXTENSION_NAMES and name not in _EXTENSION_SCHEMAS and schema and schema != "public":
            self.schemas.add(schema)  # an extension the wizard does not know, in a schema named for it

    def provides(self, kind: str, schema: str | None, name: str) -> bool:
        if not (self.schemas or self.names or self.prefixes):
            return False
        if kind == "schema":
            return name in self.schemas
        if schema is not None and schema in self.schemas:
            return True
        if kind in ("function", "type"):
            return (None, name) in self.names or any(name.startswith(p) for p in self.prefixes)
        return False


def unknown_extensions(migrations: list[Migration]) -> list[Finding]:
    """Offline, no server says which extensions it has: a ``CREATE EXTENSION`` of one that is not
    among those a Supabase project offers is a warning (a misspelt name, or a server of its own)."""
    findings = []
    for migration in migrations:
        for statement in migration.statements:
            if statement.kind != "CreateExtensionStmt":
                continue
            name = statement.node.get("extname")
            if name and name not in SUPABASE_EXTENSIONS:
                findings.append(Finding(
                    WARNING, "unknown-extension", migration.filename, statement.line,
                    f"creates the extension {name}, which is not among the extensions a Supabase project "
                    "offers: check its name (a project cannot install one of its own)",
                ))
    return findings


# -- extensions the server does not have ---------------------------------------------------------

# The extensions a Supabase project offers (its dashboard's list; several are installed on every
# project). A migration creating one of these was most likely written for Supabase.
SUPABASE_EXTENSIONS = frozenset((
    "address_standardizer", "address_standardizer_data_us", "amcheck", "autoinc", "bloom", "btree_gin",
    "btree_gist", "citext", "cube", "dblink", "dict_int", "dict_xsyn", "earthdistance", "fuzzystrmatch",
    "hstore", "http", "hypopg", "index_advisor", "insert_username", "intarray", "isn", "lo", "ltree",
    "moddatetime", "pg_buffercache", "pg_cron", "pg_graphql", "pg_hashids", "pg_jsonschema", "pg_net",
    "pg_prewarm", "pg_repack", "pg_stat_monitor", "pg_stat_statements", "pg_surgery", "pg_tle", "pg_trgm",
    "pg_walinspect", "pgaudit", "pgcrypto", "pgjwt", "pgmq", "pgroonga", "pgroonga_database", "pgrouting",
    "pgrowlocks", "pgsodium", "pgstattuple", "pgtap", "plpgsql", "plpgsql_check", "plv8", "postgis",
    "postgis_raster", "postgis_sfcgal", "postgis_tiger_geocoder", "postgis_topology", "postgres_fdw",
    "refint", "rum", "seg", "sslinfo", "supabase_vault", "tablefunc", "tcn", "timescaledb",
    "tsm_system_rows", "tsm_system_time", "unaccent", "uuid-ossp", "vector", "wrappers",
))

# Debian/Ubuntu (apt.postgresql.org) packages of extensions that are not part of the server's own.
_PACKAGES = {
    "pg_cron": "postgresql-{major}-cron", "vector": "postgresql-{major}-pgvector",
    "http": "postgresql-{major}-http", "postgis": "postgresql-{major}-postgis-3",
    "pgrouting": "postgresql-{major}-pgrouting", "hypopg": "postgresql-{major}-hypopg",
    "pgtap": "postgresql-{major}-pgtap", "plpgsql_check": "postgresql-{major}-plpgsql-check",
    "pg_repack": "postgresql-{major}-repack", "pgaudit": "postgresql-{major}-pgaudit",
    "rum": "postgresql-{major}-rum", "timescaledb": "timescaledb-2-postgresql-{major}",
    "pg_hashids": "postgresql-{major}-pg-hashids", "plv8": "postgresql-{major}-plv8",
}
_CONTRIB = frozenset((
    "amcheck", "autoinc", "bloom", "btree_gin", "btree_gist", "citext", "cube", "dblink", "dict_int",
    "dict_xsyn", "earthdistance", "fuzzystrmatch", "hstore", "insert_username", "intarray", "isn", "lo",
    "ltree", "moddatetime", "pg_buffercache", "pg_prewarm", "pg_stat_statements", "pg_surgery", "pg_trgm",
    "pg_walinspect", "pgcrypto", "pgrowlocks", "pgstattuple", "postgres_fdw", "refint", "seg", "sslinfo",
    "tablefunc", "tcn", "tsm_system_rows", "tsm_system_time", "unaccent", "uuid-ossp",
))

_EXTENSIONS_SQL = """
SELECT n,
       EXISTS (SELECT 1 FROM pg_available_extensions a WHERE a.name = n),
       EXISTS (SELECT 1 FROM pg_extension e WHERE e.extname = n),
       EXISTS (SELECT 1 FROM pg_available_extensions a WHERE a.comment LIKE 'migration-wizard stand-in%%'),
       current_setting('server_version_num')::int / 10000
  FROM unnest(%s::text[]) AS n
"""


def missing_extensions(pending: list[Migration], conn: Connectable) -> list[Finding]:
    """``CREATE EXTENSION`` of an extension this server neither has installed nor can install: an
    error at the statement's file and line, before any SQL runs. One query, and only when a pending
    migration creates an extension."""
    from wizard.core.standins import NAMES as STANDINS

    wanted = [
        (migration, statement, statement.node.get("extname"))
        for migration in pending for statement in migration.statements
        if statement.kind == "CreateExtensionStmt"
    ]
    if not wanted:
        return []
    names = sorted({name for _, _, name in wanted if name})
    rows = database(conn).query(_EXTENSIONS_SQL, (names,))
    lacking = {row[0] for row in rows if not row[1] and not row[2]}
    if not lacking:
        return []
    local, major = bool(rows[0][3]), rows[0][4]
    findings, seen = [], set()
    for migration, statement, name in wanted:
        if name is None or name not in lacking or (migration.filename, name) in seen:
            continue
        seen.add((migration.filename, name))
        findings.append(Finding(ERROR, "missing-extension", migration.filename, statement.line,
                                _missing_extension_message(name, major, local, name in STANDINS)))
    return findings


def _missing_extension_message(name: str, major: int, local: bool, has_standin: bool) -> str:
    where = "the local database" if local else f"this server (PostgreSQL {major})"
    if name in SUPABASE_EXTENSIONS:
        said = f"CREATE EXTENSION {name}: Supabase has the extension {name}, {where} does not"
    else:
        said = (f"CREATE EXTENSION {name}: {where} does not have the extension {name} "
                "(pg_available_extensions does not list it)")
    fixes = []
    if not local:
        if name in _PACKAGES:
            package = _PACKAGES[name].format(major=major)
            fixes.append(f"install it on the server (Debian/Ubuntu: the package {package}), then run again")
        elif name in _CONTRIB:
            fixes.append("install the server's contrib extensions "
                         f"(Debian/Ubuntu: postgresql-contrib for PostgreSQL {major})")
        else:
            fixes.append("install the extension on the server")
        if has_standin:
            fixes.append("use the local database (--local), which has a stand-in for it")
    else:
        fixes.append("use a PostgreSQL server that has it (--database-url)")
    if name in SUPABASE_EXTENSIONS:
        fixes.append("apply to a Supabase project")
    if name not in SUPABASE_EXTENSIONS:
        fixes.append("remove the statement if the migrations do not need it")
    return said + ": " + "; or ".join(fixes)
