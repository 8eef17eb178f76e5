"""What a run did, migration by migration, however it ended: a failure, a lost connection, an
interrupt, a held lock, an outcome nobody could check. The runner keeps one ``RunReport``, fed by
its own events and told what the events cannot say (a migration whose outcome is unknown); a front
end reads it at the end, even when the run ended on an error."""

from __future__ import annotations

from collections.abc import Iterable

from wizard.core.catalog import Migration
from wizard.core.events import (
    AppliedMigration,
    Event,
    MigrationApplied,
    MigrationFailed,
    MigrationSkipped,
    MigrationStarted,
    Outcome,
    Planned,
    RunFinished,
    Stopped,
)

INTERRUPTED = "interrupted: it was rolled back"


class RunReport:
    """The account of one run: applied, skipped (another run recorded them meanwhile), stopped
    (with the outcome of each), not attempted."""

    def __init__(self) -> None:
        self.planned: list[Migration] = []
        self.applied: list[AppliedMigration] = []
        self.stopped: list[Stopped] = []
        self.skipped: list[MigrationSkipped] = []
        self._current: str | None = None  # the version of the migration started and not settled yet

    def plan(self, migrations: Iterable[Migration]) -> None:
        """What the run means to apply, in order (told again once the run has read the history)."""
        self.planned = list(migrations)

    # -- what happened ---------------------------------------------------------------------------

    def observe(self, event: Event) -> None:
        if isinstance(event, MigrationStarted):
            self._current = event.version
        elif isinstance(event, MigrationApplied):
            self.applied.append(AppliedMigration(event.version, event.name, event.duration_ms, event.reply_lost))
            if self._current == event.version:
                self._current = None
        elif isinstance(event, MigrationSkipped):
            self.skipped.append(event)
            if self._current == event.version:
                self._current = None
        elif isinstance(event, MigrationFailed):
            self._stop(event.version, event.name, Outcome.FAILED, event.diagnosis.message)
        elif isinstance(event, RunFinished) and event.interrupted:
            self.ended(INTERRUPTED)

    def stop(self, migration: Migration, outcome: Outcome, reason: str) -> None:
        """Say what became of a migration the run attempted and did not apply."""
        self._stop(migration.version, migration.name, outcome, reason)

    def applied_reply_lost(self, migration: Migration, duration_ms: int) -> None:
        """A migration the history shows committed, its answer lost, when the run ended before
        it could say so with an event."""
        if not any(a.version == migration.version for a in self.applied):
            self.applied.append(AppliedMigration(migration.version, migration.name, duration_ms, reply_lost=True))
        if self._current == migration.version:
            self._current = None

    def ended(self, reason: str, outcome: Outcome = Outcome.NOT_APPLIED) -> None:
        """The run ended (an error, an interrupt): the migration in progress, when nothing was said
        of it yet, gets this outcome."""
        if self._current is not None:
            self._stop(self._current, self._name(self._current), outcome, reason)

    def _stop(self, version: str, name: str, outcome: Outcome, reason: str) -> None:
        if self._current == version:
            self._current = None
        if any(s.version == version for s in self.stopped) or any(a.version == version for a in self.applied):
            return  # said already
        file = next((str(m.path) for m in self.planned if m.version == version), "")
        self.stopped.append(Stopped(version, name, file, outcome, reason))

    def _name(self, version: str) -> str:
        return next((m.name for m in self.planned if m.version == version), "")

    # -- what it comes to ------------------------------------------------------------------------

    @property
    def not_attempted(self) -> list[Planned]:
        done = {a.version for a in self.applied} | {s.version for s in self.stopped} | {s.version for s in self.skipped}
        if self._current is not None:
            done.add(self._current)
        return [Planned(m.version, m.name) for m in self.planned if m.version not in done]

    def finished(self, finished: RunFinished) -> RunFinished:
        """The run's end with what it stopped at and what it never attempted."""
        return RunFinished(finished.applied, finished.failed, finished.interrupted, tuple(self.stopped),
                           tuple(self.not_attempted))

    def to_json(self) -> dict[str, object]:
        """``applied`` (each with its ``outcome``); when the run did not apply everything it
        planned, ``stopped`` (each migration attempted and not applied, or whose outcome is
        unknown, with its ``outcome`` and ``reason``) and ``not_attempted``; ``skipped`` when
        another run recorded some of them meanwhile."""
        document: dict[str, object] = {
            "applied": [{**a.to_json(), "outcome": a.outcome.value} for a in self.applied],
        }
        if self.skipped:
            document["skipped"] = [{"version": s.version, "name": s.name, "reason": s.reason} for s in self.skipped]
        not_attempted = self.not_attempted
        if self.stopped or not_attempted:
            document["stopped"] = [s.to_json() for s in self.stopped]
            document["not_attempted"] = [p.to_json() for p in not_attempted]
        return document
