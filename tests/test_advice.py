"""Every failure the engine can meet gets its advice: real failing statements, real connections."""

import socket
import threading

import psycopg
import pytest
from helpers import assert_clean, history, with_database

from wizard.core import advice, compat

# (SQLSTATE, set-up run by the test's superuser connection, the migration, its failing line)
FAILURES = [
    ("42P07", "CREATE TABLE made_by_hand (id int)", "CREATE TABLE made_by_hand (id int);", 1),
    ("42710", "CREATE TABLE t (id int); CREATE POLICY read_all ON t USING (true)",
     "ALTER TABLE t ENABLE ROW LEVEL SECURITY;\nCREATE POLICY read_all ON t USING (true);", 2),
    ("42P01", None, "CREATE TABLE a (id int);\nINSERT INTO nowhere VALUES (1);", 2),
    ("42703", None, "CREATE TABLE a (id int);\nCREATE INDEX a_idx ON a (nope);", 2),
    ("42883", None, "CREATE TABLE a (id int);\nSELECT no_such_function(1);", 2),
    ("3F000", None, "CREATE TABLE a (id int);\nCREATE TABLE nowhere.b (id int);", 2),
    ("42601", None, "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n  SELEC 1;\nEND\n$$;", 3),
    ("23505", None, "CREATE TABLE codes (code text PRIMARY KEY);\nINSERT INTO codes VALUES ('a'), ('a');", 2),
    ("23503", None, "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (p int REFERENCES p);\nINSERT INTO c VALUES (7);", 3),
    ("22P02", None, "CREATE TABLE u (id uuid);\nINSERT INTO u VALUES ('not-a-uuid');", 2),
    ("25001", None, "CREATE TABLE a (id int);\nDO $$ BEGIN EXECUTE 'VACUUM a'; END $$;", 2),
    ("P0001", None, "DO $$\nBEGIN\n  RAISE EXCEPTION 'refusing: the data is not clean';\nEND $$;", 3),
]


@pytest.mark.parametrize("sqlstate, setup, sql, line", FAILURES, ids=[f[0] for f in FAILURES])
def test_each_sqlstate_gets_its_advice(folder, database, db, cli, sqlstate, setup, sql, line):
    if setup:
        db.execute(setup)
    folder.write("001_fails.sql", sql)
    result = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert result.code == 1, result.output
    assert_clean(result)
    report = result.json()
    assert report["failed"]["sqlstate"] == sqlstate, report["failed"]
    assert report["failed"]["line"] == line, report["failed"]
    assert report["advice"]["key"] == f"sqlstate.{sqlstate}"
    assert report["failed"]["advice"] == report["advice"]  # inside the failure, as the contract asks, and beside it
    assert report["advice"]["actions"] and report["advice"]["fix"]
    assert "{" not in report["advice"]["cause"], report["advice"]["cause"]
    assert history(db) == []


def test_permission_denied(folder, server, database, db, cli):
    db.execute(compat.script())
    db.execute("CREATE TABLE owned_by_admin (id int)")
    with server.connect() as admin:
        admin.execute("DROP ROLE IF EXISTS wizard_limited")
        admin.execute("CREATE ROLE wizard_limited LOGIN PASSWORD 'limited-pass'")
        admin.execute(f'GRANT CREATE ON DATABASE "{db.info.dbname}" TO wizard_limited')
    try:
        url = with_database(server.admin_url, db.info.dbname)
        host = url.split("@", 1)[1]
        limited = f"postgresql://wizard_limited:limited-pass@{host}"
        folder.write("001_alter.sql", "ALTER TABLE owned_by_admin ADD COLUMN extra int;")
        result = cli("apply", "--json", "--migrations", folder.path, "--database-url", limited)
    finally:
        db.execute("DROP SCHEMA IF EXISTS supabase_migrations CASCADE")
        with server.connect() as admin:
            admin.execute(f'REVOKE ALL ON DATABASE "{db.info.dbname}" FROM wizard_limited')
            admin.execute("DROP ROLE wizard_limited")
    assert result.code == 1 and result.out, result.output
    assert result.json()["failed"]["sqlstate"] == "42501"
    assert result.json()["advice"]["key"] == "sqlstate.42501"


def test_table_lock_timeout(folder, database, db, cli):
    db.execute("CREATE TABLE busy (id int)")
    holder = psycopg.connect(database)
    holder.execute("LOCK TABLE busy IN ACCESS EXCLUSIVE MODE")
    try:
        folder.write("001_alter.sql", "ALTER TABLE busy ADD COLUMN extra int;")
        result = cli("apply", "--json", "--table-lock-timeout", "0.3", "--migrations", folder.path,
                     "--database-url", database)
    finally:
        holder.close()
    assert result.code == 1
    assert result.json()["failed"]["sqlstate"] == "55P03"
    assert result.json()["advice"]["key"] == "sqlstate.55P03"


def test_statement_timeout(folder, database, cli):
    folder.write("001_slow.sql", "SELECT pg_sleep(2);")
    result = cli("apply", "--json", "--statement-timeout", "0.2", "--migrations", folder.path, "--database-url", database)
    assert result.json()["failed"]["sqlstate"] == "57014"
    assert result.json()["advice"]["key"] == "sqlstate.57014"


def test_the_undefined_table_advice_names_the_later_file(folder, database, cli):
    folder.write("001_posts.sql", "CREATE TABLE posts (id int);\nINSERT INTO authors VALUES (1);")
    folder.write("002_authors.sql", "CREATE TABLE authors (id int);")
    result = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    notes = result.json()["advice"]["notes"]
    assert any("002_authors.sql creates authors, but it comes after this migration" in n for n in notes)


def test_every_advice_entry_is_complete():
    for section in ("sqlstate", "connection", "guide", "https", "rest"):
        for key in advice.keys(section):
            entry = advice.entry(section, key, ref="abcdefghijklmnopqrst")
            assert entry.title and entry.cause and entry.fix and entry.actions, (section, key)
    for needed in ("42P07", "42710", "42P01", "42703", "42883", "42501", "42601", "23505", "55P03", "57014",
                   "25001", "3D000", "28P01", "26000", "42P05"):
        assert needed in advice.keys("sqlstate")
    for needed in ("connection-refused", "dns-failure", "network-unreachable", "unknown-tenant", "ssl-required",
                   "wrong-password", "database-missing", "timeout", "bad-url"):
        assert needed in advice.keys("connection")
    assert {"api-500", "rls-hides-rows"} <= set(advice.keys("guide"))
    link = advice.for_connection("wrong-password", ref="abcdefghijklmnopqrst").fix
    assert "https://supabase.com/dashboard/project/abcdefghijklmnopqrst/database/settings" in link


def connect_error(cli, folder, url, *extra):
    folder.write("001_a.sql", "CREATE TABLE a (id int);")
    result = cli("status", "--json", "--migrations", folder.path, "--database-url", url, *extra)
    assert_clean(result)
    return result


def test_database_missing(folder, database, cli):
    result = connect_error(cli, folder, with_database(database, "no_such_database"))
    assert result.code == 3
    assert result.json()["error"]["kind"] == "database-missing"


def test_unknown_role(folder, database, cli):
    host = database.split("@", 1)[1]
    result = connect_error(cli, folder, f"postgresql://no_such_role_x@{host}")
    assert result.code == 3
    assert result.json()["error"]["kind"] in ("unknown-role", "wrong-password")


def test_timeout_against_a_server_that_never_answers(folder, cli):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    accepted = []
    stop = threading.Event()

    def accept():
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(silent.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        port = silent.getsockname()[1]
        result = connect_error(cli, folder, f"postgresql://u:pw@127.0.0.1:{port}/db", "--connect-timeout", "2")
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        silent.close()
    assert result.code == 3
    assert result.json()["error"]["kind"] == "timeout"


def test_network_unreachable(folder, cli):
    result = connect_error(cli, folder, "postgresql://postgres:pw@[2001:db8::1]:5432/postgres", "--connect-timeout", "2")
    assert result.code == 3
    kind = result.json()["error"]["kind"]
    if kind != "network-unreachable":
        pytest.skip(f"this machine has an IPv6 route ({kind})")
    assert "pooler" in result.json()["error"]["message"]
