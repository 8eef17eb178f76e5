"""Both front ends show the same facts: `status`, `plan` and the wizard's Path step, run on the same
situations (nothing applied, some pending, one that will fail on a missing table, files changed after
they were applied, history rows without a file, a pending file that sorts before an applied one, a
migration whose objects are already there), agree fact for fact; `apply` and the wizard's Apply step
agree on a failing migration (file, line, what was applied) and on a run lock another session holds
(its holder; exit 4 against the troubleshoot screen); with no way to the database (a Supabase
project, no password, connection string or access token), the commands refuse or read the folder
offline as the wizard's Environment and Path steps do."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from helpers import new_database
from textual.widgets import OptionList
from tui_pilot import column, press, settle, shown, wizard_app, write_failing_folder

from wizard.core.runner import LOCK_KEY
from wizard.tui.screens.apply import ApplyScreen
from wizard.tui.screens.environment import EnvironmentScreen
from wizard.tui.screens.path import PathScreen
from wizard.tui.screens.troubleshoot import TroubleshootScreen


def _drifted(folder, db, cli, url):
    folder.write("001_a.sql", "CREATE TABLE a (id int);\n")
    folder.write("002_b.sql", "CREATE TABLE b (id int);\n")
    assert cli("apply", "--yes", "--migrations", folder.path, "--database-url", url).code == 0
    folder.write("001_a.sql", "CREATE TABLE a (id int, extra text);\n")
    folder.write("002_b.sql", "CREATE TABLE b (id bigint);\n")
    return {"drifted"}


def _missing_file(folder, db, cli, url):
    folder.write("001_a.sql", "CREATE TABLE a (id int);\n")
    folder.write("002_b.sql", "CREATE TABLE b (id int);\n")
    assert cli("apply", "--yes", "--migrations", folder.path, "--database-url", url).code == 0
    (folder.path / "002_b.sql").unlink()
    return {"missing-file"}


def _out_of_order(folder, db, cli, url):
    folder.write("002_b.sql", "CREATE TABLE b (id int);\n")
    assert cli("apply", "--yes", "--migrations", folder.path, "--database-url", url).code == 0
    folder.write("001_a.sql", "CREATE TABLE a (id int);\n")
    return {"out-of-order"}


def _already_there(folder, db, cli, url):
    folder.write("001_a.sql", "CREATE TABLE a (id int);\nCREATE TABLE a2 (id int);\n")
    db.execute("CREATE TABLE a (id int)")
    return {"already-present"}


def _nothing_applied(folder, db, cli, url):
    folder.write("001_a.sql", "CREATE TABLE a (id int);\n")
    folder.write("002_b.sql", "CREATE TABLE b (id int REFERENCES a (id));\n")
    return set()


def _some_pending(folder, db, cli, url):
    folder.write("001_a.sql", "CREATE TABLE a (id int PRIMARY KEY);\n")
    assert cli("apply", "--yes", "--migrations", folder.path, "--database-url", url).code == 0
    folder.write("002_b.sql", "CREATE TABLE b (id int REFERENCES a (id));\n")
    return set()


def _will_fail(folder, db, cli, url):
    folder.write("001_a.sql", "CREATE TABLE a (id int);\n")
    folder.write("002_b.sql", "-- uses a table nothing makes\nINSERT INTO audit (id) SELECT id FROM a;\n")
    return set()


SITUATIONS = {"will-fail": _will_fail, "nothing-applied": _nothing_applied, "some-pending": _some_pending, "drifted": _drifted, "missing-file": _missing_file, "out-of-order": _out_of_order,
              "already-present": _already_there}


@pytest.mark.parametrize("situation", SITUATIONS)
async def test_status_plan_and_the_path_step_agree(situation, tmp_path, folder, database, db, cli):
    expected = SITUATIONS[situation](folder, db, cli, database)

    status = cli("status", "--json", "--migrations", folder.path, "--database-url", database)
    plan = cli("plan", "--json", "--migrations", folder.path, "--database-url", database)
    # plan's exit says whether a run can go through; a table made by hand makes its CREATE TABLE fail
    assert status.code == 0 and plan.code == (2 if situation in ("already-present", "will-fail") else 0), plan.output
    status_facts = {(f["code"], f["file"], f["message"]) for f in status.json()["findings"]}
    plan_facts = {(f["code"], f["file"], f["message"]) for f in plan.json()["findings"]}
    assert {f[0] for f in status_facts} == expected
    assert status_facts <= plan_facts
    assert status.json()["counts"] == plan.json()["counts"]
    text = cli("status", "--migrations", folder.path, "--database-url", database)
    summary = text.out.strip().splitlines()[-1]

    app = wizard_app(tmp_path, folder.path, database)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "enter")  # Welcome -> Environment
        await press(pilot, "enter")  # Environment -> Path
        assert isinstance(app.screen, PathScreen)
        path_plan = app.screen.plan
        assert path_plan is not None
        tui_facts = {(f.code, f.file, f.message) for f in path_plan.findings}
        assert tui_facts == plan_facts
        assert {s.version: s.state for s in path_plan.states} == {
            m["version"]: m["state"] for m in plan.json()["migrations"]}
        assert [m.version for m in path_plan.pending] == [m["version"] for m in plan.json()["pending"]]
        on_screen = shown(app)
        assert summary in on_screen
        for _, file, message in status_facts:
            assert file in on_screen and message[:40] in on_screen


async def test_the_config_major_version_shows_in_plan_and_the_path_step(tmp_path, database, cli):
    from helpers import MigrationFolder

    folder = MigrationFolder(tmp_path / "supabase" / "migrations")
    folder.write("001_a.sql", "CREATE TABLE a (id int);\n")
    (tmp_path / "supabase" / "config.toml").write_text('project_id = "demo"\n\n[db]\nmajor_version = 12\n')
    plan = cli("plan", "--json", "--migrations", folder.path, "--database-url", database)
    plan_facts = {(f["code"], f["file"], f["message"]) for f in plan.json()["findings"]}
    assert "major-version" in {f[0] for f in plan_facts}

    app = wizard_app(tmp_path, folder.path, database)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "enter")
        await press(pilot, "enter")
        assert isinstance(app.screen, PathScreen)
        assert {(f.code, f.file, f.message) for f in app.screen.plan.findings} == plan_facts


async def _to_apply(app, pilot) -> None:
    """Welcome, Environment, Path, then the Apply step's run."""
    await settle(pilot)
    await press(pilot, "enter")  # Welcome -> Environment
    await press(pilot, "enter")  # Environment -> Path
    assert isinstance(app.screen, PathScreen)
    await press(pilot, "enter")  # Path -> Apply


async def test_a_failing_migration_is_the_same_file_line_and_progress_in_apply_and_the_wizard(
        tmp_path, folder, server, cli):
    write_failing_folder(folder)
    with new_database(server.admin_url) as for_cli, new_database(server.admin_url) as for_wizard:
        result = cli("apply", "--json", "--yes", "--migrations", folder.path, "--database-url", for_cli)
        assert result.code == 1, result.output
        failed = result.json()["failed"]
        applied = [a["version"] for a in result.json()["applied"]]
        assert (Path(failed["file"]).name, failed["line"], applied) == ("002_b.sql", 4, ["001"])

        app = wizard_app(tmp_path, folder.path, for_wizard)
        async with app.run_test(size=(120, 40)) as pilot:
            await _to_apply(app, pilot)
            assert isinstance(app.screen, TroubleshootScreen)  # exit 1: the failure, a key away
            trouble = app.screen.trouble
            assert (trouble.version, trouble.file.name, trouble.line) == (
                failed["version"], Path(failed["file"]).name, failed["line"])
            assert failed["sqlstate"] in trouble.message and failed["message"] in trouble.message
            await press(pilot, "escape")
            assert isinstance(app.screen, ApplyScreen)
            assert [v for v, row in app.screen.rows.items() if row.state == "applied"] == applied
            assert column(app, "#migrations", "state") == ["applied", "failed"]


def _holder(text: str) -> tuple[str, str]:
    found = re.search(r"held by pid (\d+) \(([^)]*)\)", text)
    assert found, text
    return found.group(1), found.group(2)


async def test_a_held_run_lock_is_the_same_holder_in_apply_and_the_wizard(tmp_path, folder, database, db, cli):
    folder.write("001_a.sql", "CREATE TABLE a (id int);\n")
    holder = psycopg.connect(database, autocommit=True, application_name="other-deploy")
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        result = cli("apply", "--json", "--yes", "--lock-timeout", "1", "--migrations", folder.path,
                     "--database-url", database)
        assert result.code == 4, result.output
        error = result.json()["error"]
        assert error["kind"] == "lock-held"

        app = wizard_app(tmp_path, folder.path, database)
        async with app.run_test(size=(120, 40)) as pilot:
            await _to_apply(app, pilot)
            assert isinstance(app.screen, TroubleshootScreen)  # exit 4: the lock, and who holds it
            trouble = app.screen.trouble
            assert trouble.what == "Another migration run holds the lock"
            assert _holder(trouble.message) == _holder(error["message"]) == (str(holder.info.backend_pid),
                                                                              "other-deploy")
            await press(pilot, "escape")
            assert column(app, "#migrations", "state") == ["pending"]
    finally:
        holder.close()
    assert db.execute("SELECT to_regclass('a')").fetchone() == (None,)


async def test_no_way_to_the_database_refuses_the_same_in_the_commands_and_the_wizard(tmp_path, folder, cli):
    folder.write("001_a.sql", "CREATE TABLE a (id int);\n")
    folder.write("002_b.sql", "INSERT INTO audit (id) VALUES (1);\n")
    (tmp_path / ".env.local").write_text("SUPABASE_URL=https://abcdefghijklmnopqrst.supabase.co\n"
                                         "SUPABASE_ANON_KEY=sb_publishable_abc\n")
    apply = cli("apply", "--json", "--yes", "--migrations", folder.path, cwd=tmp_path)
    status = cli("status", "--json", "--migrations", folder.path, cwd=tmp_path)
    plan = cli("plan", "--json", "--migrations", folder.path, cwd=tmp_path)
    assert (apply.code, status.code) == (2, 2)
    assert apply.json()["error"]["kind"] == status.json()["error"]["kind"] == "no-credentials"
    assert plan.json()["offline"] is True
    plan_facts = {(f["code"], f["file"], f["message"]) for f in plan.json()["findings"]}
    assert any(file == "002_b.sql" for _, file, _ in plan_facts), plan_facts  # audit: made nowhere

    app = wizard_app(tmp_path, folder.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "enter")
        assert isinstance(app.screen, EnvironmentScreen)
        assert column(app, "#ways", "source") == []  # no way in: nothing to try, no local database
        await press(pilot, "m")  # by hand: the only path
        assert isinstance(app.screen, PathScreen)
        path_plan = app.screen.plan
        assert path_plan.target is None and path_plan.offline
        assert {(f.code, f.file, f.message) for f in path_plan.findings} == plan_facts
        assert [m.version for m in path_plan.pending] == [m["version"] for m in plan.json()["pending"]]
        assert path_plan.summary in cli("plan", "--migrations", folder.path, cwd=tmp_path).out
        paths = app.screen.query_one("#paths", OptionList)  # exit 2 for apply: no automated path
        assert [paths.get_option(key).disabled for key in ("database", "https", "manual")] == [True, True, False]
