"""Driving the terminal wizard in tests: an app pointed at a test database, waiting for its
workers, reading what its screens show."""

from __future__ import annotations

import time
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable

from wizard.tui.app import WizardApp

TARGET = "test database"


def wizard_app(tmp_path: Path, migrations: Path | None = None, database: str | None = None, **settings) -> WizardApp:
    """The wizard on a test database, reading .env files from tmp_path and no process variables,
    with nothing on screen that changes from run to run."""
    settings.setdefault("environ", {})
    app = WizardApp(migrations=migrations, database_url=database, cwd=tmp_path, target_name=TARGET,
                    show_times=False, **settings)
    app.animation_level = "none"
    return app


async def settle(pilot: Pilot, timeout: float = 60) -> None:
    """Wait until the screen stays the same, every worker but the walk through the steps is done
    (its messages handled), and no table still has to lay out rows it was given (a table sizes its
    columns when idle: a busy machine may not have got there yet)."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    screen, quiet = app.screen, 0
    while quiet < 3:
        await pilot.pause(0.01)
        busy = [w for w in app.workers if w.group != "walk" and not w.is_finished]
        tables = [t for t in app.screen.query(DataTable) if t._require_update_dimensions]
        if busy or tables or app.screen is not screen:
            screen, quiet = app.screen, 0
            if time.monotonic() > deadline:
                raise TimeoutError(f"workers still running: {busy}")
        else:
            quiet += 1


async def press(pilot: Pilot, *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


def column(app: WizardApp, table: str, key: str) -> list[str]:
    widget = app.screen.query_one(table, DataTable)
    return [str(widget.get_cell(row, key)) for row in widget.rows]


def shown(app: WizardApp) -> str:
    """Every piece of text on the current screen, for asserting on what the user reads."""
    from textual.widgets import Static

    parts = []
    for widget in app.screen.query("*"):
        if isinstance(widget, Static):
            parts.append(str(widget.visual.plain if hasattr(widget.visual, "plain") else widget.render()))
        elif isinstance(widget, DataTable):
            for row in widget.rows:
                parts.append(" ".join(str(c) for c in widget.get_row(row)))
    return "\n".join(parts)


def write_failing_folder(folder) -> None:
    """Two migrations; the second fails at its line 4 (a column that does not exist)."""
    folder.write("001_a.sql", "CREATE TABLE a (id int PRIMARY KEY);\n")
    folder.write("002_b.sql", """
        -- the second migration
        CREATE TABLE b (id int PRIMARY KEY);

        INSERT INTO b (id, missing_column)
          VALUES (1, 2);
    """)
