"""``forget``: remove a history row, as the Supabase CLI's ``migration repair --status reverted``
does, once the user has seen which of its objects are still in the database.

:func:`check` reads (nothing is written); :func:`forget` deletes the row from both tables, under the
run lock, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wizard.core import history
from wizard.core.catalog import Catalog
from wizard.core.db import Connectable, database
from wizard.core.flows import recover
from wizard.core.flows.recover import Recorded, RecoveryRefused
from wizard.core.objects import Obj


@dataclass
class ForgetCheck:
    row: Recorded
    file: str | None  # the migration file of this version, when there is one
    present: list[Obj] = field(default_factory=list)  # its objects still in the database
    missing: list[Obj] = field(default_factory=list)
    known: bool = True  # its objects could be worked out (from the file, or the recorded statements)


@dataclass(frozen=True)
class ForgetReport:
    version: str
    name: str | None
    still_present: list[Obj]
    changed: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"ok": True, "forgotten": {"version": self.version, "name": self.name},
                "still_present": [o.describe() for o in self.still_present], "changed": self.changed}


def check(catalog: Catalog, conn: Connectable, version: str) -> ForgetCheck:
    """The row of ``version`` and which of its objects the database still has (raises
    RecoveryRefused when the history has no such version). Reads only."""
    from wizard.core import verify

    row = recover.recorded(conn).get(version)
    if row is None:
        raise RecoveryRefused(f"the history has no version {version}: nothing to forget", kind="unknown-version")
    migration = catalog.by_version().get(version)
    checked = ForgetCheck(row, str(migration.path) if migration else None)
    source = migration if migration is not None else recover.as_migration(row, catalog)
    if source is None:
        checked.known = False
        return checked
    checked.present, checked.missing = verify.migration_presence(conn, source)
    return checked


def forget(conn: Connectable, checked: ForgetCheck, lock_timeout: float = recover.DEFAULT_LOCK_TIMEOUT) -> ForgetReport:
    """Delete the row from the history (and the wizard's table), under the run lock, in one transaction."""
    db = database(conn)
    row = checked.row
    version = recover.literal(row.version)
    with recover.run_lock(db, lock_timeout):
        current = recover.recorded(db).get(row.version)
        if current is None:
            raise RecoveryRefused(f"version {row.version} left the history meanwhile; nothing was changed",
                                  kind="unknown-version")
        script = [f"DELETE FROM {history.TABLE} WHERE version = {version}"]
        changed = [f"{history.TABLE}: the row of version {row.version} was deleted"]
        if current.meta:
            script.append(f"DELETE FROM {history.META_TABLE} WHERE version = {version}")
            changed.append(f"{history.META_TABLE}: the row of version {row.version} was deleted")
        recover.write(db, script, "forget")
    return ForgetReport(row.version, row.name, checked.present, changed)
