"""Screenshots of every screen of the wizard at 100x30, compared with the accepted ones in
__snapshots__/ (pytest-textual-snapshot; --snapshot-update accepts new ones after a look).

What changes from run to run is kept off the screen: the target has a fixed name, times are not
shown, paths are relative to the project, animations are off."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from importlib.metadata import version

import pytest
from helpers import MIGRATIONS
from tui_pilot import press, settle, wizard_app

# What the accepted screenshots were taken with: another Textual draws differently, another server
# names another version. Take them again (--snapshot-update) after a look, and update this.
TAKEN_WITH = {"textual": "8.2.8", "postgresql": "18.6"}

pytestmark = [
    pytest.mark.skipif(bool(os.environ.get("WIZARD_TEST_DATABASE_URL")),
                       reason="the screenshots are of the embedded PostgreSQL, on this machine"),
    pytest.mark.skipif(version("textual") != TAKEN_WITH["textual"],
                       reason=f"the screenshots were taken with Textual {TAKEN_WITH['textual']}"),
]

SIZE = (100, 30)
REF = "abcdefghijklmnopqrst"


def _key(role: str) -> str:
    """A Supabase API key as it looks (a JWT; the signature is not checked)."""
    part = lambda data: base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")  # noqa: E731
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'iss': 'supabase', 'ref': REF, 'role': role})}.signature"


@pytest.fixture
def project(tmp_path):
    """A backend's folder: the Supabase project and its API keys, no database password."""
    (tmp_path / ".env.local").write_text(
        f"SUPABASE_URL=https://{REF}.supabase.co\nSUPABASE_ANON_KEY={_key('anon')}\n"
        f"SUPABASE_SERVICE_ROLE_KEY={_key('service_role')}\n"
    )
    return tmp_path


@pytest.fixture(autouse=True)
def api_roles(server):
    """The server the screenshots were taken with, and Supabase's API roles on it before any
    screenshot: roles belong to the whole server,
    so whether a run creates them depends on which test ran first, and the screens say what the
    compatibility step created."""
    from wizard.core import compat

    name = "wizard_roles_" + uuid.uuid4().hex[:8]
    with server.connect() as admin:
        running = admin.execute("SHOW server_version").fetchone()[0].split()[0]
        if running != TAKEN_WITH["postgresql"]:
            pytest.skip(f"the screenshots were taken with PostgreSQL {TAKEN_WITH['postgresql']}, not {running}")
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with server.connect(name) as conn:
            compat.ensure(conn)
    finally:
        with server.connect() as admin:
            admin.execute(f'DROP DATABASE "{name}"')


def walk(*keys: str):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await press(pilot, *keys)
        # a step that works through a list (Verify) has said its last word only once it is finished:
        # its last messages may still be on their way when its worker is done
        deadline = time.monotonic() + 30
        screen = pilot.app.screen
        while (getattr(screen, "finished", True) is False or getattr(screen, "running", False) is True) \
                and time.monotonic() < deadline:
            await pilot.pause(0.02)
        await settle(pilot)
        # a table that has just grown a column repaints on the next frame: let it
        await pilot.pause(0.3)

    return run_before


STEPS = ("welcome", "environment", "path", "apply", "verify", "done")


@pytest.mark.parametrize("screen", STEPS)
def test_screen(snap_compare, project, database, screen):
    keys = ("enter",) * STEPS.index(screen)
    assert snap_compare(wizard_app(project, MIGRATIONS, database), terminal_size=SIZE, run_before=walk(*keys))


def test_troubleshoot(snap_compare, project, folder, database):
    folder.write("001_a.sql", "CREATE TABLE a (id int PRIMARY KEY);\n")
    folder.write("002_b.sql", """
        -- the second migration
        CREATE TABLE b (id int PRIMARY KEY);

        INSERT INTO b (id, missing_column)
          VALUES (1, 2);

        CREATE INDEX b_id ON b (id);
    """)
    app = wizard_app(project, folder.path, database)
    assert snap_compare(app, terminal_size=SIZE, run_before=walk("enter", "enter", "enter"))


def test_by_hand(snap_compare, project):
    """The manual path's step: the first migration to run in the SQL editor, no database password."""
    app = wizard_app(project, MIGRATIONS)
    assert snap_compare(app, terminal_size=SIZE, run_before=walk("enter", "m", "enter"))
