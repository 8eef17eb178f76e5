"""Environment: what was found (masked), what is missing and how to get it, each way to the
database with its result; a masked input for a password, a connection string or an access token,
tried on the spot; the local embedded database. Answers the ways that were tried."""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import count
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Static

from wizard.core.flows.target import LOCAL_SOURCE, Kind, Way
from wizard.tui.screens.step import Step
from wizard.tui.target import Target
from wizard.tui.trouble import Trouble
from wizard.tui.widgets import cell

if TYPE_CHECKING:
    from rich.text import Text

    from wizard.core.catalog import Catalog
    from wizard.core.env import Environment

ACCESS_TOKENS = "https://supabase.com/dashboard/account/tokens"


@dataclass(frozen=True)
class Ways:
    """Every way to the database that was tried, the one the user picked first."""

    catalog: Catalog
    environment: Environment
    tried: tuple[Target, ...]

    @property
    def ref(self) -> str | None:
        return self.environment.supabase_ref()

    @property
    def database(self) -> Target | None:
        return next((t for t in self.tried if t.ok and not t.over_https), None)

    @property
    def https(self) -> Target | None:
        return next((t for t in self.tried if t.ok and t.over_https), None)


class EnvironmentScreen(Step[Ways]):
    STEP = "Environment"
    BINDINGS = [
        Binding("enter", "use", "Use this one", priority=True),
        Binding("enter", "why", "Why it failed", priority=True),
        Binding("m", "by_hand", "By hand (SQL editor)"),
        Binding("l", "local", "Local database"),
        Binding("p", "paste", "Paste a secret"),
        Binding("s", "save", "Save to .env.local"),
        Binding("escape", "back", "Back"),
    ]

    class Tried(Message):
        def __init__(self, key: str, target: Target) -> None:
            super().__init__()
            self.key = key
            self.target = target

    class Found(Message):
        def __init__(self, environment: Environment) -> None:
            super().__init__()
            self.environment = environment

    def __init__(self, catalog: Catalog) -> None:
        super().__init__()
        self.catalog = catalog
        self.environment: Environment | None = None
        self.targets: dict[str, Target] = {}  # by row key
        self.failed: str | None = None  # the row key of the way the troubleshoot screen is about
        self._keys = count(1)

    def body(self) -> ComposeResult:
        with VerticalScroll(id="found"):
            yield Static("Reading .env, .env.local and the environment…", id="facts")
        yield Label("Ways to the database", classes="heading")
        table: DataTable[str | Text] = DataTable(id="ways", cursor_type="row", zebra_stripes=True)
        table.add_column("Source", key="source")
        table.add_column("Connection", key="shown")
        table.add_column("Result", key="result")
        yield table
        yield Static("", id="detail")
        yield Input(password=True, id="secret",
                    placeholder="Paste a database password, a connection string or an access token; Enter tries it")

    def on_mount(self) -> None:
        self.query_one("#ways").focus()
        self.survey()

    # -- finding and trying the ways ----------------------------------------------------------

    @work(thread=True, exit_on_error=False)
    def survey(self) -> None:
        from wizard.core.flows import target

        settings = self.app.settings
        choice = target.choose(target.Request(database_url=settings.database_url, local=settings.local,
                                              env_file=settings.env_file, cwd=settings.cwd, environ=settings.environ))
        if choice.unread is not None:
            raise choice.unread
        self.post_message(self.Found(choice.environment))
        if settings.local or choice.nothing_configured:  # as the command line does
            self.start_local()
            return
        self.attempt([self._target(way) for way in choice.ways])

    def _target(self, way: Way) -> Target:
        settings = self.app.settings
        if way.kind is Kind.HTTPS:
            shown = f"Supabase project {way.ref} (Management API)"
        else:
            shown = (way.explicit and settings.target_name) or way.masked
        if way.fixed:
            way = replace(way, source=way.source + " (password encoded)")
        return Target.of(way, shown, settings.api_url, settings.connect_timeout)

    def attempt(self, targets: list[Target]) -> None:
        """Show each target, then try them one after the other (in this worker thread)."""
        keyed = [(f"way-{next(self._keys)}", target) for target in targets]
        for key, target in keyed:
            self.post_message(self.Tried(key, target))
        for key, target in keyed:
            self.post_message(self.Tried(key, target.attempt()))

    def start_local(self) -> None:
        from wizard.core.flows import local as databases
        from wizard.core.local import LocalError

        settings = self.app.settings
        key = f"way-{next(self._keys)}"
        directory = databases.server(settings.local_dir).directory
        shown = settings.target_name or f"embedded PostgreSQL in {directory}"
        local = Way(Kind.LOCAL, LOCAL_SOURCE)
        self.post_message(self.Tried(key, Target.of(local, shown, timeout=settings.connect_timeout)))
        try:
            url = databases.start(directory).url
            assert url is not None, "a started server has its URL"
        except LocalError as exc:
            from wizard.core.connect import Probe

            failed = Probe(LOCAL_SOURCE, shown, "connection-failed", str(exc))
            self.post_message(self.Tried(key, replace(Target.of(local, shown), probe=failed)))
            return
        target = Target.of(replace(local, url=url), settings.target_name or url, timeout=settings.connect_timeout)
        self.post_message(self.Tried(key, target.attempt()))

    @work(thread=True, exit_on_error=False)
    def try_local(self) -> None:
        self.start_local()

    @work(thread=True, exit_on_error=False)
    def try_secret(self, secret: str) -> None:
        """A pasted connection string, access token or password, tried at once."""
        from wizard.core import env
        from wizard.core.flows.target import https_way, url_way

        environment = self.environment
        assert environment is not None, "a secret is tried once the environment is read"
        ref = environment.supabase_ref()
        if secret.startswith(("postgres://", "postgresql://")):
            self.attempt([self._target(url_way(c, ref, pasted=True))
                          for c in env.candidates(env.Environment(), pasted=secret)])
            return
        if secret.startswith("sbp_"):
            if ref is None:
                self.app.call_from_thread(self.notify, "An access token needs the project: set SUPABASE_URL.",
                                          severity="error")
                return
            self.attempt([self._target(https_way(ref, secret, "pasted access token"))])
            return
        with_password = replace(environment, values={**environment.values, "SUPABASE_DB_PASSWORD": secret})
        known = {t.url for t in self.targets.values()}
        found = [c for c in env.candidates(with_password) if "SUPABASE_DB_PASSWORD" in c.source and c.url not in known]
        if not found:
            self.app.call_from_thread(
                self.notify, "A password alone needs the project (SUPABASE_URL) or a connection URL without its "
                "password; paste the whole connection string instead.", severity="error")
            return
        self.attempt([self._target(url_way(replace(c, source="pasted password"), ref, pasted=True)) for c in found])

    # -- showing them -------------------------------------------------------------------------

    def on_environment_screen_found(self, message: Found) -> None:
        self.environment = message.environment
        self.query_one("#facts", Static).update(self._facts(message.environment))
        if self._by_hand_only():
            self.query_one("#detail", Static).update(
                "No database password, connection string or access token: m runs the migrations by hand, in the "
                "dashboard's SQL editor, each checked through the project's REST API.")
        self.refresh_bindings()

    def _by_hand_only(self) -> bool:
        """No way to the database works, and the REST API can check what is run by hand."""
        from wizard.core.manual import RestApi

        return (self.environment is not None and not any(t.ok for t in self.targets.values())
                and RestApi.find(self.environment) is not None)

    def _facts(self, environment: Environment) -> Content:
        from wizard.core import env

        found = environment.found()
        lines = []
        if not found:
            lines.append(Content("Nothing in .env, .env.local or the environment that the wizard knows."))
        for name, info in found.items():
            lines.append(Content.from_markup("[$text-success]✓[/] $name $value  [$text-muted]$source[/]",
                                             name=f"{name:<26}", value=info["value"], source=info["source"]))
        ref = environment.supabase_ref()
        if ref:
            links = env.dashboard(ref)
            wanted = {
                "SUPABASE_DB_PASSWORD": f"the database password: {links['database_settings']}",
                "SUPABASE_DB_URL": f"or a connection string (Session pooler): {links['connect']}",
                "SUPABASE_ACCESS_TOKEN": f"or an access token, for HTTPS: {links['access_tokens']}",
            }
            for name, how in wanted.items():
                if name not in found:
                    lines.append(Content.from_markup("[$text-warning]·[/] $name [$text-muted]$how[/]",
                                                     name=f"{name:<26}", how=how))
        for problem in environment.problems():
            lines.append(Content.from_markup("[$text-error]✗ $problem[/]", problem=problem))
        return Content("\n").join(lines)

    def on_environment_screen_tried(self, message: Tried) -> None:
        table = self.query_one("#ways", DataTable)
        target = message.target
        self.targets[message.key] = target
        result = self._result(target)
        if message.key in table.rows:
            table.update_cell(message.key, "shown", target.shown, update_width=True)
            table.update_cell(message.key, "result", result, update_width=True)
        else:
            table.add_row(target.source, target.shown, result, key=message.key)
        highlighted = self.highlighted()
        if target.ok and not (highlighted and highlighted.ok):  # the first way that works
            table.move_cursor(row=table.get_row_index(message.key))
        self._show_detail()
        if target.tried and not target.ok and target.pasted:
            self._why(message.key)

    def _result(self, target: Target) -> Text:
        if not target.tried:
            return cell(self.app, "trying…", "muted")
        if target.ok:
            return cell(self.app, "✓ ok", "success")
        return cell(self.app, f"✗ {target.result()}", "error")

    def _highlighted_key(self) -> str | None:
        table = self.query_one("#ways", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def highlighted(self) -> Target | None:
        key = self._highlighted_key()
        return None if key is None else self.targets.get(key)

    def on_data_table_row_highlighted(self) -> None:
        self._show_detail()

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def _show_detail(self) -> None:
        target = self.highlighted()
        if target is not None:
            self.query_one("#detail", Static).update(target.describe())
        self.refresh_bindings()

    # -- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        typing = isinstance(self.focused, Input)
        target = self.highlighted()
        if action == "use":
            return not typing and target is not None and target.ok
        if action == "why":
            return not typing and target is not None and target.tried and not target.ok
        if action in ("local", "paste"):
            return not typing
        if action == "by_hand":
            return not typing and self._by_hand_only()
        if action == "save":
            return (not typing and target is not None and target.ok and not target.over_https
                    and (target.pasted or target.fixed)) or False
        return True

    def action_use(self) -> None:
        chosen = self.highlighted()
        if chosen is None or self.environment is None:  # the binding shows for a way that works
            return
        others = [t for t in self.targets.values() if t is not chosen]
        self.dismiss(Ways(self.catalog, self.environment, (chosen, *others)))

    def action_why(self) -> None:
        key = self._highlighted_key()
        if key is not None:  # the binding shows for a way that failed
            self._why(key)

    def _why(self, key: str) -> None:
        self.failed = key
        self.troubleshoot(Trouble.unreachable(self.targets[key]))

    def after_trouble(self, answer: str | None) -> None:
        if answer == "retry" and self.failed is not None:
            self.retry(self.failed)

    @work(thread=True, exit_on_error=False)
    def retry(self, key: str) -> None:
        self.post_message(self.Tried(key, self.targets[key].attempt()))

    def action_by_hand(self) -> None:
        if self.environment is None:  # the binding shows once the environment is read
            return
        self.dismiss(Ways(self.catalog, self.environment, tuple(self.targets.values())))

    def action_local(self) -> None:
        if not any(t.local for t in self.targets.values()):
            self.try_local()

    def action_paste(self) -> None:
        self.query_one("#secret", Input).focus()

    def action_save(self) -> None:
        from wizard.core import env

        target = self.highlighted()
        if target is None or target.url is None:  # the binding shows for a connection URL that works
            return
        path = self.app.settings.project / ".env.local"
        env.save_url(path, "SUPABASE_DB_URL", target.url)
        self.notify(f"Saved as SUPABASE_DB_URL in {self.app.settings.show_path(path)} (readable by you only).")

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one("#ways").focus()
        else:
            self.dismiss(None)

    def on_input_submitted(self, message: Input.Submitted) -> None:
        secret = message.value.strip()
        message.input.clear()
        self.query_one("#ways").focus()
        if secret and self.environment is not None:
            self.try_secret(secret)
