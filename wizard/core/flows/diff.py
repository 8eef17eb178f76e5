"""``diff``: what changed in a file since it was applied: a unified diff between the statements
the history recorded for its version and the file's statements today. Reads only."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from wizard.core.catalog import Catalog
from wizard.core.db import Connectable
from wizard.core.flows import recover
from wizard.core.flows.recover import RecoveryRefused


@dataclass(frozen=True)
class DiffReport:
    version: str
    file: str
    recorded: str  # the recorded statements, as a file would hold them
    current: str  # the file's statements today, the same way
    lines: list[str]  # the unified diff (empty: the statements are the same)
    checksum_changed: bool  # the file's checksum is not the one the wizard recorded

    @property
    def changed(self) -> bool:
        return bool(self.lines)

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "file": self.file, "changed": self.changed,
                "checksum_changed": self.checksum_changed, "diff": "".join(self.lines)}


def diff(catalog: Catalog, conn: Connectable, version: str) -> DiffReport:
    """The diff for ``version`` (raises RecoveryRefused when it has no file or no history row)."""
    migration = catalog.by_version().get(version)
    row = recover.recorded(conn).get(version)
    if migration is None:
        raise RecoveryRefused(f"no migration file has version {version}"
                              + (f": 'migration-wizard fetch {version}' writes it back" if row else ""),
                              kind="unknown-version")
    if row is None:
        raise RecoveryRefused(f"{migration.filename} is not applied: the history has no version {version} to "
                              "compare it with", kind="not-applied")
    if row.statements is None:
        raise RecoveryRefused(f"the history recorded no statements for {version}: there is nothing to compare "
                              f"{migration.filename} with", kind="no-statements")
    before = recover.render(row.statements)
    after = recover.render([s.text for s in migration.executable_statements])
    lines = list(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                      fromfile=f"{version} (recorded in the history)",
                                      tofile=f"{migration.filename} (the file today)"))
    lines = [line if line.endswith("\n") else line + "\n" for line in lines]
    changed_checksum = row.checksum is not None and row.checksum != migration.checksum
    return DiffReport(version, str(migration.path), before, after, lines, changed_checksum)
