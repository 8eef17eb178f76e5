"""Recovering when the database's history and the folder disagree: a version recorded without a file
(fetched back), a file renamed after it was applied, a file from another branch that sorts before
what is applied (refused, then included), a file edited after it was applied (diffed, accepted), a
record removed (forget). Each ends with `status` clean and the Supabase CLI's `migration list`
agreeing."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import psycopg
import pytest
from api_server import REF, TOKEN, ApiServer
from helpers import ROOT, assert_clean, cli_env, history, migration_list

from wizard.core.catalog import load
from wizard.core.runner import LOCK_KEY



@pytest.fixture
def project(tmp_path):
    """A Supabase project's folder: supabase/migrations."""
    (tmp_path / "supabase" / "migrations").mkdir(parents=True)
    return tmp_path


def migrations(project):
    return project / "supabase" / "migrations"


def wizard(cli, project, database, *args):
    result = cli(*args, "--database-url", database, cwd=project)
    assert_clean(result)
    return result


def supabase(supabase_cli, project, *args):
    result = subprocess.run([supabase_cli, *args], cwd=project, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "DO_NOT_TRACK": "1", "SUPABASE_TELEMETRY_DISABLED": "1"})
    assert result.returncode == 0, result.stderr
    return result


def assert_clean_status(cli, project, database):
    status = wizard(cli, project, database, "status", "--json")
    assert status.code == 0, status.output
    document = status.json()
    assert [f for f in document["findings"] if f["code"] != "version-widths"] == [], document["findings"]
    assert {m["state"] for m in document["migrations"]} <= {"applied", "adopted"}, document["migrations"]
    return document


def assert_cli_agrees(supabase_cli, project, database):
    rows = migration_list(supabase_cli, project, database)
    assert rows and all(local == remote for local, remote in rows.values()), rows
    return rows


def recorded_statements(db, version):
    return db.execute("SELECT statements FROM supabase_migrations.schema_migrations WHERE version = %s",
                      (version,)).fetchone()[0]


def test_versions_recorded_by_the_supabase_cli_are_fetched_back(supabase_cli, project, database, db, cli):
    folder = migrations(project)
    (folder / "001_users.sql").write_text("CREATE TABLE users (id int PRIMARY KEY);\n")
    (folder / "002_posts.sql").write_text(
        "-- posts\nCREATE TABLE posts (\n  id int PRIMARY KEY,\n  author int REFERENCES users -- who\n);\n"
        "CREATE INDEX posts_author ON posts (author);\n")
    (folder / "003_tags.sql").write_text("CREATE TABLE tags (id int PRIMARY KEY);\n")
    assert wizard(cli, project, database, "apply", "--yes").code == 0
    # one pushed by the CLI, one recorded by repair (run by hand in the dashboard), then their files are gone
    (folder / "004_pushed.sql").write_text("CREATE TABLE pushed (id int);\nCOMMENT ON TABLE pushed IS 'x; y';\n")
    supabase(supabase_cli, project, "db", "push", "--db-url", database, "--yes")
    (folder / "005_by_hand.sql").write_text("CREATE TABLE by_hand (id int);\n")
    db.execute("CREATE TABLE by_hand (id int)")
    supabase(supabase_cli, project, "migration", "repair", "--status", "applied", "005", "--db-url", database, "--yes")
    for name in ("002_posts.sql", "004_pushed.sql", "005_by_hand.sql"):
        (folder / name).unlink()
    recorded = {v: recorded_statements(db, v) for v in ("002", "004", "005")}

    status = wizard(cli, project, database, "status", "--json")
    missing = [f for f in status.json()["findings"] if f["code"] == "missing-file"]
    assert [f["file"] for f in missing] == ["version 002 (posts)", "version 004 (pushed)", "version 005 (by_hand)"]
    by_wizard, by_cli = missing[0]["message"], missing[1]["message"]
    assert "applied 20" in by_wizard and "over a database connection" in by_wizard and "2 statements" in by_wizard
    assert "migration-wizard fetch 002" in by_wizard
    assert "by another tool" in by_cli and "2 statements recorded" in by_cli
    text = wizard(cli, project, database, "status")
    assert "migration-wizard fetch 004" in text.err

    fetched = wizard(cli, project, database, "fetch", "--all", "--json")
    assert fetched.code == 0, fetched.output
    assert [f["version"] for f in fetched.json()["fetched"]] == ["002", "004", "005"]
    assert sorted(p.name for p in folder.iterdir()) == [
        "001_users.sql", "002_posts.sql", "003_tags.sql", "004_pushed.sql", "005_by_hand.sql"]
    catalog = load(folder)
    for version, statements in recorded.items():  # the files reproduce the recorded statements
        migration = catalog.by_version()[version]
        assert [s.text for s in migration.statements] == [s.strip().rstrip(";").strip() for s in statements]
    assert_clean_status(cli, project, database)
    assert set(assert_cli_agrees(supabase_cli, project, database)) == {"001", "002", "003", "004", "005"}
    again = wizard(cli, project, database, "fetch", "--all")
    assert again.code == 0 and "Nothing was fetched" in again.out
    # the history is what it was: nothing applied again
    assert history(db) == ["001", "002", "003", "004", "005"]
    assert wizard(cli, project, database, "apply", "--json").json()["applied"] == []


def test_fetch_never_overwrites_and_names_what_it_skips(project, database, db, cli):
    folder = migrations(project)
    (folder / "001_a.sql").write_text("CREATE TABLE a (id int);\n")
    assert wizard(cli, project, database, "apply", "--yes").code == 0
    (folder / "001_a.sql").rename(project / "elsewhere.sql")
    (folder / "001_a.sql").mkdir()  # something in the way, not a migration file
    result = wizard(cli, project, database, "fetch", "001")
    assert result.code == 1 and "never overwritten" in result.err
    unknown = wizard(cli, project, database, "fetch", "999", "--json")
    assert unknown.code == 2 and unknown.json()["error"]["kind"] == "unknown-version"
    usage = wizard(cli, project, database, "fetch")
    assert usage.code == 2 and "--all" in usage.err


def test_a_renamed_file_is_recognised_with_the_command_that_fixes_it(supabase_cli, project, database, cli):
    folder = migrations(project)
    (folder / "001_users.sql").write_text("CREATE TABLE users (id int PRIMARY KEY);\n")
    assert wizard(cli, project, database, "apply", "--yes").code == 0
    (folder / "001_users.sql").rename(folder / "20250101000000_create_users.sql")

    status = wizard(cli, project, database, "status", "--json")
    found = [f for f in status.json()["findings"] if f["code"] != "version-widths"]
    assert len(found) == 1, found
    (finding,) = found
    assert finding["code"] == "renamed" and finding["file"] == "20250101000000_create_users.sql"
    fix = finding["message"].split("'")[1]
    assert fix == f"mv {folder / '20250101000000_create_users.sql'} {folder / '001_users.sql'}"
    assert fix in wizard(cli, project, database, "status").err
    subprocess.run(fix.split(), check=True)
    assert_clean_status(cli, project, database)
    assert_cli_agrees(supabase_cli, project, database)


def test_an_older_file_from_a_branch_is_refused_then_included(supabase_cli, project, database, db, cli):
    folder = migrations(project)
    (folder / "20250101000000_users.sql").write_text("CREATE TABLE users (id int PRIMARY KEY);\n")
    (folder / "20250301000000_posts.sql").write_text("CREATE TABLE posts (id int PRIMARY KEY);\n")
    assert wizard(cli, project, database, "apply", "--yes").code == 0
    # a teammate's branch: older timestamp, uses what is already applied
    (folder / "20250201000000_likes.sql").write_text(
        "CREATE TABLE likes (post int REFERENCES posts, who int REFERENCES users);\n")

    plan = wizard(cli, project, database, "plan", "--json")
    (late,) = [f for f in plan.json()["findings"] if f["code"] == "out-of-order"]
    assert late["file"] == "20250201000000_likes.sql" and "20250301000000_posts" in late["message"]
    refused = wizard(cli, project, database, "apply", "--yes", "--json")
    assert refused.code == 2, refused.output
    message = refused.json()["error"]["message"]
    assert "20250201000000_likes.sql" in message and "--include-all" in message
    assert "20250301000000_posts" in refused.err
    assert db.execute("SELECT to_regclass('likes')").fetchone() == (None,)
    assert history(db) == ["20250101000000", "20250301000000"]

    included = wizard(cli, project, database, "apply", "--yes", "--include-all", "--json")
    assert included.code == 0, included.output
    assert [a["version"] for a in included.json()["applied"]] == ["20250201000000"]
    assert history(db) == ["20250101000000", "20250201000000", "20250301000000"]
    assert_clean_status(cli, project, database)
    assert len(assert_cli_agrees(supabase_cli, project, database)) == 3


def test_an_out_of_order_file_is_checked_against_the_catalog_before_it_runs(project, database, db, cli):
    folder = migrations(project)
    (folder / "002_posts.sql").write_text("CREATE TABLE posts (id int PRIMARY KEY);\n")
    assert wizard(cli, project, database, "apply", "--yes").code == 0
    (folder / "001_likes.sql").write_text("CREATE TABLE likes (post int REFERENCES nowhere);\n")
    result = wizard(cli, project, database, "apply", "--yes", "--include-all", "--json")
    assert result.code in (1, 2) and "nowhere" in result.output
    assert db.execute("SELECT to_regclass('likes')").fetchone() == (None,)


def test_an_edited_file_is_diffed_then_accepted(supabase_cli, project, database, db, cli):
    folder = migrations(project)
    (folder / "001_users.sql").write_text("-- users\nCREATE TABLE users (id int PRIMARY KEY);\n")
    assert wizard(cli, project, database, "apply", "--yes").code == 0
    old = wizard(cli, project, database, "status", "--json").json()["migrations"][0]["checksum"]
    (folder / "001_users.sql").write_text(
        "-- users\nCREATE TABLE users (id int PRIMARY KEY, email text);\nCREATE INDEX users_email ON users (email);\n")
    assert [f["code"] for f in wizard(cli, project, database, "status", "--json").json()["findings"]] == ["drifted"]

    shown = wizard(cli, project, database, "diff", "001")
    assert shown.code == 0
    assert "-CREATE TABLE users (id int PRIMARY KEY);" in shown.out
    assert "+CREATE TABLE users (id int PRIMARY KEY, email text);" in shown.out
    assert "+CREATE INDEX users_email ON users (email);" in shown.out
    assert wizard(cli, project, database, "diff", "001", "--json").json()["changed"] is True

    refused = wizard(cli, project, database, "accept", "001", "--json")
    assert refused.code == 1 and refused.json()["error"]["kind"] == "accept-refused"
    assert "users_email" in refused.err
    db.execute("ALTER TABLE users ADD COLUMN email text")
    db.execute("CREATE INDEX users_email ON users (email)")
    accepted = wizard(cli, project, database, "accept", "001", "--json")
    assert accepted.code == 0, accepted.output
    new = accepted.json()["accepted"]
    assert new["previous_checksum"] == old and new["checksum"] != old and new["statements"] == 2

    status = assert_clean_status(cli, project, database)
    assert status["migrations"][0]["checksum"] == new["checksum"]
    assert db.execute("SELECT checksum, previous_checksum FROM supabase_migrations.migration_wizard_history "
                      "WHERE version = '001'").fetchone() == (new["checksum"], old)
    assert len(recorded_statements(db, "001")) == 2
    assert "are the ones the history recorded" in wizard(cli, project, database, "diff", "001").err
    assert_cli_agrees(supabase_cli, project, database)


def _on_a_terminal(args, cwd, answer: bytes) -> tuple[int, str]:
    """Run the command with a terminal as stdin and stderr; type ``answer``."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "wizard", *map(str, args)], cwd=cwd, env=cli_env(),
                               stdin=terminal, stdout=subprocess.PIPE, stderr=terminal)
    os.close(terminal)
    os.write(controller, answer)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=60)
    os.close(controller)
    return process.returncode, output.decode(errors="replace")


def test_forget_shows_what_is_still_there_and_asks(supabase_cli, project, database, db, cli):
    folder = migrations(project)
    (folder / "001_users.sql").write_text("CREATE TABLE users (id int PRIMARY KEY);\n")
    (folder / "002_tmp.sql").write_text("CREATE TABLE tmp (id int);\nCREATE TABLE tmp2 (id int);\n")
    assert wizard(cli, project, database, "apply", "--yes").code == 0
    (folder / "002_tmp.sql").unlink()
    db.execute("DROP TABLE tmp2")

    code, output = _on_a_terminal(["forget", "002", "--database-url", database], project, b"n\n")
    assert code == 2, output
    assert "still in the database: table public.tmp" in output and "nothing was changed" in output
    assert history(db) == ["001", "002"]
    headless = wizard(cli, project, database, "forget", "002")
    assert headless.code == 2 and "--yes" in headless.err and history(db) == ["001", "002"]

    forgot = wizard(cli, project, database, "forget", "002", "--yes", "--json")
    assert forgot.code == 0, forgot.output
    assert forgot.json()["still_present"] == ["table public.tmp", "column public.tmp.id"]
    assert history(db) == ["001"]
    assert db.execute("SELECT count(*) FROM supabase_migrations.migration_wizard_history WHERE version = '002'"
                      ).fetchone() == (0,)
    assert_clean_status(cli, project, database)
    assert_cli_agrees(supabase_cli, project, database)


def test_recovery_waits_for_the_run_lock(project, database, db, cli):
    folder = migrations(project)
    (folder / "001_a.sql").write_text("CREATE TABLE a (id int);\n")
    (folder / "002_b.sql").write_text("CREATE TABLE b (id int);\n")
    assert wizard(cli, project, database, "apply", "--yes").code == 0
    (folder / "002_b.sql").unlink()
    holder = psycopg.connect(database, autocommit=True, application_name="other-deploy")
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        for args in (["fetch", "--all"], ["forget", "002", "--yes"]):
            result = wizard(cli, project, database, *args, "--lock-timeout", "0.5", "--json")
            assert result.code == 4 and result.json()["error"]["kind"] == "lock-held", result.output
    finally:
        holder.close()
    assert not (folder / "002_b.sql").exists() and history(db) == ["001", "002"]


def test_recovery_over_https(tmp_path, database, db, cli, supabase_cli):
    project = tmp_path
    folder = project / "supabase" / "migrations"
    folder.mkdir(parents=True)
    (project / ".env.local").write_text(f"SUPABASE_URL=https://{REF}.supabase.co\nSUPABASE_ACCESS_TOKEN={TOKEN}\n")
    (folder / "001_users.sql").write_text("CREATE TABLE users (id int PRIMARY KEY);\n")
    (folder / "002_posts.sql").write_text("CREATE TABLE posts (id int);\n")
    (folder / "003_tmp.sql").write_text("CREATE TABLE tmp (id int);\n")
    with ApiServer(database, REF, TOKEN) as api:
        def over_https(*args):
            result = cli(*args, "--api-url", api.url, cwd=project)
            assert_clean(result)
            assert TOKEN not in result.output
            return result

        assert over_https("apply", "--yes").code == 0
        (folder / "002_posts.sql").unlink()
        (folder / "003_tmp.sql").unlink()
        (folder / "001_users.sql").write_text("CREATE TABLE users (id int PRIMARY KEY, email text);\n")
        db.execute("ALTER TABLE users ADD COLUMN email text")

        api.requests.clear()
        fetched = over_https("fetch", "002", "--json")
        assert fetched.code == 0 and fetched.json()["fetched"][0]["recorded_checksum"] is True, fetched.output
        writes = [q for q in api.requests if q.startswith("BEGIN;")]
        assert len(writes) == 1 and f"pg_advisory_xact_lock({LOCK_KEY})" in writes[0]
        assert "diff" in over_https("diff", "001", "--json").json()
        assert over_https("accept", "001", "--json").code == 0
        assert over_https("forget", "003", "--yes", "--json").code == 0
        status = over_https("status", "--json")
        assert status.json()["findings"] == [] and [m["state"] for m in status.json()["migrations"]] == [
            "applied", "applied"]
    assert history(db) == ["001", "002"]
    assert_cli_agrees(supabase_cli, project, database)


def test_the_recovery_commands_are_in_the_help(cli):
    text = cli("--help", cwd=ROOT).out
    for command in ("fetch", "diff", "accept", "forget"):
        assert command in text
