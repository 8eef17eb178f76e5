"""Verification, dependency pre-flight, adoption of migrations run by hand."""

import subprocess

import pytest
from helpers import MIGRATIONS, assert_clean, history, tables

from wizard.core import catalog, compat
from wizard.core.local import _bin_dir
from wizard.core.runner import Runner


@pytest.fixture
def applied(database, db):
    finished = Runner(db, catalog.load(MIGRATIONS)).run()
    assert finished.ok, finished.failed
    return database


def verify(cli, database, *extra):
    return cli("verify", "--json", "--migrations", MIGRATIONS, "--database-url", database, *extra)


def failing(result) -> dict[str, str]:
    return {c["name"]: c["detail"] for c in result.json()["checks"] if not c["ok"]}


def test_verify_passes_after_a_full_apply(applied, cli):
    result = verify(cli, applied)
    assert result.code == 0, failing(result)
    names = [c["name"] for c in result.json()["checks"]]
    for expected in ("tables created by the migrations", "indexes created by the migrations",
                     "triggers created by the migrations", "functions created by the migrations",
                     "policies created by the migrations", "row level security created by the migrations",
                     "seed rows in assessment_questions", "template questions", "registration"):
        assert expected in names


@pytest.mark.parametrize(
    "damage, check, named",
    [
        ("DROP TRIGGER trg_users_updated_at ON users", "triggers created by the migrations",
         "trigger trg_users_updated_at on public.users"),
        ("DROP INDEX idx_users_role", "indexes created by the migrations", "index public.idx_users_role"),
        ("DELETE FROM assessment_questions WHERE code = 'PRE_01'", "seed rows in assessment_questions", "code=PRE_01"),
        ("ALTER TABLE messages DISABLE ROW LEVEL SECURITY", "row level security created by the migrations",
         "row level security on public.messages"),
    ],
)
def test_damage_makes_verify_fail_and_name_what_is_missing(applied, db, cli, damage, check, named):
    db.execute(damage)
    result = verify(cli, applied)
    assert result.code == 1
    assert_clean(result)
    failures = failing(result)
    assert check in failures, failures
    assert named in failures[check]


def test_verify_works_on_any_folder(folder, database, db, cli):
    folder.write("001_things.sql", """
        CREATE TABLE things (id int PRIMARY KEY, label text);
        CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
        CREATE TRIGGER things_touch BEFORE UPDATE ON things FOR EACH ROW EXECUTE FUNCTION touch();
        ALTER TABLE things ENABLE ROW LEVEL SECURITY;
        CREATE POLICY things_read ON things FOR SELECT USING (true);
    """)
    assert cli("apply", "--yes", "--migrations", folder.path, "--database-url", database).code == 0
    ok = cli("verify", "--json", "--migrations", folder.path, "--database-url", database)
    assert ok.code == 0 and all(c["ok"] for c in ok.json()["checks"])
    assert "registration" not in [c["name"] for c in ok.json()["checks"]]
    db.execute("DROP POLICY things_read ON things")
    result = cli("verify", "--json", "--migrations", folder.path, "--database-url", database)
    assert result.code == 1
    assert "policy things_read on public.things" in failing(result)["policies created by the migrations"]


def test_a_missing_table_is_found_before_anything_runs_and_the_run_stops_there(folder, database, db, cli):
    folder.write("001_users.sql", "CREATE TABLE users (id uuid PRIMARY KEY, email text);")
    folder.write("002_expand.sql", """
        -- assessments were made by hand once; no file creates them
        ALTER TABLE users ADD COLUMN IF NOT EXISTS full_name text;
        CREATE INDEX IF NOT EXISTS idx_assessments_user
          ON assessments (user_id);
    """)
    plan = cli("plan", "--json", "--migrations", folder.path, "--database-url", database)
    assert plan.code == 2
    (finding,) = [f for f in plan.json()["findings"] if f["severity"] == "error"]
    assert (finding["file"], finding["line"], finding["code"]) == ("002_expand.sql", 4, "missing-dependency")
    assert "table assessments" in finding["message"]
    assert tables(db) == set()

    result = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert result.code == 1
    report = result.json()
    assert [a["version"] for a in report["applied"]] == ["001"]
    assert report["failed"]["sqlstate"] == "42P01" and report["failed"]["line"] == 4
    assert report["advice"]["key"] == "sqlstate.42P01"
    assert any("No migration in the folder creates assessments" in n for n in report["advice"]["notes"])
    assert history(db) == ["001"]
    columns = {r[0] for r in db.execute("SELECT attname FROM pg_attribute WHERE attrelid = 'users'::regclass")}
    assert "full_name" not in columns

    text = cli("apply", "--migrations", folder.path, "--database-url", database)
    assert "002_expand.sql:4" in text.err and "Why:" in text.err and "Fix:" in text.err


def test_files_out_of_order_are_named(folder, database, cli):
    folder.write("001_posts.sql", "CREATE TABLE posts (id int, author uuid REFERENCES authors (id));")
    folder.write("002_authors.sql", "CREATE TABLE authors (id uuid PRIMARY KEY);")
    plan = cli("plan", "--json", "--migrations", folder.path, "--database-url", database)
    (finding,) = [f for f in plan.json()["findings"] if f["severity"] == "error"]
    assert finding["code"] == "wrong-order" and "002_authors.sql creates it" not in finding["message"]
    assert "002_authors.sql creates later" in finding["message"]


def test_supabase_only_objects_are_named_on_plain_postgresql(folder, database, cli):
    """auth.users is the compatibility step's to make; a table of Supabase's that it does not make
    is named."""
    folder.write("001_profiles.sql", "CREATE TABLE profiles (id uuid PRIMARY KEY REFERENCES auth.users (id));\n"
                                     "CREATE VIEW uploads AS SELECT * FROM storage.s3_multipart_uploads;")
    plan = cli("plan", "--json", "--migrations", folder.path, "--database-url", database)
    (finding,) = [f for f in plan.json()["findings"] if f["severity"] == "error"]
    assert finding["code"] == "supabase-only" and "storage.s3_multipart_uploads" in finding["message"] and finding["line"] == 2


def test_our_migrations_have_no_dependency_findings(database, cli):
    plan = cli("plan", "--json", "--migrations", MIGRATIONS, "--database-url", database)
    assert plan.code == 0
    assert [f for f in plan.json()["findings"] if f["severity"] != "info"] == []


def psql_file(url, path):
    result = subprocess.run([str(_bin_dir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_adopt_migrations_run_by_hand(database, db, cli):
    db.execute(compat.script())
    for name in ("001_create_schema.sql", "002_expand_assessments_schema.sql", "003_expand_assessment_questions.sql"):
        psql_file(database, MIGRATIONS / name)

    status = cli("status", "--json", "--migrations", MIGRATIONS, "--database-url", database)
    first = status.json()["migrations"][0]
    assert first["state"] == "pending" and first["objects"]["missing"] == []

    adopted = cli("adopt", "--json", "--migrations", MIGRATIONS, "--database-url", database)
    assert adopted.code == 0, adopted.err
    assert [a["version"] for a in adopted.json()["adopted"]] == ["001", "002", "003"]
    assert adopted.json()["stopped_at"] == "004"
    assert history(db) == ["001", "002", "003"]

    result = cli("apply", "--json", "--migrations", MIGRATIONS, "--database-url", database)
    assert result.code == 0, result.err
    assert result.json()["applied"][0]["version"] == "004"
    states = cli("status", "--json", "--migrations", MIGRATIONS, "--database-url", database).json()["migrations"]
    assert [s["state"] for s in states[:4]] == ["adopted", "adopted", "adopted", "applied"]


def test_adopt_refuses_what_is_not_there_and_status_tells_a_half_run(folder, database, db, cli):
    folder.write("001_two_tables.sql", "CREATE TABLE one (id int);\nCREATE TABLE two (id int);\nCREATE INDEX two_idx ON two (id);")
    db.execute("CREATE TABLE one (id int)")  # the paste stopped after the first statement
    refused = cli("adopt", "001", "--migrations", folder.path, "--database-url", database)
    assert refused.code == 1
    assert_clean(refused)
    assert "table public.two" in refused.err and "index public.two_idx" in refused.err
    assert history(db) == []
    status = cli("status", "--migrations", folder.path, "--database-url", database)
    assert "part of it is already in the database" in status.err and "table public.two" in status.err


def test_warnings_for_destructive_statements_and_long_locks_on_big_tables(folder, database, db, cli):
    db.execute("CREATE TABLE events (id bigint, kind text)")
    db.execute("INSERT INTO events SELECT g, 'x' FROM generate_series(1, 120000) g")
    db.execute("ANALYZE events")
    folder.write("001_change.sql", """
        ALTER TABLE events ADD COLUMN seen boolean NOT NULL DEFAULT false;
        CREATE INDEX events_kind_idx ON events (kind);
        TRUNCATE events;
        ALTER TABLE events DROP COLUMN seen;
    """)
    plan = cli("plan", "--json", "--migrations", folder.path, "--database-url", database)
    assert plan.code == 0
    warnings = [(f["code"], f["line"]) for f in plan.json()["findings"] if f["severity"] == "warning"]
    assert ("long-lock", 1) in warnings and ("long-lock", 2) in warnings
    assert ("destructive", 3) in warnings and ("destructive", 4) in warnings
    long_lock = next(f for f in plan.json()["findings"] if f["code"] == "long-lock")
    assert "public.events" in long_lock["message"] and "120,000" in long_lock["message"]
