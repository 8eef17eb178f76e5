"""Over HTTPS the run lock is a lease row, and checks run read-only and rolled back."""

import json
import os
import socket
import subprocess
import sys
import time

from api_server import REF, TOKEN
from helpers import assert_clean, cli_env, history

LEASE = "supabase_migrations.migration_wizard_lock"


def wizard(cli, api, project, *args):
    result = cli(*args, "--api-url", api.url, cwd=project)
    assert_clean(result)
    assert TOKEN not in result.output
    return result


def made_by_hand(folder, db, count=3):
    for i in range(1, count + 1):
        folder.write(f"{i:03d}_t{i}.sql", f"CREATE TABLE t{i} (id int);")
        db.execute(f"CREATE TABLE t{i} (id int)")


def test_a_lease_held_by_another_run_makes_adopt_wait_then_exit_4_naming_it(api, project, folder, db, cli):
    from wizard.core.db.https import ApiDatabase

    made_by_hand(folder, db)
    other = ApiDatabase(REF, TOKEN, api.url)
    assert other.try_lock()
    try:
        result = wizard(cli, api, project, "adopt", "--json", "--lock-timeout", "1", "--migrations", folder.path)
        assert result.code == 4
        assert f"pid {os.getpid()} on {socket.gethostname()}" in result.err
        assert result.json()["error"]["kind"] == "lock-held"
        assert history(db) == []
    finally:
        other.unlock()
    assert db.execute(f"SELECT count(*) FROM {LEASE}").fetchone() == (0,)  # released: no row left
    result = wizard(cli, api, project, "adopt", "--json", "--migrations", folder.path)
    assert result.code == 0 and [a["version"] for a in result.json()["adopted"]] == ["001", "002", "003"]
    assert db.execute(f"SELECT count(*) FROM {LEASE}").fetchone() == (0,)


def test_two_adopt_runs_at_once_over_https(api, project, folder, db):
    made_by_hand(folder, db, count=8)
    command = [sys.executable, "-m", "wizard", "adopt", "--json", "--lock-timeout", "0.2",
               "--migrations", str(folder.path), "--api-url", api.url]
    runs = [subprocess.Popen(command, cwd=project, env=cli_env(None), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True) for _ in range(2)]
    results = [(run.wait(timeout=120), *run.communicate()) for run in runs]
    codes = sorted(code for code, _, _ in results)
    assert codes in ([0, 0], [0, 4]), results
    for code, out, err in results:
        assert "Traceback" not in out + err
        if code == 4:  # the loser names the winner
            assert "It is held by pid" in err and socket.gethostname() in err
    adopted = [a["version"] for code, out, _ in results if code == 0 for a in json.loads(out)["adopted"]]
    assert sorted(adopted) == [f"{i:03d}" for i in range(1, 9)]  # each version recorded once
    assert history(db) == [f"{i:03d}" for i in range(1, 9)]


def test_an_expired_lease_of_a_dead_run_is_taken_over(api, project, folder, db, cli):
    from wizard.core.db.https import ApiDatabase

    made_by_hand(folder, db)
    crashed = ApiDatabase(REF, TOKEN, api.url)
    assert crashed.try_lock()
    crashed.lease._stop.set()  # the process died: nobody renews its lease
    db.execute(f"UPDATE {LEASE} SET pid = 999999, host = 'gone', expires = now() - interval '1 second'")
    result = wizard(cli, api, project, "adopt", "--json", "--lock-timeout", "1", "--migrations", folder.path)
    assert result.code == 0, result.err
    assert [a["version"] for a in result.json()["adopted"]] == ["001", "002", "003"]
    assert db.execute(f"SELECT count(*) FROM {LEASE}").fetchone() == (0,)
    # a live lease is not taken over, and the dead run's late release takes nothing from a new holder
    second = ApiDatabase(REF, TOKEN, api.url)
    assert second.try_lock()
    crashed.unlock()
    assert db.execute(f"SELECT count(*) FROM {LEASE}").fetchone() == (1,)
    assert not ApiDatabase(REF, TOKEN, api.url).try_lock()
    second.unlock()


def test_a_lease_is_renewed_while_its_run_lasts(api, db):
    from wizard.core.db.https import ApiDatabase

    holder = ApiDatabase(REF, TOKEN, api.url)
    holder.lease.seconds = 0.8
    assert holder.try_lock()
    try:
        first = db.execute(f"SELECT expires FROM {LEASE}").fetchone()[0]
        time.sleep(1.5)  # past the lease's first expiry: renewed meanwhile
        assert db.execute(f"SELECT expires FROM {LEASE}").fetchone()[0] > first
        assert not ApiDatabase(REF, TOKEN, api.url).try_lock()
    finally:
        holder.unlock()


def test_a_check_that_writes_is_refused_and_rolled_back_over_https(api, project, folder, db, cli):
    folder.write("001_notes.sql", "CREATE TABLE notes (id int);")
    (folder.path / "checks.toml").write_text(
        '[[check]]\nname = "sneaky write"\n'
        'sql = "WITH w AS (INSERT INTO notes VALUES (1) RETURNING id) SELECT count(*) FROM w"\nexpect = 1\n'
        '[[check]]\nname = "notes readable"\nsql = "SELECT count(*) FROM notes"\nexpect = 0\n'
    )
    applied = wizard(cli, api, project, "apply", "--yes", "--json", "--migrations", folder.path)
    assert applied.code == 0, applied.err
    result = wizard(cli, api, project, "verify", "--json", "--migrations", folder.path)
    checks = {c["name"]: c for c in result.json()["checks"]}
    assert not checks["sneaky write"]["ok"] and "read-only transaction" in checks["sneaky write"]["detail"]
    assert checks["notes readable"]["ok"]
    assert result.code == 1
    assert db.execute("SELECT count(*) FROM notes").fetchone() == (0,)
    # asked with the other checks, then (refused there) on its own: each time read-only, rolled back
    sent = [q for q in api.requests if "INSERT INTO notes" in q]
    assert len(sent) == 2
    assert all(q.startswith("START TRANSACTION READ ONLY;") and q.endswith("ROLLBACK;") for q in sent)


def test_cancel_over_https_stops_the_migration_in_flight(api, folder, db):
    import threading

    from wizard.core import catalog
    from wizard.core.apirunner import ApiRunner
    from wizard.core.db.https import ApiDatabase

    folder.write("001_slow.sql", "CREATE TABLE slow (id int);\nSELECT pg_sleep(30);")
    folder.write("002_after.sql", "CREATE TABLE after_slow (id int);")
    database = ApiDatabase(REF, TOKEN, api.url)
    database.probe()
    run = ApiRunner(database, catalog.load(folder.path))
    threading.Timer(1.0, run.cancel).start()
    started = time.monotonic()
    finished = run.run()
    assert finished.interrupted and not finished.applied
    assert time.monotonic() - started < 15
    assert history(db) == [] and db.execute("SELECT to_regclass('slow')").fetchone() == (None,)
    assert db.execute(f"SELECT count(*) FROM {LEASE}").fetchone() == (0,)
