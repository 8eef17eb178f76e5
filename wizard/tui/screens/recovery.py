"""The recovery actions of the Path step (fetch, diff, accept, forget) as the wizard runs them: the
engine's flows over the step's way to the database, a diff screen with the change highlighted, and
the confirmation that ``forget`` asks."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

if TYPE_CHECKING:
    from wizard.core.flows.diff import DiffReport
    from wizard.tui.target import Target

_TONES = {"+": "$text-success", "-": "$text-error", "@": "$text-accent"}


def highlighted(lines: list[str]) -> Content:
    """A unified diff, each line in the tone of what it says (added, removed, where)."""
    parts = []
    for line in lines:
        text = line.rstrip("\n")
        tone = None if text.startswith(("+++", "---")) else _TONES.get(text[:1])
        style = "b" if tone is None and text.startswith(("+++", "---")) else tone
        parts.append(Content.from_markup(f"[{style}]$text[/]", text=text) if style else Content(text))
    return Content("\n").join(parts)


class DiffScreen(ModalScreen[str | None]):
    """The statements the history recorded against the file today. Answers "accept" or None."""

    BINDINGS = [
        Binding("a", "accept", "Accept", priority=True),
        Binding("escape", "back", "Back", priority=True),
    ]

    def __init__(self, report: DiffReport) -> None:
        super().__init__()
        self.report = report

    def compose(self) -> ComposeResult:
        report = self.report
        with Vertical(id="dialog"):
            yield Static(Content.from_markup("[b]$file[/]: since it was applied", file=Path(report.file).name),
                         id="what")
            with VerticalScroll(id="advice"):
                if report.changed:
                    yield Static(highlighted(report.lines), id="diff")
                else:
                    yield Static("The statements are the ones the history recorded"
                                 + ("; only comments or spacing changed." if report.checksum_changed else "."),
                                 id="diff")
        yield Footer()

    def action_accept(self) -> None:
        self.dismiss("accept")

    def action_back(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A question and what it is about; y answers yes, n or Escape no."""

    BINDINGS = [
        Binding("y", "yes", "Yes", priority=True),
        Binding("n", "no", "No", priority=True),
        Binding("escape", "no", "No", priority=True),
    ]

    def __init__(self, question: str, details: str) -> None:
        super().__init__()
        self.question = question
        self.details = details

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Content.from_markup("[b]$q[/]", q=self.question), id="what")
            yield Static(self.details, id="message", markup=False)
        yield Footer()

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)


def diff(target: Target, directory: Path, version: str) -> DiffReport:
    from wizard.core import catalog as folders
    from wizard.core.flows import diff as diffs

    with target.open() as conn:
        return diffs.diff(folders.load(directory), conn, version)


def fetch(target: Target, directory: Path, version: str) -> str:
    """Write the version back into the folder; what was done, in one sentence."""
    from wizard.core import catalog as folders
    from wizard.core.flows import fetch as fetching
    from wizard.core.flows.recover import RecoveryRefused

    catalog = folders.load(directory)
    with target.open() as conn:
        choice = fetching.choose(catalog, conn, [version])
        if choice.skipped:
            raise RecoveryRefused(f"{version} was not fetched: {choice.skipped[0].reason}")
        report = fetching.fetch(catalog, conn, choice)
    written = report.fetched[0]
    return f"Wrote {written.path.name} from the history ({written.statements} statement(s))."


def accept(target: Target, directory: Path, version: str) -> str:
    from wizard.core import catalog as folders
    from wizard.core.flows import accept as accepting

    with target.open() as conn:
        checked = accepting.check(folders.load(directory), conn, version)
        report = accepting.accept(conn, checked)  # refuses, naming what is missing
    return f"Accepted {Path(report.file).name}: " + "; ".join(report.changed)


def forget_check(target: Target, directory: Path, version: str) -> str:
    """What forgetting the version leaves in the database, for the confirmation."""
    from wizard.core import catalog as folders
    from wizard.core.flows import forget as forgetting

    with target.open() as conn:
        checked = forgetting.check(folders.load(directory), conn, version)
    if not checked.known:
        return "What it created cannot be worked out (no file, and no statements recorded)."
    if not checked.present:
        return "None of its objects is in the database."
    return ("Still in the database (forgetting the record does not drop them): "
            + ", ".join(o.describe() for o in checked.present[:12])
            + (f" and {len(checked.present) - 12} more" if len(checked.present) > 12 else ""))


def forget(target: Target, directory: Path, version: str) -> str:
    from wizard.core import catalog as folders
    from wizard.core.flows import forget as forgetting

    with target.open() as conn:
        report = forgetting.forget(conn, forgetting.check(folders.load(directory), conn, version))
    return f"Forgot {version}: " + "; ".join(report.changed)
