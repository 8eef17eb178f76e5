"""Supabase project conventions: supabase/config.toml and the seed files, run after the migrations and
recorded as the Supabase CLI records them."""

import hashlib
import os
import subprocess
import textwrap

import psycopg
import pytest
from helpers import assert_clean, history

CONFIG = """
project_id = "seeded-project"

[api]
enabled = true
port = 54321

[db]
port = 54322
major_version = {major}

[db.seed]
enabled = true
sql_paths = ['./seed.sql']
"""

SEED = """
-- starter rows for local development
INSERT INTO plans (code, label) VALUES ('free', 'Free');
INSERT INTO plans (code, label) VALUES ('pro', 'Pro');
"""


def server_major(db) -> int:
    return int(db.execute("SHOW server_version_num").fetchone()[0]) // 10000


@pytest.fixture
def project(tmp_path, db):
    """A project as `supabase init` leaves it, with two migrations and a seed."""
    root = tmp_path / "app"
    migrations = root / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    (root / "supabase" / "config.toml").write_text(CONFIG.format(major=server_major(db)))
    (migrations / "20240101000000_plans.sql").write_text(
        "CREATE TABLE plans (code text PRIMARY KEY, label text NOT NULL);\n")
    (migrations / "20240102000000_members.sql").write_text(
        "CREATE TABLE members (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, plan text REFERENCES plans);\n")
    (root / "supabase" / "seed.sql").write_text(textwrap.dedent(SEED).lstrip())
    return root


def seed_rows(db) -> list[tuple[str, str]]:
    if db.execute("SELECT to_regclass('supabase_migrations.seed_files')").fetchone()[0] is None:
        return []
    return db.execute("SELECT path, hash FROM supabase_migrations.seed_files ORDER BY path").fetchall()


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_seed_runs_after_the_migrations_once_and_again_when_it_changes(project, database, db, cli):
    seed = project / "supabase" / "seed.sql"
    plan = cli("plan", "--json", "--database-url", database, cwd=project)
    assert plan.code == 0, plan.output
    assert len(plan.json()["pending"]) == 2 and plan.json()["seeds"] == ["supabase/seed.sql"]
    first = cli("apply", "--yes", "--json", "--include-seed", "--database-url", database, cwd=project)
    assert first.code == 0, first.output
    assert_clean(first)
    report = first.json()
    assert [a["version"] for a in report["applied"]] == ["20240101000000", "20240102000000"]
    assert report["seeds"] == [{"path": "supabase/seed.sql", "outcome": "applied", "hash": sha256(seed),
                                "duration_ms": report["seeds"][0]["duration_ms"]}]
    assert history(db) == ["20240101000000", "20240102000000"]
    assert db.execute("SELECT count(*) FROM plans").fetchone()[0] == 2
    # the Supabase CLI's table, as the CLI writes it: the path from the project root, sha256 of the bytes
    assert seed_rows(db) == [("supabase/seed.sql", sha256(seed))]
    columns = db.execute("""SELECT column_name, data_type, is_nullable FROM information_schema.columns
                             WHERE table_schema = 'supabase_migrations' AND table_name = 'seed_files'
                             ORDER BY ordinal_position""").fetchall()
    assert columns == [("path", "text", "NO"), ("hash", "text", "NO")]

    # nothing changed: nothing runs again (a second run of the INSERTs would fail on the key)
    second = cli("apply", "--yes", "--json", "--include-seed", "--database-url", database, cwd=project)
    assert second.code == 0, second.output
    assert second.json()["applied"] == []
    assert second.json()["seeds"] == [{"path": "supabase/seed.sql", "outcome": "unchanged", "hash": sha256(seed)}]
    assert db.execute("SELECT count(*) FROM plans").fetchone()[0] == 2

    # the seed is edited: it runs again, and its new hash is recorded
    seed.write_text("INSERT INTO plans (code, label) VALUES ('team', 'Team') ON CONFLICT DO NOTHING;\n")
    third = cli("apply", "--yes", "--include-seed", "--database-url", database, cwd=project)
    assert third.code == 0, third.output
    assert "Seed supabase/seed.sql: run again (its content changed since it last ran)." in third.err
    assert db.execute("SELECT count(*) FROM plans").fetchone()[0] == 3
    assert seed_rows(db) == [("supabase/seed.sql", sha256(seed))]


def test_a_remote_database_gets_the_seed_only_when_asked_and_confirmed(project, database, db, cli):
    plain = cli("apply", "--yes", "--database-url", database, cwd=project)
    assert plain.code == 0, plain.output
    assert history(db) == ["20240101000000", "20240102000000"]
    assert seed_rows(db) == [] and db.execute("SELECT count(*) FROM plans").fetchone()[0] == 0

    (project / "supabase" / "migrations" / "20240103000000_more.sql").write_text("CREATE TABLE more (id int);\n")
    unconfirmed = cli("apply", "--include-seed", "--database-url", database, cwd=project)  # no terminal, no --yes
    assert unconfirmed.code == 2
    assert "--include-seed runs supabase/seed.sql on a remote database: confirm with --yes" in unconfirmed.err
    assert history(db) == ["20240101000000", "20240102000000"]  # nothing was applied
    assert seed_rows(db) == []


def test_a_failing_seed_is_located_and_keeps_nothing(project, database, db, cli):
    seed = project / "supabase" / "seed.sql"
    seed.write_text("INSERT INTO plans (code, label) VALUES ('free', 'Free');\n"
                    "-- the label is required\n"
                    "INSERT INTO plans (code, label)\n"
                    "  VALUES ('pro', NULL);\n")
    result = cli("apply", "--yes", "--json", "--include-seed", "--database-url", database, cwd=project)
    assert result.code == 1, result.output
    assert_clean(result)
    report = result.json()
    assert report["ok"] is False
    assert [a["version"] for a in report["applied"]] == ["20240101000000", "20240102000000"]
    assert report["seeds"] == [{"path": "supabase/seed.sql", "outcome": "failed", "hash": sha256(seed)}]
    failed = report["failed"]
    assert failed["file"] == str(seed) and failed["sqlstate"] == "23502"
    assert failed["line"] == 3 and failed["statement_index"] == 2
    assert report["advice"]["key"] == "sqlstate.23502"
    assert f"{seed}:3" in result.err and "Nothing of supabase/seed.sql was kept" in result.err
    # the migrations stay; nothing of the seed does
    assert history(db) == ["20240101000000", "20240102000000"]
    assert db.execute("SELECT count(*) FROM plans").fetchone()[0] == 0
    assert seed_rows(db) == []

    seed.write_text("INSERT INTO plans (code, label) VALUES ('free', 'Free');\n")
    fixed = cli("apply", "--yes", "--include-seed", "--database-url", database, cwd=project)
    assert fixed.code == 0, fixed.output
    assert db.execute("SELECT count(*) FROM plans").fetchone()[0] == 1


def test_a_malformed_config_names_its_line_and_nothing_runs(project, database, db, cli):
    (project / "supabase" / "config.toml").write_text('project_id = "x"\n\n[db\nmajor_version = 15\n')
    for command in (("plan",), ("apply", "--yes", "--include-seed")):
        result = cli(*command, "--database-url", database, cwd=project)
        assert result.code == 2, result.output
        assert_clean(result)
        assert "supabase/config.toml:3:" in result.err and "not valid TOML" in result.err
    assert history(db) == [] and seed_rows(db) == []

    (project / "supabase" / "config.toml").write_text('[db]\nmajor_version = "fifteen"\n')
    wrong = cli("apply", "--yes", "--database-url", database, cwd=project)
    assert wrong.code == 2 and "supabase/config.toml:2: db.major_version must be a number" in wrong.err
    assert history(db) == []


def test_a_different_major_version_is_a_warning(project, database, db, cli):
    (project / "supabase" / "config.toml").write_text(CONFIG.format(major=server_major(db) - 1))
    plan = cli("plan", "--json", "--database-url", database, cwd=project)
    assert plan.code == 0, plan.output
    (finding,) = [f for f in plan.json()["findings"] if f["code"] == "major-version"]
    assert finding["severity"] == "warning"
    assert (finding["file"], finding["line"]) == ("supabase/config.toml", 10)
    assert f"runs PostgreSQL {server_major(db) - 1}" in finding["message"]
    result = cli("apply", "--yes", "--database-url", database, cwd=project)
    assert result.code == 0, result.output
    assert f"warning: supabase/config.toml:10: the project runs PostgreSQL {server_major(db) - 1}" in result.err

    same = cli("plan", "--json", "--database-url", database, cwd=project.parent,
               *("--migrations", project / "supabase" / "migrations"))
    assert [f for f in same.json()["findings"] if f["code"] == "major-version"]  # found beside --migrations too


def test_the_supabase_cli_agrees_on_the_seed(project, database, db, cli, supabase_cli):
    # a version the CLI accepts (it refuses to read a config.toml naming another)
    (project / "supabase" / "config.toml").write_text(CONFIG.format(major=17))
    result = cli("apply", "--yes", "--include-seed", "--database-url", database, cwd=project)
    assert result.code == 0, result.output
    pushed = subprocess.run(
        [supabase_cli, "db", "push", "--db-url", database, "--include-seed", "--yes"], cwd=project,
        capture_output=True, text=True, timeout=180,
        env={**os.environ, "DO_NOT_TRACK": "1", "SUPABASE_TELEMETRY_DISABLED": "1"},
    )
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    said = pushed.stdout + pushed.stderr
    assert "Seeding data from" not in said and "Updating seed hash" not in said, said
    assert db.execute("SELECT count(*) FROM plans").fetchone()[0] == 2


def test_the_local_database_gets_the_seed_without_being_asked(project, tmp_path, cli):
    local_dir = tmp_path / "local"
    try:
        first = cli("apply", "--local", "--local-dir", local_dir, "--yes", "--json", cwd=project, timeout=300)
        assert first.code == 0, first.output
        assert first.json()["seeds"][0]["outcome"] == "applied"
        url = next(line.split(" ")[2] for line in first.err.splitlines() if line.startswith("Local database: "))
        with psycopg.connect(url, autocommit=True) as conn:
            assert history(conn) == ["20240101000000", "20240102000000"]
            assert conn.execute("SELECT count(*) FROM plans").fetchone()[0] == 2
            assert seed_rows(conn) == [("supabase/seed.sql", sha256(project / "supabase" / "seed.sql"))]
        again = cli("apply", "--local", "--local-dir", local_dir, "--yes", "--json", cwd=project, timeout=300)
        assert again.code == 0, again.output
        assert again.json()["applied"] == [] and again.json()["seeds"][0]["outcome"] == "unchanged"
    finally:
        cli("local", "stop", "--local-dir", local_dir, timeout=120)


async def test_the_wizard_runs_the_seed_on_the_local_database_and_shows_the_warnings(project, tmp_path):
    from tui_pilot import press, settle, shown, wizard_app

    from wizard.tui.screens.apply import ApplyScreen
    from wizard.tui.screens.path import PathScreen

    (project / "supabase" / "migrations" / "20240103000000_index.sql").write_text(
        "CREATE INDEX CONCURRENTLY members_plan_idx ON members (plan);\n")
    local_dir = tmp_path / "local"
    app = wizard_app(project, project / "supabase" / "migrations", local=True, local_dir=local_dir)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot, timeout=120)
            await press(pilot, "enter")  # Environment: the local database
            await press(pilot, "enter")
            assert isinstance(app.screen, PathScreen)
            assert "warning" in shown(app)
            assert "the file holds only statements that run outside a transaction" in shown(app)
            await press(pilot, "enter")
            assert isinstance(app.screen, ApplyScreen)
            assert "Seed: supabase/seed.sql applied." in shown(app), shown(app)
    finally:
        from wizard.core.local import LocalServer

        LocalServer(local_dir).stop()


def test_plan_reads_the_seed_files_after_the_migrations(tmp_path, database, cli):
    """A seed that fills a table no migration creates is named by plan, online and offline, as a
    warning at its line (a seed runs on the local database; elsewhere only when asked)."""
    from helpers import MigrationFolder

    folder = MigrationFolder(tmp_path / "supabase" / "migrations")
    folder.write("001_profiles.sql", "CREATE TABLE profiles (id int PRIMARY KEY);\n")
    (tmp_path / "supabase" / "config.toml").write_text('project_id = "demo"\n')
    (tmp_path / "supabase" / "seed.sql").write_text(
        "INSERT INTO profiles (id) VALUES (1);\n\nINSERT INTO auth.mfa_amr_claimz (id) VALUES (1);\n")
    for target in (("--database-url", database), ("--offline",)):
        plan = cli("plan", "--json", "--migrations", folder.path, *target, cwd=tmp_path)
        assert plan.code == 0, plan.output
        seeds = [f for f in plan.json()["findings"] if f["file"] == "seed.sql"]
        assert [(f["severity"], f["line"]) for f in seeds] == [("warning", 3)], plan.json()["findings"]
        assert "auth.mfa_amr_claimz" in seeds[0]["message"] and "seed file" in seeds[0]["message"]


def test_the_seed_runs_on_a_database_whose_search_path_is_empty(project, database, db, cli):
    """A database already shaped, then set to an empty search_path (stored as ``""``): a seed that
    changes its session's settings is followed by a reset to that path, and runs."""
    first = cli("apply", "--yes", "--json", "--database-url", database, cwd=project)
    assert first.code == 0, first.output
    name = db.execute("SELECT current_database()").fetchone()[0]
    db.execute(f'ALTER DATABASE "{name}" SET search_path = \'\'')
    (project / "supabase" / "seed.sql").write_text(
        "SET statement_timeout = '1min';\nINSERT INTO public.plans (code, label) VALUES ('free', 'Free');\n")
    second = cli("apply", "--yes", "--json", "--include-seed", "--database-url", database, cwd=project)
    assert second.code == 0, second.output
    assert second.json()["seeds"][0]["outcome"] == "applied"
    assert db.execute("SELECT count(*) FROM plans").fetchone()[0] == 1


def test_plan_names_a_seed_file_apply_would_refuse(project, database, tmp_path, cli):
    """A seed that is not UTF-8: apply on the local database refuses to start, and plan says so
    (an error, exit 2); on another database the seed runs only with --include-seed: a warning."""
    (project / "supabase" / "seed.sql").write_bytes(b"INSERT INTO plans VALUES ('\xff', 'x');\n")
    remote = cli("plan", "--json", "--database-url", database, cwd=project)
    assert remote.code == 0, remote.output
    found = [f for f in remote.json()["findings"] if f["file"] == "supabase/seed.sql"]
    assert [(f["severity"], f["code"]) for f in found] == [("warning", "not-utf8")], remote.output
    local_dir = tmp_path / "local"
    try:
        plan = cli("plan", "--local", "--local-dir", local_dir, "--json", cwd=project, timeout=300)
        assert plan.code == 2, plan.output
        found = [f for f in plan.json()["findings"] if f["file"] == "supabase/seed.sql"]
        assert [(f["severity"], f["code"]) for f in found] == [("error", "not-utf8")], plan.output
        apply = cli("apply", "--local", "--local-dir", local_dir, "--yes", "--json", cwd=project, timeout=300)
        assert apply.code == plan.code, apply.output
    finally:
        cli("local", "stop", "--local-dir", local_dir, timeout=120)


def test_a_wrong_value_is_named_at_its_own_line_not_a_same_named_key_of_another_table(project, database, db, cli):
    """supabase/config.toml has ``enabled`` in most of its tables: the line named is the one under
    [db.seed], and a key written dotted under [db] is found too."""
    config = project / "supabase" / "config.toml"
    config.write_text(CONFIG.format(major=server_major(db)).replace("[db.seed]\nenabled = true",
                                                                    '[db.seed]\nenabled = "yes"'))
    line = config.read_text().split("\n").index('enabled = "yes"') + 1
    result = cli("apply", "--yes", "--database-url", database, cwd=project)
    assert result.code == 2, result.output
    assert f"supabase/config.toml:{line}: db.seed.enabled must be true or false" in result.err
    config.write_text('[api]\nenabled = true\n\n[db]\nport = 54322\nseed.enabled = 1\n')
    result = cli("plan", "--offline", cwd=project)
    assert result.code == 2 and "supabase/config.toml:6: db.seed.enabled must be" in result.err, result.output
    assert history(db) == []


async def test_the_wizard_names_a_malformed_config_at_its_line(project, database):
    """The wizard's Path step reads supabase/config.toml as plan does: a malformed one is named, with
    its line, as a file to fix, not as something unexpected."""
    from tui_pilot import press, settle, shown, wizard_app

    (project / "supabase" / "config.toml").write_text('project_id = "x"\n\n[db\nmajor_version = 15\n')
    app = wizard_app(project, project / "supabase" / "migrations", database)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await press(pilot, "enter")  # Welcome
        await press(pilot, "enter")  # Environment: the Path step reads the config
        await settle(pilot)
        assert "supabase/config.toml:3" in shown(app), shown(app)
        assert "unexpected" not in shown(app)


def test_plan_says_a_seed_path_matches_nothing_as_apply_does(project, database, cli):
    config = project / "supabase" / "config.toml"
    config.write_text(config.read_text().replace("sql_paths = ['./seed.sql']", "sql_paths = ['./seeds/*.sql']"))
    said = "supabase/config.toml: no file matches the seed path './seeds/*.sql'"
    plan = cli("plan", "--database-url", database, cwd=project)
    assert plan.code == 0 and said in plan.out, plan.output
    apply = cli("apply", "--yes", "--include-seed", "--database-url", database, cwd=project)
    assert apply.code == 0 and said in apply.err, apply.output


async def test_the_wizard_refuses_a_seed_that_does_not_parse_before_anything_runs(project, tmp_path):
    """As apply does: on the local database a seed file that does not parse is a pre-flight error
    of the Path step, and the run does not start (no migration applied first)."""
    from tui_pilot import press, settle, shown, wizard_app

    from wizard.core.local import LocalServer
    from wizard.tui.screens.path import PathScreen

    (project / "supabase" / "seed.sql").write_text("INSERT INTO members (id VALUES (1);\n")
    local_dir = tmp_path / "local"
    app = wizard_app(project, project / "supabase" / "migrations", local=True, local_dir=local_dir)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot, timeout=120)
            await press(pilot, "enter")  # Environment: the local database
            await press(pilot, "enter")
            assert isinstance(app.screen, PathScreen)
            assert "seed.sql:1" in shown(app), shown(app)
            assert "keep the run from starting" in shown(app)
            await press(pilot, "enter")
            assert isinstance(app.screen, PathScreen)  # Apply is not offered
        with psycopg.connect(LocalServer(local_dir).url()) as conn:
            assert conn.execute("SELECT to_regclass('supabase_migrations.schema_migrations')").fetchone() == (None,)
    finally:
        LocalServer(local_dir).stop()
