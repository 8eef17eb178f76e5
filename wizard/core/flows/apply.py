"""``apply``: the pre-flight of a run, read as ``plan`` reads it (the same overview, so the same
facts), then the run itself: the pending migrations, each in one transaction, then the seed files
when asked, emitting the engine's events as they go.

:func:`preflight` answers what keeps a run from starting, where it will stop, and the warnings
worth saying first. :class:`Session` runs; it can be asked to stop from another thread or a signal
handler (the migration in progress rolls back). Its :class:`ApplyReport` holds every fact either
front end shows afterwards. Errors that end a run early (another run holds the lock, the
compatibility step cannot run) are raised as the runner raises them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wizard.core import preflight as checks
from wizard.core.advice import Advice
from wizard.core.catalog import Catalog, Migration, Problem
from wizard.core.diagnosis import Diagnosis
from wizard.core.errors import ExitCode
from wizard.core.events import Event, RunFinished
from wizard.core.flows import disagree, overview
from wizard.core.flows.disagree import OutOfOrder
from wizard.core.flows.overview import Overview
from wizard.core.preflight import Finding
from wizard.core.project import Project, SeedFile
from wizard.core.report import RunReport
from wizard.core.runbase import BaseRunner
from wizard.core.runner import RunOptions
from wizard.core.seeds import SeedResult


@dataclass
class Preflight:
    """What a run will meet, read before it starts."""

    overview: Overview

    @property
    def pending(self) -> list[Migration]:
        return self.overview.pending

    @property
    def refusals(self) -> list[Finding]:
        """Errors of the pending statements themselves: nothing may be applied."""
        return checks.blocking(self.overview.statement_facts)

    @property
    def out_of_order(self) -> list[OutOfOrder]:
        """Pending files that sort before a version already applied: a run refuses them unless
        asked to include them (``apply --include-all``)."""
        return disagree.out_of_order(self.overview.states)

    @property
    def stops(self) -> list[Finding]:
        """Missing dependencies: the run applies the migrations before the first and stops there."""
        if self.refusals:
            return []
        return [f for f in self.overview.dependency_facts if f.severity == checks.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        """What is worth saying before the run: the statements', the dependencies', long table
        locks, the server's version against supabase/config.toml."""
        facts = list(self.overview.statement_facts)
        if not self.refusals:
            facts += [f for f in self.overview.dependency_facts if f.severity != checks.ERROR]
            facts += self.overview.lock_facts
        facts += self.overview.version_facts
        return [f for f in facts if f.severity == checks.WARNING]


def preflight(catalog: Catalog, database: Any, project: Any = None, *, compat: bool = True,
              local: bool = False) -> Preflight:
    """The pre-flight of a run on ``database`` (an open connection): plan's reading."""
    return Preflight(overview.read(catalog, database, compat=compat, project=project, local=local))


class SeedSkip(enum.Enum):
    """Why a run applies no seed file."""

    NO_CONFIG = "no-config"  # no supabase/config.toml
    NOT_ASKED = "not-asked"  # a database other than the local one, and the seeds were not asked for
    DISABLED = "disabled"  # [db.seed] enabled = false
    NO_FILES = "no-files"  # the seed paths match no file
    OVER_HTTPS = "over-https"  # the Management API runs no seed file


@dataclass
class SeedPlan:
    """The seed files a run applies after the migrations, decided before anything runs: on the
    local database always, elsewhere when asked (and confirmed: ``needs_consent``)."""

    files: list[SeedFile] = field(default_factory=list)
    loaded: list[Migration] = field(default_factory=list)  # parsed, when none has a problem
    unmatched: list[str] = field(default_factory=list)  # seed paths of config.toml that match no file
    problems: list[Problem] = field(default_factory=list)  # unreadable or unparsable: the run refuses to start
    skipped: SeedSkip | None = None
    needs_consent: bool = False  # a remote database: the user confirms first


def seed_plan(project: Project | None, *, local: bool, asked: bool = False, stateless: bool = False) -> SeedPlan:
    """Which seed files run (``local``: the local database; ``asked``: --include-seed;
    ``stateless``: over the Management API)."""
    from wizard.core import seeds

    if project is None or not (local or asked):
        return SeedPlan(skipped=SeedSkip.NO_CONFIG if project is None else SeedSkip.NOT_ASKED)
    if not project.seed_enabled:
        return SeedPlan(skipped=SeedSkip.DISABLED)
    files, unmatched = project.seeds()
    if not files:
        return SeedPlan(unmatched=unmatched, skipped=SeedSkip.NO_FILES)
    if stateless:
        return SeedPlan(files, unmatched=unmatched, skipped=SeedSkip.OVER_HTTPS)
    loaded, problems = seeds.load(files)
    return SeedPlan(files, [] if problems else loaded, unmatched, problems, needs_consent=not local)


@dataclass
class ApplyReport:
    """What a run did: the migrations applied, the one that failed (with its advice), the seed
    files run, the local database's stand-in extensions used, what the compatibility step made."""

    finished: RunFinished
    seed_files: Sequence[Migration] = ()  # the seed files the run was to apply after the migrations
    seeded: list[SeedResult] = field(default_factory=list)
    standins: list[str] = field(default_factory=list)
    compat: list[str] = field(default_factory=list)
    advice: Advice | None = None
    run: RunReport | None = None  # the run's own account: each applied migration's outcome, where it stopped
    # over HTTPS: the requests the pending migrations take ("requests", "migrations", "packed") and
    # those the command sent in all, its reads before the run included ("sent")
    requests: dict[str, int] | None = None

    @property
    def failed(self) -> Diagnosis | None:
        return self.finished.failed or next((s.diagnosis for s in self.seeded if s.diagnosis), None)

    @property
    def interrupted(self) -> bool:
        return self.finished.interrupted or (bool(self.seed_files) and self.finished.ok and self.failed is None
                                             and len(self.seeded) < len(self.seed_files))

    @property
    def ok(self) -> bool:
        return self.finished.ok and self.failed is None and not self.interrupted

    @property
    def exit_code(self) -> ExitCode:
        if self.interrupted:
            return ExitCode.INTERRUPTED
        return ExitCode.FAILED if self.failed else ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        failed, advice = self.failed, self.advice
        return {
            "ok": self.ok,
            **(self.run.to_json() if self.run is not None else
               {"applied": [a.to_json() for a in self.finished.applied]}),
            "failed": ({**failed.to_json(), **({"advice": advice.to_json()} if advice else {})} if failed else None),
            **({"advice": advice.to_json()} if advice else {}),
            **({"seeds": [s.to_json() for s in self.seeded]} if self.seed_files else {}),
            **({"standins": self.standins} if self.standins else {}),
            **({"compat": self.compat} if self.compat else {}),
            **({"requests": self.requests} if self.requests is not None else {}),
        }


class Session:
    """One run on an open connection: :meth:`migrate`, then :meth:`seed`, then :meth:`report`
    (or :meth:`run` for all three). ``local``: the wizard's own database, whose stand-in
    extensions the report names."""

    def __init__(self, conn: Any, catalog: Catalog, options: RunOptions | None = None,
                 on_event: Callable[[Event], None] | None = None, *, seed_files: Sequence[Migration] = (),
                 on_seed_event: Callable[[Event], None] | None = None, local: bool = False) -> None:
        from wizard.core import runner

        self.conn, self.catalog, self.options = conn, catalog, options or RunOptions()
        self.seed_files, self.local = seed_files, local
        self.on_seed_event = on_seed_event
        self.runner: BaseRunner = runner.runner_for(conn)(conn, catalog, self.options, on_event=on_event)
        self.current: BaseRunner = self.runner
        self.finished: RunFinished | None = None
        self.seeded: list[SeedResult] = []

    # -- stopping (from a signal handler or another thread) ---------------------------------------

    @property
    def stop_requested(self) -> bool:
        return self.current.stop_requested

    def request_stop(self) -> None:
        self.current.request_stop()

    def cancel(self) -> None:
        self.current.cancel()

    # -- the run ----------------------------------------------------------------------------------

    def migrate(self) -> RunFinished:
        """The pending migrations. Raises LockHeld, CompatError as the runner does."""
        self.finished = self.runner.run()
        self.conn = self.runner.db  # the run's session: a new one when the first was lost and reopened
        return self.finished

    def seed(self) -> list[SeedResult]:
        """The seed files, when the migrations all went through."""
        from wizard.core import seeds

        if self.finished is None or not self.finished.ok or not self.seed_files:
            return []
        self.current = seeds.SeedRunner(self.conn, list(self.seed_files), self.options, on_event=self.on_seed_event)
        self.seeded = self.current.run_seeds()
        return self.seeded

    def report(self) -> ApplyReport:
        """What the run did (while still connected: the stand-ins are read from the database)."""
        from wizard.core import advice, standins

        assert self.finished is not None, "report() follows migrate()"
        report = ApplyReport(self.finished, self.seed_files, self.seeded, compat=list(self.runner.compat_created),
                             run=self.runner.report)
        from wizard.core.apirunner import ApiRunner

        if isinstance(self.runner, ApiRunner) and self.runner.budget is not None:
            report.requests = {**self.runner.budget.to_json(), "sent": self.runner.db.sent}
        if self.local and not self.finished.interrupted:
            report.standins = standins.installed(self.conn)
        if report.failed is not None:
            report.advice = advice.for_failure(report.failed, self.catalog)
        return report

    def run(self) -> ApplyReport:
        self.migrate()
        self.seed()
        return self.report()
