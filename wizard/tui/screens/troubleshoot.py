"""Troubleshoot: opened by any failure. What failed, where (file:line, the lines around it, SQL
highlighted), why and what to do, and the actions a key away."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Markdown, Static, TextArea

if TYPE_CHECKING:
    from wizard.core.advice import Advice
    from wizard.core.catalog import Catalog
    from wizard.core.checks import CheckResult
    from wizard.core.diagnosis import Diagnosis
    from wizard.core.preflight import Finding
    from wizard.tui.target import Target

AROUND = 2  # lines shown on each side of the failing one


@dataclass(frozen=True)
class Trouble:
    """A failure, as the troubleshoot screen shows it."""

    what: str  # the headline
    message: str = ""  # the error itself
    details: tuple[str, ...] = ()  # the server's detail and hint, failed checks...
    advice: Advice | None = None
    file: Path | None = None
    line: int | None = None
    column: int | None = None
    statement: str | None = None
    statement_index: int | None = None
    version: str | None = None  # the migration it is about
    adoptable: bool | None = None  # None: adopting does not apply; False: objects are missing

    @classmethod
    def failed(cls, diagnosis: Diagnosis, catalog: Catalog, ref: str | None = None,
               missing: list[str] | None = None) -> Trouble:
        """A migration that failed. ``missing``: what the database lacks of it, when adopting it
        was checked (empty: everything is there)."""
        from wizard.core import advice

        found = advice.for_failure(diagnosis, catalog, ref=ref)
        details = [f"Detail: {diagnosis.detail}" if diagnosis.detail else "",
                   f"Hint: {diagnosis.hint}" if diagnosis.hint else ""]
        adoptable = None
        if missing is not None and "adopt" in found.actions:
            adoptable = not missing
            if missing:
                details.append("Cannot adopt yet: the database lacks " + ", ".join(missing[:8])
                               + (f" and {len(missing) - 8} more" if len(missing) > 8 else ""))
        return cls(
            what=f"{diagnosis.version}_{diagnosis.name} failed; it was rolled back",
            message=" ".join(filter(None, (diagnosis.sqlstate, diagnosis.message))),
            details=tuple(d for d in details if d),
            advice=found,
            file=Path(diagnosis.file),
            line=diagnosis.line,
            column=diagnosis.column,
            statement=diagnosis.statement,
            statement_index=diagnosis.statement_index,
            version=diagnosis.version,
            adoptable=adoptable,
        )

    @classmethod
    def unreachable(cls, target: Target) -> Trouble:
        """A way to the database that did not work."""
        return cls(what=f"Cannot reach {target.shown}", message=target.probe.reason if target.probe else "",
                   advice=target.advice())

    @classmethod
    def stopped(cls, exc: Exception, target: Target) -> Trouble:
        """A step that stopped on an error of the engine's: cannot connect, the lock is held..."""
        from wizard.core import advice, compat, runner
        from wizard.core.connect import ConnectError

        if isinstance(exc, ConnectError):
            return cls(what=f"Cannot connect to {target.shown}", message=exc.reason,
                       advice=advice.for_connection(exc.kind, exc.reason, ref=target.ref))
        if isinstance(exc, runner.LockHeld):
            holder = f" It is held by {exc.holder}." if exc.holder else ""
            return cls(what="Another migration run holds the lock",
                       message=f"Waited {exc.waited:g} s for it.{holder}",
                       advice=advice.for_connection("lock-held", str(exc), ref=target.ref))
        if isinstance(exc, compat.CompatError):
            return cls(what="The Supabase compatibility step could not run", message=str(exc))
        from wizard.core.https import ApiError

        if isinstance(exc, ApiError):
            return cls(what=f"The Management API failed for {target.shown}", message=exc.message,
                       advice=advice.entry("https", exc.kind, ref=target.ref, message=exc.message))
        return cls.unexpected(exc)

    @classmethod
    def unexpected(cls, exc: BaseException) -> Trouble:
        return cls(what="Something unexpected went wrong", message=f"{type(exc).__name__}: {exc}".strip())

    @classmethod
    def finding(cls, finding: Finding, directory: Path) -> Trouble:
        """A pre-flight error: found before anything ran."""
        return cls(what=f"Pre-flight: {finding.code}", message=finding.message, file=directory / finding.file,
                   line=finding.line, column=finding.column)

    @classmethod
    def checks(cls, results: list[CheckResult]) -> Trouble:
        failed = [r for r in results if not r.ok]
        return cls(
            what=f"{len(failed)} of {len(results)} checks failed",
            message="The database does not hold everything the migrations create.",
            details=tuple(f"{r.name}: {r.detail}" for r in failed),
        )

    def excerpt(self) -> list[tuple[int, str]]:
        """The lines around the failing one, read from the file as it is now."""
        from wizard.core.diagnosis import Diagnosis, excerpt

        if self.file is None or self.line is None:
            return []
        return excerpt(Diagnosis("", "", str(self.file), None, "", line=self.line), around=AROUND)


class TroubleshootScreen(ModalScreen[str | None]):
    """Answers "retry", "adopt", or None (back)."""

    BINDINGS = [
        Binding("r", "retry", "Retry", priority=True),
        Binding("e", "edit", "Open in $EDITOR", priority=True),
        Binding("a", "adopt", "Adopt", priority=True),
        Binding("c", "copy", "Copy statement", priority=True),
        Binding("escape", "back", "Back", priority=True),
    ]

    def __init__(self, trouble: Trouble):
        super().__init__()
        self.trouble = trouble

    def compose(self) -> ComposeResult:
        trouble = self.trouble
        with Vertical(id="dialog"):
            yield Static(Content.from_markup("[b $text-error]✗ $what[/]", what=trouble.what), id="what")
            if trouble.message:
                yield Static(trouble.message, id="message", markup=False)
            if trouble.file is not None:
                yield Static(self._where(), id="where")
            lines = trouble.excerpt()
            if lines:
                yield self._code(lines)
            with VerticalScroll(id="advice"):
                for detail in trouble.details:
                    yield Static(detail, classes="detail", markup=False)
                if trouble.advice is not None:
                    yield Static(Content.from_markup("[b]$title[/]", title=trouble.advice.title), id="title")
                    yield Markdown(self._markdown(trouble.advice))
        yield Footer()

    def _where(self) -> str:
        trouble = self.trouble
        where = self.app.settings.show_path(trouble.file)
        if trouble.line is not None:
            where += f":{trouble.line}" + (f":{trouble.column}" if trouble.column else "")
        if trouble.statement_index:
            where += f"  (statement {trouble.statement_index})"
        return where

    def _code(self, lines: list[tuple[int, str]]) -> TextArea:
        code = TextArea.code_editor("\n".join(text for _, text in lines), language="sql", read_only=True,
                                    line_number_start=lines[0][0], id="code")
        code.can_focus = False
        code.cursor_location = (self.trouble.line - lines[0][0], max(0, (self.trouble.column or 1) - 1))
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
        return True

    def action_retry(self) -> None:
        self.dismiss("retry")

    def action_adopt(self) -> None:
        self.dismiss("adopt")

    def action_back(self) -> None:
        self.dismiss(None)

    def action_copy(self) -> None:
        self.app.copy(self.trouble.statement, "The statement")

    def action_edit(self) -> None:
        if self.app.edit(self.trouble.file, self.trouble.line):
            lines = self.trouble.excerpt()
            code = self.query("#code")
            if lines and code:
                code.first().load_text("\n".join(text for _, text in lines))
            self.notify("When the file is fixed, press r to retry.")
