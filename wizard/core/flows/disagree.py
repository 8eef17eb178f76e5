"""Where the database's history and the folder disagree, beyond a file changed after it was applied:
a pending file that sorts before the latest applied version (out of order, which ``apply`` refuses
unless asked to include it, as the Supabase CLI refuses it without ``--include-all``), and a file
renamed after it was applied (a history row without a file whose recorded checksum is a pending
file's). Each with the one action that resolves it. Reads nothing: the states say it all."""

from __future__ import annotations

import enum
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


class Action(enum.Enum):
    """What resolves a disagreement, as the commands name it."""

    FETCH = "fetch"  # write a row without a file back into the folder
    DIFF = "diff"  # show what changed in a file since it was applied
    ACCEPT = "accept"  # record an edited file, once the database has what it creates
    INCLUDE = "include"  # apply a file out of order (apply --include-all)
    FORGET = "forget"  # remove a history row


@dataclass(frozen=True)
class Disagreement:
    """One place where the history and the folder disagree, and the actions that resolve it."""

    code: str  # the finding's code: missing-file, renamed, out-of-order, drifted
    version: str
    label: str  # the file, or the version and its recorded name
    actions: tuple[Action, ...]


def disagreements(states: list[MigrationState]) -> list[Disagreement]:
    """Every disagreement, in the order of the states, with its actions."""
    moved = {r.file.version: r for r in renamed(states)}
    moved_records = {r.record.version for r in moved.values()}
    late = {o.file.version for o in out_of_order(states)}
    found = []
    for s in states:
        if s.state == history.DRIFTED:
            found.append(Disagreement("drifted", s.version, _filename(s), (Action.DIFF, Action.ACCEPT)))
        elif s.state == history.MISSING and s.version not in moved_records:
            fetchable = s.record is not None and bool(s.record.statements)
            actions = (Action.FETCH, Action.FORGET) if fetchable else (Action.FORGET,)
            found.append(Disagreement("missing-file", s.version, f"{s.version}_{s.name}", actions))
        elif s.state == history.PENDING and s.version in moved:
            found.append(Disagreement("renamed", s.version, _filename(s), ()))
        elif s.state == history.PENDING and s.version in late:
            found.append(Disagreement("out-of-order", s.version, _filename(s), (Action.INCLUDE,)))
    return found
