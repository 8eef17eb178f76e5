"""The wizard's manual path, driven with the pilot: a test plays the person at the dashboard, running
what the wizard copied against the test database; the REST checks go to a PostgREST stand-in over
that same database. Without a database password the project's .env.local holds only SUPABASE_URL
(the stand-in's address) and the API keys."""

from __future__ import annotations

import json

import psycopg
import pytest
from helpers import MIGRATIONS, history
from postgrest import ANON, PostgrestStandIn
from textual import events
from tui_pilot import press, settle, shown, wizard_app, write_failing_folder

from wizard.core import compat
from wizard.tui.screens.done import DoneScreen
from wizard.tui.screens.environment import EnvironmentScreen
from wizard.tui.screens.manual import ManualScreen
from wizard.tui.screens.path import PathScreen
from wizard.tui.screens.troubleshoot import TroubleshootScreen
from wizard.tui.screens.verify import VerifyScreen

SIZE = (80, 24)
SERVICE = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.dGVzdC1zaWduYXR1cmUtb2YtdGhlLWtleQ"


def keys(app) -> dict[str, str]:
    return {key: b.binding.description for key, b in app.screen.active_bindings.items()
            if b.binding.show and b.enabled}


@pytest.fixture
def supabase(db):
    """The test database as a Supabase project has it: the API roles and auth.uid()."""
    compat.ensure(db)
    return db


@pytest.fixture
def rest(database, supabase):
    with PostgrestStandIn(database, ANON, SERVICE) as stand_in:
        yield stand_in


@pytest.fixture
def project(tmp_path, rest):
    """A backend's folder with the project's URL and keys, and no database password."""
    (tmp_path / ".env.local").write_text(
        f"SUPABASE_URL={rest.url}\nSUPABASE_ANON_KEY={ANON}\nSUPABASE_SERVICE_ROLE_KEY={SERVICE}\n")
    return tmp_path


async def by_hand(pilot) -> None:
    """From the start to the manual step: no way to the database, so m, then the manual path."""
    app = pilot.app
    await settle(pilot)
    await press(pilot, "enter")
    assert isinstance(app.screen, EnvironmentScreen)
    assert keys(app)["m"] == "By hand (SQL editor)" and "enter" not in keys(app)
    await press(pilot, "m")
    assert isinstance(app.screen, PathScreen)
    assert app.screen.query_one("#paths").highlighted_option.id == "manual"
    assert keys(app)["enter"] == "Start by hand"
    await press(pilot, "enter")
    assert isinstance(app.screen, ManualScreen)


async def copy(pilot) -> str:
    """Press c; what the person then pastes."""
    await press(pilot, "c")
    return pilot.app.clipboard


def run_in_editor(db: psycopg.Connection, sql: str) -> str | None:
    """What the SQL editor does with a paste: one query string, all or nothing. Its error, as the
    dashboard shows it."""
    try:
        db.execute(sql)
    except psycopg.Error as exc:
        return f"Failed to run sql query: ERROR:  {exc.sqlstate}: {str(exc).strip()}"
    return None


def current(app) -> str:
    return app.screen.current.version if app.screen.current else None


def methods(db) -> dict[str, str]:
    rows = db.execute("SELECT version, method FROM supabase_migrations.migration_wizard_history")
    return dict(rows.fetchall())


async def test_all_18_by_hand_each_checked_then_verified(project, rest, supabase):
    app = wizard_app(project, MIGRATIONS)
    async with app.run_test(size=SIZE) as pilot:
        await by_hand(pilot)
        assert "Migration 1 of 18: 001_create_schema.sql" in shown(app)
        assert {"c", "o", "enter", "e", "escape"} <= set(keys(app)) and keys(app)["enter"] == "I ran it"

        await press(pilot, "o")  # no browser here: the URL to open, the generic one (no project ref)
        assert "https://supabase.com/dashboard/project/_/sql/new" in shown(app)

        for number in range(1, 19):
            version = f"{number:03d}"
            assert current(app) == version
            sql = await copy(pilot)
            text = (MIGRATIONS / app.screen.current.filename).read_text()
            assert text.split("\n", 1)[1] in sql  # the file, each line where it is, and the lines recording it
            assert ".migration-wizard/paste/" + app.screen.current.filename in shown(app)
            assert run_in_editor(supabase, sql) is None
            if version == "001":  # pasted twice: the second stops before anything runs, and says so
                error = run_in_editor(supabase, sql)
                assert "001_create_schema.sql is already applied" in error
                app.post_message(events.Paste(error))
                await settle(pilot)
                await press(pilot, "enter")
                assert "The history already holds 001_create_schema.sql" in shown(app)
            filename = app.screen.catalog.migrations[number - 1].filename
            if version == "018":  # indexes and policies only: nothing the REST API can see, confirmed by the user
                await press(pilot, "enter")
                assert f"{filename} creates nothing that the REST API can see" in shown(app)
                await press(pilot, "y")
                assert current(app) != version, shown(app)
                continue
            await press(pilot, "enter")
            # every one confirmed by a check: 002 by its new columns, 007 by its seeded rows
            assert current(app) != version, shown(app)
            assert f"✓ {filename} confirmed through the REST API" in shown(app)

        assert "All 18 migrations are confirmed" in shown(app) and keys(app)["enter"] == "Verify"
        await press(pilot, "enter")
        assert isinstance(app.screen, VerifyScreen)
        checks = app.screen.results
        assert len(checks) == 25 and all(c.ok for c in checks), checks
        assert "All 25 tables exist" in shown(app)

        await press(pilot, "enter")
        assert isinstance(app.screen, DoneScreen)
        assert "18 migrations run by hand and confirmed (18 just now)" in shown(app)
    progress = json.loads((project / ".migration-wizard" / "manual-progress.json").read_text())
    (kept,) = progress["targets"].values()  # kept under this project only
    assert len(kept["confirmed"]) == 18
    # no connection, yet each paste recorded itself: the history is the Supabase CLI's, as after a push
    assert history(supabase) == [f"{i:03d}" for i in range(1, 19)]
    assert set(methods(supabase).values()) == {"manual"}


async def test_a_part_left_out_is_found_and_not_confirmed(project, rest, supabase):
    app = wizard_app(project, MIGRATIONS)
    async with app.run_test(size=SIZE) as pilot:
        await by_hand(pilot)
        migration = app.screen.current
        first_half = ";\n".join(s.text for s in migration.statements[:20]) + ";"  # stops after two tables
        assert run_in_editor(supabase, first_half) is None
        await press(pilot, "enter")
        assert current(app) == "001"
        text = shown(app)
        assert "✗ Not confirmed: 7 of 9 missing: table bilans" in text
        assert "There: table organizations, table users" in text
        assert "Run it again in the SQL editor" in text

        assert run_in_editor(supabase, await copy(pilot)) is None  # the whole file, this time
        await press(pilot, "enter")
        assert current(app) == "002" and "✓ 001_create_schema.sql confirmed through the REST API" in shown(app)


async def test_a_file_in_parts_with_a_part_skipped(tmp_path, folder, database, rest, supabase):
    inserts = "".join(f"INSERT INTO big VALUES ({i});\n" for i in range(450))
    folder.write("001_big.sql", f"CREATE TABLE big (id int);\n{inserts}CREATE TABLE after_big (id int);\n")
    (tmp_path / ".env.local").write_text(f"SUPABASE_URL={rest.url}\nSUPABASE_ANON_KEY={ANON}\n")
    app = wizard_app(tmp_path, folder.path)
    async with app.run_test(size=SIZE) as pilot:
        await by_hand(pilot)
        assert "Migration 1 of 1: 001_big.sql, part 1 of 2" in shown(app)
        assert keys(app)["enter"] == "I ran this part"
        part_one = await copy(pilot)
        assert "001_big.part1of2.sql" in shown(app) and (tmp_path / ".migration-wizard/paste/001_big.part1of2.sql").exists()
        assert run_in_editor(supabase, part_one) is None
        await press(pilot, "enter")
        assert "part 2 of 2" in shown(app) and keys(app)["p"] == "Previous part"
        await press(pilot, "enter")  # part 2 was not run
        assert "✗ Not confirmed: 1 of 2 missing: table after_big" in shown(app)
        assert current(app) == "001"

        assert run_in_editor(supabase, await copy(pilot)) is None  # part 2
        await press(pilot, "enter")
        assert current(app) is None and "All 1 migrations are confirmed" in shown(app)
    assert supabase.execute("SELECT count(*) FROM big").fetchone() == (450,)


async def test_a_pasted_error_opens_troubleshoot_at_its_line(tmp_path, folder, database, rest, supabase):
    write_failing_folder(folder)
    folder.write("003_policies.sql", """
        CREATE TABLE notes (id int);
        ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
        CREATE POLICY notes_read ON notes FOR SELECT USING (true);
    """)
    (tmp_path / ".env.local").write_text(f"SUPABASE_URL={rest.url}\nSUPABASE_SERVICE_ROLE_KEY={SERVICE}\n")
    app = wizard_app(tmp_path, folder.path)
    async with app.run_test(size=SIZE) as pilot:
        await by_hand(pilot)
        assert run_in_editor(supabase, await copy(pilot)) is None
        await press(pilot, "enter")
        assert current(app) == "002"

        error = run_in_editor(supabase, await copy(pilot))
        assert "LINE 4:" in error
        await press(pilot, "e")
        assert keys(app) == {"enter": "Read the error", "escape": "Back"}
        app.screen.query_one("#error").insert(error)  # pasted
        await press(pilot, "enter")
        assert isinstance(app.screen, TroubleshootScreen)
        trouble = app.screen.trouble
        assert (trouble.file.name, trouble.line, trouble.version) == ("002_b.sql", 4, "002")
        assert trouble.advice.key == "sqlstate.42703"
        assert "002_b.sql failed in the SQL editor" in shown(app)
        assert "INSERT INTO b (id, missing_column)" in app.screen.query_one("#code").text
        await press(pilot, "escape")
        assert isinstance(app.screen, ManualScreen) and current(app) == "002" and keys(app)["t"] == "Troubleshoot"

        folder.write("002_b.sql", "CREATE TABLE b (id int PRIMARY KEY);\n")  # fixed; then r reads it again
        await press(pilot, "t", "r")
        assert isinstance(app.screen, ManualScreen)
        assert run_in_editor(supabase, await copy(pilot)) is None
        await press(pilot, "enter")
        assert current(app) == "003"

        supabase.execute("CREATE TABLE notes (id int); CREATE POLICY notes_read ON notes FOR SELECT USING (true)")
        pasted = 'Failed to run sql query: ERROR:  42710: policy "notes_read" for table "notes" already exists'
        app.post_message(events.Paste(pasted))  # pasted straight away, no key first
        await settle(pilot)
        assert keys(app)["enter"] == "Read the error"
        await press(pilot, "enter")
        trouble = app.screen.trouble
        assert (trouble.file.name, trouble.line, trouble.advice.key) == ("003_policies.sql", 3, "sqlstate.42710")
        assert any("Enter checks what is there" in d for d in trouble.details)
        await press(pilot, "escape", "enter")
        assert current(app) is None  # everything 003 creates that the REST API can see is there


async def test_a_text_that_is_no_error_is_said_so(project, rest):
    app = wizard_app(project, MIGRATIONS)
    async with app.run_test(size=SIZE) as pilot:
        await by_hand(pilot)
        await press(pilot, "e")
        app.screen.query_one("#error").insert("Success. No rows returned")
        await press(pilot, "enter")
        assert isinstance(app.screen, ManualScreen)
        assert "does not read as an error of the SQL editor" in shown(app)


async def test_quitting_and_coming_back_resumes_at_the_first_unconfirmed(project, rest, supabase):
    app = wizard_app(project, MIGRATIONS)
    async with app.run_test(size=SIZE) as pilot:
        await by_hand(pilot)
        assert run_in_editor(supabase, await copy(pilot)) is None
        await press(pilot, "enter")
        assert current(app) == "002"
        await press(pilot, "q")
    assert app.return_code in (None, 0)

    again = wizard_app(project, MIGRATIONS)
    async with again.run_test(size=SIZE) as pilot:
        await by_hand(pilot)
        assert current(again) == "002"
        assert "Migration 2 of 18: 002_expand_assessments_schema.sql  1 of 18 confirmed" in shown(again)


async def test_with_a_connection_each_check_reads_the_catalog_and_records_it_as_manual(tmp_path, database, supabase):
    app = wizard_app(tmp_path, MIGRATIONS, database)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "enter", "enter")
        assert isinstance(app.screen, PathScreen)
        await press(pilot, "down")  # past the HTTPS path: not possible without a token
        assert app.screen.query_one("#paths").highlighted_option.id == "manual"
        assert keys(app)["enter"] == "Start by hand"
        await press(pilot, "enter")
        assert isinstance(app.screen, ManualScreen)
        assert "through the database's catalog" in shown(app)

        migration = app.screen.current
        assert run_in_editor(supabase, ";\n".join(s.text for s in migration.statements[:20]) + ";") is None
        await press(pilot, "enter")
        assert current(app) == "001" and "✗ Not confirmed" in shown(app)
        assert history(supabase) == []

        for version in ("001", "002", "003", "004", "005", "006", "007"):
            assert current(app) == version
            assert run_in_editor(supabase, await copy(pilot)) is None
            await press(pilot, "enter")  # 002 and 007 too: the catalog shows columns, triggers, seed rows
            assert "recorded in the history as run by hand" in shown(app), shown(app)
        assert current(app) == "008"
    assert methods(supabase) == {f"{i:03d}": "manual" for i in range(1, 8)}
    assert history(supabase) == [f"{i:03d}" for i in range(1, 8)]


async def test_already_there_is_adopted_from_troubleshoot_with_a_connection(tmp_path, folder, database, supabase):
    folder.write("001_a.sql", "CREATE TABLE a (id int PRIMARY KEY);\n")
    folder.write("002_b.sql", "CREATE TABLE b (id int);\n")
    app = wizard_app(tmp_path, folder.path, database)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "enter", "enter", "down", "enter")
        assert isinstance(app.screen, ManualScreen)
        supabase.execute(app.screen.current.text)  # made by hand before, and not recorded
        error = run_in_editor(supabase, await copy(pilot))  # this file is not written to run again
        assert "42P07" in error
        app.post_message(events.Paste(error))
        await settle(pilot)
        await press(pilot, "enter")
        assert isinstance(app.screen, TroubleshootScreen)
        assert app.screen.trouble.adoptable and keys(app)["a"] == "Adopt"
        await press(pilot, "a")
        assert isinstance(app.screen, ManualScreen) and current(app) == "002"
        assert "recorded in the history as run by hand" in shown(app)
    assert methods(supabase) == {"001": "manual"}


def test_the_system_clipboard_is_the_first_command_that_takes_the_text(tmp_path):
    from wizard.tui.services import system_clipboard

    bin_ = tmp_path / "bin"
    bin_.mkdir()
    (bin_ / "wl-copy").write_text("#!/bin/sh\nexit 1\n")  # on PATH, but no Wayland session
    (bin_ / "xclip").write_text(f"#!/bin/sh\n/bin/cat > {tmp_path / 'clipboard'}\n")
    for tool in bin_.iterdir():
        tool.chmod(0o755)
    assert system_clipboard("SELECT 1;", str(bin_)) == "xclip"
    assert (tmp_path / "clipboard").read_text() == "SELECT 1;"
    assert system_clipboard("SELECT 1;", "") is None


async def test_a_refused_key_is_troubleshot_and_the_person_may_still_confirm(tmp_path, rest, supabase):
    (tmp_path / ".env.local").write_text(f"SUPABASE_URL={rest.url}\nSUPABASE_ANON_KEY=eyJ.not-this.project\n")
    app = wizard_app(tmp_path, MIGRATIONS)
    async with app.run_test(size=SIZE) as pilot:
        await by_hand(pilot)
        assert run_in_editor(supabase, await copy(pilot)) is None
        await press(pilot, "enter")
        assert isinstance(app.screen, TroubleshootScreen)
        assert "refused the key" in shown(app) and "SUPABASE_ANON_KEY" in shown(app)
        assert "eyJ.not-this.project" not in shown(app)
        await press(pilot, "escape")
        assert current(app) == "001" and keys(app)["y"] == "Confirm"
        await press(pilot, "y")
        assert current(app) == "002" and "✓ 001_create_schema.sql confirmed (by you)" in shown(app)


async def test_offline_findings_show_before_the_first_paste(tmp_path, folder, rest):
    """No way to the database: the Path step checks the folder against a fresh Supabase project,
    the manual option says what it found, and the manual step shows it above the first migration."""
    folder.write("001_a.sql", "CREATE TABLE a (id int);\n")
    folder.write("002_b.sql", "-- b\nINSERT INTO a VALUES (1);\nINSERT INTO nowhere VALUES (1);\n")
    (tmp_path / ".env.local").write_text(f"SUPABASE_URL={rest.url}\nSUPABASE_ANON_KEY={ANON}\n")
    app = wizard_app(tmp_path, folder.path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await press(pilot, "enter", "m")
        assert isinstance(app.screen, PathScreen)
        await settle(pilot)
        text = shown(app)
        assert "Pre-flight read the folder offline, against a fresh Supabase project: 1 error," in text
        assert "002_b.sql:3: uses table nowhere" in text or "002_b.sql:3  uses table nowhere" in text
        option = str(app.screen.query_one("#paths").get_option("manual").prompt)
        assert "pre-flight (offline, against a fresh Supabase project): 1 error, first at 002_b.sql:3" in option
        assert keys(app)["enter"] == "Start by hand"  # shown, not a refusal: the table may exist, made by hand
        await press(pilot, "enter")
        assert isinstance(app.screen, ManualScreen) and current(app) == "001"
        preflight = str(app.screen.query_one("#preflight").render())
        assert "✗ Pre-flight found 1 error (offline, against a fresh Supabase project)" in preflight
        assert "002_b.sql:3" in preflight and "uses table nowhere" in preflight
