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
from wizard.core.flows.disagree import Action, disagreements
from wizard.tui.trouble import Trouble
from wizard.tui.widgets.disagreements import Disagreements
from wizard.tui.widgets.lint import LintFindings

if TYPE_CHECKING:
    from wizard.core.catalog import Catalog, Migration
    from wizard.core.history import MigrationState
    from wizard.core.lint import LintFinding
    from wizard.core.preflight import Finding
    from wizard.core.manual import RestApi
    from wizard.tui.target import Target

_TONES = {"error": ("✗", "$text-error"), "warning": ("!", "$text-warning"), "info": ("·", "$text-muted")}


@dataclass(frozen=True)
class Plan:
    """What a run will do: the folder, the way to the database, each migration's state, the
    pending ones and what pre-flight found."""

    catalog: Catalog
    target: Target | None  # None: no way to the database (the manual path only)
    ref: str | None
    states: tuple[MigrationState, ...]
    pending: tuple[Migration, ...]
    findings: tuple[Finding, ...]
    refusals: tuple[Finding, ...]  # errors that keep the run from starting
    manual: bool = False  # run by hand in the dashboard's SQL editor
    rest: RestApi | None = None  # the project's REST API, to check what a paste created
    summary: str = ""  # how many migrations in which states, as `status` and `plan` say it
    offline: bool = False  # no way to the database: pre-flight read the folder against a fresh Supabase project
    lint: tuple[LintFinding, ...] = ()  # the lint rules' findings (the database's too, with a connection)

    @property
    def progress_key(self) -> str:
        """What the manual path's progress is kept under: this project or database."""
        from wizard.core.manual import target_key

        url = self.target.url if self.target is not None else (self.rest.url if self.rest is not None else None)
        return target_key(self.ref, url)


class PathScreen(Step[Plan]):
    STEP = "Path"
    BINDINGS = [
        Binding("enter", "go", "Apply", priority=True),
        Binding("enter", "by_hand", "Start by hand", priority=True),
        Binding("t", "troubleshoot", "Troubleshoot"),
        Binding("r", "check", "Check again"),
        Binding("h", "rehearse", "Rehearse"),
        Binding("escape", "back", "Back"),
        # where the history and the folder disagree: the highlighted disagreement's actions
        Binding("f", "recover('fetch')", "Fetch"),
        Binding("d", "recover('diff')", "Diff"),
        Binding("a", "recover('accept')", "Accept"),
        Binding("i", "recover('include')", "Include"),
        Binding("x", "recover('forget')", "Forget"),
    ]

    class Checked(Message):
        def __init__(self, plan: Plan | None, trouble: Trouble | None = None) -> None:
            super().__init__()
            self.plan = plan
            self.trouble = trouble

    def __init__(self, ways: Ways) -> None:
        super().__init__()
        self.ways = ways
        self.rest: RestApi | None = None
        self.plan: Plan | None = None
        self.included: set[str] = set()  # out-of-order versions the run is to apply all the same

    def body(self) -> ComposeResult:
        from wizard.core.manual import RestApi

        self.rest = RestApi.find(self.ways.environment, self.app.settings.connect_timeout)
        yield Label("How should the migrations be applied?", classes="heading")
        yield OptionList(*self._options(), id="paths")
        yield Label("Pre-flight", classes="heading")
        yield Static("Reading the database's history and checking every pending statement…", id="summary")
        yield Disagreements(id="disagreements")
        yield LintFindings("Lint", id="lint")
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
        return [
            self._option("database", "Automated, over a database connection", needs, database is not None),
            self._option("https", "Automated, over HTTPS with an access token", https_needs, https is not None),
            self._option("manual", "Manual, in the dashboard's SQL editor", self._manual_needs(), self._manual()),
        ]

    def _manual(self) -> bool:
        """Possible when each paste can be checked: through the REST API, or a connection."""
        return self.rest is not None or self.ways.database is not None or self.ways.https is not None

    def _manual_needs(self) -> str:
        ways, rest = self.ways, self.rest
        connection = ways.database or ways.https
        if connection is not None:
            return f"a connection ✓ ({connection.shown}): each paste is checked through it and recorded"
        if rest is not None:
            return f"SUPABASE_URL ✓  {rest.key_name} ✓  (each paste is checked through the REST API)"
        have = "✓" if ways.environment.supabase_url_variable() else "✗"
        return f"SUPABASE_URL {have}  an API key ✗ (SUPABASE_SERVICE_ROLE_KEY or SUPABASE_ANON_KEY)"

    @classmethod
    def _option(cls, key: str, title: str, needs: str, possible: bool) -> Option:
        return Option(cls._prompt(title, needs, possible), id=key, disabled=not possible)

    @staticmethod
    def _prompt(title: str, needs: str, possible: bool) -> Content:
        state = "[$text-success]✓ possible now[/]" if possible else "[$text-error]✗ not possible yet[/]"
        return Content.from_markup(f"[b]$title[/]  {state}\n  [$text-muted]needs[/] $needs", title=title, needs=needs)

    def on_mount(self) -> None:
        paths = self.query_one("#paths", OptionList)
        chosen = self.ways.tried[0] if self.ways.tried else None
        preferred = "https" if chosen and chosen.ok and chosen.over_https else "database"
        for key in (preferred, "manual"):
            if not paths.get_option(key).disabled:
                paths.highlighted = paths.get_option_index(key)
                break
        paths.focus()
        self.check()

    # -- pre-flight ---------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False)
    def check(self) -> None:
        """Read the folder again and the database's history; pre-flight the pending migrations."""
        from wizard.core import catalog as folders
        from wizard.core import project as projects
        from wizard.core.flows.plan import plan

        target = self.ways.database or self.ways.https
        if target is None:
            try:
                self.post_message(self.Checked(self._unconnected()))
            except Exception as exc:
                self.post_message(self.Checked(None, Trouble.error(exc)))
            return
        try:
            catalog = folders.load(self.ways.catalog.directory)
            found = projects.find(catalog.directory)
            with target.open() as conn:
                planned = plan(catalog, conn, found, local=target.local)
        except Exception as exc:
            self.post_message(self.Checked(None, Trouble.error(exc, target)))
            return
        report, lint = planned.overview, tuple(planned.lint.findings if planned.lint else ())
        checked = Plan(catalog, target, self.ways.ref, tuple(report.states), tuple(report.pending),
                       tuple(report.findings), tuple(report.refusals), summary=report.summary(), lint=lint)
        self.post_message(self.Checked(checked))

    def _unconnected(self) -> Plan | None:
        """No way to the database: the plan of the manual path, read from the folder alone, with
        pre-flight against what a fresh Supabase project has (``plan --offline``'s findings). A
        dependency that is missing there may have been made by hand in the dashboard: it does not
        keep the manual path from starting; it is shown again before the first paste."""
        from wizard.core import catalog as folders
        from wizard.core import project as projects
        from wizard.core.flows.plan import plan

        if not self._manual():
            return None
        catalog = folders.load(self.ways.catalog.directory)
        planned = plan(catalog, None, projects.find(catalog.directory))
        report, lint = planned.overview, tuple(planned.lint.findings if planned.lint else ())
        return Plan(catalog, None, self.ways.ref, tuple(report.states), tuple(report.pending),
                    tuple(report.findings), tuple(report.refusals), summary=report.summary(), offline=True, lint=lint)

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
        text = plan.summary
        if plan.target is None:
            text = (f"{len(plan.catalog.migrations)} migrations, and no way to the database: they can be run by "
                    f"hand, each checked through the REST API ({self._confirmed(plan)}).")
        elif not plan.pending and plan.catalog.ok:
            text += " Nothing to apply: the database is up to date."
        if plan.refusals:
            text += f" {len(plan.refusals)} problem(s) keep the run from starting: fix them, then press r."
        errors = [f for f in plan.findings if f.severity == "error" and f not in plan.refusals]
        if plan.offline:
            text += (" Pre-flight read the folder offline, against a fresh Supabase project"
                     + (f": {len(errors)} error{'s' * (len(errors) != 1)}, where a paste would fail unless the "
                        "object was made by hand."
                        if errors else "."))
        summary.update(text)
        self._mention_findings(plan)
        self.query_one(Disagreements).show(disagreements(list(plan.states)), self.included)
        self.query_one(LintFindings).show(plan.lint, plan.catalog.directory)
        lines = [self._finding(f, plan.catalog) for f in plan.findings]
        findings.update(Content("\n").join(lines) if lines else Content.from_markup(
            "[$text-success]✓[/] Nothing to report: every pending statement reads as it should."))

    def _mention_findings(self, plan: Plan) -> None:
        """The manual option says what pre-flight found: the manual step shows it again before the
        first paste."""
        errors = [f for f in plan.findings if f.severity == "error"]
        if not self._manual() or not (errors or plan.offline):
            return
        where = " (offline, against a fresh Supabase project)" if plan.offline else ""
        if errors:
            first = errors[0].location()
            line = (f"[$text-error]✗ pre-flight{where}: {len(errors)} error{'s' * (len(errors) != 1)}, first at "
                    "$first[/]: "
                    "shown again before the first paste")
        else:
            line = f"[$text-success]✓[/] pre-flight{where}: no error"
            first = ""
        prompt = Content.assemble(self._prompt("Manual, in the dashboard's SQL editor", self._manual_needs(), True),
                                  "\n  ", Content.from_markup(line, first=first))
        self.query_one("#paths", OptionList).replace_option_prompt("manual", prompt)

    def _confirmed(self, plan: Plan) -> str:
        from wizard.core import manual

        progress = manual.load_progress(self.app.settings.project, plan.progress_key)
        done = sum(1 for m in plan.catalog.migrations if progress.get(m.version) == m.checksum)
        return f"{done} confirmed so far" if done else "none run yet"

    def _finding(self, finding: Finding, catalog: Catalog) -> Content:
        mark, tone = _TONES.get(finding.severity, ("·", "$text-muted"))
        where = "" if finding.code == "compat" else finding.location()
        return Content.from_markup(f"[{tone}]$mark $severity[/] $where  $message", mark=mark,
                                   severity=f"{finding.severity:<7}", where=where, message=finding.message)

    # -- actions ------------------------------------------------------------------------------

    def _errors(self) -> list[Finding]:
        return [f for f in self.plan.findings if f.severity == "error" and f.code != "compat"] if self.plan else []

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("go", "by_hand"):
            option = self.query_one("#paths", OptionList).highlighted_option
            if (option is not None and option.id == "manual") != (action == "by_hand"):
                return False
            return (self.plan is not None and not self.plan.refusals and option is not None
                    and not option.disabled) or None
        if action == "rehearse":  # over a way to the database, or offline (rebuilt from the files)
            return self.plan is not None and (self.plan.target is not None or self.plan.offline) or None
        if action == "troubleshoot":
            return bool(self._errors()) or False
        if action == "recover":
            (name,) = parameters
            return self.plan is not None and self.plan.target is not None and self.query_one(
                Disagreements).offers(Action(name))
        return True

    def on_option_list_option_highlighted(self) -> None:
        self.refresh_bindings()

    def _late(self) -> list[str]:
        """The out-of-order files the run would apply without being asked to."""
        items = disagreements(list(self.plan.states)) if self.plan else []
        return [d.label for d in items if d.code == "out-of-order" and d.version not in self.included]

    def action_recover(self, name: str) -> None:
        item = self.query_one(Disagreements).current
        if item is None or self.plan is None:
            return
        if name == "include":
            self.included.add(item.version)
            self.query_one(Disagreements).show(disagreements(list(self.plan.states)), self.included)
            self.notify(f"{item.label} will be applied, out of order, once its dependencies are checked.")
            return
        self._recover(name, item.version)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _recover(self, name: str, version: str) -> None:
        """Run a recovery action over the step's way to the database; check again afterwards."""
        from wizard.tui.screens import recovery

        assert self.plan is not None and self.plan.target is not None
        target, directory = self.plan.target, self.plan.catalog.directory
        try:
            if name == "diff":
                report = recovery.diff(target, directory, version)
                self.app.call_from_thread(self.app.push_screen, recovery.DiffScreen(report),
                                          lambda answer: answer and self._recover(answer, version))
                return
            if name == "forget":
                details = recovery.forget_check(target, directory, version)
                self.app.call_from_thread(
                    self.app.push_screen, recovery.ConfirmScreen(f"Remove {version} from the migration history?",
                                                                 details),
                    lambda yes: yes and self._recover("forget-confirmed", version))
                return
            done = {"fetch": recovery.fetch, "accept": recovery.accept,
                    "forget-confirmed": recovery.forget}[name](target, directory, version)
        except Exception as exc:
            self.post_message(self.Checked(self.plan, Trouble.error(exc, target)))
            return
        self.app.call_from_thread(self.notify, done)
        self.app.call_from_thread(self.action_check)

    def action_go(self) -> None:
        from dataclasses import replace

        late = self._late()
        if late:
            self.troubleshoot(Trouble(
                what=f"{', '.join(late)} would run out of order",
                message="It sorts before a version that is already applied; nothing was applied. Press i to apply "
                "it all the same (its dependencies are checked first), as 'apply --include-all' does.",
                recovery=("include",)))
            return

        option = self.query_one("#paths", OptionList).highlighted_option
        if option is None or self.plan is None:  # the binding shows for a plan and a way that is possible
            return
        target = self.ways.https if option.id == "https" else self.ways.database
        self.dismiss(replace(self.plan, target=target))

    def action_by_hand(self) -> None:
        from dataclasses import replace

        if self.plan is None:  # the binding shows for a plan
            return
        self.dismiss(replace(self.plan, target=self.ways.database or self.ways.https, manual=True, rest=self.rest))

    def action_rehearse(self) -> None:
        from wizard.tui.screens.rehearse import RehearseScreen

        if self.plan is not None:  # the binding shows for a plan
            self.app.push_screen(RehearseScreen(self.plan.catalog.directory, self.plan.target))

    def action_troubleshoot(self) -> None:
        if self.plan is None:  # the binding shows for a plan's errors
            return
        self.troubleshoot(Trouble.finding(self._errors()[0], self.plan.catalog.directory))

    def after_trouble(self, answer: str | None) -> None:
        if answer == "retry":
            self.action_check()
        elif answer == "include" and self.plan is not None:
            self.included.update(d.version for d in disagreements(list(self.plan.states)) if d.code == "out-of-order")
            self.action_go()

    def action_check(self) -> None:
        self.plan = None
        self.refresh_bindings()
        self.query_one("#summary", Static).update("Checking again…")
        self.check()

    def action_back(self) -> None:
        self.dismiss(None)
