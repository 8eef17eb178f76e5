"""Done: the summary, the connection URL for the backend (password masked), and the next steps:
restart the backend, try registration; what to do if the API still answers 500."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Collapsible, Label, Markdown, Static

from wizard.tui.screens.step import Step
from wizard.tui.screens.verify import Report


class DoneScreen(Step[bool]):
    STEP = "Done"
    BINDINGS = [
        Binding("enter", "finish", "Finish"),
        Binding("c", "copy", "Copy the URL"),
    ]

    def __init__(self, report: Report) -> None:
        super().__init__()
        self.report = report
        self.by_hand = report.outcome.plan.manual

    def body(self) -> ComposeResult:
        from wizard.core import advice

        report, target = self.report, self.report.outcome.plan.target
        with VerticalScroll(id="done"):
            yield Static(self._summary(), id="summary")
            yield Label("Connection for the backend", classes="heading")
            yield Static(self._connection(), id="connection")
            yield Label("Next steps", classes="heading")
            steps = ["Restart the backend, so that it connects to the migrated database.",
                     "Try a registration (POST /api/auth/register): it should create the user, not answer 500."]
            if target is not None and target.local:
                steps.append("The local database keeps running; 'migration-wizard local stop' stops it.")
            if not report.ok:
                steps.insert(0, "Fix what verification found (r on the Verify step checks again).")
            yield Static("\n".join(f"  {n}. {text}" for n, text in enumerate(steps, 1)), id="steps")
            guide = advice.guide("api-500", ref=report.outcome.plan.ref)
            if guide is not None:  # advice.toml has it
                with Collapsible(title=guide.title, id="guide"):
                    yield Markdown(f"{guide.cause}\n\n{guide.fix}")

    def _summary(self) -> Content:
        report = self.report
        applied = len(report.outcome.catalog.migrations)
        now = len(report.outcome.applied)
        passed = sum(1 for c in report.checks if c.ok)
        how = "run by hand and confirmed" if report.outcome.plan.manual else "applied"
        text = (f"{applied} migrations {how} ({now} just now), "
                f"{passed} of {len(report.checks)} checks pass.")
        if report.ok:
            return Content.from_markup("[b $text-success]✓ The database is ready.[/] $text", text=text)
        return Content.from_markup("[b $text-warning]! The migrations are applied, but not every check "
                                   "passes.[/] $text", text=text)

    def _connection(self) -> str:
        plan = self.report.outcome.plan
        target = plan.target
        if target is None:
            url = plan.rest.url if plan.rest else "SUPABASE_URL"
            return (f"The backend reaches the project as before, through {url} and its API keys. With the "
                    "database password, 'migration-wizard verify' checks columns, indexes, policies and seed rows "
                    "too; the dashboard's Connect dialog has the database URL: "
                    f"https://supabase.com/dashboard/project/{plan.ref or '_'}?showConnect=true")
        if target.over_https:
            return (f"The backend reaches the project through SUPABASE_URL (https://{target.ref}.supabase.co) "
                    "and its keys. A database URL, if it needs one, is in the dashboard's Connect dialog: "
                    f"https://supabase.com/dashboard/project/{target.ref}?showConnect=true")
        return (f"  {target.shown}\n"
                "Set it as DATABASE_URL (or the variable your backend reads); c copies it, password included.")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy":
            target = self.report.outcome.plan.target
            return target is not None and not target.over_https
        return True

    def action_copy(self) -> None:
        target = self.report.outcome.plan.target
        if target is not None and target.url is not None:  # a database URL: else the action is off (check_action)
            self.app.copy(target.url, "The connection URL")

    def action_finish(self) -> None:
        self.dismiss(True)
