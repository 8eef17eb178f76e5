"""The automated path over HTTPS (the Management API) with an access token and no database password."""

import pytest
from api_server import REF, TOKEN
from helpers import MIGRATIONS, assert_clean, history, migration_list, tables



def wizard(cli, api, project, *args):
    result = cli(*args, "--api-url", api.url, cwd=project)
    assert_clean(result)
    assert TOKEN not in result.output and TOKEN[4:20] not in result.output
    return result


def test_apply_status_verify_over_https(api, project, db, cli, supabase_cli, database):
    applied = wizard(cli, api, project, "apply", "--yes", "--json", "--migrations", MIGRATIONS)
    assert applied.code == 0, applied.err
    assert [a["version"] for a in applied.json()["applied"]] == [f"{i:03d}" for i in range(1, 19)]
    assert "over HTTPS" in applied.err
    migration_requests = [q for q in api.requests if q.startswith("BEGIN;")]
    # packed: the 18 migrations in one request, each in its own transaction with its history rows
    assert len(migration_requests) == 1
    assert applied.json()["requests"]["requests"] == 1 and applied.json()["requests"]["migrations"] == 18
    assert "1 request for 18 migrations" in applied.err

    status = wizard(cli, api, project, "status", "--json", "--migrations", MIGRATIONS)
    assert [m["state"] for m in status.json()["migrations"]] == ["applied"] * 18
    methods = {r[0] for r in db.execute("SELECT method FROM supabase_migrations.migration_wizard_history")}
    assert methods == {"https"}

    before = len(api.requests)
    verify = wizard(cli, api, project, "verify", "--json", "--migrations", MIGRATIONS)
    assert verify.code == 0, [c for c in verify.json()["checks"] if not c["ok"]]
    # the objects' reads together, the checks file's checks together, the seeds, the registration
    assert len(api.requests) - before <= 6

    again = wizard(cli, api, project, "apply", "--yes", "--json", "--migrations", MIGRATIONS)
    assert again.code == 0 and again.json()["applied"] == []

    plan = wizard(cli, api, project, "plan", "--json", "--migrations", MIGRATIONS)
    assert plan.code == 0 and plan.json()["pending"] == []

    supabase_project = project / "cli"
    (supabase_project / "supabase").mkdir(parents=True)
    (supabase_project / "supabase" / "migrations").symlink_to(MIGRATIONS)
    rows = migration_list(supabase_cli, supabase_project, database)
    assert rows == {f"{i:03d}": (f"{i:03d}", f"{i:03d}") for i in range(1, 19)}


def test_a_failing_migration_over_https_leaves_nothing_and_is_located(api, project, folder, db, cli):
    folder.write("001_users.sql", "CREATE TABLE users (id int PRIMARY KEY);")
    folder.write("002_broken.sql", """
        CREATE TABLE posts (id int PRIMARY KEY);
        CREATE INDEX posts_author_idx ON posts (id);
        INSERT INTO posts (id, author)
          VALUES (1, 2);
    """)
    result = wizard(cli, api, project, "apply", "--yes", "--json", "--migrations", folder.path)
    assert result.code == 1
    failed = result.json()["failed"]
    assert (failed["version"], failed["sqlstate"], failed["line"], failed["statement_index"]) == ("002", "42703", 3, 3)
    assert result.json()["advice"]["key"] == "sqlstate.42703"
    assert history(db) == ["001"]
    assert tables(db) == {"users"}

    text = wizard(cli, api, project, "apply", "--yes", "--migrations", folder.path)
    assert "002_broken.sql:3" in text.err and "Fix:" in text.err


def test_a_function_body_error_over_https_names_its_line(api, project, folder, cli):
    folder.write("001_fn.sql", "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n  SELEC 1;\nEND\n$$;")
    result = wizard(cli, api, project, "apply", "--yes", "--json", "--migrations", folder.path)
    assert result.json()["failed"]["sqlstate"] == "42601"
    assert result.json()["failed"]["line"] == 3


@pytest.mark.parametrize("mode, kind, words", [
    ("401", "https-unauthorized", "refused"),
    ("403", "https-forbidden", "may not reach project"),
    ("404", "https-not-found", "knows no project"),
    ("500", "https-service-error", "failed (500)"),
])
def test_service_refusals_have_their_own_message_and_exit_3(api, project, db, cli, mode, kind, words):
    api.mode = mode
    result = wizard(cli, api, project, "apply", "--yes", "--json", "--migrations", MIGRATIONS)
    assert result.code == 3
    assert result.json()["error"]["kind"] == kind
    assert words in result.json()["error"]["message"]
    assert history(db) == []


def test_a_wrong_token_is_refused(api, project, cli):
    (project / ".env.local").write_text(f"SUPABASE_URL=https://{REF}.supabase.co\nSUPABASE_ACCESS_TOKEN=sbp_wrong\n")
    result = wizard(cli, api, project, "status", "--json", "--migrations", MIGRATIONS)
    assert result.code == 3 and result.json()["error"]["kind"] == "https-unauthorized"
    assert "sbp_wrong" not in result.output


def test_rate_limits_are_waited_out_and_shown(api, project, folder, db, cli):
    folder.write("001_a.sql", "CREATE TABLE a (id int);")
    api.rate_limited = 3
    result = wizard(cli, api, project, "apply", "--yes", "--migrations", folder.path)
    assert result.code == 0, result.err
    assert "rate limiting" in result.err
    assert history(db) == ["001"]


def test_a_request_past_the_timeout(api, project, folder, db, cli):
    folder.write("001_a.sql", "CREATE TABLE a (id int);")
    api.mode = "slow"
    result = wizard(cli, api, project, "apply", "--yes", "--json", "--request-timeout", "1", "--migrations", folder.path)
    assert result.code == 3
    assert result.json()["error"]["kind"] == "https-timeout"
    assert "status" in result.json()["error"]["message"]
    assert history(db) == []


def test_doctor_lists_and_probes_the_https_path(api, project, cli):
    result = wizard(cli, api, project, "doctor", "--json")
    assert result.code == 0
    report = result.json()
    assert report["paths"]["https"] is True and report["paths"]["automated"] is True
    (candidate,) = [c for c in report["candidates"] if c["source"].startswith("SUPABASE_ACCESS_TOKEN")]
    assert candidate["result"] == "ok"
    assert report["found"]["SUPABASE_ACCESS_TOKEN"]["value"].startswith("sbp_****")

    api.mode = "401"
    refused = wizard(cli, api, project, "doctor", "--json")
    assert refused.code == 3
    (candidate,) = refused.json()["candidates"]
    assert candidate["result"] == "https-unauthorized" and candidate["advice"]["fix"]


def test_no_transaction_files_and_adopt_over_https(api, project, folder, db, cli):
    folder.write("001_table.sql", "CREATE TABLE big (id int, v text);")
    folder.write("002_index.sql", "-- wizard:no-transaction\nCREATE INDEX CONCURRENTLY big_v_idx ON big (v);")
    folder.write("003_by_hand.sql", "CREATE TABLE by_hand (id int);")
    db.execute("CREATE TABLE by_hand (id int)")
    applied = wizard(cli, api, project, "apply", "--yes", "--json", "--migrations", folder.path)
    assert applied.code == 1  # 003 already exists: made by hand
    assert [a["version"] for a in applied.json()["applied"]] == ["001", "002"]
    assert applied.json()["failed"]["sqlstate"] == "42P07"
    adopted = wizard(cli, api, project, "adopt", "--json", "--migrations", folder.path)
    assert adopted.code == 0 and [a["version"] for a in adopted.json()["adopted"]] == ["003"]
    assert history(db) == ["001", "002", "003"]
    assert db.execute("SELECT to_regclass('big_v_idx')").fetchone()[0] == "big_v_idx"


def test_an_unreachable_api(project, cli):
    result = cli("status", "--json", "--api-url", "http://127.0.0.1:1", "--migrations", MIGRATIONS, cwd=project)
    assert_clean(result)
    assert result.code == 3 and result.json()["error"]["kind"] == "https-unreachable"
    assert TOKEN not in result.output


def test_a_version_recorded_by_another_run_meanwhile_is_not_applied_twice(api, folder, db, monkeypatch):
    from api_server import another_run_after_reading, run_over_https

    from wizard.core.events import Notice

    folder.write("001_a.sql", "CREATE TABLE IF NOT EXISTS a (id int);")
    # over a database connection: another run over HTTPS waits for this one's lease
    another_run_after_reading(monkeypatch, db, folder.path)
    runner, finished, events = run_over_https(api, folder.path)
    assert finished.ok
    assert any(isinstance(e, Notice) and "applied by another run" in e.message for e in events)
    # said as skipped, neither applied by this run nor left "not attempted"
    assert finished.applied == [] and finished.not_attempted == ()
    report = runner.report.to_json()
    assert report["skipped"] == [{"version": "001", "name": "a", "reason": "applied by another run meanwhile"}]
    assert "not_attempted" not in report
    assert history(db) == ["001"]


@pytest.mark.parametrize("over", ["https", "connection"])
def test_a_failing_check_among_others_is_said_alone(api, project, folder, db, cli, database, over):
    # the checks are asked together; one that fails makes them go one by one, each judged
    folder.write("001_a.sql", "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1), (2);")
    (folder.path / "checks.toml").write_text(
        '[[check]]\nname = "rows"\nsql = "SELECT count(*) FROM a"\nexpect = 2\n\n'
        '[[check]]\nname = "broken"\nsql = "SELECT count(*) FROM no_such_table"\nexpect = 0\n\n'
        '[[check]]\nname = "ids"\nsql = "SELECT id FROM a"\nexpect_contains = [1, 2]\n')
    target = ["--api-url", api.url] if over == "https" else ["--database-url", database]
    assert cli("apply", "--yes", "--migrations", folder.path, *target, cwd=project).code == 0
    result = cli("verify", "--json", "--migrations", folder.path, *target, cwd=project)
    assert result.code == 1
    checks = {c["name"]: c for c in result.json()["checks"]}
    assert checks["rows"]["ok"] and checks["ids"]["ok"]
    assert not checks["broken"]["ok"] and "the query failed" in checks["broken"]["detail"]
    assert "no_such_table" in checks["broken"]["detail"]
