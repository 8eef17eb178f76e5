"""The terminal wizard: Welcome, Environment, Path, Apply (or By hand, in the dashboard's SQL
editor), Verify and Done, in that order, with Troubleshoot over any of them when something fails.
A front end over ``wizard.core``: the screens show the engine's events, diagnoses, checks and
advice; the database work runs in thread workers."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App
from textual.binding import Binding

if TYPE_CHECKING:
    from wizard.core.catalog import Catalog
    from wizard.tui.screens.apply import Outcome
    from wizard.tui.screens.environment import Ways
    from wizard.tui.screens.path import Plan
    from wizard.tui.screens.step import Step
    from wizard.tui.screens.verify import Report

# Editors that open a file at a line with +LINE.
_LINE_ARGUMENT = {"vi", "vim", "nvim", "view", "nano", "emacs", "emacsclient", "micro", "kak", "joe", "jed", "mg"}
# Clipboard commands, for terminals that ignore OSC 52 (macOS Terminal, some multiplexers): the
# first on PATH that takes the text.
CLIPBOARDS = (["wl-copy"], ["xclip", "-selection", "clipboard"], ["xsel", "--clipboard", "--input"], ["pbcopy"],
              ["clip.exe"])


@dataclass(frozen=True)
class Settings:
    """What the wizard is pointed at: the command line's options."""

    migrations: Path | None = None  # the folder (default ./migrations, else ./supabase/migrations)
    database_url: str | None = None
    local: bool = False  # the local embedded PostgreSQL
    local_dir: Path | None = None
    env_file: Path | None = None
    cwd: Path | None = None  # the project: where .env and .env.local are read
    environ: dict[str, str] | None = None  # the process environment (default: this process's)
    connect_timeout: float = 10.0
    api_url: str | None = None  # the Management API's address
    target_name: str | None = None  # shown instead of the target's (masked) URL
    show_times: bool = True  # durations and elapsed time; off for screenshots that must not change

    @property
    def process_environ(self) -> dict[str, str]:
        return os.environ if self.environ is None else self.environ

    @property
    def project(self) -> Path:
        return (self.cwd or Path.cwd()).resolve()

    def folder(self) -> Path:
        from wizard.core.catalog import default_directory

        return self.migrations or default_directory(self.project)

    def show_path(self, path: Path) -> str:
        """A path as the user thinks of it: relative to the project when inside it."""
        path = path.resolve()
        for base in (self.project, self.folder().resolve().parent):
            if path.is_relative_to(base):
                return str(path.relative_to(base))
        return str(path)


STEPS = ("Welcome", "Environment", "Path", "Apply", "Verify", "Done")


@dataclass
class Walk:
    """Where the walk through the steps is, and what each step answered: each step is given the
    answer of the one before (Welcome: nothing; Environment: the folder's catalog; Path: the ways
    to the database; Apply or By hand: the plan; Verify: the outcome; Done: the report)."""

    position: int = 0  # the index in STEPS of the step on screen
    catalog: Catalog | None = None
    ways: Ways | None = None
    plan: Plan | None = None
    outcome: Outcome | None = None
    report: Report | None = None

    def screen(self) -> Step[Any]:
        """The screen of the current step, given what the step before answered."""
        from wizard.tui.screens.apply import ApplyScreen
        from wizard.tui.screens.done import DoneScreen
        from wizard.tui.screens.environment import EnvironmentScreen
        from wizard.tui.screens.manual import ManualScreen
        from wizard.tui.screens.path import PathScreen
        from wizard.tui.screens.verify import VerifyScreen
        from wizard.tui.screens.welcome import WelcomeScreen

        position = self.position
        if position == 0:
            return WelcomeScreen()
        if position == 1:
            return EnvironmentScreen(self.catalog)
        if position == 2:
            return PathScreen(self.ways)
        if position == 3:  # by hand, in the dashboard's SQL editor, or applied by the wizard
            return ManualScreen(self.plan) if self.plan.manual else ApplyScreen(self.plan)
        if position == 4:
            return VerifyScreen(self.outcome)
        return DoneScreen(self.report)

    def answer(self, answer: Any) -> None:
        """What the current step answered: on to the next step, or None: back one step."""
        if answer is None:
            self.position = max(0, self.position - 1)
            return
        if self.position == 0:
            self.catalog = answer
        elif self.position == 1:
            self.ways = answer
        elif self.position == 2:
            self.plan = answer
        elif self.position == 3:
            self.outcome = answer
        elif self.position == 4:
            self.report = answer
        self.position += 1


def theme_for(environ: dict[str, str], available: set[str]) -> str:
    """MIGRATION_WIZARD_THEME when it names a theme; else light or dark after the terminal's
    background (COLORFGBG, set by many terminals: "15;0" is light text on black)."""
    chosen = environ.get("MIGRATION_WIZARD_THEME", "")
    if chosen in available:
        return chosen
    background = environ.get("COLORFGBG", "").rpartition(";")[2]
    return "textual-light" if background in ("7", "15") else "textual-dark"


class WizardApp(App[int]):
    CSS_PATH = "wizard.tcss"
    TITLE = "migration-wizard"
    BINDINGS = [Binding("q", "quit", "Quit"), Binding("ctrl+q", "quit", "Quit", show=False, priority=True)]

    def __init__(self, **settings) -> None:
        super().__init__()
        self.settings = Settings(**settings)
        self.theme = theme_for(os.environ, set(self.available_themes))

    def on_mount(self) -> None:
        self.walk()

    @work(group="walk")
    async def walk(self) -> None:
        """The steps in order, each given the answer of the one before; a step that answers None
        goes back one step."""
        walked = Walk()
        while walked.position < len(STEPS):
            walked.answer(await self.push_screen_wait(walked.screen()))
        self.exit(0)

    def copy(self, text: str, what: str) -> None:
        """Copy to the clipboard, and say so."""
        command = self.copy_text(text)
        through = f" (through {command})" if command else ""
        self.notify(f"{what} is on the clipboard{through} ({len(text)} characters).")

    def copy_text(self, text: str) -> str | None:
        """Copy to the clipboard: OSC 52 through the terminal, and the system's clipboard command
        where there is one. The command that took the text, if any."""
        self.copy_to_clipboard(text)
        return system_clipboard(text, self.settings.process_environ.get("PATH", ""))

    def browse(self, url: str) -> bool:
        """Open a URL in the browser, when there is one to open it in (never a text browser in this
        very terminal). False when the URL must be opened by hand."""
        if self.is_web:
            self.open_url(url)
            return True
        environ = self.settings.process_environ
        if sys.platform not in ("darwin", "win32") and not (environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY")):
            return False
        import webbrowser

        try:
            return webbrowser.open(url)
        except webbrowser.Error:
            return False

    def edit(self, path: Path, line: int | None) -> bool:
        """Open a file in $VISUAL or $EDITOR (at the line, when the editor takes +LINE), the wizard
        suspended meanwhile. False when no editor could run."""
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        command = shlex.split(editor)
        if line and Path(command[0]).name in _LINE_ARGUMENT:
            command.append(f"+{line}")
        command.append(str(path))
        from textual.app import SuspendNotSupported

        try:
            with self.suspend():
                subprocess.run(command)
        except SuspendNotSupported:
            self.notify(f"This terminal cannot hand over to an editor: open {path} yourself.", severity="warning")
            return False
        except OSError as exc:
            self.notify(f"Cannot start {editor} ({exc.strerror}): set $EDITOR.", severity="error")
            return False
        return True


def system_clipboard(text: str, path: str) -> str | None:
    """Hand the text to the first clipboard command on ``path`` that takes it; its name, or None."""
    for command in CLIPBOARDS:
        found = shutil.which(command[0], path=path)
        if not found:
            continue
        try:  # no pipes kept open: xclip stays behind to own the selection
            subprocess.run([found, *command[1:]], input=text.encode(), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=3, check=True)
        except (OSError, subprocess.SubprocessError):
            continue
        return command[0]
    return None
