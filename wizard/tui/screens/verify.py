"""Verify: each of the engine's checks with its result and detail, as it runs. Failed checks open
Troubleshoot. Answers the report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static

from wizard.tui.screens.apply import Outcome
from wizard.tui.screens.step import Step
from wizard.tui.trouble import Trouble
from wizard.tui.widgets import cell
from wizard.tui.widgets.lint import LintFindings

if TYPE_CHECKING:
    from rich.text import Text

    from wizard.core.checks import CheckResult
    from wizard.core.lint import LintFinding


@dataclass(frozen=True)
class Report:
    outcome: Outcome
    checks: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


class VerifyScreen(Step[Report]):
    STEP = "Verify"
    BINDINGS = [
        Binding("enter", "done", "Done", priority=True),
        Binding("r", "check", "Check again"),
        Binding("t", "troubleshoot", "Troubleshoot"),
    ]

    class Checked(Message):
        def __init__(self, result: CheckResult) -> None:
            super().__init__()
            self.result = result

    class Finished(Message):
        def __init__(self, trouble: Trouble | None, lint: tuple[LintFinding, ...] = ()) -> None:
            super().__init__()
            self.trouble = trouble
            self.lint = lint  # the database lint rules' findings

    def __init__(self, outcome: Outcome) -> None:
        super().__init__()
        self.outcome = outcome
        self.by_hand = outcome.plan.manual
        self.results: list[CheckResult] = []
        self.finished = False
        self.trouble: Trouble | None = None

    def body(self) -> ComposeResult:
        yield Static("Checking that the database holds what the migrations create…", id="status")
        table: DataTable[str | Text] = DataTable(id="checks", cursor_type="row", zebra_stripes=True)
        table.add_column("Result", key="result", width=6)
        table.add_column("Check", key="name")
        table.add_column("Detail", key="detail")
        yield table
        yield Static("", id="detail")
        yield LintFindings("Lint (database rules)", self.outcome.catalog.directory, id="lint")

    def on_mount(self) -> None:
        self.query_one("#checks").focus()
        self.run()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def run(self) -> None:
        from wizard.core.flows.verify import verify

        target = self.outcome.plan.target
        if target is None:
            self.over_rest()
            return

        try:
            with target.open() as conn:
                report = verify(self.outcome.catalog, conn, on_result=self.checked)
        except Exception as exc:
            self.post_message(self.Finished(Trouble.error(exc, target)))
            return
        lint = tuple(report.lint.findings) if report.lint is not None else ()
        self.post_message(self.Finished(None if report.ok else Trouble.checks(report.checks), lint))

    def over_rest(self) -> None:
        """Without a database connection: every table the migrations create, asked of the REST API."""
        from wizard.core import manual
        from wizard.core.flows.verify import verify_over_rest

        rest = self.outcome.plan.rest
        if rest is None:
            self.post_message(self.Finished(Trouble("Nothing to verify with", "There is no database connection and "
                                                    "no API key for the REST API.")))
            return
        try:
            report = verify_over_rest(self.outcome.catalog, rest, on_result=self.checked)
        except manual.RestError as exc:
            self.post_message(self.Finished(Trouble.rest(exc, rest, self.outcome.plan.ref)))
            return
        self.post_message(self.Finished(None if report.ok else Trouble.checks(report.checks)))

    def checked(self, result: CheckResult) -> None:
        """A check's result, from the worker's thread: shown as it arrives."""
        self.post_message(self.Checked(result))

    def on_verify_screen_checked(self, message: Checked) -> None:
        result = message.result
        self.results.append(result)
        table = self.query_one("#checks", DataTable)
        mark = cell(self.app, "✓ ok", "success") if result.ok else cell(self.app, "✗ fail", "error")
        table.add_row(mark, result.name, result.detail)
        if not result.ok and all(r.ok for r in self.results[:-1]):
            table.move_cursor(row=table.row_count - 1)
        self._show_detail()

    def on_data_table_row_highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        table = self.query_one("#checks", DataTable)
        if table.row_count:
            result = self.results[table.cursor_row]
            self.query_one("#detail", Static).update(f"{result.name}: {result.detail}")

    def on_verify_screen_finished(self, message: Finished) -> None:
        self.finished, self.trouble = True, message.trouble
        self.query_one(LintFindings).show(message.lint)
        failed = [r for r in self.results if not r.ok]
        status = self.query_one("#status", Static)
        if message.trouble is not None and not failed:
            status.update(f"Verification stopped: {message.trouble.what}.")
        elif failed:
            status.update(f"{len(failed)} of {len(self.results)} checks failed. Press t for the details, "
                          "r to check again, Enter to finish anyway.")
        elif self.outcome.plan.target is None:
            status.update(f"All {len(self.results)} tables exist, asked of the REST API (it shows tables only; "
                          "with a database connection, 'migration-wizard verify' checks everything). "
                          "Press Enter to finish.")
        else:
            status.update(f"All {len(self.results)} checks pass. Press Enter to finish.")
        if message.trouble is not None:
            self.troubleshoot(message.trouble)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "done":
            return self.finished and bool(self.results)
        if action == "check":
            return self.finished
        if action == "troubleshoot":
            return self.finished and self.trouble is not None
        return True

    def action_done(self) -> None:
        self.dismiss(Report(self.outcome, tuple(self.results)))

    def action_check(self) -> None:
        self.results, self.finished, self.trouble = [], False, None
        self.query_one("#checks", DataTable).clear()
        self.query_one("#detail", Static).update("")
        self.query_one("#status", Static).update("Checking again…")
        self.refresh_bindings()
        self.run()

    def action_troubleshoot(self) -> None:
        if self.trouble is not None:  # else the action is off (check_action)
            self.troubleshoot(self.trouble)

    def after_trouble(self, answer: str | None) -> None:
        if answer == "retry":
            self.action_check()

