"""Rehearse: the pending migrations applied on a throwaway copy of the target, on the local
server, as ``plan --rehearse`` does; each migration's result as it comes, then the report. The
target is only read; the copy is dropped afterwards. Escape goes back once it is done."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

if TYPE_CHECKING:
    from textual import getters

    from wizard.core.events import Event
    from wizard.tui.services import Services
    from wizard.tui.target import Target


class RehearseScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "back", "Back", priority=True)]

    if TYPE_CHECKING:
        app = getters.app(Services)

    def __init__(self, directory: Path, target: Target | None) -> None:
        super().__init__()
        self.directory = directory
        self.target = target  # None: offline, the copy is rebuilt from the files
        self.lines: list[Content] = []
        self.done = False

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Content.from_markup("[b]Rehearsal[/] on a throwaway copy, on the local server"), id="what")
            with VerticalScroll(id="advice"):
                yield Static("Making the copy…", id="rehearsal")
        yield Footer()

    def on_mount(self) -> None:
        self.rehearse()

    def _add(self, line: Content) -> None:
        self.lines.append(line)
        self.query_one("#rehearsal", Static).update(Content("\n").join(self.lines))

    def _event(self, event: Event) -> None:
        from wizard.core import events

        if isinstance(event, events.Notice):
            line = Content(event.message)
        elif isinstance(event, events.MigrationApplied):
            line = Content.from_markup("[$text-success]✓[/] $name  applied in $ms ms",
                                       name=f"{event.version}_{event.name}", ms=str(event.duration_ms))
        elif isinstance(event, events.MigrationFailed):
            line = Content.from_markup("[$text-error]✗ $name  FAILED[/]", name=f"{event.version}_{event.name}")
        else:
            return
        self.app.call_from_thread(self._add, line)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def rehearse(self) -> None:
        from wizard.core import catalog as folders
        from wizard.core import project as projects
        from wizard.core.flows import local
        from wizard.core.flows.plan import plan
        from wizard.core.flows.rehearse import rehearse

        server = local.server(self.app.settings.local_dir)
        try:
            catalog = folders.load(self.directory)
            found = projects.find(catalog.directory)
            if self.target is None:
                report = rehearse(plan(catalog, None, found).overview, None, server, on_event=self._event)
            else:
                with self.target.open() as conn:
                    overview = plan(catalog, conn, found, local=self.target.local).overview
                    report = rehearse(overview, conn, server, local=self.target.local, on_event=self._event,
                                      connect_timeout=self.app.settings.connect_timeout)
        except Exception as exc:
            from wizard.core.describe import describe

            self.app.call_from_thread(self._finish, [f"The rehearsal could not run: {describe(exc).line}"], False)
            return
        self.app.call_from_thread(self._finish, report.lines(), report.ok)

    def _finish(self, lines: list[str], ok: bool) -> None:
        self.done = True
        tone = "$text-success" if ok else "$text-error"
        self.lines.append(Content(""))
        self.lines += [Content.from_markup(f"[{tone}]$line[/]", line=line) if line.startswith("Rehearsal ")
                       else Content(line) for line in lines]
        self.query_one("#rehearsal", Static).update(Content("\n").join(self.lines))

    def action_back(self) -> None:
        if self.done:
            self.dismiss(None)
        else:
            self.notify("The rehearsal is running: its copy is dropped when it ends.")
