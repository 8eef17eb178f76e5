"""Files that run without a transaction: other tools' markers (Atlas, dbmate), and files made only of
statements that cannot run in one."""

import os
import pty
import select
import sys

from helpers import ROOT, assert_clean, cli_env, history

from wizard.core import catalog


def index_state(db, name: str):
    """(exists, valid) of an index."""
    row = db.execute(
        "SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass(%s)", (name,)
    ).fetchone()
    return (row is not None, bool(row and row[0]))


def test_atlas_txmode_none_runs_the_file_without_a_transaction(folder, database, db, cli):
    folder.write("001_table.sql", "CREATE TABLE items (id int, v text);")
    folder.write("002_index.sql", """
        -- atlas:txmode none

        -- Create index "items_v_idx" to table: "items"
        CREATE INDEX CONCURRENTLY items_v_idx ON items (v);
        ALTER TABLE items ADD COLUMN note text;
    """)
    plan = cli("plan", "--json", "--migrations", folder.path, "--database-url", database)
    assert plan.code == 0, plan.output
    (finding,) = [f for f in plan.json()["findings"] if f["file"] == "002_index.sql"]
    assert finding["severity"] == "info" and "atlas:txmode none" in finding["message"]

    result = cli("apply", "--yes", "--migrations", folder.path, "--database-url", database)
    assert result.code == 0, result.output
    assert history(db) == ["001", "002"]
    assert index_state(db, "items_v_idx") == (True, True)

    # "file" is Atlas's default: a transaction, and then CONCURRENTLY beside other statements is refused
    folder.write("003_more.sql", """
        -- atlas:txmode file

        CREATE INDEX CONCURRENTLY items_note_idx ON items (note);
        CREATE TABLE more (id int);
    """)
    refused = cli("apply", "--yes", "--migrations", folder.path, "--database-url", database)
    assert refused.code == 2 and "003_more.sql:3" in refused.err
    assert history(db) == ["001", "002"]


def test_dbmate_files_run_their_up_section_only(folder, database, db, cli):
    folder.write("20240101000000_create_items.sql", """
        -- migrate:up
        CREATE TABLE items (id int, v text);
        INSERT INTO items VALUES (1, 'a');

        -- migrate:down
        DROP TABLE items;
        this line is not SQL at all, and never read;
    """)
    folder.write("20240102000000_index_items.sql", """
        -- migrate:up transaction:false
        CREATE INDEX CONCURRENTLY items_v_idx ON items (v);

        -- migrate:down transaction:false
        DROP INDEX CONCURRENTLY items_v_idx;
    """)
    loaded = catalog.load(folder.path)
    assert loaded.ok, loaded.problems
    first, second = loaded.migrations
    assert [s.text for s in first.statements] == ["CREATE TABLE items (id int, v text)", "INSERT INTO items VALUES (1, 'a')"]
    assert not first.no_transaction and second.no_transaction
    assert second.transaction_marker == "-- migrate:up transaction:false"

    plan = cli("plan", "--json", "--migrations", folder.path, "--database-url", database)
    assert plan.code == 0, plan.output
    downs = [f for f in plan.json()["findings"] if f["code"] == "dbmate-down"]
    assert [(f["file"], f["line"]) for f in downs] == [("20240101000000_create_items.sql", 5),
                                                      ("20240102000000_index_items.sql", 4)]

    result = cli("apply", "--yes", "--migrations", folder.path, "--database-url", database)
    assert result.code == 0, result.output
    assert history(db) == ["20240101000000", "20240102000000"]
    assert db.execute("SELECT count(*) FROM items").fetchone()[0] == 1  # the down section never ran
    assert index_state(db, "items_v_idx") == (True, True)
    (statements,) = db.execute(
        "SELECT statements FROM supabase_migrations.schema_migrations WHERE version = '20240101000000'").fetchone()
    assert statements == ["CREATE TABLE items (id int, v text)", "INSERT INTO items VALUES (1, 'a')"]

    # the manual path's export holds the up section only
    exported = cli("manual", "--export", folder.path.parent / "export", "--migrations", folder.path)
    assert exported.code == 0, exported.output
    text = "".join(p.read_text() for p in (folder.path.parent / "export").glob("*create_items*.sql"))
    assert "INSERT INTO items" in text and "DROP TABLE" not in text


def test_a_file_of_concurrent_statements_alone_runs_without_a_transaction_after_a_warning(folder, database, db, cli):
    folder.write("001_table.sql", "CREATE TABLE big (id int, v text, w text);")
    folder.write("002_indexes.sql", """
        -- built without blocking writes
        SET lock_timeout = '5s';
        CREATE INDEX CONCURRENTLY big_v_idx ON big (v);
        CREATE INDEX CONCURRENTLY big_w_idx ON big (w);
    """)
    plan = cli("plan", "--json", "--migrations", folder.path, "--database-url", database)
    assert plan.code == 0, plan.output
    (warning,) = [f for f in plan.json()["findings"] if f["file"] == "002_indexes.sql"]
    assert warning["severity"] == "warning" and warning["code"] == "runs-without-transaction"
    assert "CREATE INDEX CONCURRENTLY at line 3" in warning["message"]
    assert "CREATE INDEX CONCURRENTLY at line 4" in warning["message"]

    result = cli("apply", "--yes", "--migrations", folder.path, "--database-url", database)
    assert result.code == 0, result.output
    assert_clean(result)
    assert "warning: 002_indexes.sql:2: the file holds only statements that run outside a transaction" in result.err
    assert history(db) == ["001", "002"]
    assert index_state(db, "big_v_idx") == (True, True)
    assert index_state(db, "big_w_idx") == (True, True)


def test_a_mixed_file_is_refused_naming_each_statement(folder, database, db, cli):
    folder.write("001_table.sql", "CREATE TABLE big (id int, v text, w text);")
    folder.write("002_mixed.sql", """
        CREATE INDEX CONCURRENTLY big_v_idx ON big (v);
        CREATE TABLE other (id int);
        DROP INDEX CONCURRENTLY big_v_idx;
    """)
    plan = cli("plan", "--json", "--migrations", folder.path, "--database-url", database)
    assert plan.code == 2
    errors = [f for f in plan.json()["findings"] if f["severity"] == "error"]
    assert [(f["file"], f["line"], f["code"]) for f in errors] == [
        ("002_mixed.sql", 1, "needs-no-transaction"), ("002_mixed.sql", 3, "needs-no-transaction")]
    assert errors[0]["message"].startswith("CREATE INDEX CONCURRENTLY cannot run inside a transaction")
    assert errors[1]["message"].startswith("DROP INDEX CONCURRENTLY cannot run inside a transaction")
    assert "CREATE TABLE other (id int) at line 2" in errors[0]["message"]

    refused = cli("apply", "--yes", "--migrations", folder.path, "--database-url", database)
    assert refused.code == 2
    assert "002_mixed.sql:1: CREATE INDEX CONCURRENTLY" in refused.err
    assert "002_mixed.sql:3: DROP INDEX CONCURRENTLY" in refused.err
    assert history(db) == []


def test_an_enum_value_added_alone_runs_without_a_transaction_and_the_next_file_uses_it(folder, database, db, cli):
    folder.write("001_mood.sql", "CREATE TYPE mood AS ENUM ('sad', 'ok');")
    folder.write("002_happy.sql", "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'happy';")
    folder.write("003_use.sql", "CREATE TABLE days (m mood DEFAULT 'happy'); INSERT INTO days DEFAULT VALUES;")
    plan = cli("plan", "--json", "--migrations", folder.path, "--database-url", database)
    assert plan.code == 0, plan.output
    (warning,) = [f for f in plan.json()["findings"] if f["file"] == "002_happy.sql"]
    assert warning["code"] == "runs-without-transaction" and "ALTER TYPE ... ADD VALUE at line 1" in warning["message"]
    result = cli("apply", "--yes", "--migrations", folder.path, "--database-url", database)
    assert result.code == 0, result.output
    assert history(db) == ["001", "002", "003"]
    assert db.execute("SELECT m::text FROM days").fetchone()[0] == "happy"


def test_on_a_terminal_one_question_covers_the_files_without_a_transaction(folder, database, db):
    folder.write("001_table.sql", "CREATE TABLE big (id int, v text);")
    folder.write("002_index.sql", "CREATE INDEX CONCURRENTLY big_v_idx ON big (v);")
    folder.write("003_index.sql", "DROP INDEX CONCURRENTLY big_v_idx;")
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command on a terminal, as a user runs it
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "wizard", "apply", "--migrations", str(folder.path),
                                   "--database-url", database], cli_env())
    output, answered = b"", False
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"[y/N]" in output:
                os.write(fd, b"y\n")
                answered = True
    finally:
        _, status = os.waitpid(pid, 0)
    text = output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert text.count("[y/N]") == 1, text
    assert "2 of them without a transaction" in text
    assert history(db) == ["001", "002", "003"]
    assert index_state(db, "big_v_idx") == (False, False)


def test_without_a_terminal_and_without_yes_apply_goes_on_as_it_always_did(folder, database, db, cli):
    folder.write("001_table.sql", "CREATE TABLE big (id int, v text);")
    folder.write("002_index.sql", "CREATE INDEX CONCURRENTLY big_v_idx ON big (v);")
    result = cli("apply", "--migrations", folder.path, "--database-url", database)
    assert result.code == 0, result.output
    assert "warning: 002_index.sql:1:" in result.err
    assert history(db) == ["001", "002"]


def test_an_unknown_atlas_txmode_is_a_warning(folder, database, cli):
    folder.write("001_a.sql", "-- a header\n-- atlas:txmode nnone\nCREATE TABLE a (id int);\n")
    plan = cli("plan", "--json", "--migrations", folder.path, "--database-url", database)
    assert plan.code == 0
    found = [(f["code"], f["line"]) for f in plan.json()["findings"] if f["severity"] == "warning"]
    assert found == [("unknown-txmode", 2)], plan.json()["findings"]
