"""``accept``: a file edited after it was applied becomes what the history records: its statements
in the Supabase CLI's table, its checksum in the wizard's (which keeps the previous one), once
every object the file now creates is in the database.

:func:`check` reads (nothing is written); :func:`accept` writes, under the run lock, in one
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wizard.core import history
from wizard.core.catalog import Catalog, Migration
from wizard.core.db import Connectable, database
from wizard.core.errors import ExitCode
from wizard.core.flows import recover
from wizard.core.flows.recover import Recorded, RecoveryRefused
from wizard.core.objects import Obj


@dataclass
class AcceptCheck:
    """What ``accept`` would record, and what the database has of the file's objects."""

    migration: Migration
    row: Recorded
    present: list[Obj] = field(default_factory=list)
    missing: list[Obj] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        """The history already records this very file."""
        same = recover.same_statements(self.row.statements or [], self.migration)
        return same and (self.row.checksum in (None, self.migration.checksum))

    @property
    def refused(self) -> bool:
        return bool(self.missing)


@dataclass(frozen=True)
class AcceptReport:
    version: str
    name: str
    file: str
    checksum: str
    previous_checksum: str | None
    statements: int
    changed: list[str]  # what was written, for people

    def to_json(self) -> dict[str, Any]:
        return {"ok": True, "accepted": {"version": self.version, "name": self.name, "file": self.file,
                                         "checksum": self.checksum, "previous_checksum": self.previous_checksum,
                                         "statements": self.statements},
                "changed": self.changed}


def check(catalog: Catalog, conn: Connectable, version: str) -> AcceptCheck:
    """The file and the history row of ``version``, and which of the file's objects the database
    has (raises RecoveryRefused when there is no file or no row). Reads only."""
    from wizard.core import verify

    migration = catalog.by_version().get(version)
    if migration is None:
        raise RecoveryRefused(f"no migration file has version {version}", kind="unknown-version")
    row = recover.recorded(conn).get(version)
    if row is None:
        raise RecoveryRefused(f"{migration.filename} is not applied: there is no record to update; apply it "
                              "instead", kind="not-applied")
    present, missing = verify.migration_presence(conn, migration)
    return AcceptCheck(migration, row, present, missing)


def accept(conn: Connectable, checked: AcceptCheck, lock_timeout: float = recover.DEFAULT_LOCK_TIMEOUT) -> AcceptReport:
    """Record the file as applied in its new form, under the run lock, in one transaction."""
    if checked.refused:
        raise RecoveryRefused(f"{checked.migration.filename} cannot be accepted: the database lacks "
                              + ", ".join(o.describe() for o in checked.missing[:15]), kind="accept-refused",
                              exit_code=ExitCode.FAILED)
    db = database(conn)
    m = checked.migration
    statements = [s.text for s in m.executable_statements]
    version = recover.literal(m.version)
    with recover.run_lock(db, lock_timeout):
        row = recover.recorded(db).get(m.version)
        if row is None:
            raise RecoveryRefused(f"version {m.version} left the history meanwhile; nothing was changed",
                                  kind="not-applied")
        script = [f"UPDATE {history.TABLE} SET name = {recover.literal(m.name)}, "
                  f"statements = {recover.text_array(statements)} WHERE version = {version}"]
        changed = [f"{history.TABLE}: version {m.version} now records the {len(statements)} statement(s) of "
                   f"{m.filename} (it recorded {len(row.statements or [])})"]
        if row.meta:
            script = [recover.PREVIOUS_COLUMN, *script,
                      f"UPDATE {history.META_TABLE} SET name = {recover.literal(m.name)}, previous_checksum = checksum, "
                      f"checksum = {recover.literal(m.checksum)} WHERE version = {version}"]
            changed.append(f"{history.META_TABLE}: checksum {m.checksum[:12]}... (it was "
                           f"{(row.checksum or 'none')[:12]}..., kept as previous_checksum)")
        recover.write(db, script, "accept")
    return AcceptReport(m.version, m.name, str(m.path), m.checksum, row.checksum, len(statements), changed)
