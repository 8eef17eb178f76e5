"""The migration history, shared with the Supabase CLI.

``supabase_migrations.schema_migrations`` is the Supabase CLI's own table, created here with the
same statements the CLI runs, and written the same way (one row per applied file: version, name,
statements), so ``supabase migration list`` and the wizard agree both ways. The wizard's own facts
about each migration (checksum, when, how long, how it was applied) live beside it in
``supabase_migrations.migration_wizard_history``: the CLI never reads that table, and it carries no
foreign key, so the CLI's ``migration repair`` keeps working.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from wizard import __version__
from wizard.core.catalog import Catalog, Migration
from wizard.core.db import Connectable, Database, database

SCHEMA = "supabase_migrations"
TABLE = f"{SCHEMA}.schema_migrations"
META_TABLE = f"{SCHEMA}.migration_wizard_history"

# What the Supabase CLI runs before it writes history (pkg/migration/history.go).
CLI_DDL = (
    "SET LOCAL lock_timeout = '4s'",
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"CREATE TABLE IF NOT EXISTS {TABLE} (version text NOT NULL PRIMARY KEY)",
    f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS statements text[]",
    f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS name text",
)
META_DDL = f"""
CREATE TABLE IF NOT EXISTS {META_TABLE} (
    version      text PRIMARY KEY,
    name         text NOT NULL,
    checksum     text NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now(),
    duration_ms  integer,
    method       text NOT NULL CHECK (method IN ('automated', 'https', 'manual', 'adopted')),
    applied_by   text NOT NULL DEFAULT current_user,
    tool_version text
)"""
COMMENT = (
    f"COMMENT ON TABLE {META_TABLE} IS 'migration-wizard: checksum, time and method of each migration "
    f"recorded in {TABLE}'"
)

_PRESENT = f"""
SELECT to_regclass('{TABLE}') IS NOT NULL AS cli_table,
       to_regclass('{META_TABLE}') IS NOT NULL AS meta_table,
       (SELECT count(*) FROM pg_attribute
         WHERE attrelid = to_regclass('{TABLE}') AND attname IN ('statements', 'name')
           AND NOT attisdropped) = 2 AS cli_columns
"""

APPLIED = "applied"
ADOPTED = "adopted"  # applied by hand, then recorded by the wizard once its objects were found
PENDING = "pending"
DRIFTED = "drifted"
MISSING = "missing"


@dataclass(frozen=True)
class Record:
    """A history row, with the wizard's facts when it wrote them."""

    version: str
    name: str | None
    checksum: str | None = None
    applied_at: datetime | None = None
    duration_ms: int | None = None
    method: str | None = None
    statements: int | None = None  # how many statements the Supabase CLI's table recorded


@dataclass(frozen=True)
class MigrationState:
    version: str
    name: str
    state: str  # applied, adopted, pending, drifted, missing
    checksum: str | None  # the file's sha256; for a missing file, the recorded one
    file: str | None
    record: Record | None

    def to_json(self) -> dict[str, object]:
        return {"version": self.version, "name": self.name, "state": self.state, "checksum": self.checksum}


def _present(db: Database) -> tuple[bool, bool, bool]:
    ((cli_table, meta_table, columns),) = db.query(_PRESENT)
    return bool(cli_table), bool(meta_table), bool(columns)


def ensure(conn: Connectable) -> None:
    """Create the history tables where they are missing, as the Supabase CLI does. Writes nothing
    when they are already there, so a run does not take a table lock on them for nothing."""
    from wizard.core.db import batch

    db = database(conn)
    cli_table, meta_table, columns = _present(db)
    if not (cli_table and meta_table and columns):
        script = list(CLI_DDL) + ([META_DDL, COMMENT] if not meta_table else [])
        db.transaction(";\n".join(script))
    batch.known(db, _PRESENT, None, [(True, True, True)])  # a read of the history that follows need not ask


PRESENT = _PRESENT  # the read that tells which history tables there are (to ask ahead: ``db.batch``)


def read(conn: Connectable) -> dict[str, Record]:
    """Every history row by version; empty when there is no history yet. Writes nothing."""
    db = database(conn)
    query = records_query(*_present(db))
    if query is None:
        return {}
    return {row[0]: Record(*row) for row in db.query(query + " ORDER BY 1")}


def records_query(cli_table: bool, meta_table: bool, columns: bool) -> str | None:
    """The query of the history's rows as :class:`Record` fields, for the tables present (None:
    no history table)."""
    if not cli_table:
        return None
    name = "m.name" if columns else "NULL::text"
    count = "cardinality(m.statements)" if columns else "NULL::integer"
    if meta_table:
        return f"""
            SELECT m.version, coalesce({name}, w.name) AS name, w.checksum, w.applied_at, w.duration_ms, w.method,
                   {count} AS statements
              FROM {TABLE} m LEFT JOIN {META_TABLE} w USING (version)"""
    return (f"SELECT m.version, {name} AS name, NULL::text AS checksum, NULL::timestamptz AS applied_at, "
            f"NULL::integer AS duration_ms, NULL::text AS method, {count} AS statements FROM {TABLE} m")


def _encoded_array(statements: list[str]) -> str:
    """The statements as a text[] whose elements travel base64-encoded: a statement's own text must
    not appear twice in the query that runs it, or the server cannot place an error inside a
    function body (it looks for the body in the query text)."""
    if not statements:
        return "'{}'::text[]"
    items = ", ".join("'" + base64.b64encode(s.encode("utf-8")).decode("ascii") + "'" for s in statements)
    return (f"(SELECT array_agg(convert_from(decode(s, 'base64'), 'UTF8') ORDER BY o) "
            f"FROM unnest(ARRAY[{items}]) WITH ORDINALITY AS t(s, o))")


_RECORD = (
    "WITH recorded AS (INSERT INTO supabase_migrations.schema_migrations (version, name, statements) "
    "VALUES ({version}, {name}, {statements}) RETURNING version, name) "
    "INSERT INTO supabase_migrations.migration_wizard_history "
    "(version, name, checksum, applied_at, duration_ms, method, tool_version) "
    "SELECT version, name, {checksum}, clock_timestamp(), "
    "(extract(epoch FROM clock_timestamp() - now()) * 1000)::integer, {method}, {tool_version} "
    "FROM recorded "
    "ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, checksum = EXCLUDED.checksum, "
    "applied_at = EXCLUDED.applied_at, duration_ms = EXCLUDED.duration_ms, method = EXCLUDED.method, "
    "applied_by = current_user, tool_version = EXCLUDED.tool_version"
)

# The same statement with parameters, for the extended protocol: $1 version, $2 name, $3 the
# statements, $4 checksum, $5 method, $6 the wizard's version (see ``record_params``). It returns
# the duration it records: the server's time for the migration, however the client reads results.
RECORD_QUERY = _RECORD.format(
    version="$1::text", name="$2::text", statements="$3::text[]", checksum="$4::text", method="$5::text",
    tool_version="$6::text",
) + " RETURNING duration_ms"


def record_sql(migration: Migration, statements: list[str], method: str) -> str:
    """The statements that record a migration, to run in the migration's own transaction, in the
    same query string as the migration. The duration is the server's: from the start of the
    transaction to the history write."""
    from wizard.core.db.bound import literal  # psycopg's literals, without loading the driver

    return _RECORD.format(
        version=literal(migration.version), name=literal(migration.name), statements=_encoded_array(statements),
        checksum=literal(migration.checksum), method=literal(method), tool_version=literal(__version__),
    )


def record_params(migration: Migration, statements: list[str],
                  method: str) -> tuple[str, str, list[str], str, str, str]:
    """The parameters of ``RECORD_QUERY`` for a migration."""
    return (migration.version, migration.name, statements, migration.checksum, method, __version__)


def states(catalog: Catalog, records: dict[str, Record]) -> list[MigrationState]:
    """Each file with its state, then each history row that has no file."""
    result = []
    for m in catalog.migrations:
        record = records.get(m.version)
        if record is None:
            state = PENDING
        elif record.checksum is not None and record.checksum != m.checksum:
            state = DRIFTED
        elif record.method == "adopted":
            state = ADOPTED
        else:
            state = APPLIED
        result.append(MigrationState(m.version, m.name, state, m.checksum, str(m.path), record))
    files = catalog.by_version()
    for version, record in records.items():
        if version not in files:
            result.append(MigrationState(version, record.name or "", MISSING, record.checksum, None, record))
    return result
