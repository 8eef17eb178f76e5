"""The wizard's Path step lists where the history and the folder disagree, each action a key away
(fetch, diff, accept, include, forget), and Troubleshoot offers to include a file that would run out
of order."""

from __future__ import annotations

from helpers import history
from tui_pilot import press, settle, shown, wizard_app

from wizard.tui.screens.apply import ApplyScreen
from wizard.tui.screens.path import PathScreen
from wizard.tui.screens.recovery import ConfirmScreen, DiffScreen
from wizard.tui.screens.troubleshoot import TroubleshootScreen
from wizard.tui.widgets.disagreements import Disagreements


async def _to_path(app, pilot) -> PathScreen:
    await settle(pilot)
    await press(pilot, "enter")  # Welcome -> Environment
    await press(pilot, "enter")  # Environment -> Path
    assert isinstance(app.screen, PathScreen)
    return app.screen


def _listed(screen: PathScreen) -> list[tuple[str, str, list[str]]]:
    return [(d.code, d.label, [a.value for a in d.actions]) for d in screen.query_one(Disagreements).items]


async def test_fetch_and_forget_from_the_path_step(tmp_path, folder, database, db, cli):
    folder.write("001_a.sql", "CREATE TABLE a (id int);\n")
    folder.write("002_b.sql", "CREATE TABLE b (id int);\n")
    folder.write("003_c.sql", "CREATE TABLE c (id int);\n")
    assert cli("apply", "--yes", "--migrations", folder.path, "--database-url", database).code == 0
    (folder.path / "002_b.sql").unlink()
    (folder.path / "003_c.sql").unlink()

    app = wizard_app(tmp_path, folder.path, database)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _to_path(app, pilot)
        assert _listed(screen) == [("missing-file", "002_b", ["fetch", "forget"]),
                                   ("missing-file", "003_c", ["fetch", "forget"])]
        first = screen.query_one(Disagreements).get_option_at_index(0).prompt
        assert "recorded, but no file" in str(first) and "f fetch  x forget" in str(first)
        await press(pilot, "f")  # the highlighted one: 002
        await settle(pilot)
        assert (folder.path / "002_b.sql").read_text() == "CREATE TABLE b (id int);\n"
        assert _listed(screen) == [("missing-file", "003_c", ["fetch", "forget"])]

        await press(pilot, "x")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Still in the database" in shown(app) and "public.c" in shown(app)
        await press(pilot, "n")
        assert history(db) == ["001", "002", "003"]
        await press(pilot, "x")
        await press(pilot, "y")
        await settle(pilot)
        assert history(db) == ["001", "002"]
        assert _listed(screen) == []
        assert not screen.query_one(Disagreements).display
    status = cli("status", "--json", "--migrations", folder.path, "--database-url", database)
    assert status.json()["findings"] == []


async def test_diff_then_accept_from_the_path_step(tmp_path, folder, database, db, cli):
    folder.write("001_a.sql", "CREATE TABLE a (id int);\n")
    assert cli("apply", "--yes", "--migrations", folder.path, "--database-url", database).code == 0
    folder.write("001_a.sql", "CREATE TABLE a (id int);\nCREATE INDEX a_id ON a (id);\n")

    app = wizard_app(tmp_path, folder.path, database)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _to_path(app, pilot)
        assert _listed(screen) == [("drifted", "001_a.sql", ["diff", "accept"])]
        await press(pilot, "d")
        await settle(pilot)
        assert isinstance(app.screen, DiffScreen)
        diff = app.screen.query_one("#diff").visual
        added = [span for span in diff.spans if "CREATE INDEX" in diff.plain[span.start:span.end]]
        assert "+CREATE INDEX a_id ON a (id);" in diff.plain and added  # the added line, in its own tone
        await press(pilot, "a")  # accept: the index is not there yet
        await settle(pilot)
        assert isinstance(app.screen, TroubleshootScreen)
        assert "a_id" in shown(app)
        await press(pilot, "escape")
        db.execute("CREATE INDEX a_id ON a (id)")
        await press(pilot, "a")
        await settle(pilot)
        assert _listed(screen) == []
    status = cli("status", "--json", "--migrations", folder.path, "--database-url", database)
    assert status.json()["findings"] == [] and status.json()["migrations"][0]["state"] == "applied"


async def test_an_out_of_order_file_is_offered_in_troubleshoot_then_included(tmp_path, folder, database, db, cli):
    folder.write("002_b.sql", "CREATE TABLE b (id int);\n")
    assert cli("apply", "--yes", "--migrations", folder.path, "--database-url", database).code == 0
    folder.write("001_a.sql", "CREATE TABLE a (id int);\n")

    app = wizard_app(tmp_path, folder.path, database)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _to_path(app, pilot)
        assert _listed(screen) == [("out-of-order", "001_a.sql", ["include"])]
        await press(pilot, "enter")  # apply: it stops on the out-of-order file
        assert isinstance(app.screen, TroubleshootScreen)
        assert "001_a.sql would run out of order" in shown(app)
        assert history(db) == ["002"]
        await press(pilot, "i")
        await settle(pilot)
        assert isinstance(app.screen, ApplyScreen)
    assert history(db) == ["001", "002"]
