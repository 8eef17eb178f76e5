"""Over HTTPS several migrations travel in one request (a pack), each in its own transaction: few
requests against the Management API's 60 a minute, the same history as one request per migration,
and a failure inside a pack located in its file as when the migration travels alone."""

import re
import sys

import pytest
from api_server import REF, TOKEN, ApiServer
from helpers import ROOT, assert_clean, history, new_database, tables

sys.path.insert(0, str(ROOT / "bench"))
from generate import generate  # noqa: E402

COUNT = 128
RECORDED = re.compile(r"INSERT INTO supabase_migrations\.schema_migrations \(version, name, statements\) VALUES \('([^']+)'")
HISTORY = """
SELECT m.version, m.name, m.statements, w.name, w.checksum, w.method, w.tool_version
  FROM supabase_migrations.schema_migrations m JOIN supabase_migrations.migration_wizard_history w USING (version)
 ORDER BY m.version"""


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("generated") / "migrations"
    generate(folder, COUNT)
    return folder


def versions_of(folder) -> list[str]:
    return sorted(p.name.split("_", 1)[0] for p in folder.glob("*.sql"))


def apply(cli, api, project, folder, *args):
    result = cli("apply", "--yes", "--json", *args, "--migrations", folder, "--api-url", api.url, cwd=project)
    assert_clean(result)
    assert TOKEN not in result.output
    return result


def packs(api) -> list[list[str]]:
    """The versions each request recorded, for the requests that recorded any."""
    found = [RECORDED.findall(q) for q in api.requests]
    return [versions for versions in found if versions]


def test_128_migrations_in_few_requests_with_the_history_of_one_request_each(api, project, generated, db, cli,
                                                                             server):
    VERSIONS = versions_of(generated)
    assert len(VERSIONS) == COUNT
    packed = apply(cli, api, project, generated)
    assert packed.code == 0, packed.err[-3000:]
    report = packed.json()
    assert [a["version"] for a in report["applied"]] == VERSIONS
    migration_requests = packs(api)
    assert [v for pack in migration_requests for v in pack] == VERSIONS  # each once, in order
    assert len(migration_requests) <= 16
    budget = report["requests"]
    assert budget["requests"] == len(migration_requests) and budget["migrations"] == COUNT
    assert budget["sent"] == len(api.requests)  # the whole command, its reads before the run included
    print(f"\npacked: {len(migration_requests)} migration requests, {len(api.requests)} requests for the "
          f"whole apply command")
    assert len(api.requests) <= 16
    assert f"{len(migration_requests)} requests for {COUNT} migrations" in packed.err

    # the other commands ask their catalog reads in as few requests as the answers allow
    for command, most in (("status", 3), ("plan", 4), ("verify", 2)):
        api.requests.clear()
        result = cli(command, "--json", "--migrations", generated, "--api-url", api.url, cwd=project)
        assert_clean(result)
        assert result.code == 0, result.err[-3000:]
        assert len(api.requests) <= most, (command, [q[:80] for q in api.requests])

    with new_database(server.admin_url) as other_url, ApiServer(other_url, REF, TOKEN) as alone:
        single = apply(cli, alone, project, generated, "--pack-size", "0")
        assert single.code == 0, single.err[-3000:]
        assert len(packs(alone)) == COUNT and all(len(p) == 1 for p in packs(alone))
        import psycopg

        with psycopg.connect(other_url, autocommit=True) as conn:
            one_each = conn.execute(HISTORY).fetchall()
    assert db.execute(HISTORY).fetchall() == one_each
    assert len(one_each) == COUNT


def test_a_failure_in_the_middle_of_a_pack_is_located_and_what_came_before_stays(api, project, generated, db, cli,
                                                                                 tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    for path in sorted(generated.glob("*.sql")):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    VERSIONS = versions_of(folder)
    fortieth = sorted(folder.glob(f"{VERSIONS[39]}_*.sql"))[0]
    text = fortieth.read_text(encoding="utf-8")
    broken = text.rstrip("\n") + "\nSELECT missing_column FROM no_such_table;\n"
    line = broken.count("\n")  # the last line
    fortieth.write_text(broken, encoding="utf-8")

    result = apply(cli, api, project, folder)
    assert result.code == 1, result.err[-3000:]
    report = result.json()
    failed = report["failed"]
    assert (failed["version"], failed["sqlstate"], failed["line"]) == (VERSIONS[39], "42P01", line)
    assert failed["file"].endswith(fortieth.name)
    assert [a["version"] for a in report["applied"]] == VERSIONS[:39]
    assert [(s["version"], s["outcome"]) for s in report["stopped"]] == [(VERSIONS[39], "failed")]
    assert [p["version"] for p in report["not_attempted"]] == VERSIONS[40:]
    assert history(db) == VERSIONS[:39]
    created = re.search(r"CREATE TABLE (?:public\.)?(\w+)", text).group(1)
    assert created not in tables(db)  # nothing of the 40th kept
    requests = packs(api)
    assert [VERSIONS[39]] in requests  # located alone, after the pack failed
    assert len(requests) <= 4

    text_run = cli("apply", "--yes", "--migrations", folder, "--api-url", api.url, cwd=project)  # as a person reads it
    assert_clean(text_run)
    assert f"{fortieth.name}:{line}" in text_run.err and "Fix:" in text_run.err

    fortieth.write_text(text, encoding="utf-8")  # fixed: the next run finishes the folder
    api.requests.clear()
    again = apply(cli, api, project, folder)
    assert again.code == 0, again.err[-3000:]
    assert [a["version"] for a in again.json()["applied"]] == VERSIONS[39:]
    assert history(db) == VERSIONS


def test_a_file_without_a_transaction_splits_the_packs(api, project, folder, db, cli):
    folder.write("001_a.sql", "CREATE TABLE a (id int, v text);")
    folder.write("002_b.sql", "CREATE TABLE b (id int);")
    folder.write("003_index.sql", "-- wizard:no-transaction\nCREATE INDEX CONCURRENTLY a_v_idx ON a (v);")
    folder.write("004_c.sql", "CREATE TABLE c (id int);")
    folder.write("005_d.sql", "CREATE TABLE d (id int);")
    result = apply(cli, api, project, folder.path)
    assert result.code == 0, result.err
    assert packs(api) == [["001", "002"], ["003"], ["004", "005"]]
    assert result.json()["requests"]["requests"] == 4  # the index's statement, and its history rows
    assert history(db) == ["001", "002", "003", "004", "005"]


def test_a_size_budget_splits_the_packs(api, project, folder, db, cli):
    for i in range(1, 7):
        folder.write(f"00{i}_t{i}.sql", f"-- {'x' * 400}\nCREATE TABLE t{i} (id int);\n")
    result = apply(cli, api, project, folder.path, "--pack-size", "1")
    assert result.code == 0, result.err
    assert packs(api) == [["001", "002"], ["003", "004"], ["005", "006"]]
    assert "3 requests for 6 migrations" in result.err
    assert history(db) == ["001", "002", "003", "004", "005", "006"]


def test_a_pack_size_that_is_no_number_is_a_usage_error(project, folder, cli):
    folder.write("001_a.sql", "CREATE TABLE a (id int);")
    result = cli("apply", "--yes", "--pack-size", "big", "--migrations", folder.path, cwd=project)
    assert_clean(result)
    assert result.code == 2 and "--pack-size" in result.err


def recorded_once(db) -> list[str]:
    rows = db.execute("SELECT version FROM supabase_migrations.migration_wizard_history ORDER BY 1").fetchall()
    assert history(db) == [r[0] for r in rows]
    return [r[0] for r in rows]


def four(folder):
    for i in range(1, 5):
        folder.write(f"00{i}_m{i}.sql", f"CREATE TABLE m{i} (id int);\nINSERT INTO m{i} VALUES ({i});")
    return ["001", "002", "003", "004"]


@pytest.mark.parametrize("mode", ["close", "502"])
def test_a_pack_whose_answer_is_lost_is_settled_from_the_history(api, project, folder, db, cli, mode):
    versions = four(folder)
    api.lose_reply, api.lost_reply_mode = 1, mode  # the first request holding migrations: the pack
    result = apply(cli, api, project, folder.path)
    assert result.code == 0, result.err
    assert [(a["version"], a["outcome"]) for a in result.json()["applied"]] == [
        (v, "applied-reply-lost") for v in versions]
    assert "reading the history before anything else" in result.err
    assert packs(api) == [versions]  # never sent twice
    assert recorded_once(db) == versions


def test_a_pack_that_did_not_run_is_sent_again(api, project, folder, db, cli):
    versions = four(folder)
    api.lose_reply, api.lost_reply_mode = 1, "502-not-run"
    result = apply(cli, api, project, folder.path)
    assert result.code == 0, result.err
    assert [(a["version"], a["outcome"]) for a in result.json()["applied"]] == [(v, "applied") for v in versions]
    assert "001_m1.sql was not applied" in result.err and "again, once" in result.err
    assert packs(api) == [versions, ["001"], ["002", "003", "004"]]
    assert recorded_once(db) == versions


def test_a_pack_lost_once_more_for_its_first_migration_stops_the_run(api, project, folder, db, cli):
    versions = four(folder)
    api.lose_reply, api.lost_reply_mode = 1, "502-not-run"
    first = api.run

    def lose_the_second_too(query):  # the stand-in loses the pack, then 001 alone
        if query.startswith("BEGIN;") and api.migration_requests == 2:
            raise ConnectionResetError
        return first(query)

    api.run = lose_the_second_too
    api.http.handle_error = lambda request, address: None  # the connection just closes, quietly
    result = apply(cli, api, project, folder.path)
    assert result.code == 3, result.err
    report = result.json()
    assert report["applied"] == [] and history(db) == []
    assert [(s["version"], s["outcome"]) for s in report["stopped"]] == [("001", "not-applied")]
    assert [p["version"] for p in report["not_attempted"]] == versions[1:]


def test_a_migration_that_fails_in_its_pack_and_goes_through_alone_lets_the_run_carry_on(api, project, folder, db,
                                                                                       cli):
    # a temporary table lasts the session: in one request, the second file meets the first one's
    folder.write("001_a.sql", "CREATE TEMP TABLE scratch (id int);\nCREATE TABLE a (id int);")
    folder.write("002_b.sql", "CREATE TEMP TABLE scratch (id int);\nCREATE TABLE b (id int);")
    folder.write("003_c.sql", "CREATE TABLE c (id int);")
    folder.write("004_d.sql", "CREATE TABLE d (id int);")
    result = apply(cli, api, project, folder.path)
    assert result.code == 0, result.err
    assert [(a["version"], a["outcome"]) for a in result.json()["applied"]] == [
        (v, "applied") for v in ("001", "002", "003", "004")]
    assert "002_b.sql failed in its request" in result.err and "running it alone" in result.err
    assert packs(api) == [["001", "002", "003", "004"], ["002"], ["003", "004"]]
    assert recorded_once(db) == ["001", "002", "003", "004"]


def test_cancel_during_a_pack_keeps_what_committed_and_rolls_back_the_one_in_progress(api, folder, db):
    import threading
    import time

    from wizard.core import catalog
    from wizard.core.apirunner import ApiRunner
    from wizard.core.db.https import ApiDatabase

    folder.write("001_first.sql", "CREATE TABLE first (id int);")
    folder.write("002_slow.sql", "CREATE TABLE slow (id int);\nSELECT pg_sleep(30);")
    folder.write("003_after.sql", "CREATE TABLE after_slow (id int);")
    database = ApiDatabase(REF, TOKEN, api.url)
    database.probe()
    run = ApiRunner(database, catalog.load(folder.path))
    threading.Timer(1.5, run.request_stop).start()  # as Ctrl-C does: the pack in flight is cancelled
    started = time.monotonic()
    finished = run.run()
    assert time.monotonic() - started < 15
    assert finished.interrupted and [a.version for a in finished.applied] == ["001"]
    report = run.report.to_json()
    assert [(s["version"], s["outcome"]) for s in report["stopped"]] == [("002", "not-applied")]
    assert [p["version"] for p in report["not_attempted"]] == ["003"]
    assert history(db) == ["001"] and tables(db) == {"first"}
    assert packs(api) == [["001", "002", "003"]]


def test_a_version_another_run_recorded_meanwhile_stops_the_pack_there_and_is_not_claimed(api, folder, db,
                                                                                        monkeypatch):
    from api_server import another_run_after_reading, run_over_https

    from wizard.core.events import MigrationSkipped, Notice

    for i in range(1, 4):
        folder.write(f"00{i}_t{i}.sql", f"CREATE TABLE IF NOT EXISTS t{i} (id int);")
    another_run_after_reading(monkeypatch, db, folder.path, only=["002"])  # before this run's pack
    runner, finished, events = run_over_https(api, folder.path)
    assert finished.ok
    assert [a.version for a in finished.applied] == ["001", "003"]
    assert [(e.version, e.reason) for e in events if isinstance(e, MigrationSkipped)] == [
        ("002", "applied by another run meanwhile")]
    assert finished.not_attempted == () and "not_attempted" not in runner.report.to_json()
    assert any(isinstance(e, Notice) and "002_t2.sql was applied by another run" in e.message for e in events)
    assert recorded_once(db) == ["001", "002", "003"]
    methods = dict(db.execute("SELECT version, method FROM supabase_migrations.migration_wizard_history"))
    assert methods == {"001": "https", "002": "automated", "003": "https"}
    assert packs(api) == [["001", "002", "003"], ["003"]]


def test_a_run_over_a_connection_holding_the_lock_stops_a_pack_with_exit_4_at_once(api, project, folder, db, cli,
                                                                                   database):
    import psycopg

    from wizard.core.runner import LOCK_KEY

    folder.write("001_a.sql", "CREATE TABLE a (id int);")
    assert apply(cli, api, project, folder.path).code == 0  # the compatibility step and the history are there
    folder.write("002_b.sql", "CREATE TABLE b (id int);")
    folder.write("003_c.sql", "CREATE TABLE c (id int);")
    api.requests.clear()
    holder = psycopg.connect(database, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    try:
        result = apply(cli, api, project, folder.path, "--lock-timeout", "0.5")
    finally:
        holder.close()
    assert result.code == 4, result.err
    report = result.json()
    assert report["error"]["kind"] == "lock-held" and report["applied"] == []
    assert [(s["version"], s["outcome"]) for s in report["stopped"]] == [("002", "not-applied")]
    assert [p["version"] for p in report["not_attempted"]] == ["003"]
    assert packs(api) == [["002", "003"]]  # not sent again alone: the lock is another run's
    assert history(db) == ["001"]


def test_a_pack_cut_by_the_timeout_is_settled_what_committed_is_applied_the_one_in_progress_not(api, project,
                                                                                                folder, db, cli):
    folder.write("001_first.sql", "CREATE TABLE first (id int);")
    folder.write("002_slow.sql", "CREATE TABLE slow (id int);\nSELECT pg_sleep(4);")
    folder.write("003_after.sql", "CREATE TABLE after_slow (id int);")
    result = apply(cli, api, project, folder.path, "--request-timeout", "2")
    assert result.code == 3, result.err  # 002 alone got no answer either
    report = result.json()
    assert [(a["version"], a["outcome"]) for a in report["applied"]] == [("001", "applied-reply-lost")]
    assert [(s["version"], s["outcome"]) for s in report["stopped"]] == [("002", "not-applied")]
    assert [p["version"] for p in report["not_attempted"]] == ["003"]
    assert "reading the history before anything else" in result.err
    assert "002_slow.sql was not applied" in result.err and "again, once" in result.err
    assert packs(api) == [["001", "002", "003"], ["002"]]
    assert history(db) == ["001"] and tables(db) == {"first"}
