"""Where the database's history and the folder disagree, beyond a file changed after it was applied:
a pending file that sorts before the latest applied version (out of order, which ``apply`` refuses
unless asked to include it, as the Supabase CLI refuses it without ``--include-all``), and a file
renamed after it was applied (a history row without a file whose recorded checksum is a pending
file's). Each with the one action that resolves it. Reads nothing: the states say it all."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wizard.core import history
from wizard.core.history import MigrationState

INCLUDE_ALL = "--include-all"

_RECORDED = (history.APPLIED, history.ADOPTED, history.DRIFTED, history.MISSING)


def _filename(state: MigrationState) -> str:
    return Path(state.file).name if state.file else f"{state.version}_{state.name}.sql"


@dataclass(frozen=True)
class Renamed:
    """A pending file with the content of a history row that has no file: the same migration,
    renamed after it was applied."""

    file: MigrationState  # the file today (pending)
    record: MigrationState  # the history row (missing)

    @property
    def recorded_name(self) -> str:
        return f"{self.record.version}_{self.record.name}.sql"

    def fix(self, directory: Path) -> str:
        """The one command that makes the folder agree with the history."""
        return f"mv {directory / _filename(self.file)} {directory / self.recorded_name}"

    def message(self, directory: Path) -> str:
        return (f"is {self.recorded_name} renamed after it was applied (the same content, recorded as version "
                f"{self.record.version}): '{self.fix(directory)}' gives it back the name the history knows")


@dataclass(frozen=True)
class OutOfOrder:
    """A pending file that sorts before a version the history already holds."""

    file: MigrationState
    latest: MigrationState  # the latest version applied

    @property
    def filename(self) -> str:
        return _filename(self.file)

    @property
    def latest_name(self) -> str:
        return f"{self.latest.version}_{self.latest.name}"

    def message(self) -> str:
        return (f"is pending but sorts before {self.latest_name}, which is already applied: it would run after it "
                f"('apply {INCLUDE_ALL}' applies it, once its dependencies are checked)")


def renamed(states: list[MigrationState]) -> list[Renamed]:
    """Pending files whose checksum is the one recorded for a history row without a file."""
    missing = {s.record.checksum: s for s in states
               if s.state == history.MISSING and s.record is not None and s.record.checksum}
    found = []
    for s in states:
        if s.state == history.PENDING and s.checksum in missing:
            found.append(Renamed(s, missing.pop(s.checksum)))
    return found


def out_of_order(states: list[MigrationState]) -> list[OutOfOrder]:
    """Pending files (renamed ones aside) whose version sorts before the latest one the history
    holds."""
    recorded = [s for s in states if s.state in _RECORDED]
    latest = max(recorded, key=lambda s: s.version, default=None)
    if latest is None:
        return []
    moved = {r.file.version for r in renamed(states)}
    return [OutOfOrder(s, latest) for s in states
            if s.state == history.PENDING and s.version < latest.version and s.version not in moved]
