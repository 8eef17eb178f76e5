"""What the recovery actions share (``fetch``, ``diff``, ``accept``, ``forget``): what the history
recorded of each version, statements included, and the one way they write.

Every write of theirs runs under the run lock (the one ``apply`` takes), as one transaction that
also takes the transaction-level advisory lock (which keeps out a run over another connection when
the lock is the Management API's lease), through the Database protocol: over a session and over
HTTPS alike.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

from psycopg import sql

from wizard.core import history
from wizard.core.catalog import Catalog, Migration, from_text
from wizard.core.db import Connectable, Database, database
from wizard.core.db.protocol import LOCK_KEY
from wizard.core.errors import ExitCode, WizardError
from wizard.core.runbase import LockHeld

DEFAULT_LOCK_TIMEOUT = 10.0

# The wizard's table keeps the checksum a migration had before ``accept`` (or ``fetch``) replaced it.
PREVIOUS_COLUMN = f"ALTER TABLE {history.META_TABLE} ADD COLUMN IF NOT EXISTS previous_checksum text"

_METHODS = {
    "automated": "by migration-wizard over a database connection",
    "https": "by migration-wizard over HTTPS (the Management API)",
    "manual": "by hand, pasted into the SQL editor",
    "adopted": "by hand, then adopted by migration-wizard",
}


class RecoveryRefused(WizardError):
    """A recovery action that cannot be done as asked: an unknown version, a file in the way..."""

    kind = "recovery-refused"
    exit_code = ExitCode.USAGE


class HistoryWriteFailed(WizardError):
    """The database refused the history write: nothing of it was kept."""

    kind = "history-write"
    exit_code = ExitCode.FAILED


@dataclass(frozen=True)
class Recorded:
    """A history row as the recovery actions read it: the Supabase CLI's columns (its statements
    included) and the wizard's facts when it has them."""

    version: str
    name: str | None
    statements: list[str] | None  # None when the row holds none
    checksum: str | None
    applied_at: datetime | None
    method: str | None
    previous_checksum: str | None
    meta: bool  # the wizard's table has a row for this version

    @property
    def filename(self) -> str:
        return f"{self.version}_{self.name or 'recovered'}.sql"


def explain(applied_at: datetime | None, method: str | None, statements: int | None) -> str:
    """'applied 2026-12-01 02:40 UTC by ..., 3 statements' with what is known of it."""
    parts = []
    if applied_at is not None:
        parts.append(f"applied {applied_at.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC")
    else:
        parts.append("applied at a time the history does not keep")
    parts.append(_METHODS.get(method or "", "by another tool (the Supabase CLI, or a script)"))
    if statements is not None:
        parts.append(f"{statements} statement{'s' if statements != 1 else ''} recorded")
    else:
        parts.append("no statements recorded")
    return ", ".join(parts)


def _statements(value: object) -> list[str] | None:
    if value is None:
        return None
    items = json.loads(value) if isinstance(value, str) else value
    if not isinstance(items, list):
        return None
    return [str(item) for item in items if item is not None]


def _meta_columns(db: Database) -> tuple[bool, bool]:
    """Whether the wizard's table exists, and whether it has ``previous_checksum``."""
    ((meta, previous),) = db.query(
        f"SELECT to_regclass('{history.META_TABLE}') IS NOT NULL, EXISTS (SELECT 1 FROM pg_attribute "
        f"WHERE attrelid = to_regclass('{history.META_TABLE}') AND attname = 'previous_checksum' "
        "AND NOT attisdropped)")
    return bool(meta), bool(previous)


def recorded(conn: Connectable) -> dict[str, Recorded]:
    """Every history row by version, with its statements. Writes nothing."""
    db = database(conn)
    if not _cli_table(db):
        return {}
    meta, previous = _meta_columns(db)
    statements = "array_to_json(m.statements)::text"
    if meta:
        query = (f"SELECT m.version, coalesce(m.name, w.name), {statements}, w.checksum, w.applied_at, w.method, "
                 f"{'w.previous_checksum' if previous else 'NULL::text'}, w.version IS NOT NULL "
                 f"FROM {history.TABLE} m LEFT JOIN {history.META_TABLE} w USING (version) ORDER BY m.version")
    else:
        query = (f"SELECT m.version, m.name, {statements}, NULL::text, NULL::timestamptz, NULL::text, NULL::text, "
                 f"false FROM {history.TABLE} m ORDER BY m.version")
    rows = {}
    for version, name, texts, checksum, applied_at, method, before, has_meta in db.query(query):
        rows[str(version)] = Recorded(str(version), name, _statements(texts), checksum, applied_at, method, before,
                                      bool(has_meta))
    return rows


def _cli_table(db: Database) -> bool:
    ((present,),) = db.query(
        f"SELECT to_regclass('{history.TABLE}') IS NOT NULL AND (SELECT count(*) FROM pg_attribute "
        f"WHERE attrelid = to_regclass('{history.TABLE}') AND attname IN ('statements', 'name') "
        "AND NOT attisdropped) = 2")
    return bool(present)


def render(statements: Sequence[str]) -> str:
    """Statements as the text of a migration file: each ended by its semicolon (on a line of its
    own when the statement ends in a line comment), a blank line between them."""
    parts = []
    for statement in statements:
        text = statement.strip()
        if text.endswith(";"):
            parts.append(text)
        elif "--" in text.rsplit("\n", 1)[-1]:
            parts.append(text + "\n;")
        else:
            parts.append(text + ";")
    return "\n\n".join(parts) + "\n" if parts else ""


def same_statements(recorded_statements: Sequence[str], migration: Migration) -> bool:
    """Whether a file's statements are the ones the history recorded (spacing and final
    semicolons aside)."""
    ours = [s.text for s in migration.executable_statements]
    theirs = [s.strip().rstrip(";").strip() for s in recorded_statements]
    return [s.strip() for s in ours] == theirs or [s.text.strip() for s in migration.statements] == theirs


def as_migration(row: Recorded, catalog: Catalog) -> Migration | None:
    """The recorded statements parsed as a migration of the folder (None when they do not parse,
    or there are none)."""
    if not row.statements:
        return None
    migration, problems = from_text(row.version, row.name or "recovered", render(row.statements), catalog.directory)
    return None if problems else migration


def literal(value: object) -> str:
    return sql.Literal(value).as_string(None)


def text_array(values: Sequence[str]) -> str:
    """A text[] literal of ``values``."""
    if not values:
        return "'{}'::text[]"
    return "ARRAY[" + ", ".join(literal(v) for v in values) + "]::text[]"


@contextmanager
def run_lock(db: Database, timeout: float = DEFAULT_LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the run lock (the one every migration run takes) while the block runs; waits up to
    ``timeout`` seconds for another run, then raises LockHeld."""
    started = time.monotonic()
    while not db.try_lock():
        waited = time.monotonic() - started
        if waited >= timeout:
            raise LockHeld(round(timeout, 1), db.lock_holder())
        time.sleep(min(0.2, max(timeout - waited, 0.01)))
    try:
        yield
    finally:
        db.unlock()


def write(db: Database, statements: Sequence[str], what: str) -> None:
    """Run ``statements`` as one transaction that takes the advisory lock first; raises
    HistoryWriteFailed (nothing kept) when the database refuses one. ``what``: the action, for the
    message."""
    script = ("BEGIN;\n" + f"SELECT pg_advisory_xact_lock({LOCK_KEY});\n"
              + "".join(s.rstrip().rstrip(";") + ";\n" for s in statements) + "COMMIT;")
    error = db.execute(script)
    if error is not None:
        db.rollback()
        raise HistoryWriteFailed(f"{what}: the database refused the history write ({error.sqlstate or ''} "
                                 f"{error.message}); nothing was changed")
