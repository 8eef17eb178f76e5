"""``fetch``: write a history row that has no file back into the folder, as ``<version>_<name>.sql``,
from the statements the history recorded (the Supabase CLI's ``statements`` column). A file is
never overwritten.

:func:`choose` reads (nothing is written); :func:`fetch` writes the files, then, under the run lock
and in one transaction, the new files' checksums into the wizard's table where it has a row for the
version (the previous checksum kept), so that ``status`` shows them applied.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard.core import history
from wizard.core.catalog import MIGRATION_FILE, Catalog
from wizard.core.db import Connectable, database
from wizard.core.flows import recover
from wizard.core.flows.recover import Recorded

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class Skipped:
    """A version that is not fetched, and why."""

    version: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "reason": self.reason}


@dataclass
class FetchChoice:
    chosen: list[Recorded] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # named versions the history does not have
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class Fetched:
    """A file written back from the history."""

    version: str
    name: str
    path: Path
    statements: int
    checksum: str
    recorded_checksum: bool  # the wizard's table now holds the file's checksum
    previous_checksum: str | None

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "name": self.name, "file": str(self.path), "statements": self.statements,
                "checksum": self.checksum, "recorded_checksum": self.recorded_checksum,
                "previous_checksum": self.previous_checksum}


@dataclass
class FetchReport:
    choice: FetchChoice
    fetched: list[Fetched]

    @property
    def ok(self) -> bool:
        return not self.choice.unknown

    @property
    def changed(self) -> list[str]:
        """What was written, for people: each file, and each checksum the wizard's table now holds."""
        lines = []
        for f in self.fetched:
            lines.append(f"{f.path}: written from the history ({f.statements} statement(s))")
            if f.recorded_checksum:
                lines.append(f"{history.META_TABLE}: version {f.version} now has the file's checksum "
                             f"{f.checksum[:12]}... (it was {(f.previous_checksum or 'none')[:12]}..., kept as "
                             "previous_checksum)")
        return lines

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "fetched": [f.to_json() for f in self.fetched],
                "skipped": [s.to_json() for s in self.choice.skipped], "unknown": self.choice.unknown,
                "changed": self.changed}


def choose(catalog: Catalog, conn: Connectable, versions: Sequence[str] = ()) -> FetchChoice:
    """The history rows to write back: the named versions, or (none named) every row without a
    file. Reads only."""
    rows = recover.recorded(conn)
    files = catalog.by_version()
    choice = FetchChoice(unknown=[v for v in versions if v not in rows])
    wanted = [rows[v] for v in versions if v in rows] if versions else [r for v, r in rows.items() if v not in files]
    for row in wanted:
        reason = _cannot(row, catalog, files)
        if reason is None:
            choice.chosen.append(row)
        else:
            choice.skipped.append(Skipped(row.version, reason))
    return choice


def _cannot(row: Recorded, catalog: Catalog, files: dict[str, Any]) -> str | None:
    if row.version in files:
        return f"it has a file already: {files[row.version].filename}"
    if not row.statements:
        return ("the history holds no statements for it (it was recorded without them): nothing to write back; "
                f"'migration-wizard forget {row.version}' removes the record if it is not needed")
    name = row.name or "recovered"
    if not _SAFE_NAME.match(name) or not MIGRATION_FILE.match(row.filename):
        return f"its recorded name {name!r} cannot be a file name"
    if (catalog.directory / row.filename).exists():
        return f"{row.filename} exists already and is not a migration of this folder; it is never overwritten"
    return None


def fetch(catalog: Catalog, conn: Connectable, choice: FetchChoice,
          lock_timeout: float = recover.DEFAULT_LOCK_TIMEOUT) -> FetchReport:
    """Write the chosen rows as files and record their checksums, under the run lock (raises
    LockHeld; HistoryWriteFailed, the files written removed again)."""
    db = database(conn)
    if not choice.chosen:
        return FetchReport(choice, [])
    with recover.run_lock(db, lock_timeout):
        rows = recover.recorded(db)
        todo = [rows[r.version] for r in choice.chosen if r.version in rows]
        written: list[tuple[Recorded, Path, str]] = []
        try:
            for row in todo:
                path = catalog.directory / row.filename
                data = recover.render(row.statements or []).encode("utf-8")
                with open(path, "xb") as handle:  # never overwrites
                    handle.write(data)
                written.append((row, path, hashlib.sha256(data).hexdigest()))
            updates = [
                f"UPDATE {history.META_TABLE} SET previous_checksum = checksum, checksum = {recover.literal(sha)} "
                f"WHERE version = {recover.literal(row.version)}"
                for row, _, sha in written if row.meta
            ]
            if updates:
                recover.write(db, [recover.PREVIOUS_COLUMN, *updates], "fetch")
        except BaseException:
            for _, path, _ in written:
                path.unlink(missing_ok=True)
            raise
    fetched = [Fetched(row.version, row.name or "recovered", path, len(row.statements or []), sha, row.meta,
                       row.checksum if row.meta else None)
               for row, path, sha in written]
    return FetchReport(choice, fetched)
