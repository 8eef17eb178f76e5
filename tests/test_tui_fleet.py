"""The wizard's Fleet screen, driven with Textual's pilot against real databases on the suite's
server: the targets file's databases read into the matrix, the fleet applied with its cells
turning, a failure with its file:line and advice, the targets a failure keeps from starting, a
stop, and the Welcome step without a targets file (unchanged)."""

from __future__ import annotations

import os
import time
from contextlib import ExitStack
from importlib.metadata import version

import psycopg
import pytest
from helpers import history, new_database, run_cli
from tui_pilot import column, press, settle, shown, wizard_app

from wizard.tui.screens.fleet import FleetScreen
from wizard.tui.screens.fleet_options import FleetOptionsScreen
from wizard.tui.screens.troubleshoot import TroubleshootScreen
from wizard.tui.screens.welcome import WelcomeScreen

SIZE = (100, 30)
FAILURES = "supabase_migrations.migration_wizard_failures"
CLOSED = "postgresql://postgres@127.0.0.1:1/postgres"  # nothing listens on port 1


def keys(app) -> dict[str, str]:
    return {key: b.binding.description for key, b in app.screen.active_bindings.items()
            if b.binding.show and b.enabled}


@pytest.fixture
def databases(server):
    """``databases(n)``: n fresh databases on the suite's server, dropped afterwards: their URLs."""
    with ExitStack() as stack:
        yield lambda n: [stack.enter_context(new_database(server.admin_url, "wizard_fleet_")) for _ in range(n)]


def project(tmp_path, targets: dict[str, str], groups: list[str] | None = None, grouped: dict | None = None):
    """A project: two migrations, a targets file naming each target by variable, .env.local holding
    the URLs."""
    folder = tmp_path / "migrations"
    folder.mkdir(exist_ok=True)
    (folder / "001_a.sql").write_text("CREATE TABLE a (id int PRIMARY KEY);\n")
    (folder / "002_b.sql").write_text("-- the second\nCREATE TABLE b (id int PRIMARY KEY);\n")
    lines = ['migrations = "migrations"']
    if groups:
        lines.append("groups = [" + ", ".join(f'"{g}"' for g in groups) + "]")
    for name in targets:
        lines += ["", f"[targets.{name}]", f'url_env = "{name.upper()}_URL"']
        if grouped:
            lines.append(f'group = "{grouped[name]}"')
    (tmp_path / "migration-wizard.toml").write_text("\n".join(lines) + "\n")
    (tmp_path / ".env.local").write_text("".join(f"{n.upper()}_URL={url}\n" for n, url in targets.items()))
    return folder


def applied(url: str, folder) -> None:
    result = run_cli("apply", "--yes", "--database-url", url, "--migrations", str(folder))
    assert result.code == 0, result.output


async def open_fleet(pilot):
    await settle(pilot)
    assert isinstance(pilot.app.screen, WelcomeScreen)
    assert keys(pilot.app)["f"] == "Fleet"
    await press(pilot, "f")
    assert isinstance(pilot.app.screen, FleetScreen)


def states(app, version: str) -> list[str]:
    return column(app, "#matrix", f"v:{version}")


def summaries(app) -> list[str]:
    return column(app, "#matrix", "summary")


async def test_without_a_targets_file_welcome_has_no_fleet(tmp_path, folder):
    folder.write("001_a.sql", "CREATE TABLE a (id int);\n")
    app = wizard_app(tmp_path, folder.path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "f" not in keys(app) and "Fleet" not in shown(app)
        await press(pilot, "f")
        assert isinstance(app.screen, WelcomeScreen)


async def test_the_matrix_shows_each_target_as_read(tmp_path, databases):
    up, fresh = databases(2)
    folder = project(tmp_path, {"up": up, "fresh": fresh, "gone": CLOSED, "unset": ""})
    applied(up, folder)
    app = wizard_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "migration-wizard.toml names the fleet's databases" in shown(app)
        await open_fleet(pilot)
        assert column(app, "#matrix", "target") == ["  up", "  fresh", "  gone", "  unset"]
        assert states(app, "001") == ["✓", "·", "-", "-"]
        assert states(app, "002") == ["✓", "·", "-", "-"]
        said = summaries(app)
        assert said[:2] == ["up to date", "2 pending"]
        assert said[2].startswith("unreachable: cannot connect to postgresql://") \
            and said[2].endswith("…")
        assert said[3].startswith("unreachable: unset: the variable UNSET_URL is not set")
        assert "up: up to date" in shown(app)  # the highlighted row, in full
        await press(pilot, "down", "down")
        assert "gone: unreachable: cannot connect to postgresql://postgres@127.0.0.1:1/postgres: Connection " \
            "refused. Nothing listens at that host and port" in shown(app)
        assert ("4 target(s) of migration-wizard.toml, 2 migrations in migrations. 1 up to date, 0 with a failed "
                "migration, 2 unreachable.") in shown(app)
        assert {"a", "r", "escape"} <= set(keys(app)) and "c" not in keys(app) and "t" not in keys(app)
        await press(pilot, "escape")
        assert isinstance(app.screen, WelcomeScreen)
    with psycopg.connect(fresh) as conn:
        assert history(conn) == []


async def test_apply_turns_every_cell_applied(tmp_path, databases):
    one, two, three = databases(3)
    folder = project(tmp_path, {"one": one, "two": two, "three": three})
    applied(one, folder)
    app = wizard_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_fleet(pilot)
        assert states(app, "001") == ["✓", "·", "·"]
        await press(pilot, "a")
        assert isinstance(app.screen, FleetOptionsScreen)
        assert "3 target(s): one, two, three" in shown(app)
        assert "4 at a time" in shown(app)  # fleet apply's defaults
        await press(pilot, "n")
        assert isinstance(app.screen, FleetScreen)
        with psycopg.connect(two) as conn:
            assert history(conn) == []
        await press(pilot, "a", "y")
        assert isinstance(app.screen, FleetScreen)
        assert states(app, "001") == states(app, "002") == ["✓", "✓", "✓"]
        assert summaries(app) == ["done: already up to date", "done: 2 applied", "done: 2 applied"]
        assert "Fleet: 3 done (of 3)." in shown(app) and "Done: one, two, three" in shown(app)
        assert column(app, "#matrix", "target") == ["  one", "  two", "  three"]  # none running any more
        await press(pilot, "r")
        assert summaries(app) == ["up to date"] * 3
    for url in (one, two, three):
        with psycopg.connect(url) as conn:
            assert history(conn) == ["001", "002"]


async def test_a_failure_shows_its_line_and_advice_and_keeps_the_next_group_from_starting(tmp_path, databases):
    broken, fine, later = databases(3)
    with psycopg.connect(broken, autocommit=True) as conn:
        conn.execute("CREATE TABLE a (x text)")  # 001 creates it: it fails there
    project(tmp_path, {"broken": broken, "fine": fine, "later": later}, groups=["first", "second", "third"],
            grouped={"fine": "first", "broken": "second", "later": "third"})
    app = wizard_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_fleet(pilot)
        await press(pilot, "a")
        assert "Groups, in order: first then second then third." in shown(app)
        await press(pilot, "y")
        assert states(app, "001") == ["✗", "✓", "·"]
        assert states(app, "002") == ["·", "✓", "·"]
        said = summaries(app)
        assert said[0].startswith('failed at migrations/001_a.sql:1:14: relation "a"')
        assert 'broken: failed at migrations/001_a.sql:1:14: relation "a" already exists' in shown(app)
        assert said[1:] == ["done: 2 applied", "not started"]
        text = shown(app)
        assert "Fleet: 1 done, 1 failed, 1 not started (of 3)." in text
        assert 'broken  migrations/001_a.sql:1:14: relation "a" already exists' in text
        assert "Why: The migration creates a, which is already in the database" in text and "Fix: " in text
        assert "Not started: later" in text and "Done: fine" in text
        assert "1 target(s) failed" in text  # the fleet's notice
        assert keys(app)["t"] == "Troubleshoot"
        await press(pilot, "t")
        assert isinstance(app.screen, TroubleshootScreen)
        assert "broken: 001_a failed; it was rolled back" in shown(app)
        assert "migrations/001_a.sql:1:14" in shown(app)
        await press(pilot, "escape")
        assert isinstance(app.screen, FleetScreen)
        await press(pilot, "r")  # read again: the failure was kept on its target
        assert states(app, "001") == ["✗", "✓", "·"]
        assert summaries(app) == ["failed at migrations/001_a.sql:1, 1 pending", "up to date", "2 pending"]
        # the run's report is gone with the reading; the failure the database keeps is shown instead
        assert keys(app)["t"] == "Troubleshoot"
        await press(pilot, "t")
        assert isinstance(app.screen, TroubleshootScreen)
        text = shown(app)
        assert "broken: 001_a failed; it was rolled back (kept by the fleet run at " in text
        assert "migrations/001_a.sql:1" in text and 'relation "a" already exists' in text
        assert "The migration creates a, which is already in the database" in text  # the advice for its error
        await press(pilot, "escape")
    with psycopg.connect(later) as conn:
        assert history(conn) == []
    with psycopg.connect(broken) as conn:
        assert history(conn) == []


async def test_the_run_s_choices_a_canary_that_fails_keeps_every_other_target_from_starting(tmp_path, databases):
    broken, one, two = databases(3)
    with psycopg.connect(broken, autocommit=True) as conn:
        conn.execute("CREATE TABLE a (x text)")  # 001 creates it: it fails there
    project(tmp_path, {"one": one, "two": two, "broken": broken})
    app = wizard_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_fleet(pilot)
        await press(pilot, "a")
        dialog = app.screen
        assert isinstance(dialog, FleetOptionsScreen)
        dialog.query_one("#canary").value = "broken"
        field = dialog.query_one("#parallel")
        field.value = "0"  # refused: nothing is applied with it
        await press(pilot, "y")
        assert app.screen is dialog and "Expected targets at a time: 1 to 64." in shown(app)
        field.value = "2"
        await settle(pilot)
        assert "First broken alone: the others start only once it is done." in shown(app)
        assert "2 at a time" in shown(app)
        await press(pilot, "y")
        assert isinstance(app.screen, FleetScreen)
        assert summaries(app)[2].startswith("failed at migrations/001_a.sql:1:14")
        assert summaries(app)[:2] == ["not started", "not started"]
        assert "Fleet: 1 failed, 2 not started (of 3)." in shown(app)
        assert "The canary broken is not done (failed)" in shown(app)
        await press(pilot, "a")  # the choices are kept for the next run
        assert app.screen.query_one("#canary").value == "broken" and app.screen.query_one("#parallel").value == "2"
        await press(pilot, "escape")
        assert isinstance(app.screen, FleetScreen)
    for url in (one, two):
        with psycopg.connect(url) as conn:
            assert history(conn) == []


async def test_stop_rolls_back_the_migration_in_progress(tmp_path, databases):
    (slow,) = databases(1)
    folder = project(tmp_path, {"slow": slow})
    (folder / "002_b.sql").write_text("CREATE TABLE b (id int);\nSELECT pg_sleep(30);\n")
    app = wizard_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_fleet(pilot)
        await press(pilot, "a")
        await pilot.press("y")
        deadline = time.monotonic() + 30
        while states(app, "002") != ["▸"] and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert states(app, "002") == ["▸"] and column(app, "#matrix", "target") == ["▶ slow"]
        assert keys(app)["c"] == "Stop" and "escape" not in keys(app)
        started = time.monotonic()
        await press(pilot, "c")
        assert time.monotonic() - started < 15
        assert states(app, "001") == ["✓"] and states(app, "002") == ["·"]
        assert "Fleet: 1 interrupted (of 1)." in shown(app)
    with psycopg.connect(slow) as conn:
        assert history(conn) == ["001"]
        assert conn.execute("SELECT to_regclass('public.b')").fetchone()[0] is None


async def test_targets_names_another_file(tmp_path, databases):
    (one,) = databases(1)
    project(tmp_path, {"one": one})
    other = tmp_path / "fleet.toml"
    (tmp_path / "migration-wizard.toml").rename(other)
    app = wizard_app(tmp_path, targets=other)
    async with app.run_test(size=SIZE) as pilot:
        await open_fleet(pilot)
        assert "1 target(s) of fleet.toml" in shown(app)
        assert states(app, "001") == ["·"]


async def test_a_malformed_targets_file_is_said_on_the_screen(tmp_path):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migration-wizard.toml").write_text("[targets.one]\nurl = \"postgresql://x\"\n")
    app = wizard_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_fleet(pilot)
        assert "migration-wizard.toml:2: targets.one: url would write a secret" in shown(app)
        assert "a" not in keys(app) and "r" in keys(app)


def test_the_command_line_refuses_a_targets_file_that_does_not_exist(tmp_path):
    result = run_cli("--targets", str(tmp_path / "nope.toml"), cwd=tmp_path)
    assert result.code == 2
    assert "nope.toml does not exist" in result.err and "Traceback" not in result.output


screenshot = pytest.mark.skipif(
    bool(os.environ.get("WIZARD_TEST_DATABASE_URL")) or version("textual") != "8.2.8",
    reason="the screenshots are of the embedded PostgreSQL, on this machine, taken with Textual 8.2.8")


@screenshot
def test_screenshot(snap_compare, tmp_path, databases):
    up, fresh = databases(2)
    folder = project(tmp_path, {"up": up, "fresh": fresh, "gone": CLOSED})
    applied(up, folder)

    async def run_before(pilot):
        await open_fleet(pilot)
        await pilot.pause(0.3)  # a table that has just grown a column repaints on the next frame

    assert snap_compare(wizard_app(tmp_path), terminal_size=SIZE, run_before=run_before)



async def test_retry_from_troubleshoot_reads_again_and_applies(tmp_path, databases):
    broken, fine = databases(2)
    with psycopg.connect(broken, autocommit=True) as conn:
        conn.execute("CREATE TABLE a (x text)")
    project(tmp_path, {"broken": broken, "fine": fine})
    app = wizard_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_fleet(pilot)
        await press(pilot, "a", "y")
        assert states(app, "001") == ["✗", "✓"]
        await press(pilot, "t")
        assert isinstance(app.screen, TroubleshootScreen)
        with psycopg.connect(broken, autocommit=True) as conn:
            conn.execute("DROP TABLE a")  # the fix
        await press(pilot, "r")
        assert isinstance(app.screen, FleetScreen)
        assert states(app, "001") == states(app, "002") == ["✓", "✓"]
        assert summaries(app) == ["done: 2 applied", "done: already up to date"]
        assert "Fleet: 2 done (of 2)." in shown(app)
    with psycopg.connect(broken) as conn:
        assert history(conn) == ["001", "002"]
        assert conn.execute(f"SELECT count(*) FROM {FAILURES}").fetchone()[0] == 0  # forgotten once applied


@screenshot
def test_screenshot_of_a_run_with_a_failure(snap_compare, tmp_path, databases):
    broken, fine, later = databases(3)
    with psycopg.connect(broken, autocommit=True) as conn:
        conn.execute("CREATE TABLE a (x text)")
    project(tmp_path, {"broken": broken, "fine": fine, "later": later}, groups=["first", "second", "third"],
            grouped={"fine": "first", "broken": "second", "later": "third"})

    async def run_before(pilot):
        await open_fleet(pilot)
        await press(pilot, "a", "y")
        await pilot.pause(0.3)

    assert snap_compare(wizard_app(tmp_path), terminal_size=SIZE, run_before=run_before)


async def test_many_migrations_make_one_strip_per_target(tmp_path, databases):
    (fresh,) = databases(1)
    folder = project(tmp_path, {"fresh": fresh})
    for number in range(3, 19):
        (folder / f"{number:03d}_t{number}.sql").write_text(f"CREATE TABLE t{number} (id int);\n")
    app = wizard_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_fleet(pilot)
        assert column(app, "#matrix", "strip") == ["·········· ········"]
        assert summaries(app) == ["18 pending"]
        await press(pilot, "a", "y")
        assert column(app, "#matrix", "strip") == ["✓✓✓✓✓✓✓✓✓✓ ✓✓✓✓✓✓✓✓"]
        assert summaries(app) == ["done: 18 applied"]


async def test_a_password_in_a_targets_url_is_never_shown(tmp_path):
    project(tmp_path, {"secret": "postgresql://owner:Sup3rSecretPw@127.0.0.1:1/db"})
    app = wizard_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_fleet(pilot)
        assert states(app, "001") == ["-"]
        assert "secret: unreachable: cannot connect" in shown(app)  # the highlighted row, in full
        await press(pilot, "a", "y")
        assert "Unreachable:" in shown(app)
        assert "Sup3rSecretPw" not in shown(app)
