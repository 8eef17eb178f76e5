"""Welcome: what the wizard will do, the migration folder and how many migrations it holds, the
target. Answers the folder's catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from wizard.core.flows.target import Kind
from wizard.tui.screens.step import Step

if TYPE_CHECKING:
    from wizard.core.catalog import Catalog
    from wizard.core.flows.target import Choice
    from wizard.tui.settings import Settings

INTRO = """\
This wizard applies the SQL migrations of a folder to your database, in file-name order, each in \
one transaction, recorded where the Supabase CLI records them. Then it proves the result.

  1. [b]Environment[/b]  what your .env files hold; each way to the database, tried
  2. [b]Path[/b]         over a connection, over HTTPS with a token, or by hand
  3. [b]Apply[/b]        the pending migrations, live; a failure opens Troubleshoot
  4. [b]Verify[/b]       every table, index, policy and seed row, checked
  5. [b]Done[/b]         the connection URL for your backend, and what to do next"""


class WelcomeScreen(Step["Catalog"]):
    STEP = "Welcome"
    BINDINGS = [
        Binding("enter", "start", "Start", priority=True),
        Binding("r", "reload", "Read the folder again"),
        Binding("f", "fleet", "Fleet"),
    ]

    class Surveyed(Message):
        def __init__(self, folder: str, target: str, catalog: Catalog | None) -> None:
            super().__init__()
            self.folder = folder
            self.target = target
            self.catalog = catalog

    def __init__(self, _: None = None) -> None:
        super().__init__()
        self.catalog: Catalog | None = None

    def body(self) -> ComposeResult:
        with VerticalScroll(id="welcome"):
            yield Static(Content.from_markup(INTRO), id="intro")
            yield Static(self._fact("Folder", "reading…"), id="folder")
            yield Static(self._fact("Target", "…"), id="target")
            fleet = self.app.settings.targets_file()
            if fleet is not None:  # the databases of a fleet: f opens them
                shown = self.app.settings.show_path(fleet)
                yield Static(self._fact("Fleet", f"{shown} names the fleet's databases: f shows them all"),
                             id="fleet")

    @staticmethod
    def _fact(name: str, text: str) -> Content:
        return Content.from_markup("[b]$name[/]  ", name=f"{name:<7}") + Content(text)

    def on_mount(self) -> None:
        self.call_after_refresh(self.survey)  # paint first: reading the folder imports the parser

    @work(thread=True, exclusive=True, exit_on_error=False)
    def survey(self) -> None:
        """Read the folder and the environment (no connection yet)."""
        from wizard.core import catalog as folders
        from wizard.core.env import EnvFileError
        from wizard.core.flows import target

        settings = self.app.settings
        directory = settings.folder()
        shown = settings.show_path(directory)
        try:
            loaded = folders.load(directory)
        except folders.FolderNotFound:
            hint = "" if settings.migrations else " (looked for ./migrations and ./supabase/migrations)"
            self.post_message(self.Surveyed(f"{shown} does not exist{hint}: pass --migrations DIR", "", None))
            return
        count = len(loaded.migrations)
        text = f"{shown}: {count} migration{'s' * (count != 1)}"
        if loaded.migrations:
            text += f" ({loaded.migrations[0].version} to {loaded.migrations[-1].version})"
        if loaded.ignored:
            text += f"; ignored: {', '.join(loaded.ignored)}"
        if loaded.problems:
            text += f"; {len(loaded.problems)} problem(s), shown before anything runs"
        try:
            choice = target.choose(target.Request(database_url=settings.database_url, local=settings.local,
                                                  env_file=settings.env_file, cwd=settings.cwd,
                                                  environ=settings.environ))
            if choice.unread is not None:
                raise choice.unread
        except EnvFileError as exc:
            self.post_message(self.Surveyed(text, str(exc), loaded))
            return
        self.post_message(self.Surveyed(text, _target(settings, choice), loaded))

    def on_welcome_screen_surveyed(self, message: Surveyed) -> None:
        self.catalog = message.catalog
        self.query_one("#folder", Static).update(self._fact("Folder", message.folder))
        self.query_one("#target", Static).update(self._fact("Target", message.target))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "start":
            return self.catalog is not None or None
        if action == "fleet":  # only with a targets file
            return self.app.settings.targets_file() is not None
        return True

    def action_fleet(self) -> None:
        from wizard.tui.screens.fleet import FleetScreen

        self.app.push_screen(FleetScreen())

    def action_start(self) -> None:
        self.dismiss(self.catalog)

    def action_reload(self) -> None:
        self.catalog = None
        self.refresh_bindings()
        self.survey()


def _target(settings: Settings, choice: Choice) -> str:
    """Where the migrations will go, as the engine chose it, in the settings' words."""
    from wizard.core import env

    way = choice.target
    if settings.local:
        return settings.target_name or "the local database (embedded PostgreSQL)"
    if settings.database_url:
        return settings.target_name or env.mask_url(settings.database_url)
    if way is not None and way.kind is Kind.URL:
        return f"{way.masked} (from {way.source})"
    if way is not None and way.kind is Kind.HTTPS:
        return f"Supabase project {way.ref}, over HTTPS with the access token"
    if choice.ref:
        return f"Supabase project {choice.ref}: no database password or connection string yet (next step)"
    return "the local database (embedded PostgreSQL): nothing else is configured"
