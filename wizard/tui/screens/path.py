"""Path: automated over a database connection, automated over HTTPS with an access token, or by
hand in the dashboard; what each needs and whether it is possible now. Pre-flight findings are
shown here, before anything runs. Answers the plan: the way chosen and what it will apply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from wizard.tui.screens.environment import ACCESS_TOKENS, Ways
from wizard.tui.screens.step import Step
from wizard.tui.trouble import Trouble

if TYPE_CHECKING:
    from wizard.core.catalog import Catalog, Migration
    from wizard.core.history import MigrationState
    from wizard.core.preflight import Finding
    from wizard.tui.target import Target

_TONES = {"error": ("✗", "$text-error"), "warning": ("!", "$text-warning"), "info": ("·", "$text-muted")}


@dataclass(frozen=True)
class Plan:
    """What a run will do: the folder, the way to the database, each migration's state, the
    pending ones and what pre-flight found."""

    catalog: Catalog
    target: Target
    ref: str | None
    states: tuple[MigrationState, ...]
    pending: tuple[Migration, ...]
    findings: tuple[Finding, ...]
    refusals: tuple[Finding, ...]  # errors that keep the run from starting


class PathScreen(Step[Plan]):
    STEP = "Path"
    BINDINGS = [
        Binding("enter", "go", "Apply", priority=True),
        Binding("t", "troubleshoot", "Troubleshoot"),
        Binding("r", "check", "Check again"),
        Binding("escape", "back", "Back"),
    ]

    class Checked(Message):
        def __init__(self, plan: Plan | None, trouble: Trouble | None = None) -> None:
            super().__init__()
            self.plan = plan
            self.trouble = trouble

    def __init__(self, ways: Ways) -> None:
        super().__init__()
        self.ways = ways
        self.plan: Plan | None = None

    def body(self) -> ComposeResult:
        yield Label("How should the migrations be applied?", classes="heading")
        yield OptionList(*self._options(), id="paths")
        yield Label("Pre-flight", classes="heading")
        yield Static("Reading the database's history and checking every pending statement…", id="summary")
        with VerticalScroll(id="findings"):
            yield Static("", id="findings-text")

    def _options(self) -> list[Option]:
        ways, environment = self.ways, self.ways.environment
        ref = ways.ref
        database, https = ways.database, ways.https
        token = environment.get("SUPABASE_ACCESS_TOKEN") or any(t.over_https for t in ways.tried)
        tried_https = next((t for t in ways.tried if t.over_https), None)

        if database:
            needs = f"a database connection that works: {database.shown} ({database.source})"
        else:
            needs = "a database connection that works: a password or connection string (Environment step)"
        if https:
            https_needs = f"SUPABASE_URL ✓  SUPABASE_ACCESS_TOKEN ✓  ({https.source})"
        elif tried_https:
            https_needs = f"an access token the Management API accepts: {tried_https.result()}"
        else:
            https_needs = (f"SUPABASE_URL {'✓' if ref else '✗'}  SUPABASE_ACCESS_TOKEN {'✓' if token else '✗'}  "
                           f"({ACCESS_TOKENS})")
        manual = (f"the project ref ✓ ({ref}); one migration at a time, in the SQL editor" if ref
                  else "the project ref (SUPABASE_URL) ✗")
        return [
            self._option("database", "Automated, over a database connection", needs, database is not None),
            self._option("https", "Automated, over HTTPS with an access token", https_needs, https is not None),
            self._option("manual", "Manual, in the dashboard's SQL editor", manual, None),
        ]

    @staticmethod
    def _option(key: str, title: str, needs: str, possible: bool | None) -> Option:
        state = {True: "[$text-success]✓ possible now[/]", False: "[$text-error]✗ not possible yet[/]",
                 None: "[$text-muted]its own command: migration-wizard manual --export DIR[/]"}[possible]
        prompt = Content.from_markup(f"[b]$title[/]  {state}\n  [$text-muted]needs[/] $needs",
                                     title=title, needs=needs)
        return Option(prompt, id=key, disabled=not possible)

    def on_mount(self) -> None:
        paths = self.query_one("#paths", OptionList)
        chosen = self.ways.tried[0]
        preferred = "https" if chosen.ok and chosen.over_https else "database"
        if not paths.get_option(preferred).disabled:
            paths.highlighted = paths.get_option_index(preferred)
        paths.focus()
        self.check()

    # -- pre-flight ---------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False)
    def check(self) -> None:
        """Read the folder again and the database's history; pre-flight the pending migrations."""
        from wizard.core import catalog as folders
        from wizard.core import compat, history, preflight, runner

        target = self.ways.database or self.ways.https
        if target is None:
            self.post_message(self.Checked(None))
            return
        try:
            catalog = folders.load(self.ways.catalog.directory)
            with target.open() as conn:
                records = history.read(conn)
                pending = runner.pending(catalog, records) if catalog.ok else []
                findings = preflight.check(catalog, pending)
                refusals = preflight.blocking(findings)
                supabase, roles, functions = compat.missing(conn)
                findings += preflight.dependencies(catalog, pending, conn, compat_will_run=not supabase)
                findings += preflight.big_table_locks(pending, conn)
        except Exception as exc:
            self.post_message(self.Checked(None, Trouble.error(exc, target)))
            return
        if not supabase and (roles or functions) and pending:
            findings.append(preflight.Finding(
                preflight.INFO, "compat", str(catalog.directory), None,
                "plain PostgreSQL: the run will first create Supabase's " + ", ".join(roles + functions)))
        plan = Plan(catalog, target, self.ways.ref, tuple(history.states(catalog, records)), tuple(pending),
                    tuple(findings), tuple(refusals))
        self.post_message(self.Checked(plan))

    def on_path_screen_checked(self, message: Checked) -> None:
        self.plan = message.plan
        summary = self.query_one("#summary", Static)
        findings = self.query_one("#findings-text", Static)
        self.refresh_bindings()
        if message.trouble is not None:
            summary.update(Content.from_markup("[$text-error]✗ $what[/]", what=message.trouble.what))
            self.troubleshoot(message.trouble)
            return
        plan = message.plan
        if plan is None:
            summary.update("No way to the database works yet: go back to the Environment step (Escape).")
            return
        applied = len(plan.catalog.migrations) - len(plan.pending)
        text = f"{len(plan.catalog.migrations)} migrations: {applied} applied, {len(plan.pending)} pending."
        if not plan.pending and plan.catalog.ok:
            text += " Nothing to apply: the database is up to date."
        if plan.refusals:
            text += f" {len(plan.refusals)} problem(s) keep the run from starting: fix them, then press r."
        summary.update(text)
        lines = [self._finding(f, plan.catalog) for f in plan.findings]
        findings.update(Content("\n").join(lines) if lines else Content.from_markup(
            "[$text-success]✓[/] Nothing to report: every pending statement reads as it should."))

    def _finding(self, finding: Finding, catalog: Catalog) -> Content:
        mark, tone = _TONES.get(finding.severity, ("·", "$text-muted"))
        where = "" if finding.code == "compat" else finding.location()
        return Content.from_markup(f"[{tone}]$mark $severity[/] $where  $message", mark=mark,
                                   severity=f"{finding.severity:<7}", where=where, message=finding.message)

    # -- actions ------------------------------------------------------------------------------

    def _errors(self) -> list[Finding]:
        return [f for f in self.plan.findings if f.severity == "error" and f.code != "compat"] if self.plan else []

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "go":
            option = self.query_one("#paths", OptionList).highlighted_option
            return (self.plan is not None and not self.plan.refusals and option is not None
                    and not option.disabled) or None
        if action == "troubleshoot":
            return bool(self._errors()) or False
        return True

    def on_option_list_option_highlighted(self) -> None:
        self.refresh_bindings()

    def action_go(self) -> None:
        from dataclasses import replace

        option = self.query_one("#paths", OptionList).highlighted_option
        target = self.ways.https if option.id == "https" else self.ways.database
        self.dismiss(replace(self.plan, target=target))

    def action_troubleshoot(self) -> None:
        self.troubleshoot(Trouble.finding(self._errors()[0], self.plan.catalog.directory))

    def after_trouble(self, answer: str | None) -> None:
        if answer == "retry":
            self.action_check()

    def action_check(self) -> None:
        self.plan = None
        self.refresh_bindings()
        self.query_one("#summary", Static).update("Checking again…")
        self.check()

    def action_back(self) -> None:
        self.dismiss(None)
