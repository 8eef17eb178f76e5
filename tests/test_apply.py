"""Applying migrations: one transaction each, history the Supabase CLI reads, failures located."""

import psycopg
import pytest
from psycopg import sql
from helpers import assert_clean, history, tables

from wizard.core import catalog, history as wizard_history
from wizard.core.events import MigrationApplied, MigrationStarted, RunFinished, StatementDone
from wizard.core.runner import Runner


def three_files(folder, third: str | None = None):
    folder.write("001_users.sql", """
        -- users first
        CREATE TABLE users (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), email text UNIQUE NOT NULL);
        CREATE INDEX users_email_idx ON users (email);
    """)
    folder.write("002_posts.sql", """
        CREATE TABLE posts (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          author uuid REFERENCES users (id) ON DELETE CASCADE
        );
    """)
    folder.write("003_comments.sql", third or """
        CREATE TABLE comments (id bigint PRIMARY KEY, post bigint REFERENCES posts (id));
        CREATE INDEX comments_post_idx ON comments (post);
        -- the author column was never created: this fails
        CREATE INDEX comments_author_idx
          ON comments (author);
        CREATE TABLE never (id int);
    """)


def test_a_failing_third_file_leaves_the_first_two_applied_and_nothing_of_itself(folder, database, db, cli):
    three_files(folder)
    result = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert result.code == 1, result.err
    assert_clean(result)
    report = result.json()
    assert report["ok"] is False
    assert [a["version"] for a in report["applied"]] == ["001", "002"]
    failed = report["failed"]
    assert failed["version"] == "003" and failed["name"] == "comments"
    assert failed["sqlstate"] == "42703"
    assert (failed["line"], failed["column"]) == (5, 16)  # where the statement names the column
    assert failed["statement_index"] == 3
    assert failed["statement"].startswith("CREATE INDEX comments_author_idx")
    assert failed["file"].endswith("003_comments.sql")
    assert "author" in failed["message"]

    assert history(db) == ["001", "002"]
    assert tables(db) == {"users", "posts"}
    assert db.execute("SELECT to_regclass('comments_post_idx')").fetchone()[0] is None

    # the file is fixed: the next run applies the rest
    folder.write("003_comments.sql", """
        CREATE TABLE comments (id bigint PRIMARY KEY, post bigint REFERENCES posts (id));
        CREATE INDEX comments_post_idx ON comments (post);
    """)
    result = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert result.code == 0, result.err
    assert [a["version"] for a in result.json()["applied"]] == ["003"]
    assert history(db) == ["001", "002", "003"]


def test_status_rerun_and_drift(folder, database, db, cli):
    three_files(folder, third="CREATE TABLE comments (id int);")
    assert cli("apply", "--yes", "--migrations", folder.path, "--database-url", database).code == 0

    status = cli("status", "--json", "--migrations", folder.path, "--database-url", database)
    assert status.code == 0
    migrations = status.json()["migrations"]
    assert [(m["version"], m["state"]) for m in migrations] == [("001", "applied"), ("002", "applied"), ("003", "applied")]
    assert all(len(m["checksum"]) == 64 for m in migrations)

    again = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert again.code == 0 and again.json() == {"ok": True, "applied": [], "failed": None}

    folder.write("002_posts.sql", "CREATE TABLE posts (id int); -- edited after it was applied")
    (folder.path / "003_comments.sql").unlink()
    states = cli("status", "--json", "--migrations", folder.path, "--database-url", database).json()["migrations"]
    assert {m["version"]: m["state"] for m in states} == {"001": "applied", "002": "drifted", "003": "missing"}


def test_history_rows_are_the_supabase_cli_s(folder, database, db):
    three_files(folder, third="CREATE TABLE comments (id int);\nINSERT INTO comments VALUES (1);")
    Runner(db, catalog.load(folder.path)).run()
    columns = db.execute(
        """SELECT column_name, data_type, is_nullable FROM information_schema.columns
            WHERE table_schema = 'supabase_migrations' AND table_name = 'schema_migrations'
            ORDER BY ordinal_position"""
    ).fetchall()
    assert columns == [("version", "text", "NO"), ("statements", "ARRAY", "YES"), ("name", "text", "YES")]
    row = db.execute(
        "SELECT name, statements FROM supabase_migrations.schema_migrations WHERE version = '003'"
    ).fetchone()
    assert row == ("comments", ["CREATE TABLE comments (id int)", "INSERT INTO comments VALUES (1)"])
    meta = db.execute(
        "SELECT checksum, method, duration_ms >= 0 FROM supabase_migrations.migration_wizard_history "
        "WHERE version = '003'"
    ).fetchone()
    assert meta == (catalog.load(folder.path).by_version()["003"].checksum, "automated", True)


def test_events_narrate_the_run(folder, db):
    three_files(folder, third="CREATE TABLE comments (id int);")
    events = []
    finished = Runner(db, catalog.load(folder.path), on_event=events.append).run()
    assert finished.ok and [a.version for a in finished.applied] == ["001", "002", "003"]
    started = [e for e in events if isinstance(e, MigrationStarted)]
    assert [(e.version, e.statements) for e in started] == [("001", 2), ("002", 1), ("003", 1)]
    done = [(e.version, e.index, e.total) for e in events if isinstance(e, StatementDone)]
    assert done == [("001", 1, 2), ("001", 2, 2), ("002", 1, 1), ("003", 1, 1)]
    assert [e.version for e in events if isinstance(e, MigrationApplied)] == ["001", "002", "003"]
    assert isinstance(events[-1], RunFinished)


def test_a_file_s_own_transaction_and_settings_do_not_leak(folder, db):
    folder.write("001_dump.sql", """
        BEGIN;
        SET search_path = '';
        SELECT pg_catalog.set_config('search_path', '', false);
        SET row_security = off;
        CREATE TABLE public.dumped (id int);
        SET statement_timeout = '50ms';
        COMMIT;
    """)
    folder.write("002_next.sql", """
        CREATE TABLE after_dump (id int);
        SELECT pg_sleep(0.2);
    """)
    finished = Runner(db, catalog.load(folder.path)).run()
    assert finished.ok, finished.failed
    assert {"dumped", "after_dump"} <= tables(db)
    assert history(db) == ["001", "002"]


def test_a_file_s_commit_does_not_split_the_wizard_transaction(folder, db):
    folder.write("001_half.sql", """
        BEGIN;
        CREATE TABLE first_half (id int);
        COMMIT;
        BEGIN;
        CREATE TABLE second_half (id int);
        SELECT 1/0;
        COMMIT;
    """)
    finished = Runner(db, catalog.load(folder.path)).run()
    assert finished.failed.sqlstate == "22012"
    assert finished.failed.line == 6
    assert tables(db) == set()
    assert history(db) == []


def test_no_transaction_header_runs_statements_one_by_one(folder, database, db, cli):
    folder.write("001_table.sql", "CREATE TABLE big (id int, v text);")
    # beside an ordinary statement, CONCURRENTLY needs the header (alone, it would run without one)
    folder.write("002_index.sql", "CREATE INDEX CONCURRENTLY big_v_idx ON big (v);\nCOMMENT ON TABLE big IS 'big';")
    plan = cli("plan", "--json", "--migrations", folder.path, "--database-url", database)
    assert plan.code == 2
    (finding,) = [f for f in plan.json()["findings"] if f["severity"] == "error"]
    assert finding["code"] == "needs-no-transaction" and finding["file"] == "002_index.sql" and finding["line"] == 1
    refused = cli("apply", "--yes", "--migrations", folder.path, "--database-url", database)
    assert refused.code == 2 and "no-transaction" in refused.err
    assert history(db) == []

    folder.write("002_index.sql", "-- wizard:no-transaction\nCREATE INDEX CONCURRENTLY big_v_idx ON big (v);\n"
                 "COMMENT ON TABLE big IS 'big';")
    result = cli("apply", "--yes", "--migrations", folder.path, "--database-url", database)
    assert result.code == 0, result.err
    assert history(db) == ["001", "002"]
    assert db.execute("SELECT to_regclass('big_v_idx')").fetchone()[0] == "big_v_idx"


def test_diagnosis_maps_errors_after_non_ascii_text_and_inside_do_blocks(folder, db):
    folder.write("001_fr.sql", """
        CREATE TABLE questions (id int, libellé text);
        INSERT INTO questions VALUES (1, 'Qu''avez-vous appris ?');
        INSERT INTO questions (id, libelle) VALUES (2, 'Décrivez votre parcours');
    """)
    finished = Runner(db, catalog.load(folder.path)).run()
    assert (finished.failed.line, finished.failed.column, finished.failed.statement_index) == (3, 28, 3)

    folder.write("001_fr.sql", """
        CREATE TABLE questions (id int, libellé text);
        DO $$
        BEGIN
          INSERT INTO questions VALUES (1, 'ok');
          RAISE EXCEPTION 'stop here';
        END
        $$;
    """)
    finished = Runner(db, catalog.load(folder.path)).run()
    assert finished.failed.message == "stop here"
    assert finished.failed.line == 5
    assert finished.failed.statement_index == 2


def test_unique_violation_in_seed_names_the_statement(folder, db):
    folder.write("001_seed.sql", """
        CREATE TABLE codes (code text PRIMARY KEY);
        INSERT INTO codes VALUES ('a');
        INSERT INTO codes VALUES ('b');
        INSERT INTO codes VALUES ('a');
    """)
    finished = Runner(db, catalog.load(folder.path)).run()
    failed = finished.failed
    assert failed.sqlstate == "23505"
    assert (failed.statement_index, failed.line) == (4, 4)
    assert failed.detail and "(code)=(a)" in failed.detail


@pytest.mark.parametrize("version", ["001", "002"])
def test_apply_only_some_versions(folder, db, version):
    three_files(folder, third="CREATE TABLE comments (id int);")
    if version == "002":
        Runner(db, catalog.load(folder.path)).run(only=["001"])
    finished = Runner(db, catalog.load(folder.path)).run(only=[version])
    assert [a.version for a in finished.applied] == [version]


def test_read_history_writes_nothing(folder, db):
    three_files(folder)
    assert wizard_history.read(db) == {}
    assert db.execute("SELECT to_regnamespace('supabase_migrations')").fetchone()[0] is None


def test_compatibility_step_makes_auth_uid_work(folder, db):
    folder.write("001_rls.sql", """
        CREATE TABLE notes (id uuid PRIMARY KEY, owner uuid NOT NULL, body text);
        ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
        CREATE POLICY own_notes ON notes FOR SELECT TO authenticated USING (owner = auth.uid());
        GRANT SELECT ON notes TO authenticated;
    """)
    finished = Runner(db, catalog.load(folder.path)).run()
    assert finished.ok, finished.failed
    me, other = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
    db.execute("INSERT INTO notes VALUES (gen_random_uuid(), %s, 'mine'), (gen_random_uuid(), %s, 'theirs')", (me, other))
    with db.transaction():
        db.execute("SET LOCAL ROLE authenticated")
        db.execute("SELECT set_config('request.jwt.claims', %s, true)", (f'{{"sub": "{me}", "role": "authenticated"}}',))
        assert db.execute("SELECT auth.uid()::text, auth.role()").fetchone() == (me, "authenticated")
        assert [r[0] for r in db.execute("SELECT body FROM notes")] == ["mine"]


def test_compatibility_step_never_runs_on_supabase(folder, db, server):
    """A Supabase project has supabase_admin, without the mark the compatibility step leaves on the
    one it creates (the role may be there from another test's run: roles are the server's)."""
    folder.write("001_t.sql", "CREATE TABLE t (id int);")
    with server.connect() as admin:
        (existed,) = admin.execute("SELECT to_regrole('supabase_admin') IS NOT NULL").fetchone()
        if existed:
            (mark,) = admin.execute("SELECT shobj_description('supabase_admin'::regrole, 'pg_authid')").fetchone()
            admin.execute("COMMENT ON ROLE supabase_admin IS NULL")
        else:
            admin.execute("CREATE ROLE supabase_admin NOLOGIN")
    try:
        assert Runner(db, catalog.load(folder.path)).run().ok
        assert db.execute("SELECT to_regprocedure('auth.uid()')").fetchone()[0] is None
    finally:
        with server.connect() as admin:
            if existed:
                admin.execute(sql.SQL("COMMENT ON ROLE supabase_admin IS {}").format(sql.Literal(mark)))
            else:
                admin.execute("DROP ROLE supabase_admin")


def test_a_lost_connection_is_reported_not_hidden(folder, database, db):
    folder.write("001_slow.sql", "CREATE TABLE s (id int);\nSELECT pg_sleep(5);")
    conn = psycopg.connect(database, autocommit=True)
    pid = conn.info.backend_pid
    import threading

    def kill():
        import time

        for _ in range(100):
            time.sleep(0.05)
            busy = db.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND query LIKE '%%pg_sleep%%'", (pid,))
            if busy.fetchone()[0]:
                db.execute("SELECT pg_terminate_backend(%s)", (pid,))
                return

    killer = threading.Thread(target=kill)
    killer.start()
    with pytest.raises(psycopg.OperationalError):
        Runner(conn, catalog.load(folder.path)).run()
    killer.join()
    assert tables(db) == set()
    assert history(db) == []


def test_copy_through_the_client_is_refused_before_anything_runs(folder, database, db, cli):
    folder.write("001_table.sql", "CREATE TABLE codes (code text);")
    folder.write("002_load.sql", "COPY codes FROM STDIN;")
    folder.write("003_dump.sql", "COPY codes TO STDOUT;")
    plan = cli("plan", "--json", "--migrations", folder.path, "--database-url", database)
    assert plan.code == 2
    found = {(f["code"], f["file"]) for f in plan.json()["findings"] if f["severity"] == "error"}
    assert found == {("copy-from-stdin", "002_load.sql"), ("copy-to-stdout", "003_dump.sql")}
    refused = cli("apply", "--yes", "--migrations", folder.path, "--database-url", database)
    assert refused.code == 2
    assert tables(db) == set() and history(db) == []


def test_a_constraint_checked_at_commit_fails_its_migration_and_stops_the_run(folder, db):
    folder.write("001_parents.sql", "CREATE TABLE parents (id int PRIMARY KEY);")
    folder.write("002_children.sql", """
        CREATE TABLE children (
          id int PRIMARY KEY,
          parent int REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED
        );
        INSERT INTO children VALUES (1, 42);
    """)
    folder.write("003_after.sql", "CREATE TABLE after_children (id int);")
    finished = Runner(db, catalog.load(folder.path)).run()
    assert [a.version for a in finished.applied] == ["001"]
    assert finished.failed.version == "002" and finished.failed.sqlstate == "23503"
    assert tables(db) == {"parents"}
    assert history(db) == ["001"]


def test_statement_progress_arrives_while_the_migration_runs(folder, database, db):
    folder.write("001_slow.sql", """
        CREATE TABLE first_step (id int);
        SELECT pg_sleep(1.5);
        CREATE TABLE last_step (id int);
    """)
    conn = psycopg.connect(database, autocommit=True)
    pid = conn.info.backend_pid
    seen = {}

    def on_event(event):
        if isinstance(event, StatementDone) and event.index == 1:
            (seen["running"],) = db.execute(
                "SELECT query FROM pg_stat_activity WHERE pid = %s AND state = 'active'", (pid,)
            ).fetchone() or (None,)

    with conn:
        finished = Runner(conn, catalog.load(folder.path), on_event=on_event).run()
    assert finished.ok
    assert "pg_sleep" in (seen["running"] or "")


def test_a_cancelled_run_rolls_back_the_running_migration_and_starts_no_other(folder, database, db):
    import threading
    import time

    folder.write("001_first.sql", "CREATE TABLE first (id int);")
    folder.write("002_slow.sql", "CREATE TABLE slow (id int);\nSELECT pg_sleep(30);")
    for i in range(3, 7):
        folder.write(f"00{i}_after.sql", f"CREATE TABLE after_{i} (id int);")
    conn = psycopg.connect(database, autocommit=True)
    runner = Runner(conn, catalog.load(folder.path))

    def cancel_when_sleeping():
        for _ in range(400):
            time.sleep(0.05)
            if db.execute("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%'").fetchone()[0]:
                runner.cancel()
                return

    canceller = threading.Thread(target=cancel_when_sleeping)
    canceller.start()
    with conn:
        finished = runner.run()
    canceller.join()
    assert finished.interrupted and [a.version for a in finished.applied] == ["001"]
    assert tables(db) == {"first"}
    assert history(db) == ["001"]


def test_an_exception_in_the_middle_of_the_pipeline_leaves_no_half_migration(folder, database, db):
    folder.write("001_first.sql", "CREATE TABLE first (id int);")
    folder.write("002_slow.sql", "CREATE TABLE slow (id int);\nSELECT pg_sleep(30);\nCREATE TABLE slow_end (id int);")
    folder.write("003_after.sql", "CREATE TABLE after_slow (id int);")
    conn = psycopg.connect(database, autocommit=True)

    def on_event(event):
        if isinstance(event, StatementDone) and (event.version, event.index) == ("002", 1):
            raise KeyboardInterrupt  # as a second Ctrl-C does, while pg_sleep runs

    with conn:
        with pytest.raises(KeyboardInterrupt):
            Runner(conn, catalog.load(folder.path), on_event=on_event).run()
        assert conn.execute("SELECT 1").fetchone() == (1,)  # the connection is usable again
    assert history(db) == ["001"]
    assert tables(db) == {"first"}
