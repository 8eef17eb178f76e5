"""The last failure of each migration on a database, so that ``fleet status`` read from anywhere
(another CI runner, the next morning) can tell a migration that failed from one never tried.

``supabase_migrations.migration_wizard_failures`` holds one row per version: where it failed and
why (the server's message, no statement text, no secret). It is written in its own short
transaction after the migration's transaction rolled back, so it never makes a migration half
applied; a version recorded in the history is applied, whatever this table says, and a run that
applies it deletes its row."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from wizard.core import history
from wizard.core.db import database
from wizard.core.db.bound import bind
from wizard.core.diagnosis import Diagnosis
from wizard.core.history import SCHEMA, Record

TABLE = f"{SCHEMA}.migration_wizard_failures"
_DDL = (f"CREATE SCHEMA IF NOT EXISTS {SCHEMA};\n"
        f"CREATE TABLE IF NOT EXISTS {TABLE} (version text PRIMARY KEY, name text NOT NULL, "
        "file text NOT NULL, line integer, sqlstate text, message text NOT NULL, "
        "failed_at timestamptz NOT NULL DEFAULT now(), failed_by text NOT NULL DEFAULT current_user);\n"
        f"COMMENT ON TABLE {TABLE} IS 'migration-wizard: the last failure of each migration not applied yet'")


@dataclass(frozen=True)
class Failure:
    version: str
    name: str
    file: str
    line: int | None
    sqlstate: str | None
    message: str
    failed_at: datetime | None = None

    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "name": self.name, "file": self.file, "line": self.line,
                "sqlstate": self.sqlstate, "message": self.message,
                "failed_at": self.failed_at.isoformat() if self.failed_at else None}


def record(conn: Any, failed: Diagnosis) -> None:
    """Keep ``failed`` as its version's last failure (one transaction of its own)."""
    message = failed.message[:2000].replace("\x00", "")
    values = bind("%s, %s, %s, %s, %s, %s", (failed.version, failed.name, shown_path(failed.file), failed.line,
                                             failed.sqlstate, message))
    database(conn).transaction(
        f"{_DDL};\nINSERT INTO {TABLE} (version, name, file, line, sqlstate, message) VALUES ({values}) "
        "ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, file = EXCLUDED.file, line = EXCLUDED.line, "
        "sqlstate = EXCLUDED.sqlstate, message = EXCLUDED.message, failed_at = now(), failed_by = current_user")


def shown_path(file: str) -> str:
    """The file as the project names it: relative to the working folder when inside it (a run
    from the wizard and one from the command line record the same path)."""
    path = Path(file)
    if path.is_absolute():
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return os.path.normpath(file)
    return file


def clear_applied(conn: Any) -> None:
    """Forget the failures of versions the history now holds (nothing when there is no table)."""
    db = database(conn)
    rows = db.query(f"SELECT to_regclass('{TABLE}') IS NOT NULL AS present")
    if rows and rows[0][0]:
        db.transaction(f"DELETE FROM {TABLE} f USING {SCHEMA}.schema_migrations m WHERE m.version = f.version")


_PRESENT = (f"SELECT to_regclass('{history.TABLE}') IS NOT NULL AS cli_table, "
            f"to_regclass('{history.META_TABLE}') IS NOT NULL AS meta_table, "
            f"(SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass('{history.TABLE}') "
            "AND attname IN ('statements', 'name') AND NOT attisdropped) = 2 AS cli_columns, "
            f"to_regclass('{TABLE}') IS NOT NULL AS failures_table")


def read_with_history(conn: Any) -> tuple[dict[str, Record], dict[str, Failure]]:
    """The history and the failures in two queries (what the tables are, then their rows): a
    fleet's status reads many databases, each round trip counts."""
    db = database(conn)
    ((cli_table, meta_table, columns, failures_table),) = db.query(_PRESENT)
    parts = []
    records_query = history.records_query(bool(cli_table), bool(meta_table), bool(columns))
    if records_query is not None:
        parts.append("SELECT 'h' AS k, version, name, checksum, applied_at AS at, duration_ms, method, statements, "
                     "NULL::text AS file, NULL::integer AS line, NULL::text AS sqlstate, NULL::text AS message "
                     f"FROM ({records_query}) h")
    if failures_table:
        parts.append("SELECT 'f', version, name, NULL::text, failed_at, NULL::integer, NULL::text, NULL::integer, "
                     f"file, line, sqlstate, message FROM {TABLE}")
    # every column named: over HTTPS rows come back as objects, by column name
    records: dict[str, Record] = {}
    failed: dict[str, Failure] = {}
    if parts:
        for row in db.query(" UNION ALL ".join(parts) + " ORDER BY 2"):
            if row[0] == "h":
                records[row[1]] = Record(*row[1:8])
            else:
                failed[row[1]] = Failure(row[1], row[2], row[8], row[9], row[10], row[11], row[4])
    return records, failed
