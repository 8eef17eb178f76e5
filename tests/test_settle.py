"""Never lie about what happened: a reply lost after COMMIT is settled from the history before
anything is said or done; whatever way a run ends, `apply --json` tells what it applied, where it
stopped and what it did not attempt."""

import json
import signal

import psycopg
import pytest
from api_server import REF, TOKEN
from helpers import assert_clean, history
from pgproxy import Proxy
from test_robustness import slow_folder, start_apply, wait_for_sleep

from wizard.core import catalog
from wizard.core.events import MigrationApplied, Notice
from wizard.core.runner import LOCK_KEY, RunOptions, Runner
from wizard.core.settle import OutcomeUnknown

VERSIONS = ["001", "002", "003", "004"]


@pytest.fixture
def proxy(database):
    with Proxy(database) as running:
        yield running


@pytest.fixture
def four(folder):
    for i, version in enumerate(VERSIONS, start=1):
        folder.write(f"{version}_m{i}.sql", f"CREATE TABLE m{i} (id int);\nINSERT INTO m{i} VALUES ({i});")
    return folder


def recorded_once(db) -> list[str]:
    rows = db.execute("SELECT version FROM supabase_migrations.migration_wizard_history ORDER BY 1").fetchall()
    assert history(db) == [r[0] for r in rows]  # each migration once in both history tables
    return [r[0] for r in rows]


def notices(events) -> list[str]:
    return [e.message for e in events if isinstance(e, Notice)]


# -- the direct path: the pipeline's COMMIT answered, and the answer lost --------------------------


def test_a_commit_whose_reply_is_lost_is_read_from_the_history_and_the_run_goes_on(proxy, four, db):
    proxy.cut_after_commit = 2
    events = []
    conn = psycopg.connect(proxy.url, autocommit=True)
    with conn:
        runner = Runner(conn, catalog.load(four.path), on_event=events.append)
        finished = runner.run()
        runner.db.close()
    assert proxy.cuts == 1 and proxy.connections >= 2
    assert finished.ok, notices(events)
    assert [a.version for a in finished.applied] == VERSIONS
    assert [a.version for a in finished.applied if a.reply_lost] >= ["002"]
    assert "002_m2.sql was applied (its reply was lost)." in notices(events)
    assert recorded_once(db) == VERSIONS
    assert db.execute("SELECT count(*) FROM m2").fetchone()[0] == 1


def test_a_commit_that_never_reached_the_server_is_applied_once_more(proxy, four, db):
    proxy.cut_before_commit = 2
    events = []
    conn = psycopg.connect(proxy.url, autocommit=True)
    with conn:
        runner = Runner(conn, catalog.load(four.path), on_event=events.append)
        finished = runner.run()
        runner.db.close()
    assert proxy.cuts == 1
    assert finished.ok, notices(events)
    # 002 never committed: applied once more, not "its reply was lost" (with the pipeline, 001's answer
    # may still have been on its way when the connection was cut: that one is settled as lost)
    assert [a.version for a in finished.applied] == VERSIONS
    assert not any(a.reply_lost for a in finished.applied if a.version != "001")
    assert "002_m2.sql was not applied." in notices(events)
    assert recorded_once(db) == VERSIONS


def test_the_cli_reports_a_lost_reply_as_applied_and_a_second_run_has_nothing_to_do(proxy, four, db, cli):
    proxy.cut_after_commit = 3
    result = cli("apply", "--yes", "--json", "--migrations", four.path, "--database-url", proxy.url)
    assert_clean(result)
    assert result.code == 0, result.err
    report = result.json()
    assert [a["version"] for a in report["applied"]] == VERSIONS
    assert {a["version"]: a["outcome"] for a in report["applied"]}["003"] == "applied-reply-lost"
    assert "003_m3.sql was applied (its reply was lost)" in result.err
    assert "stopped" not in report
    again = cli("apply", "--yes", "--json", "--migrations", four.path, "--database-url", proxy.url)
    assert again.code == 0 and again.json()["applied"] == []
    assert recorded_once(db) == VERSIONS


def test_an_unreachable_database_leaves_the_outcome_unknown_exit_3_and_the_next_run_finds_out(proxy, four, db, cli,
                                                                                           database):
    proxy.cut_after_commit = 2
    proxy.down_after_cut = True
    result = cli("apply", "--yes", "--json", "--migrations", four.path, "--database-url", proxy.url)
    assert_clean(result)
    assert result.code == 3, result.err
    report = result.json()
    assert report["ok"] is False and report["error"]["kind"] == "outcome-unknown"
    assert "the outcome of 002_m2.sql" in report["error"]["message"] and "unknown" in report["error"]["message"]
    assert [a["version"] for a in report["applied"]] == ["001"]
    unknown = [s for s in report["stopped"] if s["outcome"] == "unknown"]
    assert unknown[0]["version"] == "002" and unknown[0]["file"].endswith("002_m2.sql")
    listed = [a["version"] for a in report["applied"]] + [s["version"] for s in report["stopped"]]
    assert listed + [p["version"] for p in report["not_attempted"]] == VERSIONS
    assert "trying again in" in result.err  # the waits are told
    assert "002" in history(db)  # it did commit: "unknown" was the truth for that run, not "failed"

    proxy.down = False
    again = cli("apply", "--yes", "--json", "--migrations", four.path, "--database-url", database)
    assert again.code == 0, again.err
    assert "002" not in [a["version"] for a in again.json()["applied"]]
    assert recorded_once(db) == VERSIONS


# -- the HTTPS path: the request ran and committed, its answer lost --------------------------------


@pytest.mark.parametrize("mode", ["close", "502"])
def test_a_lost_answer_over_https_is_read_from_the_history(api, project, four, db, cli, mode):
    api.lose_reply, api.lost_reply_mode = 2, mode
    # one migration per request: the Nth request that opens a transaction is the Nth migration's
    result = cli("apply", "--yes", "--json", "--pack-size", "0", "--migrations", four.path, "--api-url", api.url,
                 cwd=project)
    assert_clean(result)
    assert result.code == 0, result.err
    report = result.json()
    assert [(a["version"], a["outcome"]) for a in report["applied"]] == [
        ("001", "applied"), ("002", "applied-reply-lost"), ("003", "applied"), ("004", "applied")]
    assert "002_m2.sql was applied (its reply was lost)" in result.err
    assert len([q for q in api.requests if q.startswith("BEGIN;")]) == 4  # never sent twice
    assert recorded_once(db) == VERSIONS
    assert TOKEN not in result.output


def test_a_request_that_did_not_run_is_sent_once_more_over_https(api, project, four, db, cli):
    api.lose_reply, api.lost_reply_mode = 3, "502-not-run"
    # one migration per request: the Nth request that opens a transaction is the Nth migration's
    result = cli("apply", "--yes", "--json", "--pack-size", "0", "--migrations", four.path, "--api-url", api.url,
                 cwd=project)
    assert_clean(result)
    assert result.code == 0, result.err
    assert [(a["version"], a["outcome"]) for a in result.json()["applied"]] == [(v, "applied") for v in VERSIONS]
    assert "003_m3.sql was not applied" in result.err and "again, once" in result.err
    assert len([q for q in api.requests if q.startswith("BEGIN;")]) == 5
    assert recorded_once(db) == VERSIONS


def test_a_lost_answer_to_the_recording_of_a_file_without_transaction_over_https(api, project, folder, db, cli):
    folder.write("001_table.sql", "CREATE TABLE big (id int, v text);")
    folder.write("002_index.sql", "-- wizard:no-transaction\nCREATE INDEX CONCURRENTLY big_v_idx ON big (v);")
    folder.write("003_after.sql", "CREATE TABLE after_index (id int);")
    api.lose_reply = 2  # the second request that opens a transaction: 002's history rows
    result = cli("apply", "--yes", "--json", "--migrations", folder.path, "--api-url", api.url, cwd=project)
    assert_clean(result)
    assert result.code == 0, result.err
    assert [(a["version"], a["outcome"]) for a in result.json()["applied"]] == [
        ("001", "applied"), ("002", "applied-reply-lost"), ("003", "applied")]
    assert recorded_once(db) == ["001", "002", "003"]


def test_an_unreachable_service_leaves_the_outcome_unknown_over_https(api, four, db):
    from wizard.core.apirunner import ApiRunner
    from wizard.core.db.https import ApiDatabase

    api.lose_reply, api.down_after_loss = 2, True
    database = ApiDatabase(REF, TOKEN, api.url, timeout=5)
    database.probe()
    events = []
    runner = ApiRunner(database, catalog.load(four.path), RunOptions(pack_kib=0), on_event=events.append)
    runner.settle_delays = (0.1, 0.2)
    with pytest.raises(OutcomeUnknown) as raised:
        runner.run()
    assert raised.value.exit_code == 3 and raised.value.versions == ("002",)
    report = runner.report.to_json()
    assert [a["version"] for a in report["applied"]] == ["001"]
    assert [(s["version"], s["outcome"]) for s in report["stopped"]] == [("002", "unknown")]
    assert [p["version"] for p in report["not_attempted"]] == ["003", "004"]
    assert sum("trying again in" in n for n in notices(events)) == 2

    api.down = False
    finished = ApiRunner(database, catalog.load(four.path)).run()
    assert [a.version for a in finished.applied] == ["003", "004"]
    assert recorded_once(db) == VERSIONS


# -- whatever way a run ends, the JSON tells what happened -----------------------------------------


def test_sigterm_stops_the_run_like_ctrl_c_and_the_json_tells_what_happened(folder, database, db):
    slow_folder(folder, database, db)
    folder.write("003_after.sql", "CREATE TABLE after_slow (id int);")
    process = start_apply(folder, database)
    wait_for_sleep(db)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "rolled back" in err
    report = json.loads(out)
    assert report["ok"] is False
    assert [a["version"] for a in report["applied"]] == ["001"]
    assert [(s["version"], s["outcome"]) for s in report["stopped"]] == [("002", "not-applied")]
    assert [p["version"] for p in report["not_attempted"]] == ["003"]
    assert history(db) == ["001"]
    assert db.execute("SELECT to_regclass('slow_one')").fetchone()[0] is None  # nothing half applied


def test_a_stop_asked_once_the_next_migration_was_sent_reports_that_one_as_stopped(folder, database, db):
    # the pipeline sends 002 before 001's COMMIT is read: a stop asked for in between cancels 002 on
    # the server, so 002 was attempted (stopped, not applied), never "not attempted"
    slow_folder(folder, database, db)
    folder.write("003_after.sql", "CREATE TABLE after_slow (id int);")
    events = []

    def on_event(event):
        events.append(event)
        if isinstance(event, MigrationApplied) and event.version == "001":
            runner.request_stop()

    with psycopg.connect(database, autocommit=True) as conn:
        runner = Runner(conn, catalog.load(folder.path), on_event=on_event)
        finished = runner.run()
    assert finished.interrupted
    assert [a.version for a in finished.applied] == ["001"]
    assert [(s.version, s.outcome.value) for s in finished.stopped] == [("002", "not-applied")]
    assert [p.version for p in finished.not_attempted] == ["003"]
    assert "Interrupted: 002_slow.sql was rolled back." in notices(events)
    assert history(db) == ["001"]
    assert db.execute("SELECT to_regclass('slow_one')").fetchone()[0] is None


def test_a_second_signal_quits_at_once_and_the_json_still_tells(folder, database, db):
    slow_folder(folder, database, db)
    process = start_apply(folder, database)
    wait_for_sleep(db)
    process.send_signal(signal.SIGTERM)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 130, err
    report = json.loads(out)
    assert [a["version"] for a in report["applied"]] == ["001"]
    assert history(db) == ["001"]


def test_a_held_lock_lists_what_was_not_attempted(four, database, db, cli):
    holder = psycopg.connect(database, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    try:
        result = cli("apply", "--yes", "--json", "--lock-timeout", "0.5", "--migrations", four.path,
                     "--database-url", database)
    finally:
        holder.close()
    assert result.code == 4
    report = result.json()
    assert report["error"]["kind"] == "lock-held" and report["applied"] == []
    assert [p["version"] for p in report["not_attempted"]] == VERSIONS


def test_the_lost_session_s_backend_is_ended_before_the_history_is_read_and_nothing_else_is(database, db):
    from wizard.core.db.direct import DirectDatabase

    lost = psycopg.connect(database, autocommit=True, application_name="migration-wizard")
    other = psycopg.connect(database, autocommit=True, application_name="someone-else")
    new = psycopg.connect(database, autocommit=True, application_name="migration-wizard")
    try:
        lost.execute("BEGIN")
        lost.execute("CREATE TABLE half (id int)")  # a transaction the lost session never committed
        assert DirectDatabase(new).wait_gone(other.info.backend_pid, timeout=1) is True  # not this run's: untouched
        assert other.execute("SELECT 1").fetchone() == (1,)
        assert DirectDatabase(new).wait_gone(lost.info.backend_pid) is True
        assert db.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s",
                          (lost.info.backend_pid,)).fetchone()[0] == 0
        assert db.execute("SELECT to_regclass('half')").fetchone()[0] is None
    finally:
        for conn in (lost, other, new):
            conn.close()
