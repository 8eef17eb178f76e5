"""The terminal wizard, driven with Textual's pilot against the embedded database: the whole
automated flow, failures and their troubleshooting, the environment step's ways in."""

from __future__ import annotations

import re

import pytest
from helpers import MIGRATIONS, history, tables
from tui_pilot import TARGET, column, press, settle, shown, wizard_app, write_failing_folder

from wizard.tui.app import theme_for
from wizard.tui.screens.apply import ApplyScreen
from wizard.tui.screens.done import DoneScreen
from wizard.tui.screens.environment import EnvironmentScreen
from wizard.tui.screens.path import PathScreen
from wizard.tui.screens.troubleshoot import TroubleshootScreen
from wizard.tui.screens.verify import VerifyScreen
from wizard.tui.screens.welcome import WelcomeScreen

SIZE = (80, 24)  # the smallest terminal the wizard is made for


def keys(app) -> dict[str, str]:
    """The keys the footer shows, with their labels (enabled ones only)."""
    return {key: b.binding.description for key, b in app.screen.active_bindings.items()
            if b.binding.show and b.enabled}


async def test_the_whole_automated_flow(tmp_path, database, db):
    app = wizard_app(tmp_path, MIGRATIONS, database)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        assert "18 migrations (001 to 018)" in shown(app) and TARGET in shown(app)
        assert keys(app)["enter"] == "Start"

        await press(pilot, "enter")
        assert isinstance(app.screen, EnvironmentScreen)
        assert column(app, "#ways", "result") == ["✓ ok"]
        assert "on this machine (local)" in shown(app)

        await press(pilot, "enter")
        assert isinstance(app.screen, PathScreen)
        assert app.screen.query_one("#paths").highlighted_option.id == "database"
        assert "0 applied, 18 pending" in shown(app)
        assert keys(app)["enter"] == "Apply"

        await press(pilot, "enter")
        assert isinstance(app.screen, ApplyScreen)
        assert column(app, "#migrations", "state") == ["applied"] * 18
        assert history(db) == [f"{i:03d}" for i in range(1, 19)]
        assert "All 18 migrations are applied" in shown(app)
        assert app.screen.query_one("#overall").percentage == 1

        await press(pilot, "enter")
        assert isinstance(app.screen, VerifyScreen)
        assert set(column(app, "#checks", "result")) == {"✓ ok"}
        assert len(column(app, "#checks", "result")) > 10

        await press(pilot, "enter")
        assert isinstance(app.screen, DoneScreen)
        assert "The database is ready" in shown(app) and "Restart the backend" in shown(app)

        await press(pilot, "c")
        assert app.clipboard == database

        await press(pilot, "enter")
    assert app.return_code == 0


@pytest.fixture
def broken(folder):
    write_failing_folder(folder)
    return folder


async def test_a_failure_opens_troubleshoot_at_its_line_and_a_fix_resumes_the_run(tmp_path, broken, database, db):
    app = wizard_app(tmp_path, broken.path, database)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "enter", "enter", "enter")
        assert isinstance(app.screen, TroubleshootScreen)
        trouble = app.screen.trouble
        assert (trouble.file.name, trouble.line, trouble.version) == ("002_b.sql", 4, "002")
        assert trouble.advice.key == "sqlstate.42703"
        assert re.search(r"migrations/002_b\.sql:4:\d+ +\(statement 2\)", shown(app))
        assert "INSERT INTO b (id, missing_column)" in app.screen.query_one("#code").text
        assert {"r", "e", "c", "escape"} <= set(keys(app)) and "a" not in keys(app)
        assert history(db) == ["001"] and tables(db) == {"a"}

        await press(pilot, "c")
        assert app.clipboard.startswith("INSERT INTO b (id, missing_column)")

        await press(pilot, "escape")  # back to the list: the failure stays a key away
        assert isinstance(app.screen, ApplyScreen)
        assert column(app, "#migrations", "state") == ["applied", "failed"]
        assert {"r", "t"} <= set(keys(app)) and "enter" not in keys(app)

        broken.write("002_b.sql", "CREATE TABLE b (id int PRIMARY KEY);\nINSERT INTO b (id) VALUES (1);\n")
        await press(pilot, "r")
        assert isinstance(app.screen, ApplyScreen)
        assert column(app, "#migrations", "state") == ["applied", "applied"]
        assert history(db) == ["001", "002"]
        assert [a.version for a in app.screen.applied] == ["001", "002"]  # 001 was not run again

        await press(pilot, "enter")
        assert isinstance(app.screen, VerifyScreen)
        assert set(column(app, "#checks", "result")) == {"✓ ok"}


async def test_objects_made_by_hand_are_adopted_from_troubleshoot(tmp_path, folder, database, db):
    folder.write("001_a.sql", "CREATE TABLE a (id int PRIMARY KEY);\n")
    folder.write("002_b.sql", "CREATE TABLE b (id int);\n")
    db.execute("CREATE TABLE a (id int PRIMARY KEY)")  # run by hand in the dashboard, not recorded
    app = wizard_app(tmp_path, folder.path, database)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "enter", "enter", "enter")
        assert isinstance(app.screen, TroubleshootScreen)
        assert app.screen.trouble.advice.key == "sqlstate.42P07"
        assert keys(app)["a"] == "Adopt"

        await press(pilot, "a")
        assert column(app, "#migrations", "state") == ["adopted", "applied"]
        assert history(db) == ["001", "002"]


async def test_adopting_is_refused_while_objects_are_missing(tmp_path, folder, database, db):
    folder.write("001_a.sql", "CREATE TABLE a (id int PRIMARY KEY);\nCREATE TABLE a2 (id int);\n")
    db.execute("CREATE TABLE a (id int PRIMARY KEY)")
    app = wizard_app(tmp_path, folder.path, database)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "enter", "enter", "enter")
        trouble = app.screen.trouble
        assert trouble.adoptable is False and any("a2" in d for d in trouble.details)
        assert "a" not in keys(app)  # shown greyed out, not offered
        await press(pilot, "a")
        assert isinstance(app.screen, TroubleshootScreen) and history(db) == []


async def test_cancel_rolls_the_running_migration_back(tmp_path, folder, database, db):
    folder.write("001_a.sql", "CREATE TABLE a (id int);\n")
    folder.write("002_slow.sql", "CREATE TABLE b (id int);\nSELECT pg_sleep(30);\n")
    app = wizard_app(tmp_path, folder.path, database)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "enter", "enter")
        await pilot.press("enter")
        for _ in range(200):
            await pilot.pause(0.05)
            if "running" in column(app, "#migrations", "state"):
                break
        assert keys(app)["c"] == "Cancel"
        await press(pilot, "c")
        assert isinstance(app.screen, ApplyScreen)
        assert column(app, "#migrations", "state") == ["applied", "pending"]
        assert "Cancelled" in shown(app) and keys(app)["r"] == "Retry"
    assert history(db) == ["001"] and tables(db) == {"a"}


async def paste(pilot, secret: str) -> None:
    await press(pilot, "p")
    await pilot.press(*secret[:3])  # typed...
    pilot.app.screen.query_one("#secret").insert_text_at_cursor(secret[3:])  # ...and pasted
    await press(pilot, "enter")


async def test_a_pasted_connection_string_is_tried_on_the_spot(tmp_path, database):
    (tmp_path / ".env.local").write_text("SUPABASE_URL=https://abcdefghijklmnopqrst.supabase.co\n")
    app = wizard_app(tmp_path, MIGRATIONS)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "enter")
        assert isinstance(app.screen, EnvironmentScreen)
        text = shown(app)
        assert "SUPABASE_URL" in text and "SUPABASE_DB_PASSWORD" in text and "account/tokens" in text
        assert column(app, "#ways", "source") == []  # a Supabase project is never silently replaced
        assert "enter" not in keys(app)

        await paste(pilot, "postgresql://nobody:hunter2hunter2@127.0.0.1:1/postgres")
        assert isinstance(app.screen, TroubleshootScreen)
        assert app.screen.trouble.advice.key == "connection.connection-refused"
        assert "hunter2" not in shown(app)
        await press(pilot, "escape")

        await paste(pilot, database)
        assert column(app, "#ways", "result") == ["✗ Connection refused", "✓ ok"]
        assert app.screen.highlighted().url == database
        assert keys(app)["s"] == "Save to .env.local"
        await press(pilot, "s")
        assert f"SUPABASE_DB_URL={database}" in (tmp_path / ".env.local").read_text()
        await press(pilot, "enter")
        assert isinstance(app.screen, PathScreen)


async def test_nothing_configured_means_the_local_database(tmp_path, server):
    if server.embedded is None:
        pytest.skip("the suite runs against an external server")
    app = wizard_app(tmp_path, MIGRATIONS, local_dir=server.embedded.directory)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "enter")
        assert column(app, "#ways", "source") == ["local database"]
        assert column(app, "#ways", "result") == ["✓ ok"], shown(app)
        assert keys(app)["enter"] == "Use this one"


async def test_an_error_in_a_worker_opens_troubleshoot_instead_of_a_crash(tmp_path, monkeypatch):
    from wizard.core import catalog

    def broken_folder(directory):
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(catalog, "load", broken_folder)
    app = wizard_app(tmp_path, MIGRATIONS)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, TroubleshootScreen)
        assert "RuntimeError: the disk is on fire" in shown(app)
        await press(pilot, "escape")
        assert isinstance(app.screen, WelcomeScreen)
    assert app.return_code is None or app.return_code == 0


async def test_no_color_is_respected(tmp_path, monkeypatch, database):
    monkeypatch.setenv("NO_COLOR", "1")
    app = wizard_app(tmp_path, MIGRATIONS, database)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "enter")
        colors = set(re.findall(r"fill=\"#([0-9a-f]{6})\"", app.export_screenshot()))
    colors -= {"ff5f57", "febc2e", "28c840", "c5c8c6"}  # the screenshot's window buttons and default text
    assert app.no_color and colors
    assert all(c[0:2] == c[2:4] == c[4:6] for c in colors), colors  # greys only


def test_the_theme_follows_the_terminal():
    themes = {"textual-dark", "textual-light", "nord"}
    assert theme_for({}, themes) == "textual-dark"
    assert theme_for({"COLORFGBG": "0;15"}, themes) == "textual-light"
    assert theme_for({"COLORFGBG": "15;default;0"}, themes) == "textual-dark"
    assert theme_for({"MIGRATION_WIZARD_THEME": "nord", "COLORFGBG": "0;15"}, themes) == "nord"
    assert theme_for({"MIGRATION_WIZARD_THEME": "no-such-theme"}, themes) == "textual-dark"


async def test_the_https_path_applies_with_an_access_token_and_no_password(tmp_path, database, db):
    from api_server import ApiServer

    ref, token = "qwertyuiopasdfghjklz", "sbp_0123456789abcdef0123456789abcdef01234567"
    (tmp_path / ".env.local").write_text(f"SUPABASE_URL=https://{ref}.supabase.co\nSUPABASE_ACCESS_TOKEN={token}\n")
    with ApiServer(database, ref, token) as api:
        app = wizard_app(tmp_path, MIGRATIONS, api_url=api.url)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await press(pilot, "enter")
            assert column(app, "#ways", "result") == ["✓ ok"]
            assert token[4:12] not in shown(app)
            await press(pilot, "enter")
            assert app.screen.query_one("#paths").highlighted_option.id == "https"
            assert app.screen.query_one("#paths").get_option("database").disabled
            await press(pilot, "enter")
            assert column(app, "#migrations", "state") == ["applied"] * 18
            await press(pilot, "enter")
            assert set(column(app, "#checks", "result")) == {"✓ ok"}
    assert {r[0] for r in db.execute("SELECT method FROM supabase_migrations.migration_wizard_history")} == {"https"}


async def test_a_migration_another_run_recorded_meanwhile_shows_applied_by_that_run(api, project, db, monkeypatch):
    from wizard.core import catalog
    from wizard.core.apirunner import ApiRunner
    from wizard.core.runner import Runner

    folder = project / "migrations"
    folder.mkdir()
    for i in range(1, 4):
        (folder / f"00{i}_t{i}.sql").write_text(f"CREATE TABLE IF NOT EXISTS t{i} (id int);\n")
    original = ApiRunner._apply_all

    def race_then_apply(runner, todo):
        # another run, over a database connection, records 002 once this run has read the history
        Runner(db, catalog.load(folder)).run(only=["002"])
        return original(runner, todo)

    monkeypatch.setattr(ApiRunner, "_apply_all", race_then_apply)
    app = wizard_app(project, folder, api_url=api.url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "enter")
        await press(pilot, "enter")
        assert app.screen.query_one("#paths").highlighted_option.id == "https"
        await press(pilot, "enter")
        assert isinstance(app.screen, ApplyScreen)
        assert column(app, "#migrations", "state") == ["applied"] * 3
        assert column(app, "#migrations", "statements")[1] == "by another run"
        assert "applied by another run meanwhile" in shown(app)
    assert history(db) == ["001", "002", "003"]
