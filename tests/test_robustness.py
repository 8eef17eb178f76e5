"""A kill, an interrupt, a second runner: the database never keeps half a migration."""

import os
import signal
import subprocess
import sys
import time

import psycopg
from helpers import ROOT, assert_clean, cli_env, history, tables

from wizard.core.runner import LOCK_KEY

SLOW = """
    CREATE TABLE slow_one (id int);
    CREATE INDEX slow_one_idx ON slow_one (id);
    SELECT pg_sleep(CASE WHEN current_setting('wizard_test.slow', true) = 'on' THEN 60 ELSE 0 END);
    CREATE TABLE slow_two (id int);
"""


def start_apply(folder, database, *extra) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "wizard", "apply", "--yes", "--json", "--migrations", str(folder.path),
         "--database-url", database, *extra],
        cwd=ROOT,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def wait_for_sleep(db, timeout=30) -> int:
    """The pid of the backend running the slow statement."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = db.execute(
            "SELECT pid FROM pg_stat_activity WHERE query LIKE '%%pg_sleep(CASE%%' AND pid <> pg_backend_pid() "
            "AND state = 'active'"
        ).fetchone()
        if row:
            return row[0]
        time.sleep(0.05)
    raise AssertionError("the slow migration never started")


def slow_folder(folder, database, db):
    folder.write("001_first.sql", "CREATE TABLE first (id int);")
    folder.write("002_slow.sql", SLOW)
    db.execute(f"ALTER DATABASE \"{db.info.dbname}\" SET wizard_test.slow = 'on'")


def test_sigkill_in_the_middle_of_a_migration_leaves_it_pending_with_none_of_its_objects(folder, database, db, cli):
    slow_folder(folder, database, db)
    process = start_apply(folder, database)
    backend = wait_for_sleep(db)
    process.send_signal(signal.SIGKILL)
    process.wait(10)

    # the server notices the dead client and rolls back; no lock, no half migration remains
    deadline = time.monotonic() + 15
    while db.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (backend,)).fetchone()[0]:
        assert time.monotonic() < deadline, "the orphaned backend kept running"
        time.sleep(0.1)
    assert history(db) == ["001"]
    assert tables(db) == {"first"}
    assert db.execute("SELECT to_regclass('slow_one_idx')").fetchone()[0] is None

    db.execute(f"ALTER DATABASE \"{db.info.dbname}\" RESET wizard_test.slow")
    result = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert result.code == 0, result.err
    assert [a["version"] for a in result.json()["applied"]] == ["002"]
    assert tables(db) == {"first", "slow_one", "slow_two"}


def test_ctrl_c_rolls_back_the_running_migration_and_exits_130(folder, database, db):
    slow_folder(folder, database, db)
    process = start_apply(folder, database)
    wait_for_sleep(db)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert "rolled back" in err
    assert history(db) == ["001"]
    assert tables(db) == {"first"}


def test_a_second_ctrl_c_quits_at_once_and_keeps_no_half_migration(folder, database, db):
    slow_folder(folder, database, db)
    folder.write("003_after.sql", "CREATE TABLE after_slow (id int);")
    process = start_apply(folder, database)
    wait_for_sleep(db)
    process.send_signal(signal.SIGINT)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert history(db) == ["001"]
    assert tables(db) == {"first"}


def test_two_runners_apply_each_migration_once(folder, database, db):
    for i in range(1, 7):
        folder.write(f"00{i}_m{i}.sql", f"CREATE TABLE m{i} (id int);\nSELECT pg_sleep(0.2);")
    first = start_apply(folder, database)
    second = start_apply(folder, database)
    results = [(p.wait(60), p.communicate()) for p in (first, second)]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 4]), results
    applied = []
    for code, (out, err) in results:
        assert "Traceback" not in err
        if code == 0:
            import json

            applied += [a["version"] for a in json.loads(out)["applied"]]
    assert sorted(applied) == ["001", "002", "003", "004", "005", "006"]
    assert history(db) == ["001", "002", "003", "004", "005", "006"]


def test_a_held_lock_makes_the_second_runner_wait_then_exit_4(folder, database, db, cli):
    folder.write("001_a.sql", "CREATE TABLE a (id int);")
    holder = psycopg.connect(database, autocommit=True, application_name="other-deploy")
    holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    try:
        started = time.monotonic()
        result = cli("apply", "--yes", "--lock-timeout", "1", "--migrations", folder.path, "--database-url", database)
        assert time.monotonic() - started >= 1
    finally:
        holder.close()
    assert result.code == 4
    assert_clean(result)
    assert "another migration run" in result.err and "other-deploy" in result.err
    assert history(db) == []
    assert tables(db) == set()


def test_statement_timeout_option_cancels_a_long_statement(folder, database, db, cli):
    slow_folder(folder, database, db)
    result = cli("apply", "--json", "--statement-timeout", "0.5", "--migrations", folder.path, "--database-url", database)
    assert result.code == 1
    assert result.json()["failed"]["sqlstate"] == "57014"
    assert history(db) == ["001"]
    assert tables(db) == {"first"}


def test_local_database_commands(tmp_path, cli):
    directory = tmp_path / "local"
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    try:
        started = cli("local", "start", "--local-dir", directory, env=env)
        assert started.code == 0, started.err
        url = started.out.strip()
        assert url.startswith("postgresql://") and "\n" not in url
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        # psql accepts it too
        psql = subprocess.run(["psql", url, "-Atc", "SELECT 42"], capture_output=True, text=True)
        if psql.returncode == 0 or "No such file" not in psql.stderr:
            assert psql.stdout.strip() == "42", psql.stderr
        assert cli("local", "url", "--local-dir", directory, env=env).out.strip() == url
        # data persists across invocations
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (id int)")
        assert cli("local", "stop", "--local-dir", directory, env=env).code == 0
        stopped = cli("local", "url", "--local-dir", directory, env=env)
        assert stopped.code == 3 and "not running" in stopped.err
        again = cli("local", "start", "--local-dir", directory, env=env)
        assert again.out.strip() == url
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT to_regclass('kept')").fetchone()[0] == "kept"
    finally:
        cli("local", "stop", "--local-dir", directory, env=env)


def test_no_database_configured_means_the_local_one(tmp_path, folder, cli):
    folder.write("001_a.sql", "CREATE TABLE a (id int);")
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    try:
        result = cli("apply", "--yes", "--migrations", folder.path, cwd=tmp_path, env=env)
        assert result.code == 0, result.err
        assert "using the local database" in result.err
        assert str(tmp_path / "xdg" / "migration-wizard" / "local-postgres") in result.err
        status = cli("status", "--json", "--migrations", folder.path, cwd=tmp_path, env=env)
        assert [m["state"] for m in status.json()["migrations"]] == ["applied"]
    finally:
        cli("local", "stop", cwd=tmp_path, env=env)
    assert os.path.isdir(tmp_path / "xdg" / "migration-wizard" / "local-postgres" / "data")


def test_ctrl_c_while_connecting_ends_with_its_json_document(folder, tmp_path):
    """A server that accepts and never answers: the command waits in its connection, and Ctrl-C
    there still ends with the one JSON document --json promises (interrupted, exit 130)."""
    import json
    import socket
    import subprocess
    import sys

    from helpers import cli_env

    folder.write("001_a.sql", "CREATE TABLE a (id int);")
    silent = socket.create_server(("127.0.0.1", 0))
    try:
        url = f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/x?sslmode=disable"
        process = subprocess.Popen([sys.executable, "-m", "wizard", "apply", "--yes", "--json", "--migrations",
                                    str(folder.path), "--database-url", url, "--connect-timeout", "30"],
                                   env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        connection, _ = silent.accept()  # the command is connecting now
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
        connection.close()
    finally:
        silent.close()
    assert process.returncode == 130, err
    assert "Traceback" not in err
    document = json.loads(out)
    assert document["ok"] is False and document["error"]["kind"] == "interrupted"
