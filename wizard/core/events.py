"""What a run reports as it goes. Both front ends (the CLI printer and the terminal wizard) consume
these; nothing else passes between the engine and a front end during a run."""

from __future__ import annotations

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

    def to_json(self) -> dict[str, object]:
        return {"version": self.version, "name": self.name, "duration_ms": self.duration_ms}


@dataclass(frozen=True)
class RunFinished:
    applied: list[AppliedMigration] = field(default_factory=list)
    failed: Diagnosis | None = None
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return self.failed is None and not self.interrupted


Event = Notice | MigrationStarted | StatementDone | MigrationApplied | MigrationFailed | RunFinished
