"""Lint: each rule fires on its trigger folder (tests/folders/lint/<category>/bad) and stays
silent on the same folder fixed (.../fixed); suppression comments; the lint command; lint in
plan and verify."""

from pathlib import Path

import psycopg
import pytest
from helpers import MIGRATIONS, new_database

from wizard.core import catalog, lint
from wizard.core.lint import Level, Scope
from wizard.core.runner import Runner

LINT = Path(__file__).parent / "folders" / "lint"
BIG = {"public.items": 2_000_000}
CATEGORY = {r.id: r.category for r in lint.rules().values()}
DATABASE_RULES = sorted(r.id for r in lint.rules().values() if r.scope is Scope.DATABASE)
FILE_RULES = sorted(r.id for r in lint.rules().values() if r.category == "safety")


def folder(category: str, state: str) -> catalog.Catalog:
    loaded = catalog.load(LINT / category / state)
    assert loaded.ok, loaded.problems
    return loaded


@pytest.fixture(scope="module")
def linted(server):
    """The database rules' findings on each category's folders, applied: {(category, state): ids}."""
    out = {}
    for category in ("security", "performance"):
        for state in ("bad", "fixed"):
            with new_database(server.admin_url) as url, psycopg.connect(url, autocommit=True) as conn:
                loaded = folder(category, state)
                finished = Runner(conn, loaded).run()
                assert finished.ok, finished.failed
                out[(category, state)] = lint.database(conn, loaded)
    return out


@pytest.mark.parametrize("rule_id", DATABASE_RULES)
def test_each_database_rule_fires_on_its_folder_and_not_on_the_fixed_one(linted, rule_id):
    category = CATEGORY[rule_id]
    fired = [f for f in linted[(category, "bad")] if f.rule.id == rule_id]
    assert fired, f"{rule_id} did not fire on {category}/bad"
    assert all(f.file == "001_" + ("notes" if category == "security" else "orders") + ".sql" and f.line for f in fired)
    assert not [f for f in linted[(category, "fixed")] if f.rule.id == rule_id]
    assert not [f for f in linted[(category, "fixed")] if f.rule.category == category]


@pytest.mark.parametrize("rule_id", FILE_RULES)
def test_each_file_rule_fires_on_its_folder_and_not_on_the_fixed_one(rule_id):
    fired = [f for f in lint.files(folder("safety", "bad"), BIG) if f.rule.id == rule_id]
    assert fired and all(f.file == "002_change_items.sql" and f.line for f in fired)
    assert not [f for f in lint.files(folder("safety", "fixed"), BIG) if f.rule.id == rule_id]


def test_rules_about_big_tables_stay_silent_offline_and_on_small_tables():
    for big in (None, {}):
        found = {f.rule.id for f in lint.files(folder("safety", "bad"), big)}
        assert "index_not_concurrently" not in found and "constraint_without_not_valid" not in found
    assert {"volatile_default", "drop_column", "drop_table"} <= {f.rule.id for f in lint.files(folder("safety", "bad"))}


def test_only_pending_migrations_are_judged_by_table_size():
    found = {f.rule.id for f in lint.files(folder("safety", "bad"), BIG, pending={"001"})}
    assert "index_not_concurrently" not in found


def test_a_finding_names_the_statement_the_fix_and_the_advisor():
    bad = lint.files(folder("safety", "bad"), BIG)
    index = next(f for f in bad if f.rule.id == "index_not_concurrently")
    assert (index.file, index.line, index.object) == ("002_change_items.sql", 2, "table public.items")
    assert "CONCURRENTLY" in index.rule.fix and index.rule.link is None
    document = lint.rule("rls_disabled_in_public").link
    assert document == "https://supabase.com/docs/guides/database/database-linter?lint=0013_rls_disabled_in_public"


def test_per_row_calls_are_told_apart_from_sub_selects():
    from wizard.core.lint.dbrules import per_row_calls

    assert per_row_calls("(owner_id = auth.uid())") == ["auth.uid()"]
    assert per_row_calls("(owner_id = ( SELECT auth.uid() AS uid))") == []
    assert per_row_calls("((current_setting('request.jwt.claims'::text, true))::json ->> 'sub') = 'x'") == [
        "current_setting()"]


def test_a_suppression_needs_a_reason_and_a_rule(folder):
    folder.write("001_a.sql", """
        CREATE TABLE public.gone (id int PRIMARY KEY);
        CREATE TABLE public.kept (id int PRIMARY KEY);
    """)
    folder.write("002_b.sql", """
        -- wizard:allow drop_table
        -- wizard:allow no_such_rule because
        DROP TABLE public.gone;
    """)
    found = lint.files(catalog.load(folder.path))
    assert sorted(f.rule.id for f in found) == ["drop_table", "suppression_unknown_rule", "suppression_without_reason"]
    assert {f.line for f in found if f.rule.id.startswith("suppression")} == {1, 2}
    folder.write("002_b.sql", "-- wizard:allow drop_table the table was never used\nDROP TABLE public.gone;\n")
    assert lint.files(catalog.load(folder.path)) == []


def test_the_project_migrations_are_clean_offline():
    assert lint.files(catalog.load(MIGRATIONS)) == []


def test_lint_command_offline_json_and_fail_on(cli):
    bad = LINT / "safety" / "bad"
    result = cli("lint", "--json", "--offline", "--migrations", bad)
    assert result.code == 0, result.err
    document = result.json()
    assert document["database_rules"] is False
    ids = {f["rule"] for f in document["findings"]}
    assert {"volatile_default", "drop_table"} <= ids
    first = document["findings"][0]
    assert set(first) >= {"rule", "level", "object", "message", "file", "line", "fix", "link"}
    assert cli("lint", "--offline", "--fail-on", "warning", "--migrations", bad).code == 1
    assert cli("lint", "--offline", "--fail-on", "error", "--migrations", bad).code == 0
    assert cli("lint", "--offline", "--fail-on", "warning", "--migrations", LINT / "safety" / "fixed").code == 0


def test_lint_command_on_a_database(cli, database, db):
    bad = catalog.load(LINT / "security" / "bad")
    assert Runner(db, bad).run().ok
    result = cli("lint", "--json", "--migrations", bad.directory, "--database-url", database, "--fail-on", "error")
    assert result.code == 1, result.err
    document = result.json()
    assert document["database_rules"] is True
    rls = next(f for f in document["findings"] if f["rule"] == "rls_disabled_in_public")
    assert rls["level"] == "error" and rls["file"] == "001_notes.sql" and rls["line"] == 2
    assert rls["link"].endswith("?lint=0013_rls_disabled_in_public")
    text = cli("lint", "--migrations", bad.directory, "--database-url", database)
    assert text.code == 0 and "rls_disabled_in_public  001_notes.sql:2  table public.open_notes" in text.out


def test_big_tables_come_from_the_database(cli, database, db):
    bad = catalog.load(LINT / "safety" / "bad")
    first = catalog.Catalog(bad.directory, bad.migrations[:1], [], [])
    assert Runner(db, first).run().ok
    assert lint.big_tables(db) == {}
    result = cli("lint", "--json", "--migrations", bad.directory, "--database-url", database, "--big-table-rows", "0")
    ids = {f["rule"] for f in result.json()["findings"]}
    assert {"index_not_concurrently", "constraint_without_not_valid"} <= ids
    assert lint.at_or_above(lint.files(bad), Level.ERROR) == []


def test_plan_and_verify_carry_lint_as_new_keys(cli, database, db):
    bad = LINT / "security" / "bad"
    offline = cli("plan", "--json", "--offline", "--migrations", LINT / "safety" / "bad")
    assert offline.code == 0 and offline.json()["lint"]["database_rules"] is False
    assert {"drop_table", "volatile_default"} <= {f["rule"] for f in offline.json()["lint"]["findings"]}
    assert cli("plan", "--offline", "--fail-on", "warning", "--migrations", LINT / "safety" / "bad").code == 1
    assert Runner(db, catalog.load(bad)).run().ok
    planned = cli("plan", "--json", "--migrations", bad, "--database-url", database)
    assert planned.code == 0 and planned.json()["lint"]["database_rules"] is True
    verified = cli("verify", "--json", "--migrations", bad, "--database-url", database)
    assert verified.code == 0, verified.err
    rules = {f["rule"] for f in verified.json()["lint"]["findings"]}
    assert {"rls_disabled_in_public", "security_definer_view", "auth_users_exposed"} <= rules
    assert cli("verify", "--migrations", bad, "--database-url", database, "--fail-on", "error").code == 1


def test_the_project_migrations_leave_a_database_the_rules_find_clean(database, db, cli):
    loaded = catalog.load(MIGRATIONS)
    assert Runner(db, loaded).run().ok
    assert [(f.rule.id, f.object) for f in lint.database(db, loaded)] == []
    result = cli("lint", "--json", "--fail-on", "warning", "--migrations", MIGRATIONS, "--database-url", database)
    assert result.code == 0 and result.json()["findings"] == [], result.out


async def test_the_path_step_groups_lint_findings_by_rule_and_opens_each(tmp_path):
    from textual.app import App

    from wizard.tui.widgets.lint import LintFindings, LintScreen

    found = lint.files(folder("safety", "bad"), BIG)
    directory = LINT / "safety" / "bad"

    class Host(App):
        def compose(self):
            yield LintFindings("Lint", directory, id="lint")

    app = Host()
    async with app.run_test() as pilot:
        widget = app.query_one(LintFindings)
        widget.show([])
        assert not widget.display
        widget.show(found)
        assert widget.display and widget.option_count == len({f.rule.id for f in found})
        drops = [o for o in (widget.get_option_at_index(i) for i in range(widget.option_count)) if o.id == "drop_table"]
        assert "(1)" in str(drops[0].prompt)
        widget.focus()
        widget.highlighted = [widget.get_option_at_index(i).id for i in range(widget.option_count)].index("drop_table")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LintScreen)
        shown = " ".join(str(s.render()) for s in app.screen.query("Static"))
        assert "002_change_items.sql:8" in shown and "DROP TABLE public.old_items" in shown
        assert "suppress with a reason" in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, LintScreen)


def test_database_rules_over_https(database, db, cli, tmp_path):
    """Over the Management API: the same findings, in one read-only request."""
    from api_server import ApiServer

    ref, token = "qwertyuiopasdfghjklz", "sbp_0123456789abcdef0123456789abcdef01234567"
    (tmp_path / ".env.local").write_text(f"SUPABASE_URL=https://{ref}.supabase.co\nSUPABASE_ACCESS_TOKEN={token}\n")
    bad = catalog.load(LINT / "performance" / "bad")
    assert Runner(db, bad).run().ok
    expected = sorted((f.rule.id, f.object) for f in lint.database(db, bad))
    with ApiServer(database, ref, token) as api:
        result = cli("lint", "--json", "--migrations", bad.directory, "--api-url", api.url, cwd=tmp_path)
        assert result.code == 0, result.err
        assert result.json()["database_rules"] is True
        assert sorted((f["rule"], f["object"]) for f in result.json()["findings"]) == expected
        assert token not in result.output
