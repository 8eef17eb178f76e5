"""A migration that needs a lock an application's transaction holds: it waits a few seconds, rolls
back (so the application's queries do not queue behind it), is tried again a few times, then
fails naming the session that holds the lock; released meanwhile, the next attempt applies it."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import psycopg
import pytest
from helpers import ROOT, assert_clean, cli_env, history, tables

HOLDS = {
    "table": "LOCK TABLE users IN ACCESS SHARE MODE",
    "row": "SELECT id FROM users WHERE id = 1 FOR UPDATE",
}


def blocked_folder(folder, db) -> None:
    db.execute("CREATE TABLE users (id int PRIMARY KEY)")
    db.execute("INSERT INTO users VALUES (1)")
    folder.write("001_first.sql", "CREATE TABLE first (id int);")
    folder.write("002_email.sql", "CREATE TABLE second (id int);\nALTER TABLE users ADD COLUMN email text;")
    folder.write("003_after.sql", "CREATE TABLE after_email (id int);")


def application(database: str, hold: str) -> psycopg.Connection:
    """The application's transaction, left open holding a lock."""
    conn = psycopg.connect(database, application_name="backend")
    conn.execute(hold)
    return conn


def start_apply(folder, database: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "wizard", "apply", "--yes", "--json", "--migrations", str(folder.path),
         "--database-url", database, *extra],
        cwd=ROOT, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )


def has_column(db, table: str, column: str) -> bool:
    return db.execute("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s "
                      "AND column_name = %s",
                      (table, column)).fetchone()[0] == 1


@pytest.mark.parametrize("hold", sorted(HOLDS))
def test_a_lock_held_by_the_application_fails_the_migration_naming_the_session(folder, database, db, cli, hold):
    blocked_folder(folder, db)
    holder = application(database, HOLDS[hold])
    pid = holder.info.backend_pid
    try:
        started = time.monotonic()
        result = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
        took = time.monotonic() - started
        # the application's transaction was never cut: it still holds its lock
        assert holder.execute("SELECT 1").fetchone() == (1,)
    finally:
        holder.close()
    assert_clean(result)
    assert took < 60
    assert result.code == 1, result.output
    report = result.json()
    assert [a["version"] for a in report["applied"]] == ["001"]
    failed = report["failed"]
    assert (failed["version"], failed["sqlstate"]) == ("002", "55P03")
    assert (failed["line"], failed["column"], failed["statement_index"]) == (2, 1, 2)
    wait = failed["lock_wait"]
    assert wait["relation"] == "public.users" and wait["attempts"] == 3 and wait["timeout_s"] == 5
    assert [(b["pid"], b["application"], b["state"]) for b in wait["blockers"]] == [
        (pid, "backend", "idle in transaction")]
    advice = report["advice"]
    assert advice["key"] == "sqlstate.55P03"
    notes = " ".join(advice["notes"])
    assert f"pid {pid}, application 'backend', idle in transaction" in notes
    assert f"pg_terminate_backend({pid})" in notes
    assert "pg_terminate_backend" in advice["fix"]
    assert HOLDS[hold] not in result.output  # never the session's query text
    # said while it waited, and before each new attempt
    assert f"Waiting for a lock on public.users held by pid {pid}, application 'backend'" in result.err
    assert "it was rolled back and runs again in 1 s (attempt 2 of 3)" in result.err
    assert "runs again in 2 s (attempt 3 of 3)" in result.err
    # nothing of 002 was kept, nothing after it ran
    assert history(db) == ["001"]
    assert tables(db) == {"users", "first"}
    assert not has_column(db, "users", "email")


def test_a_lock_released_during_the_retries_lets_the_next_attempt_apply(folder, database, db):
    blocked_folder(folder, db)
    holder = application(database, HOLDS["table"])
    try:
        process = start_apply(folder, database)
        said = []
        for line in process.stderr:  # the first attempt gave up: the application ends its transaction
            said.append(line)
            if "runs again in" in line:
                break
        holder.rollback()
        out, err = process.communicate(timeout=60)
    finally:
        holder.close()
    assert process.returncode == 0, "".join(said) + err
    report = json.loads(out)
    assert [a["version"] for a in report["applied"]] == ["001", "002", "003"]
    assert history(db) == ["001", "002", "003"]
    assert has_column(db, "users", "email")


def test_table_lock_timeout_0_waits_as_long_as_the_lock_is_held(folder, database, db):
    blocked_folder(folder, db)
    holder = application(database, HOLDS["table"])
    try:
        process = start_apply(folder, database, "--table-lock-timeout", "0")
        time.sleep(6)  # past the default timeout: still waiting, nothing said of a retry
        assert process.poll() is None
        holder.rollback()
        out, err = process.communicate(timeout=60)
    finally:
        holder.close()
    assert process.returncode == 0, err
    assert "runs again" not in err
    assert history(db) == ["001", "002", "003"]


def test_a_long_statement_of_the_migration_itself_is_not_cut(folder, database, db, cli):
    folder.write("001_slow.sql", "CREATE TABLE slow (id int);\nSELECT pg_sleep(6);")
    result = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert result.code == 0, result.output
    assert history(db) == ["001"]


def test_over_https_the_lock_wait_is_told_and_named_the_same(folder, database, db, cli, tmp_path):
    from api_server import ApiServer

    ref, token = "qwertyuiopasdfghjklz", "sbp_0123456789abcdef0123456789abcdef01234567"
    (tmp_path / ".env.local").write_text(f"SUPABASE_URL=https://{ref}.supabase.co\nSUPABASE_ACCESS_TOKEN={token}\n")
    blocked_folder(folder, db)
    holder = application(database, HOLDS["row"])
    pid = holder.info.backend_pid
    try:
        with ApiServer(database, ref, token) as api:
            result = cli("apply", "--yes", "--json", "--migrations", folder.path, "--api-url", api.url, cwd=tmp_path)
            sent = [q for q in api.requests if "ALTER TABLE users" in q]
    finally:
        holder.close()
    assert_clean(result)
    assert result.code == 1, result.output
    failed = result.json()["failed"]
    assert (failed["version"], failed["sqlstate"]) == ("002", "55P03")
    # the service gives no position: the line is that of the statement naming the relation waited for
    assert (failed["line"], failed["column"], failed["statement_index"]) == (2, 1, 2)
    assert "002_email.sql:2:1" in result.err
    assert [(b["pid"], b["application"]) for b in failed["lock_wait"]["blockers"]] == [(pid, "backend")]
    assert f"pg_terminate_backend({pid})" in " ".join(result.json()["advice"]["notes"])
    assert f"Waiting for a lock on public.users held by pid {pid}, application 'backend'" in result.err
    assert "runs again in 1 s (attempt 2 of 3)" in result.err
    # the request sets the timeout for its own transaction only; nothing of 002 was kept
    assert len(sent) == 3 and all("SET LOCAL lock_timeout = 5000;" in q.split("\n")[0] for q in sent)
    assert "statement_timeout" not in sent[0]
    assert history(db) == ["001"] and tables(db) == {"users", "first"}


async def test_the_wizard_shows_the_wait_live_then_names_the_session_and_retries(tmp_path, folder, database, db):
    from textual.widgets import Static
    from tui_pilot import column, press, settle, wizard_app

    from wizard.tui.screens.apply import ApplyScreen
    from wizard.tui.screens.troubleshoot import TroubleshootScreen

    blocked_folder(folder, db)
    holder = application(database, HOLDS["table"])
    pid = holder.info.backend_pid
    app = wizard_app(tmp_path, folder.path, database)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await press(pilot, "enter", "enter")
            await pilot.press("enter")
            notice = ""
            for _ in range(300):  # the Apply step says what it waits for, while it waits
                await pilot.pause(0.05)
                if isinstance(app.screen, ApplyScreen):
                    notice = str(app.screen.query_one("#notice", Static).render())
                    if "Waiting for a lock" in notice:
                        break
            assert f"Waiting for a lock on public.users held by pid {pid}, application 'backend'" in notice
            await settle(pilot, timeout=90)
            assert isinstance(app.screen, TroubleshootScreen)
            trouble = app.screen.trouble
            assert trouble.message.startswith("55P03") and trouble.advice.key == "sqlstate.55P03"
            notes = " ".join(trouble.advice.notes)
            assert f"pid {pid}, application 'backend'" in notes and f"pg_terminate_backend({pid})" in notes
            assert history(db) == ["001"] and not has_column(db, "users", "email")

            holder.rollback()  # the application's transaction ends: a retry applies the rest
            await press(pilot, "r")
            assert isinstance(app.screen, ApplyScreen)
            assert column(app, "#migrations", "state") == ["applied"] * 3
    finally:
        holder.close()
    assert history(db) == ["001", "002", "003"]


def test_a_file_without_a_transaction_is_not_tried_again_but_names_the_session(folder, database, db, cli):
    db.execute("CREATE TABLE users (id int PRIMARY KEY)")
    folder.write("001_alone.sql", "-- wizard:no-transaction\nCREATE TABLE alone (id int);\n"
                                  "ALTER TABLE users ADD COLUMN email text;\n")
    holder = application(database, HOLDS["table"])
    pid = holder.info.backend_pid
    try:
        result = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    finally:
        holder.close()
    assert result.code == 1, result.output
    failed = result.json()["failed"]
    assert failed["sqlstate"] == "55P03" and failed["lock_wait"]["attempts"] == 1
    assert [b["pid"] for b in failed["lock_wait"]["blockers"]] == [pid]
    assert f"pg_terminate_backend({pid})" in " ".join(result.json()["advice"]["notes"])
    assert "runs again" not in result.err and "its first 1 statement(s) stay applied" in result.err
    assert history(db) == [] and "alone" in tables(db)
