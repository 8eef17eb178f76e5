"""The wizard's app as its steps see it: the settings, and what it does for them (the clipboard, the
browser, the editor). The app (``app``) adds the walk through the steps; the steps name this class,
never the app, which imports them."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from textual.app import App

from wizard.tui.settings import Settings

# Editors that open a file at a line with +LINE.
_LINE_ARGUMENT = {"vi", "vim", "nvim", "view", "nano", "emacs", "emacsclient", "micro", "kak", "joe", "jed", "mg"}
# Clipboard commands, for terminals that ignore OSC 52 (macOS Terminal, some multiplexers): the
# first on PATH that takes the text.
CLIPBOARDS = (["wl-copy"], ["xclip", "-selection", "clipboard"], ["xsel", "--clipboard", "--input"], ["pbcopy"],
              ["clip.exe"])
# Where a copy goes when the wizard runs in a browser (``serve``): the page's terminal hands OSC 52 to
# the browser's clipboard; this machine's clipboard is not the person's.
BROWSER = "the browser"


class Services(App[int]):
    """The settings, and the services the steps call."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def copy(self, text: str, what: str) -> None:
        """Copy to the clipboard, and say so."""
        command = self.copy_text(text)
        through = f" (through {command})" if command else ""
        self.notify(f"{what} is on the clipboard{through} ({len(text)} characters).")

    def copy_text(self, text: str) -> str | None:
        """Copy to the clipboard: OSC 52 through the terminal, and the system's clipboard command
        where there is one. The command that took the text, if any; ``BROWSER`` in a browser."""
        self.copy_to_clipboard(text)
        if self.is_web:
            return BROWSER
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
            where = "In a browser, the wizard" if self.is_web else "This terminal"
            self.notify(f"{where} cannot hand over to an editor: open {path} yourself.", severity="warning")
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
