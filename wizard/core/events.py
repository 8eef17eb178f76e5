"""What a run reports as it goes. Both front ends (the CLI printer and the terminal wizard) consume
these; nothing else passes between the engine and a front end during a run."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from wizard.core.diagnosis import Diagnosis


@dataclass(frozen=True)
class Notice:
    """Something worth telling the user that is not progress: the compatibility step ran, the lock
    is held by another run and we are waiting, a file's own BEGIN/COMMIT were left out..."""

    message: str


@dataclass(frozen=True)
class MigrationStarted:
    version: str
    name: str
    statements: int
    transactional: bool


@dataclass(frozen=True)
class StatementDone:
    version: str
    index: int  # 1-based
    total: int


@dataclass(frozen=True)
class MigrationApplied:
    version: str
    name: str
    duration_ms: int
    reply_lost: bool = False  # it committed, but the server's answer was lost: the history said so


@dataclass(frozen=True)
class MigrationSkipped:
    """A migration of the plan this run did not run because another run recorded it meanwhile
    (its objects are that run's; nothing of this run's attempt was kept)."""

    version: str
    name: str
    reason: str


@dataclass(frozen=True)
class MigrationFailed:
    version: str
    name: str
    diagnosis: Diagnosis


@dataclass(frozen=True)
class AppliedMigration:
    version: str
    name: str
    duration_ms: int
    reply_lost: bool = False  # it committed, but the server's answer was lost: the history said so

    def to_json(self) -> dict[str, object]:
        return {"version": self.version, "name": self.name, "duration_ms": self.duration_ms}

    @property
    def outcome(self) -> Outcome:
        return Outcome.APPLIED_REPLY_LOST if self.reply_lost else Outcome.APPLIED


class Outcome(enum.Enum):
    """What became of a migration a run attempted."""

    APPLIED = "applied"
    APPLIED_REPLY_LOST = "applied-reply-lost"  # committed; the answer was lost, the history told
    FAILED = "failed"  # the server refused it; rolled back
    NOT_APPLIED = "not-applied"  # interrupted, or its session or request lost before it committed
    UNKNOWN = "unknown"  # it may have committed: the database could not be asked (the next run finds out)


@dataclass(frozen=True)
class Stopped:
    """A migration a run attempted and did not apply, or cannot vouch for."""

    version: str
    name: str
    file: str
    outcome: Outcome
    reason: str

    def to_json(self) -> dict[str, object]:
        return {"version": self.version, "name": self.name, "file": self.file, "outcome": self.outcome.value,
                "reason": self.reason}


@dataclass(frozen=True)
class Planned:
    """A migration a run meant to apply."""

    version: str
    name: str

    def to_json(self) -> dict[str, object]:
        return {"version": self.version, "name": self.name}


@dataclass(frozen=True)
class RunFinished:
    applied: list[AppliedMigration] = field(default_factory=list)
    failed: Diagnosis | None = None
    interrupted: bool = False
    # Filled in when the run ends: what it attempted and did not apply, and what it never attempted.
    stopped: tuple[Stopped, ...] = ()
    not_attempted: tuple[Planned, ...] = ()

    @property
    def ok(self) -> bool:
        return self.failed is None and not self.interrupted


Event = (Notice | MigrationStarted | StatementDone | MigrationApplied | MigrationSkipped | MigrationFailed
         | RunFinished)
