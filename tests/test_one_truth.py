"""Both front ends show the same facts: `status`, `plan` and the wizard's Path step, run on the same
situations (nothing applied, some pending, one that will fail on a missing table, files changed after
they were applied, history rows without a file, a pending file that sorts before an applied one, a
migration whose objects are already there), agree fact for fact."""

from __future__ import annotations

import pytest
from tui_pilot import press, settle, shown, wizard_app

from wizard.tui.screens.path import PathScreen


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
