"""What every step of the wizard shares: the steps bar, the footer with the keys, and the
troubleshoot screen for a failure, including a worker's error that nobody expected."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, TypeVar

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from wizard.tui.trouble import Trouble
from wizard.tui.widgets import Steps

if TYPE_CHECKING:
    from textual import getters

    from wizard.tui.services import Services

Answer = TypeVar("Answer")


class Step(Screen[Answer]):
    """A step of the wizard; it answers what the next step needs, or None to go back."""

    STEP: ClassVar[str]  # its name in the steps bar

    if TYPE_CHECKING:  # the wizard's steps run in its app (Textual's idiom, for the type checker alone)
        app = getters.app(Services)

    by_hand = False  # on the manual path: the steps bar says so
    COMPACT_FOOTER = False  # less space between the keys, for a step with many

    def compose(self) -> ComposeResult:
        yield Steps(self.STEP, self.by_hand)
        yield from self.body()
        yield Footer(compact=self.COMPACT_FOOTER)

    def body(self) -> ComposeResult:
        yield from ()

    def troubleshoot(self, trouble: Trouble) -> None:
        from wizard.tui.screens.troubleshoot import TroubleshootScreen

        self.app.push_screen(TroubleshootScreen(trouble), self.after_trouble)

    def after_trouble(self, answer: str | None) -> None:
        """What the troubleshoot screen answered: "retry", "adopt", or None (back)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error  # set when the worker ended in an error
        if event.state == WorkerState.ERROR and event.worker.node is self and error is not None:
            self.troubleshoot(Trouble.error(error))
