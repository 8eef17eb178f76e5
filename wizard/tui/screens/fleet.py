"""Fleet: the databases of the targets file (``migration-wizard.toml``, or ``--targets``) against
the folder, a row per target and a column per migration, as ``fleet status`` reads them: each
target's row fills in as it is read, in parallel. ``a`` applies the fleet as ``fleet apply`` does
(after the run's choices: a canary, targets at a time, failures allowed): the cells turn as each
migration is applied or fails, and at the end the report: done, failed (file:line, why, the fix;
``t`` opens Troubleshoot), not started, unreachable. ``c`` stops the run (the migrations in
progress roll back), ``r`` reads every target again, Escape goes back.

The facts are the engine's (``fleet_status``, ``fleet_apply``), heard in thread workers and posted
to the screen as messages; the screen only draws them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from wizard.tui.screens import fleet_lines as lines
from wizard.tui.trouble import Trouble
from wizard.tui.widgets.matrix import Matrix, Row, legend, style

if TYPE_CHECKING:
    from textual import getters

    from wizard.core.catalog import Catalog
    from wizard.core.env import Environment
    from wizard.core.fleet.reach import Reach
    from wizard.core.fleet.targets import Fleet
    from wizard.core.flows.fleet_apply import FleetApply, FleetEvent, FleetReport, Options
    from wizard.core.flows.fleet_status import FleetStatus, TargetStatus
    from wizard.tui.services import Services


class FleetScreen(Screen[None]):
    BINDINGS = [
        Binding("a", "apply", "Apply to the fleet"),
        Binding("c", "stop", "Stop"),
        Binding("r", "refresh", "Read again"),
        Binding("t", "troubleshoot", "Troubleshoot"),
        Binding("escape", "back", "Back"),
    ]

    if TYPE_CHECKING:  # it runs in the wizard's app (Textual's idiom, for the type checker alone)
        app = getters.app(Services)

    class Loaded(Message):
        """The targets file, the folder and the environment, read for this round."""

        def __init__(self, round: int, fleet: Fleet, catalog: Catalog, environment: Environment) -> None:
            super().__init__()
            self.round, self.fleet, self.catalog, self.environment = round, fleet, catalog, environment

    class Unloaded(Message):
        """The targets file or the folder could not be read."""

        def __init__(self, round: int, text: str) -> None:
            super().__init__()
            self.round, self.text = round, text

    class Read(Message):
        """One target, read."""

        def __init__(self, round: int, status: TargetStatus) -> None:
            super().__init__()
            self.round, self.status = round, status

    class AllRead(Message):
        def __init__(self, round: int, found: FleetStatus) -> None:
            super().__init__()
            self.round, self.found = round, found

    class Progress(Message):
        """An event of the fleet's run."""

        def __init__(self, round: int, event: FleetEvent) -> None:
            super().__init__()
            self.round, self.event = round, event

    class Ended(Message):
        def __init__(self, round: int, report: FleetReport | None, trouble: Trouble | None) -> None:
            super().__init__()
            self.round, self.report, self.trouble = round, report, trouble

    def __init__(self) -> None:
        super().__init__()
        self.round = 0  # each reading or run is a round; a message of an older round is stale
        self.fleet: Fleet | None = None
        self.catalog: Catalog | None = None
        self.environment: Environment | None = None
        self.found: FleetStatus | None = None
        self.reading = False
        self.fleet_run: FleetApply | None = None
        self.applying = False
        self.report: FleetReport | None = None
        self.trouble: Trouble | None = None
        self.notices: list[str] = []
        self.apply_after_reading = False
        self.read_count = 0
        self.options: Options | None = None  # the run's choices, as last made (fleet apply's defaults first)

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("migration-wizard", "bold"), "  › ", ("Fleet", "bold reverse")), id="fleet-bar")
        yield Static("Reading the targets file…", id="status")
        yield Matrix(id="matrix")
        yield Static("", id="detail")
        yield Static(legend(self.app), id="legend")
        yield Static("", id="notice")
        with VerticalScroll(id="report"):
            yield Static("", id="report-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Matrix).focus()
        self.start_reading()

    def on_unmount(self) -> None:
        if self.fleet_run is not None:  # leaving mid-run: the migrations in progress roll back
            self.fleet_run.request_stop()

    # -- reading (a thread) ---------------------------------------------------------------------

    def start_reading(self) -> None:
        self.round += 1
        self.reading, self.found, self.report, self.trouble = True, None, None, None
        self.read_count, self.notices = 0, []
        self.query_one("#notice", Static).update("")
        self.query_one("#report-text", Static).update("")
        self.refresh_bindings()
        self.read(self.round)

    def _reach(self) -> Reach:
        from wizard.core.fleet.reach import Reach

        settings = self.app.settings
        return Reach(settings.connect_timeout, api_url=settings.api_url, local_dir=settings.local_dir)

    @work(thread=True, exclusive=True, exit_on_error=False, group="fleet")
    def read(self, round: int) -> None:
        """The targets file, the folder, then every target's history, in parallel."""
        from wizard.core import catalog as folders
        from wizard.core import env
        from wizard.core.describe import describe
        from wizard.core.fleet import targets
        from wizard.core.flows import fleet_status

        settings = self.app.settings
        try:
            fleet = targets.load(settings.targets_file(), cwd=settings.project)
            environment = env.load(cwd=settings.cwd, env_file=settings.env_file, process=settings.environ)
            catalog = folders.load(settings.migrations or fleet.migrations or settings.folder())
        except Exception as exc:
            self.post_message(self.Unloaded(round, describe(exc).line))
            return
        self.post_message(self.Loaded(round, fleet, catalog, environment))

        def heard(status: TargetStatus) -> None:
            self.post_message(self.Read(round, status))

        found = fleet_status.read(list(fleet.targets), catalog, environment, self._reach(), on_target=heard)
        self.post_message(self.AllRead(round, found))

    def on_fleet_screen_loaded(self, message: Loaded) -> None:
        if message.round != self.round:
            return
        self.fleet, self.catalog, self.environment = message.fleet, message.catalog, message.environment
        versions = [m.version for m in message.catalog.migrations]
        self.query_one(Matrix).lay_out(versions, [t.name for t in message.fleet.targets], self.size.width)
        self._detail()
        self._say_reading()

    def _say_reading(self, done: int = 0, then: str = "") -> None:
        """The status line: the fleet and the folder, and how far the reading is (or ``then``)."""
        if self.fleet is None or self.catalog is None:
            return
        settings = self.app.settings
        count = len(self.catalog.migrations)
        text = (f"{len(self.fleet.targets)} target(s) of {settings.show_path(self.fleet.path)}, {count} migration"
                f"{'s' * (count != 1)} in {settings.show_path(self.catalog.directory)}")
        if self.reading:
            text += f": reading each target… ({done} of {len(self.fleet.targets)})"
        self.query_one("#status", Static).update(text + (f". {then}" if then else "" if self.reading else "."))

    def _show(self, row: Row) -> None:
        """A target's row as it is now; the highlighted one also in full, below the matrix."""
        matrix = self.query_one(Matrix)
        matrix.show(row)
        if matrix.highlighted() is row:
            self._detail()

    def _detail(self) -> None:
        row = self.query_one(Matrix).highlighted()
        self.query_one("#detail", Static).update(Text(f"{row.name}: {row.summary}") if row is not None else "")

    def on_data_table_row_highlighted(self) -> None:
        self._detail()

    def on_fleet_screen_unloaded(self, message: Unloaded) -> None:
        if message.round != self.round:
            return
        self.reading = False
        self.fleet = self.catalog = None
        self.query_one(Matrix).clear(columns=True)
        self._detail()
        self.query_one("#status", Static).update(Text(message.text, style="bold " + style(self.app, "error")))
        self.refresh_bindings()

    def on_fleet_screen_read(self, message: Read) -> None:
        if message.round != self.round:
            return
        matrix = self.query_one(Matrix)
        self._show(lines.status_row(message.status, matrix.versions, self.app.settings))
        self.read_count += 1
        self._say_reading(self.read_count)

    def on_fleet_screen_all_read(self, message: AllRead) -> None:
        if message.round != self.round:
            return
        self.reading, self.found = False, message.found
        matrix = self.query_one(Matrix)
        if message.found.versions != matrix.versions:  # history rows without a file: columns of their own
            matrix.lay_out(message.found.versions, [s.target.name for s in message.found.targets], self.size.width)
            for status in message.found.targets:
                self._show(lines.status_row(status, matrix.versions, self.app.settings))
        summary = message.found.to_json()["summary"]
        self._say_reading(then=f"{summary['up_to_date']} up to date, {summary['failed']} with a failed migration, "
                          f"{summary['unreachable']} unreachable.")
        self.refresh_bindings()
        if self.apply_after_reading:
            self.apply_after_reading = False
            self.start_applying()

    # -- applying (a thread) --------------------------------------------------------------------

    def action_apply(self) -> None:
        from wizard.core.flows.fleet_apply import Options
        from wizard.tui.screens.fleet_options import FleetOptionsScreen

        if self.fleet is None or self.catalog is None:  # else the action is off (check_action)
            return
        chosen = FleetOptionsScreen(self.fleet, self.catalog, self.app.settings, self.options or Options())
        self.app.push_screen(chosen, self._chosen)

    def _chosen(self, options: Options | None) -> None:
        if options is not None:  # else nothing is applied
            self.options = options
            self.start_applying()

    def start_applying(self) -> None:
        if self.fleet is None or self.catalog is None or self.environment is None:
            return
        self.round += 1
        self.applying, self.report, self.trouble, self.notices = True, None, None, []
        self.query_one("#notice", Static).update("")
        self.query_one("#report-text", Static).update("")
        self._say_reading(then="Applying…")
        self.refresh_bindings()
        self.apply(self.round, self.fleet, self.catalog, self.environment)

    @work(thread=True, exclusive=True, exit_on_error=False, group="fleet")
    def apply(self, round: int, fleet: Fleet, catalog: Catalog, environment: Environment) -> None:
        """The folder's own problems first (once, before any target), then the fleet's run,
        posting its events."""
        from wizard.core import preflight, project
        from wizard.core.flows import fleet_apply

        report, trouble = None, None

        def heard(event: FleetEvent) -> None:
            self.post_message(self.Progress(round, event))

        try:
            errors = preflight.blocking(preflight.check(catalog, []))
            if errors:
                trouble = Trouble.finding(errors[0], catalog.directory)
            else:
                options = self.options or fleet_apply.Options()
                self.fleet_run = fleet_apply.FleetApply(
                    fleet.waves(list(fleet.targets)), catalog, environment, self._reach(), options,
                    on_event=heard,
                    project=project.find(catalog.directory))
                report = self.fleet_run.run()
        except Exception as exc:
            trouble = Trouble.error(exc)
        finally:
            self.fleet_run = None
        self.post_message(self.Ended(round, report, trouble))

    def on_fleet_screen_progress(self, message: Progress) -> None:
        from wizard.core.flows import fleet_apply as fleet

        if message.round != self.round:
            return
        event = message.event
        if isinstance(event, fleet.FleetNotice):
            self.notices.append(event.message)
            self.query_one("#notice", Static).update(Text("\n".join(self.notices[-3:]), style="bold"))
            return
        name = event.result.target.name if isinstance(event, fleet.TargetEnded) else event.name
        matrix = self.query_one(Matrix)
        row = matrix.row(name)
        if row is not None:
            self._show(lines.progressed(row, event, self.app.settings))

    def on_fleet_screen_ended(self, message: Ended) -> None:
        if message.round != self.round:
            return
        self.applying, self.report, self.trouble = False, message.report, message.trouble
        if message.trouble is not None:
            self._say_reading(then=f"Nothing was applied: {message.trouble.what}. t shows it.")
            self.troubleshoot(message.trouble)
        elif message.report is not None:
            matrix = self.query_one(Matrix)
            for result in message.report.results:  # the targets that never started have had no event
                row = matrix.row(result.target.name)
                if row is not None:
                    self._show(lines.ended_row(row, result, self.app.settings))
            self._say_reading(then=lines.counts(message.report))
            self.query_one("#report-text", Static).update(lines.report_text(self.app, message.report,
                                                                              self.app.settings))
        self.refresh_bindings()

    def action_stop(self) -> None:
        if self.fleet_run is not None:  # else the action is off
            self._say_reading(then="Stopping: the migrations in progress roll back, no new target starts…")
            self.fleet_run.request_stop()

    # -- troubleshooting ----------------------------------------------------------------------------

    def _failure(self) -> Trouble | None:
        """The failure to show: the run's own, or a failed target's (the one under the cursor)."""
        if self.trouble is not None or self.catalog is None:
            return self.trouble
        highlighted = self.query_one(Matrix).highlighted()
        name = highlighted.name if highlighted is not None else None
        return lines.failure_to_show(self.report, self.found, self.catalog, name)

    def _has_failed(self) -> bool:
        from wizard.core.flows.fleet_apply import Outcome

        if self.report is not None:
            return bool(self.report.having(Outcome.FAILED))
        return self.found is not None and any(lines.recorded(s) is not None for s in self.found.targets)

    def troubleshoot(self, trouble: Trouble) -> None:
        from wizard.tui.screens.troubleshoot import TroubleshootScreen

        self.app.push_screen(TroubleshootScreen(trouble), self.after_trouble)

    def after_trouble(self, answer: str | None) -> None:
        """Retry: read the folder and every target again, then apply (the run continues where each
        target stopped)."""
        if answer == "retry" and not self.applying and not self.reading:
            self.apply_after_reading = True
            self.start_reading()

    def action_troubleshoot(self) -> None:
        trouble = self._failure()
        if trouble is not None:
            self.troubleshoot(trouble)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """An error nobody expected, in a worker: shown, and the screen usable again."""
        error = event.worker.error
        if event.state == WorkerState.ERROR and event.worker.node is self and error is not None:
            self.reading = self.applying = False
            self.refresh_bindings()
            self.troubleshoot(Trouble.error(error))

    # -- keys -----------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        idle = not self.reading and not self.applying
        if action == "apply":
            return (idle and self.fleet is not None and self.catalog is not None) or None
        if action == "stop":
            return self.applying
        if action == "refresh":
            return idle or None
        if action == "troubleshoot":
            return idle and (self.trouble is not None or self._has_failed())
        if action == "back":
            return not self.applying or None
        return True

    def action_refresh(self) -> None:
        self.start_reading()

    def action_back(self) -> None:
        self.dismiss(None)
