"""``fleet apply``: the pending migrations on every target of a fleet, each target in its own
worker with its own connection, run lock and history, each migration in its own transaction there
(the ``apply`` session, unchanged).

The rules: the canaries first, one at a time (the fleet stops when one is not done); then the
waves (the targets file's groups, in order), ``parallel`` targets at a time; once ``max_failures``
targets failed (or could not be reached), no new target starts, and the ones running finish. A
stop asked from the front end (Ctrl-C) reaches every running target: each rolls back the migration
in progress. Every target ends done, failed, interrupted, unreachable or not started; a failed
migration is also kept on its target (``failures``) for ``fleet status`` to show from anywhere.
Running it again continues where each target stopped: the history says what is left.
"""

from __future__ import annotations

import enum
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wizard.core.advice import Advice
from wizard.core.catalog import Catalog
from wizard.core.describe import Description, describe
from wizard.core.diagnosis import Diagnosis
from wizard.core.env import Environment
from wizard.core.errors import ExitCode
from wizard.core.events import AppliedMigration, Event
from wizard.core.fleet.reach import Reach, open_target
from wizard.core.fleet.targets import Target
from wizard.core.runoptions import RunOptions


class Outcome(enum.Enum):
    DONE = "done"  # every migration of the folder is applied there
    FAILED = "failed"  # a migration failed (rolled back), or the run could not go on (lock, pre-flight)
    INTERRUPTED = "interrupted"  # stopped on request; the migration in progress rolled back
    UNREACHABLE = "unreachable"  # not opened: nothing was done there
    NOT_STARTED = "not-started"  # the fleet stopped before it (a canary, max failures, a stop)


@dataclass(frozen=True)
class Options:
    parallel: int = 4
    canary: tuple[str, ...] = ()  # target names, applied first and alone
    max_failures: int = 1  # 0: no limit
    run: RunOptions = field(default_factory=RunOptions)
    include_all: bool = False  # out-of-order files too (as apply --include-all)


# -- what a fleet run tells as it goes -------------------------------------------------------------

@dataclass(frozen=True)
class TargetStarted:
    name: str
    canary: bool = False


@dataclass(frozen=True)
class TargetProgress:
    """An event of a target's run (a migration started, applied, failed; a notice)."""

    name: str
    event: Event


@dataclass(frozen=True)
class TargetEnded:
    result: TargetResult


@dataclass(frozen=True)
class FleetNotice:
    message: str


FleetEvent = TargetStarted | TargetProgress | TargetEnded | FleetNotice


@dataclass
class TargetResult:
    target: Target
    outcome: Outcome
    pending: int = 0  # the migrations pending when its run started
    applied: list[AppliedMigration] = field(default_factory=list)
    failed: Diagnosis | None = None  # the migration that failed, at its file:line
    advice: Advice | None = None
    error: Description | None = None  # what ended it otherwise (unreachable, lock held, pre-flight)
    canary: bool = False

    @property
    def summary(self) -> str:
        if self.outcome is Outcome.DONE:
            return f"done: {len(self.applied)} applied" if self.applied else "done: already up to date"
        if self.failed is not None:
            return f"failed at {self.failed.location()}: {self.failed.message}"
        if self.error is not None:
            return f"{self.outcome.value}: {self.error.line}"
        return str(self.outcome.value).replace("-", " ")

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {**self.target.to_json(), "outcome": self.outcome.value,
                                    "canary": self.canary, "pending": self.pending,
                                    "applied": [a.to_json() for a in self.applied]}
        if self.failed is not None:
            document["failed"] = {**self.failed.to_json(),
                                  **({"advice": self.advice.to_json()} if self.advice else {})}
        if self.error is not None:
            document["error"] = {"kind": self.error.kind, "message": self.error.line}
        return document


@dataclass
class FleetReport:
    results: list[TargetResult]

    def having(self, outcome: Outcome) -> list[TargetResult]:
        return [r for r in self.results if r.outcome is outcome]

    @property
    def ok(self) -> bool:
        return all(r.outcome is Outcome.DONE for r in self.results)

    @property
    def exit_code(self) -> ExitCode:
        if self.ok:
            return ExitCode.OK
        if self.having(Outcome.INTERRUPTED):
            return ExitCode.INTERRUPTED
        if self.having(Outcome.UNREACHABLE) and not self.having(Outcome.FAILED):
            return ExitCode.CONNECT
        return ExitCode.FAILED

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "targets": [r.to_json() for r in self.results],
                "summary": {o.value.replace("-", "_"): len(self.having(o)) for o in Outcome}}


# -- the run -------------------------------------------------------------------------------------

class FleetApply:
    """One fleet run: :meth:`run` (blocking; call it from a thread to keep a front end live),
    :meth:`request_stop` from anywhere."""

    def __init__(self, waves: Sequence[Sequence[Target]], catalog: Catalog, environment: Environment,
                 reach: Reach | None = None, options: Options | None = None,
                 on_event: Callable[[FleetEvent], None] | None = None, project: Any = None) -> None:
        self.waves = [list(w) for w in waves]
        self.catalog, self.environment = catalog, environment
        self.reach, self.options = reach or Reach(), options or Options()
        self.project = project
        self._on_event = on_event
        self._lock = threading.Lock()
        self._results: dict[str, TargetResult] = {}
        self._sessions: dict[str, Any] = {}
        self._stopping = False  # asked to stop (Ctrl-C): the running targets stop too
        self._halted = False  # a canary failed: nothing more starts
        self.failures = 0

    @property
    def targets(self) -> list[Target]:
        return [t for wave in self.waves for t in wave]

    def _emit(self, event: FleetEvent) -> None:
        if self._on_event is not None:
            with self._lock:
                self._on_event(event)

    # -- stopping --------------------------------------------------------------------------------

    @property
    def stop_requested(self) -> bool:
        return self._stopping

    def request_stop(self) -> None:
        """No target starts any more; each running one stops after rolling back the migration in
        progress."""
        self._stopping = True
        with self._lock:
            sessions = list(self._sessions.values())
        for session in sessions:
            session.request_stop()

    def _may_start(self) -> bool:
        limit = self.options.max_failures
        return not (self._stopping or self._halted) and not (limit and self.failures >= limit)

    # -- the order of things ---------------------------------------------------------------------

    def run(self) -> FleetReport:
        self._prepare()
        names = set(self.options.canary)
        by_name = {t.name: t for t in self.targets}
        canaries = [by_name[n] for n in self.options.canary if n in by_name]  # in the order given
        for target in canaries:
            if not self._may_start():
                break
            result = self._in_thread(target, canary=True)
            if result.outcome is not Outcome.DONE and not self._stopping:
                self._emit(FleetNotice(f"The canary {target.name} is not done ({result.outcome.value}): no other "
                                       "target starts."))
                self._halted = True
        for wave in self.waves:
            rest = [t for t in wave if t.name not in names]
            if rest and self._may_start():
                self._wave(rest)
        report = FleetReport([self._results.get(t.name) or TargetResult(t, Outcome.NOT_STARTED, canary=t.name in names)
                              for t in self.targets])
        return report

    def _prepare(self) -> None:
        """Pre-flight once: every file parsed before the workers start."""
        for migration in self.catalog.migrations:
            migration.executable_statements  # noqa: B018 (parsed once, shared by the workers)

    def _in_thread(self, target: Target, canary: bool = False) -> TargetResult:
        """One target in a worker thread, the caller waiting (so a front end's main thread stays free
        for Ctrl-C)."""
        worker = threading.Thread(target=self._one, args=(target, canary), name=f"fleet-{target.name}", daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(0.2)
        return self._results[target.name]

    def _wave(self, targets: list[Target]) -> None:
        todo: queue.Queue[Target] = queue.Queue()
        for target in targets:
            todo.put(target)

        def work() -> None:
            while True:
                with self._lock:
                    if not self._may_start():
                        return
                    try:
                        target = todo.get_nowait()
                    except queue.Empty:
                        return
                    self._results[target.name] = TargetResult(target, Outcome.NOT_STARTED)  # claimed
                self._one(target)

        workers = [threading.Thread(target=work, name=f"fleet-worker-{i}", daemon=True)
                   for i in range(max(1, min(self.options.parallel, len(targets))))]
        for worker in workers:
            worker.start()
        for worker in workers:
            while worker.is_alive():
                worker.join(0.2)

    # -- one target ------------------------------------------------------------------------------

    def _one(self, target: Target, canary: bool = False) -> None:
        self._emit(TargetStarted(target.name, canary))
        try:
            result = self._apply(target)
        except BaseException as exc:  # never let a worker die silently: the target failed, with why
            result = TargetResult(target, Outcome.FAILED, error=describe(exc))
        result.canary = canary
        with self._lock:
            self._results[target.name] = result
            if result.outcome in (Outcome.FAILED, Outcome.UNREACHABLE):
                self.failures += 1
            limit = self.options.max_failures
            reached = bool(limit) and self.failures == limit and result.outcome in (Outcome.FAILED,
                                                                                    Outcome.UNREACHABLE)
        self._emit(TargetEnded(result))
        if reached and not canary:
            self._emit(FleetNotice(f"{self.failures} target(s) failed (--max-failures {limit}): no new target "
                                   "starts; the running ones finish."))

    def _apply(self, target: Target) -> TargetResult:
        try:
            opened = open_target(target, self.environment, self.reach)
        except Exception as exc:
            return TargetResult(target, Outcome.UNREACHABLE, error=describe(exc))
        try:
            return self._migrate(target, opened.conn, opened.local)
        finally:
            with self._lock:
                self._sessions.pop(target.name, None)
            opened.close()

    def _migrate(self, target: Target, conn: Any, local: bool) -> TargetResult:
        from wizard.core.flows import apply

        checked = apply.preflight(self.catalog, conn, self.project, compat=self.options.run.compat, local=local)
        pending = len(checked.pending)
        if checked.refusals:
            first = checked.refusals[0]
            return TargetResult(target, Outcome.FAILED, pending, error=_said(
                "preflight", f"pre-flight: {first.location()}: {first.message}; nothing was applied there"))
        late = checked.out_of_order
        if late and not self.options.include_all:
            names = ", ".join(o.filename for o in late)
            return TargetResult(target, Outcome.FAILED, pending, error=_said(
                "out-of-order", f"{names} would run out of order there; nothing was applied (--include-all applies "
                "it)"))
        session = apply.Session(conn, self.catalog, self.options.run,
                                lambda event: self._emit(TargetProgress(target.name, event)), local=local)
        session.runner.report.plan(checked.pending)
        with self._lock:
            if self._stopping:
                return TargetResult(target, Outcome.NOT_STARTED, pending)
            self._sessions[target.name] = session
        try:
            session.migrate()
        except Exception as exc:  # the lock held by another run, a lost connection, an unknown outcome
            applied = list(session.runner.report.applied)
            return TargetResult(target, Outcome.FAILED, pending, applied, error=describe(exc))
        report = session.report()
        applied = list(report.finished.applied)
        if report.finished.interrupted:
            return TargetResult(target, Outcome.INTERRUPTED, pending, applied)
        if report.failed is not None:
            self._keep_failure(session.conn, report.failed)
            return TargetResult(target, Outcome.FAILED, pending, applied, report.failed, report.advice)
        self._forget_failures(session.conn)
        return TargetResult(target, Outcome.DONE, pending, applied)

    def _keep_failure(self, conn: Any, failed: Diagnosis) -> None:
        from wizard.core.fleet import failures

        try:
            failures.record(conn, failed)
        except Exception:  # the failure is reported anyway; only fleet status will not see it
            pass

    def _forget_failures(self, conn: Any) -> None:
        from wizard.core.fleet import failures

        try:
            failures.clear_applied(conn)
        except Exception:  # a stale row is harmless: an applied version shows as applied
            pass


def _said(kind: str, line: str) -> Description:
    return Description(kind, line, line, ExitCode.FAILED, line)
