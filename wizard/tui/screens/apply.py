"""Apply: one row per migration with its state, the running one's statement progress, durations,
the overall progress and the elapsed time. The run is the engine's, in a thread worker that posts
its events; it can be cancelled between statements (the migration in progress rolls back). A
failure opens Troubleshoot; retrying resumes where the run stopped. Answers the outcome."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, ProgressBar, Static

from wizard.tui.screens.path import Plan
from wizard.tui.screens.step import Step
from wizard.tui.trouble import Trouble
from wizard.tui.widgets import cell

if TYPE_CHECKING:
    from collections.abc import Callable

    from wizard.core.catalog import Catalog, Migration
    from wizard.core.db import Connectable
    from wizard.core.diagnosis import Diagnosis
    from wizard.core.events import AppliedMigration, Event, RunFinished
    from wizard.core.history import MigrationState
    from wizard.core.flows.apply import Session
    from wizard.core.seeds import SeedResult
    from wizard.tui.target import Target

_TONE = {"applied": "success", "adopted": "success", "running": "primary", "failed": "error",
         "drifted": "warning", "pending": "muted"}


@dataclass(frozen=True)
class Outcome:
    """What the run left: the folder as last read, the way used, what this run applied."""

    plan: Plan
    catalog: Catalog
    applied: tuple[AppliedMigration, ...]


@dataclass(frozen=True)
class Row:
    """A migration as the table shows it: its state, the running one's statements, its time."""

    name: str
    state: str
    statements: str = ""
    time: str = ""


def duration(ms: int | None) -> str:
    if ms is None:
        return ""
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


class ApplyScreen(Step[Outcome]):
    STEP = "Apply"
    BINDINGS = [
        Binding("enter", "verify", "Verify", priority=True),
        Binding("c", "cancel", "Cancel"),
        Binding("r", "retry", "Retry"),
        Binding("t", "troubleshoot", "Troubleshoot"),
        Binding("escape", "back", "Back"),
    ]

    class Progress(Message):
        """An event of the engine's run."""

        def __init__(self, event: Event) -> None:
            super().__init__()
            self.event = event

    class Planned(Message):
        """The folder as read for this run, and each migration's state in the database."""

        def __init__(self, catalog: Catalog, states: list[MigrationState]) -> None:
            super().__init__()
            self.catalog = catalog
            self.states = states

    class Stopped(Message):
        def __init__(self, finished: RunFinished | None, trouble: Trouble | None,
                     standins: tuple[str, ...] = ()) -> None:
            super().__init__()
            self.finished = finished
            self.trouble = trouble
            self.standins = standins  # the local database's stand-in extensions, by name

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan
        self.catalog = plan.catalog
        self.runner: Session | None = None
        self.running = False
        self.finished: RunFinished | None = None
        self.trouble: Trouble | None = None
        self.applied: list[AppliedMigration] = []
        self.started = 0.0
        self.statements: dict[str, tuple[int, int]] = {}  # version -> (done, total) of the running one
        self.rows: dict[str, Row] = {}  # version -> its row: what the table shows, kept here

    @property
    def target(self) -> Target:
        """The way to the database: the step is reached with one (the manual path's plan has none)."""
        assert self.plan.target is not None, "a way to the database to apply over"
        return self.plan.target

    def body(self) -> ComposeResult:
        way = "over HTTPS (Management API)" if self.target.over_https else "over a database connection"
        yield Static(f"Applying to {self.target.shown}, {way}.", id="status")
        table: DataTable[object] = DataTable(id="migrations", cursor_type="row", zebra_stripes=True)
        table.add_column("Migration", key="migration")
        table.add_column("State", key="state", width=9)
        table.add_column("Statements", key="statements", width=11)  # fits "rolled back"
        table.add_column("Time", key="time", width=8)
        yield table
        with Horizontal(id="progress"):
            yield ProgressBar(total=len(self.catalog.migrations) or 1, show_eta=False, id="overall")
            yield Static("", id="elapsed")
        yield Static("", id="notice")

    def on_mount(self) -> None:
        self._fill([(s.version, s.name, s.state) for s in self.plan.states if s.state != "missing"])
        self.ticker = self.set_interval(0.25, self._tick, pause=True)
        self.query_one("#migrations").focus()
        self.start()

    def on_unmount(self) -> None:
        if self.runner is not None:  # quitting mid-run: the migration in progress rolls back
            self.runner.cancel()

    def start(self, adopt: str | None = None) -> None:
        self.running, self.finished, self.trouble = True, None, None
        self.started = time.monotonic()
        self.ticker.resume()
        self.refresh_bindings()
        self.run(adopt)

    # -- the run (a thread) -------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="run")
    def run(self, adopt: str | None) -> None:
        """Read the folder again (so that a fix is taken), adopt a migration when asked, then let
        the engine apply what is pending, posting its events."""
        from wizard.core import catalog as folders
        from wizard.core import project
        from wizard.core.events import Notice
        from wizard.core.flows import apply

        target, finished, trouble = self.target, None, None
        used: tuple[str, ...] = ()

        def emit(message: Message) -> None:
            self.post_message(message)

        try:
            catalog = folders.load(self.catalog.directory)
            with target.open(on_notice=lambda text: emit(self.Progress(Notice(text)))) as conn:
                if adopt:
                    trouble = self._adopt(conn, catalog, adopt)
                checked = apply.preflight(catalog, conn, project.find(catalog.directory), local=target.local)
                emit(self.Planned(catalog, checked.overview.states))
                refusals = checked.refusals
                seed_files, seed_trouble = self._seeds_to_run(catalog) if trouble is None else ([], None)
                if trouble is None and refusals:
                    trouble = Trouble.finding(refusals[0], catalog.directory)
                elif trouble is None and seed_trouble is not None:
                    trouble = seed_trouble
                elif trouble is None:
                    self.runner = apply.Session(conn, catalog, on_event=lambda event: emit(self.Progress(event)),
                                                seed_files=seed_files, local=target.local)
                    finished = self.runner.migrate()
                    conn = self.runner.conn  # the run's session: a new one when the first was lost and reopened
                    if finished.failed:
                        trouble = self._failure(conn, catalog, finished.failed)
                    elif finished.ok:
                        trouble = self._seed(catalog, self.runner.seed(),
                                             lambda text: emit(self.Progress(Notice(text))))
                        used = tuple(self.runner.report().standins)
        except Exception as exc:
            trouble = Trouble.error(exc, target)
        finally:
            self.runner = None
        emit(self.Stopped(finished, trouble, used))

    def _adopt(self, conn: Connectable, catalog: Catalog, version: str) -> Trouble | None:
        """Record a migration as applied, when everything it creates is in the database."""
        from wizard.core.flows import adopt

        choice = adopt.choose(catalog, conn, [version])
        if choice.refused:
            refused = choice.refused[0]
            return Trouble(f"{refused.migration.filename} cannot be adopted",
                           "The database lacks " + ", ".join(o.describe() for o in refused.missing[:10]),
                           details=("Apply it instead (fix it so that it runs), or finish running it by hand.",))
        adopt.adopt(catalog, conn, choice)
        return None

    def _seeds_to_run(self, catalog: Catalog) -> tuple[list[Migration], Trouble | None]:
        """On the local database, the seed files of supabase/config.toml, parsed; decided before
        anything runs, as the command line does: a seed that cannot be read or parsed keeps the run
        from starting."""
        from wizard.core import preflight, project
        from wizard.core.flows.apply import seed_plan

        if not self.target.local:
            return [], None
        found = project.find(catalog.directory)  # a malformed config.toml: an error of the step
        plan = seed_plan(found, local=True)
        if plan.problems and found is not None:  # problems are the project's seed files'
            return [], Trouble.finding(preflight._from_problem(plan.problems[0]), found.root)
        return plan.loaded, None

    def _seed(self, catalog: Catalog, results: list[SeedResult], say: Callable[[str], None]) -> Trouble | None:
        """What the seed files did, after the migrations, as the command line runs them: a failure,
        or one line."""
        if not results:
            return None
        failed = next((r for r in results if r.diagnosis is not None), None)
        if failed is not None and failed.diagnosis is not None:
            trouble = Trouble.failed(failed.diagnosis, catalog, self.plan.ref)
            return replace(trouble, what=f"The seed file {failed.path} failed; it was rolled back", version=None)
        say("Seed: " + ", ".join(f"{r.path} {'unchanged, not run again' if r.outcome == 'unchanged' else 'applied'}"
                                 for r in results) + ".")
        return None

    def _failure(self, conn: Connectable, catalog: Catalog, diagnosis: Diagnosis) -> Trouble:
        """A failed migration, and whether it can be adopted (checked while connected)."""
        from wizard.core import advice, verify

        missing = None
        if "adopt" in advice.for_failure(diagnosis, catalog).actions:
            absent = verify.migration_presence(conn, catalog.by_version()[diagnosis.version])[1]
            missing = [o.describe() for o in absent]
        return Trouble.failed(diagnosis, catalog, self.plan.ref, missing)

    # -- what the run reports -----------------------------------------------------------------

    def _fill(self, rows: list[tuple[str, str, str]]) -> None:
        self.rows = {version: Row(name, state) for version, name, state in rows}
        table = self.query_one("#migrations", DataTable)
        table.clear()
        for version, row in self.rows.items():
            table.add_row(*self._cells(version, row), key=version)
        self.query_one("#overall", ProgressBar).update(total=len(self.rows) or 1)
        self._progress()

    def _cells(self, version: str, row: Row) -> tuple[object, ...]:
        return (f"{version}_{row.name}", cell(self.app, row.state, _TONE.get(row.state)), row.statements, row.time)

    def _set(self, version: str, **changes: str) -> None:
        """A migration's row changes: the state first, then the table shows it."""
        if version not in self.rows:
            return
        row = self.rows[version] = replace(self.rows[version], **changes)
        table = self.query_one("#migrations", DataTable)
        for key, value in zip(("migration", "state", "statements", "time"), self._cells(version, row)):
            if key in changes:
                table.update_cell(version, key, value)

    def on_apply_screen_planned(self, message: Planned) -> None:
        self.catalog = message.catalog
        self._fill([(s.version, s.name, s.state) for s in message.states if s.state != "missing"])

    def on_apply_screen_progress(self, message: Progress) -> None:
        from wizard.core import events

        event = message.event
        times = self.app.settings.show_times
        if isinstance(event, events.MigrationStarted):
            self.statements = {event.version: (0, event.statements)}
            self._set(event.version, state="running", statements=f"0/{event.statements}")
            table = self.query_one("#migrations", DataTable)
            table.move_cursor(row=table.get_row_index(event.version))
        elif isinstance(event, events.StatementDone):
            self.statements = {event.version: (event.index, event.total)}
            self._set(event.version, statements=f"{event.index}/{event.total}")
        elif isinstance(event, events.MigrationApplied):
            self.statements = {}
            self.applied.append(events.AppliedMigration(event.version, event.name, event.duration_ms))
            self._set(event.version, state="applied", time=duration(event.duration_ms) if times else "")
        elif isinstance(event, events.MigrationSkipped):
            self.statements = {}
            self._set(event.version, state="applied", statements="by another run")
        elif isinstance(event, events.MigrationFailed):
            self.statements = {}
            self._set(event.version, state="failed")
        elif isinstance(event, events.RunFinished) and event.interrupted:
            for version in self.statements:
                self._set(version, state="pending", statements="rolled back")
            self.statements = {}
        elif isinstance(event, events.Notice):
            self.query_one("#notice", Static).update(event.message)
        self._progress()

    def _progress(self) -> None:
        done = sum(1 for row in self.rows.values() if row.state in ("applied", "adopted"))
        running = sum(index / total for index, total in self.statements.values() if total)
        self.query_one("#overall", ProgressBar).update(progress=done + running)

    def _tick(self) -> None:
        if self.app.settings.show_times:
            self.query_one("#elapsed", Static).update(f"Elapsed {time.monotonic() - self.started:.1f} s")

    def on_apply_screen_stopped(self, message: Stopped) -> None:
        self._tick()
        self.ticker.pause()
        self.running, self.finished, self.trouble = False, message.finished, message.trouble
        status = self.query_one("#status", Static)
        finished = message.finished
        if message.trouble is not None:
            status.update(f"Stopped: {message.trouble.what}. Press t for the details, r to retry.")
            self.troubleshoot(message.trouble)
        elif finished is not None and finished.interrupted:
            status.update("Cancelled: the migration in progress was rolled back. Press r to resume.")
        else:
            count = len(self.catalog.migrations)
            now = f" ({len(self.applied)} just now)" if self.applied else ""
            text = f"All {count} migrations are applied{now}. Press Enter to verify."
            if message.standins:
                from wizard.core import standins

                described = standins.describe(list(message.standins))
                text += "\n" + described[0].upper() + described[1:] + "."
            status.update(text)
        self.refresh_bindings()

    # -- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        stopped = not self.running
        if action == "verify":
            return stopped and self.finished is not None and self.finished.ok and self.trouble is None
        if action == "cancel":
            return self.running
        if action == "retry":
            return stopped and (self.trouble is not None or (self.finished is not None and not self.finished.ok))
        if action == "troubleshoot":
            return stopped and self.trouble is not None
        if action == "back":
            return stopped
        return True

    def action_verify(self) -> None:
        self.dismiss(Outcome(self.plan, self.catalog, tuple(self.applied)))

    def action_cancel(self) -> None:
        if self.runner is not None:
            self.query_one("#status", Static).update("Cancelling: the migration in progress will roll back…")
            self.run_worker(self.runner.cancel, thread=True, group="cancel")

    def action_retry(self) -> None:
        self.start()

    def action_troubleshoot(self) -> None:
        if self.trouble is not None:  # the binding shows for trouble
            self.troubleshoot(self.trouble)

    def after_trouble(self, answer: str | None) -> None:
        if answer == "retry":
            self.start()
        elif answer == "adopt" and self.trouble is not None:
            self.start(adopt=self.trouble.version)

    def action_back(self) -> None:
        self.dismiss(None)

