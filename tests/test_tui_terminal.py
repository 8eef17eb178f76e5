"""The wizard in a real terminal: tmux runs it, send-keys walks it, capture-pane reads the screen."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from helpers import MIGRATIONS, cli_env, history

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    """A tmux server of its own (no user configuration, this test's environment) with one window."""

    def __init__(self, command: list[str], cwd: Path, env: dict | None = None, size=(100, 30)):
        self.socket = f"wizard-test-{uuid.uuid4().hex[:8]}"
        environment = cli_env({"TERM": "xterm-256color", **(env or {})})
        self.tmux("new-session", "-d", "-s", "wizard", "-x", str(size[0]), "-y", str(size[1]), "-c", str(cwd),
                  " ".join(map(str, command)), env=environment)

    def tmux(self, *args: str, env: dict | None = None) -> str:
        return subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args], env=env,
                              capture_output=True, text=True, timeout=20).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "wizard")

    def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen shows:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "wizard", *keys)

    def running(self) -> bool:
        return "wizard" in self.tmux("list-sessions", "-F", "#{session_name}")

    def close(self) -> None:
        self.tmux("kill-server")
        socket = Path(os.environ.get("TMUX_TMPDIR", "/tmp"), f"tmux-{os.getuid()}", self.socket)
        socket.unlink(missing_ok=True)


@pytest.fixture
def terminal():
    opened = []

    def open_(*args, **kwargs) -> Terminal:
        opened.append(Terminal(*args, **kwargs))
        return opened[-1]

    yield open_
    for t in opened:
        t.close()


def test_the_wizard_applies_every_migration_in_a_real_terminal(terminal, tmp_path, database, db):
    script = Path(sys.executable).with_name("migration-wizard")
    wizard = terminal([script, "--database-url", database, "--migrations", MIGRATIONS], tmp_path)
    wizard.wait_for("18 migrations (001 to 018)")
    wizard.keys("Enter")
    wizard.wait_for("✓ ok")
    wizard.keys("Enter")
    wizard.wait_for("18 pending")
    wizard.keys("Enter")
    screen = wizard.wait_for("All 18 migrations are applied")
    assert "018_fix_database_advisor_findings" in screen and screen.count("applied") >= 10
    assert "100%" in screen
    wizard.keys("Enter")
    wizard.wait_for("checks pass")
    wizard.keys("Enter")
    wizard.wait_for("The database is ready")
    wizard.keys("Enter")
    for _ in range(100):
        if not wizard.running():
            break
        time.sleep(0.1)
    assert not wizard.running()
    assert len(history(db)) == 18


def test_a_failure_is_fixed_in_the_editor_and_retried(terminal, tmp_path, folder, database, db):
    folder.write("001_a.sql", "CREATE TABLE a (id int PRIMARY KEY);\n")
    broken = folder.write("002_b.sql", "CREATE TABLE b (id int PRIMARY KEY);\n\nINSERT INTO b (id, nope) VALUES (1);")
    editor = tmp_path / "fix-it"
    editor.write_text("#!/bin/sh\nprintf 'CREATE TABLE b (id int PRIMARY KEY);\\n' > \"$1\"\n")
    editor.chmod(0o755)
    wizard = terminal([sys.executable, "-m", "wizard", "--database-url", database, "--migrations", folder.path],
                      tmp_path, env={"EDITOR": str(editor)})
    wizard.wait_for("2 migrations (001 to 002)")
    wizard.keys("Enter")
    wizard.wait_for("✓ ok")
    wizard.keys("Enter")
    wizard.wait_for("2 pending")
    wizard.keys("Enter")
    screen = wizard.wait_for("002_b failed")
    assert "migrations/002_b.sql:3" in screen and "INSERT INTO b (id, nope)" in screen
    wizard.keys("e")  # the wizard suspends, the editor runs in the terminal, the wizard comes back
    wizard.wait_for("press r to retry")
    assert "nope" not in broken.read_text()
    wizard.keys("r")
    screen = wizard.wait_for("All 2 migrations are applied")
    assert "002_b" in screen
    assert history(db) == ["001", "002"]
