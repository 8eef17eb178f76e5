"""Troubleshoot: opened by any failure. What failed, where (file:line, the lines around it, SQL
highlighted), why and what to do, and the actions a key away."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Markdown, Static, TextArea

if TYPE_CHECKING:
    from pathlib import Path

    from textual import getters

    from wizard.core.advice import Advice
    from wizard.tui.services import Services
    from wizard.tui.trouble import Trouble


class TroubleshootScreen(ModalScreen[str | None]):
    """Answers "retry", "adopt", a recovery action the trouble offers ("include"...), or None (back)."""

    BINDINGS = [
        Binding("r", "retry", "Retry", priority=True),
        Binding("e", "edit", "Open in $EDITOR", priority=True),
        Binding("a", "adopt", "Adopt", priority=True),
        Binding("c", "copy", "Copy statement", priority=True),
        Binding("i", "recover('include')", "Include", priority=True),
        Binding("f", "recover('fetch')", "Fetch", priority=True),
        Binding("d", "recover('diff')", "Diff", priority=True),
        Binding("x", "recover('forget')", "Forget", priority=True),
        Binding("escape", "back", "Back", priority=True),
    ]

    if TYPE_CHECKING:  # it runs in the wizard's app (Textual's idiom, for the type checker alone)
        app = getters.app(Services)

    def __init__(self, trouble: Trouble) -> None:
        super().__init__()
        self.trouble = trouble

    def compose(self) -> ComposeResult:
        trouble = self.trouble
        with Vertical(id="dialog"):
            yield Static(Content.from_markup("[b $text-error]✗ $what[/]", what=trouble.what), id="what")
            if trouble.message:
                yield Static(trouble.message, id="message", markup=False)
            if trouble.file is not None:
                yield Static(self._where(trouble.file), id="where")
            lines = trouble.excerpt()
            if lines and trouble.line is not None:  # the excerpt is around the line: there is one
                yield self._code(lines, trouble.line)
            with VerticalScroll(id="advice"):
                for detail in trouble.details:
                    yield Static(detail, classes="detail", markup=False)
                if trouble.advice is not None:
                    yield Static(Content.from_markup("[b]$title[/]", title=trouble.advice.title), id="title")
                    yield Markdown(self._markdown(trouble.advice))
        yield Footer()

    def _where(self, file: Path) -> str:
        trouble = self.trouble
        where = self.app.settings.show_path(file)
        if trouble.line is not None:
            where += f":{trouble.line}" + (f":{trouble.column}" if trouble.column else "")
        if trouble.statement_index:
            where += f"  (statement {trouble.statement_index})"
        return where

    def _code(self, lines: list[tuple[int, str]], line: int) -> TextArea:
        code = TextArea.code_editor("\n".join(text for _, text in lines), language="sql", read_only=True,
                                    line_number_start=lines[0][0], id="code")
        code.can_focus = False
        code.cursor_location = (line - lines[0][0], max(0, (self.trouble.column or 1) - 1))
        return code

    @staticmethod
    def _markdown(advice: Advice) -> str:
        parts = [f"**Why.** {advice.cause}"]
        parts += [f"> {note}" for note in advice.notes]
        parts.append(f"**Fix.** {advice.fix}")
        return "\n\n".join(parts)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        trouble = self.trouble
        if action == "edit":
            return trouble.file is not None
        if action == "adopt":
            return False if trouble.adoptable is None else (True if trouble.adoptable else None)
        if action == "copy":
            return bool(trouble.statement)
        if action == "recover":
            return parameters[0] in trouble.recovery
        return True

    def action_retry(self) -> None:
        self.dismiss("retry")

    def action_recover(self, name: str) -> None:
        self.dismiss(name)

    def action_adopt(self) -> None:
        self.dismiss("adopt")

    def action_back(self) -> None:
        self.dismiss(None)

    def action_copy(self) -> None:
        if self.trouble.statement:  # else the action is off (check_action)
            self.app.copy(self.trouble.statement, "The statement")

    def action_edit(self) -> None:
        if self.trouble.file is not None and self.app.edit(self.trouble.file, self.trouble.line):  # else off
            lines = self.trouble.excerpt()
            code = self.query("#code")
            if lines and code:
                code.first(TextArea).load_text("\n".join(text for _, text in lines))
            self.notify("When the file is fixed, press r to retry.")
