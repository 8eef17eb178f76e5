"""Before the fleet is applied: what it will do, and the run's choices, as ``fleet apply`` takes them
on the command line: a canary (one target applied first and alone; the fleet goes on only once it
is done), how many targets at a time (``--parallel``), after how many failed targets no new one
starts (``--max-failures``, 0: no limit). ``y`` (or Apply) applies, ``n`` or Escape does not."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.validation import Number
from textual.widgets import Button, Footer, Input, Label, Select, Static

from wizard.tui.screens import fleet_lines as lines

if TYPE_CHECKING:
    from wizard.core.catalog import Catalog
    from wizard.core.fleet.targets import Fleet
    from wizard.core.flows.fleet_apply import Options
    from wizard.tui.settings import Settings

MOST_AT_A_TIME = 64


class FleetOptionsScreen(ModalScreen["Options | None"]):
    BINDINGS = [
        Binding("y", "apply", "Apply", priority=True),
        Binding("n", "cancel", "Cancel", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, fleet: Fleet, catalog: Catalog, settings: Settings, chosen: Options) -> None:
        super().__init__()
        self.fleet, self.catalog, self.settings, self.chosen = fleet, catalog, settings, chosen

    def compose(self) -> ComposeResult:
        question, _ = self._said(self.chosen)
        names = [t.name for t in self.fleet.targets]
        canary = self.chosen.canary[0] if self.chosen.canary and self.chosen.canary[0] in names else Select.NULL
        with Vertical(id="fleet-options"):
            yield Static(Content.from_markup("[b]$q[/]", q=question), id="what")
            yield Static("", id="message", markup=False)
            with Horizontal(classes="choice"):
                yield Label("Canary, applied first and alone")
                yield Select([(n, n) for n in names], value=canary, prompt="none", id="canary")
            with Horizontal(classes="choice"):
                yield Label("Targets at a time")
                yield Input(str(self.chosen.parallel), type="integer", id="parallel",
                            validators=[Number(minimum=1, maximum=MOST_AT_A_TIME)])
            with Horizontal(classes="choice"):
                yield Label("No new target after this many failed (0: no limit)")
                yield Input(str(self.chosen.max_failures), type="integer", id="max-failures",
                            validators=[Number(minimum=0)])
            yield Static("", id="invalid")
            with Horizontal(id="buttons"):
                yield Button("Apply", variant="primary", id="apply")
                yield Button("Cancel", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self._describe()
        self.query_one("#apply", Button).focus()

    def on_input_changed(self) -> None:
        self._describe()

    def on_select_changed(self) -> None:
        self._describe()

    def on_input_submitted(self) -> None:
        self.action_apply()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            self.action_apply()
        else:
            self.action_cancel()

    def action_apply(self) -> None:
        options = self._options()
        if options is not None:
            self.dismiss(options)

    def action_cancel(self) -> None:
        self.dismiss(None)

    # -- the choices -----------------------------------------------------------------------------

    def _options(self) -> Options | None:
        """The choices as the run's options; None (and why, on the screen) when one is invalid."""
        from dataclasses import replace

        wrong = []
        for input_id, what in (("#parallel", f"targets at a time: 1 to {MOST_AT_A_TIME}"),
                               ("#max-failures", "failed targets: 0 or more")):
            field = self.query_one(input_id, Input)
            checked = field.validate(field.value)
            if not field.value or (checked is not None and not checked.is_valid):
                wrong.append(what)
        invalid = self.query_one("#invalid", Static)
        invalid.update("Expected " + "; ".join(wrong) + "." if wrong else "")
        invalid.display = bool(wrong)
        if wrong:
            return None
        canary = self.query_one("#canary", Select).value
        return replace(self.chosen, parallel=int(self.query_one("#parallel", Input).value),
                       max_failures=int(self.query_one("#max-failures", Input).value),
                       canary=(str(canary),) if isinstance(canary, str) else ())

    def _said(self, options: Options) -> tuple[str, str]:
        return lines.confirmation(self.fleet, self.catalog, options.parallel, options.max_failures, self.settings,
                                  canary=options.canary)

    def _describe(self) -> None:
        options = self._options()
        if options is not None:
            self.query_one("#message", Static).update(self._said(options)[1])
