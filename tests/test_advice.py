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


# Objects Supabase's services own: (set-up, the migration, its failing line, SQLSTATE, advice entry).
SUPABASE_OWNED = [
    ("CREATE SCHEMA auth",
     "CREATE TABLE profiles (id uuid PRIMARY KEY);\nINSERT INTO profiles SELECT id FROM auth.users;", 2,
     "42P01", "supabase.auth"),
    (None, "CREATE TABLE profiles (id uuid PRIMARY KEY REFERENCES auth.users (id));", 1, "3F000", "supabase.auth"),
    (None, "INSERT INTO storage.buckets (id, name) VALUES ('avatars', 'avatars');", 1, "42P01", "supabase.storage"),
    (None, "CREATE TABLE notes (id uuid DEFAULT extensions.uuid_generate_v4());", 1, "3F000", "supabase.extensions"),
    (None, "CREATE TABLE notes (id int);\nALTER PUBLICATION supabase_realtime ADD TABLE notes;", 2,
     "42704", "supabase.realtime"),
    (None, "SELECT cron.schedule('nightly', '0 3 * * *', 'SELECT 1');", 1, "3F000", "supabase.cron"),
    (None, "SELECT net.http_post('https://example.com');", 1, "3F000", "supabase.net"),
    ("CREATE SCHEMA vault", "SELECT vault.create_secret('s3cr3t', 'api');", 1, "42883", "supabase.vault"),
    # a role the compatibility step does not make (roles are the server's, shared by the suite's databases)
    (None, "CREATE TABLE notes (id int);\nGRANT SELECT ON notes TO supabase_read_only_user;", 2, "42704",
     "supabase.roles"),
]


@pytest.mark.parametrize("setup, sql, line, sqlstate, key", SUPABASE_OWNED, ids=[f"{s[3]}-{s[4]}" for s in SUPABASE_OWNED])
def test_objects_supabase_owns_get_their_owner_advice(folder, database, db, cli, setup, sql, line, sqlstate, key):
    if setup:
        db.execute(setup)
    folder.write("001_uses_supabase.sql", sql)
    result = cli("apply", "--json", "--no-compat", "--migrations", folder.path, "--database-url", database)
    assert result.code == 1, result.output
    assert_clean(result)
    report = result.json()
    assert (report["failed"]["sqlstate"], report["failed"]["line"]) == (sqlstate, line), report["failed"]
    found = report["advice"]
    assert found["key"] == key, found
    assert "{" not in found["cause"] + found["fix"], found
    assert "Supabase" in found["cause"] and found["actions"]
    assert not any("a migration is missing" in n for n in found["notes"]), found["notes"]
    assert history(db) == []


def test_a_missing_auth_users_is_not_blamed_on_the_folder(folder, database, db, cli):
    db.execute("CREATE SCHEMA auth")
    folder.write("001_users.sql", "CREATE TABLE public.users (id uuid PRIMARY KEY);")
    folder.write("002_profiles.sql", "CREATE TABLE profiles (id uuid PRIMARY KEY REFERENCES auth.users (id));")
    result = cli("apply", "--no-compat", "--migrations", folder.path, "--database-url", database)
    assert result.code == 1
    assert_clean(result)
    assert "Supabase Auth" in result.err and "--no-compat" in result.err, result.err
    assert "No migration in the folder creates users" not in result.err
    assert "001_users.sql creates users" not in result.err  # public.users is another table
    report = cli("apply", "--json", "--no-compat", "--migrations", folder.path, "--database-url", database).json()
    assert report["advice"]["key"] == "supabase.auth" and report["advice"]["notes"] == []


def test_a_storage_table_owned_by_its_service_gets_its_own_advice(folder, server, database, db, cli):
    db.execute(compat.script())  # storage.objects and Supabase's roles, as the compatibility step makes them
    with server.connect() as admin:
        admin.execute("DROP ROLE IF EXISTS wizard_project_owner")
        admin.execute("CREATE ROLE wizard_project_owner LOGIN PASSWORD 'owner-pass'")
        admin.execute(f'GRANT CREATE ON DATABASE "{db.info.dbname}" TO wizard_project_owner')
    db.execute("ALTER TABLE storage.objects OWNER TO supabase_storage_admin")  # as on a Supabase project
    db.execute("GRANT USAGE ON SCHEMA storage TO wizard_project_owner")
    db.execute("GRANT ALL ON storage.objects TO wizard_project_owner")
    try:
        url = with_database(server.admin_url, db.info.dbname)
        owner = f"postgresql://wizard_project_owner:owner-pass@{url.split('@', 1)[1]}"
        folder.write("001_storage.sql", "-- files\nALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;")
        result = cli("apply", "--json", "--migrations", folder.path, "--database-url", owner)
        text = cli("apply", "--migrations", folder.path, "--database-url", owner)
    finally:
        db.execute("DROP SCHEMA IF EXISTS supabase_migrations CASCADE")
        db.execute("REVOKE ALL ON storage.objects FROM wizard_project_owner")
        db.execute("REVOKE ALL ON SCHEMA storage FROM wizard_project_owner")
        with server.connect() as admin:
            admin.execute(f'REVOKE ALL ON DATABASE "{db.info.dbname}" FROM wizard_project_owner')
            admin.execute("DROP ROLE wizard_project_owner")
    assert result.code == 1, result.output
    report = result.json()
    assert report["failed"]["sqlstate"] == "42501" and report["failed"]["line"] == 2
    assert "must be owner of table objects" in report["failed"]["message"]
    found = report["advice"]
    assert found["key"] == "supabase.storage-owner"
    assert "supabase_storage_admin" in found["cause"] and "CREATE POLICY" in found["fix"]
    assert "supabase_storage_admin" in text.err and "CREATE POLICY" in text.err, text.err


@pytest.mark.parametrize("sqlstate, message, key", [
    ("42P01", 'relation "storage.objects" does not exist', "supabase.storage"),
    ("42883", "function graphql.resolve(text) does not exist", "supabase.graphql"),
    ("3F000", 'schema "graphql_public" does not exist', "supabase.graphql"),
    ("3F000", 'schema "supabase_functions" does not exist', "supabase.supabase_functions"),
    ("3F000", 'schema "realtime" does not exist', "supabase.realtime"),
    ("42501", "must be owner of relation buckets", "supabase.storage-owner"),
    ("42501", "permission denied for schema auth", "supabase.permission"),
    ("42P01", 'relation "users" does not exist', "sqlstate.42P01"),
    ("42P01", 'relation "app.users" does not exist', "sqlstate.42P01"),
    ("42704", 'role "app_reader" does not exist', "sqlstate.42704"),
])
def test_the_owner_is_read_from_the_server_message(sqlstate, message, key):
    from wizard.core.diagnosis import Diagnosis

    found = advice.for_failure(Diagnosis("001", "x", "001_x.sql", sqlstate, message, line=1))
    assert found.key == key or (key == "sqlstate.42704" and found.key.startswith("sqlstate.")), found
    assert "{" not in found.cause + found.fix


def test_every_supabase_schema_has_an_entry():
    for schema, (key, _) in advice.SUPABASE_SCHEMAS.items():
        found = advice.entry("supabase", key, object=f"{schema}.x", schema=schema)
        assert found and found.title and found.cause and found.fix and found.actions, schema
    for key in advice.keys("supabase"):
        found = advice.entry("supabase", key, object="x", schema="auth", message="m")
        assert "{" not in found.cause + found.fix, key
