"""The lint findings of a step, grouped by rule with a count (hidden when there are none); a rule
chosen opens its findings: each with the statement at its file:line, the fix and the advisor's
documentation."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from wizard.core.lint import LintFinding

_TONES = {"error": ("✗", "$text-error"), "warning": ("!", "$text-warning"), "info": ("·", "$text-muted")}
_CONTEXT = 2  # lines shown before the statement's first line


class LintFindings(OptionList):
    """One line per rule: its level, id, count and title. Enter opens the rule's findings."""

    DEFAULT_CSS = "LintFindings { height: auto; max-height: 8; }"

    def __init__(self, heading: str, directory: Path | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.heading = heading
        self.directory = directory
        self.groups: dict[str, list[LintFinding]] = {}
        self.display = False

    def show(self, findings: Iterable[LintFinding], directory: Path | None = None) -> None:
        self.directory = directory or self.directory
        self.groups = {}
        for finding in sorted(findings, key=lambda f: (-f.severity.rank, f.rule.id)):
            self.groups.setdefault(finding.rule.id, []).append(finding)
        self.clear_options()
        self.display = bool(self.groups)
        for rule_id, found in self.groups.items():
            mark, tone = _TONES[found[0].severity.value]
            self.add_option(Option(Content.from_markup(
                f"[{tone}]{mark} $rule[/] ({len(found)})  [$text-muted]$title[/]", rule=rule_id,
                title=found[0].rule.title), id=rule_id))
        self.border_title = f"{self.heading}: {sum(map(len, self.groups.values()))} finding(s), Enter for each"

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id in self.groups:
            self.app.push_screen(LintScreen(self.groups[event.option.id], self.directory))


def statement_lines(directory: Path | None, finding: LintFinding, count: int = 8) -> str:
    """The lines of the file around the statement that made the finding's object."""
    if directory is None or finding.file is None or finding.line is None:
        return ""
    try:
        lines = (directory / finding.file).read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    start = max(finding.line - 1 - _CONTEXT, 0)
    return "\n".join(f"{n + 1:>5} {'>' if n + 1 == finding.line else ' '} {lines[n]}"
                     for n in range(start, min(start + count + _CONTEXT, len(lines))))


class LintScreen(ModalScreen[None]):
    """Every finding of one rule: what, where (the statement at file:line), the fix, the link."""

    BINDINGS = [Binding("escape", "back", "Back", priority=True)]

    def __init__(self, findings: list[LintFinding], directory: Path | None) -> None:
        super().__init__()
        self.findings = findings
        self.directory = directory

    def compose(self) -> ComposeResult:
        rule = self.findings[0].rule
        with Vertical(id="dialog"):
            yield Static(Content.from_markup("[b]$rule[/] ($level): $title", rule=rule.id,
                                             level=self.findings[0].severity.value, title=rule.title), id="what")
            with VerticalScroll(id="advice"):
                yield Static(Content.from_markup("[b]Fix.[/] $fix", fix=rule.fix))
                if rule.link:
                    yield Static(Content.from_markup("[b]Documentation.[/] $link", link=rule.link))
                for finding in self.findings:
                    yield Static(Content.from_markup("\n[b]$where[/]  $object: $message", where=finding.location(),
                                                     object=finding.object, message=finding.message))
                    lines = statement_lines(self.directory, finding)
                    if lines:
                        yield Static(Content(lines), classes="detail")
        yield Footer()

    def action_back(self) -> None:
        self.dismiss(None)
