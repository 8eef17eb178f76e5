"""Pastes that record themselves: a migration exported for the SQL editor, run as ONE query (the
editor sends the whole text as one simple-protocol query; here psql -c does the same), runs the
file and writes its history rows in the same transaction, so `status`, a later `apply` and the
Supabase CLI's `migration list` agree with what was pasted."""

from __future__ import annotations

import shutil
import subprocess

import psycopg
import pytest
from helpers import migration_list

from wizard.core import catalog, history, manual

PSQL = shutil.which("psql") or "/usr/bin/psql"


def paste(url: str, text: str) -> subprocess.CompletedProcess:
    """What the SQL editor does with a paste: the whole text as one query."""
    return subprocess.run([PSQL, "-X", "-q", "-d", url, "-c", text], capture_output=True, text=True, timeout=60)


def rows(db) -> dict[str, tuple]:
    if db.execute("SELECT to_regclass('supabase_migrations.schema_migrations')").fetchone()[0] is None:
        return {}
    return {r[0]: r[1:] for r in db.execute(
        "SELECT m.version, m.name, m.statements, w.checksum, w.method FROM supabase_migrations.schema_migrations m "
        "LEFT JOIN supabase_migrations.migration_wizard_history w USING (version) ORDER BY 1")}


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "supabase" / "migrations"
    folder.mkdir(parents=True)
    (folder / "001_notes.sql").write_text(
        "-- written as pg_dump writes: its own transaction, a session setting, a dollar tag of ours in a string\n"
        "BEGIN;\n"
        "SET search_path = public;\n"
        "CREATE TABLE notes (id int PRIMARY KEY, body text DEFAULT '$mw$ and ''quotes'' and \\ backslash');\n"
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n"
        "INSERT INTO notes (id) VALUES (1);\n"
        "COMMIT;\n")
    (folder / "002_tags.sql").write_text("CREATE TABLE tags (id int PRIMARY KEY);\nINSERT INTO tags VALUES (1);\n")
    return tmp_path


def export(cli, project):
    result = cli("manual", "--export", project / "out", cwd=project)
    assert result.code == 0, result.output
    return project / "out"


def test_a_paste_runs_the_file_and_records_it(project, database, db, cli, supabase_cli):
    out = export(cli, project)
    index = (out / "INDEX.md").read_text()
    assert manual.RECORDS_ITSELF.capitalize() in index and "recorded by\nits last part" in index
    assert "## Pre-flight findings (no errors)" in index and "INFO 001_notes.sql:2" in index

    done = paste(database, (out / "001_notes.sql").read_text())
    assert done.returncode == 0, done.stderr
    loaded = catalog.load(project / "supabase" / "migrations")
    first = loaded.migrations[0]
    name, statements, checksum, method = rows(db)["001"]
    # the statements an automated run records (the file's own BEGIN/COMMIT left out), its checksum
    assert (name, statements, checksum, method) == (
        "notes", [s.text for s in first.executable_statements], first.checksum, "manual")
    assert db.execute("SELECT body FROM notes").fetchone() == ("$mw$ and 'quotes' and \\ backslash",)

    status = cli("status", "--json", "--database-url", database, cwd=project)
    states = {m["version"]: m["state"] for m in status.json()["migrations"]}
    assert states == {"001": "applied", "002": "pending"}
    assert migration_list(supabase_cli, project, database) == {"001": ("001", "001"), "002": ("002", "")}

    # a second paste of an applied file stops before anything runs, and says so
    again = paste(database, (out / "001_notes.sql").read_text())
    assert again.returncode != 0 and "001_notes.sql is already applied" in again.stderr
    assert manual.already_applied(again.stderr)
    assert db.execute("SELECT count(*) FROM notes").fetchone() == (1,)
    assert list(rows(db)) == ["001"]

    # the next automated run skips what was pasted
    applied = cli("apply", "--json", "--database-url", database, cwd=project)
    assert [a["version"] for a in applied.json()["applied"]] == ["002"]
    status = cli("status", "--json", "--database-url", database, cwd=project)
    assert {m["state"] for m in status.json()["migrations"]} == {"applied"}


def test_a_failing_paste_records_nothing(project, database, db, cli):
    (project / "supabase" / "migrations" / "002_tags.sql").write_text(
        "CREATE TABLE tags (id int PRIMARY KEY);\nINSERT INTO tags (id, missing) VALUES (1, 2);\n")
    out = export(cli, project)
    assert paste(database, (out / "001_notes.sql").read_text()).returncode == 0
    failed = paste(database, (out / "002_tags.sql").read_text())
    assert failed.returncode != 0 and 'column "missing" of relation "tags" does not exist' in failed.stderr
    assert "LINE 2:" in failed.stderr  # the file's own line: what comes first stays on line 1
    assert list(rows(db)) == ["001"]
    assert db.execute("SELECT to_regclass('tags')").fetchone() == (None,)
    # the editor's session is left as it was: no transaction open and aborted
    with pytest.raises(psycopg.errors.UndefinedColumn):
        db.execute((out / "002_tags.sql").read_text())
    assert db.execute("SELECT 1").fetchone() == (1,)


def test_a_file_with_savepoints_gets_a_transaction_block_of_its_own(folder, database, db):
    folder.write("001_s.sql", """
        CREATE TABLE s (id int);
        SAVEPOINT before_rows;
        INSERT INTO s VALUES (1);
        ROLLBACK TO SAVEPOINT before_rows;
        INSERT INTO s VALUES (2);
    """)
    (migration,) = catalog.load(folder.path).migrations
    (part,) = manual.parts(migration)
    assert part.paste.startswith("BEGIN; ") and part.paste.endswith("COMMIT;\n")
    assert paste(database, part.paste).returncode == 0
    assert db.execute("SELECT array_agg(id) FROM s").fetchone() == ([2],) and list(rows(db)) == ["001"]


def test_the_first_paste_creates_the_history_tables_as_the_cli_does(project, database, db, cli):
    out = export(cli, project)
    assert paste(database, (out / "002_tags.sql").read_text()).returncode == 0
    columns = db.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'supabase_migrations' AND table_name = 'schema_migrations' ORDER BY ordinal_position"
    ).fetchall()
    assert columns == [("version", "text"), ("statements", "ARRAY"), ("name", "text")]
    assert history.read(db)["002"].method == "manual"


def test_a_file_in_parts_records_once_on_its_last_part(tmp_path, database, db, cli):
    folder = tmp_path / "migrations"
    folder.mkdir()
    inserts = "".join(f"INSERT INTO big VALUES ({i});\n" for i in range(450))
    (folder / "001_big.sql").write_text(f"BEGIN;\nCREATE TABLE big (id int);\n{inserts}COMMIT;\n")
    result = cli("manual", "--export", tmp_path / "out", "--migrations", folder, cwd=tmp_path)
    assert result.code == 0, result.output
    pieces = sorted((tmp_path / "out").glob("001_big.part*.sql"))
    assert [p.name for p in pieces] == ["001_big.part1of2.sql", "001_big.part2of2.sql"]

    assert paste(database, pieces[0].read_text()).returncode == 0
    assert rows(db) == {}  # not yet recorded
    assert db.execute("SELECT count(*) FROM big").fetchone() == (400 - 1,)
    assert paste(database, pieces[1].read_text()).returncode == 0
    (migration,) = catalog.load(folder).migrations
    assert rows(db)["001"][1] == [s.text for s in migration.executable_statements]
    assert db.execute("SELECT count(*) FROM big").fetchone() == (450,)
    # once recorded, any part pasted again stops before it runs
    again = paste(database, pieces[0].read_text())
    assert "already applied" in again.stderr and db.execute("SELECT count(*) FROM big").fetchone() == (450,)


def test_a_file_without_a_transaction_records_after_its_statements(tmp_path, database, db, cli):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "001_t.sql").write_text("CREATE TABLE t (id int);\n")
    (folder / "002_index.sql").write_text(
        "-- wizard:no-transaction\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n")
    result = cli("manual", "--export", tmp_path / "out", "--migrations", folder, cwd=tmp_path)
    assert result.code == 0, result.output
    index = (tmp_path / "out" / "INDEX.md").read_text()
    assert "002_index.sql runs without a transaction" in index and "must be pasted alone" in index
    for name in ("001_t.sql", "002_index.part1of2.sql", "002_index.part2of2.sql"):
        done = paste(database, (tmp_path / "out" / name).read_text())
        assert done.returncode == 0, (name, done.stderr)
    assert db.execute("SELECT to_regclass('t_id')").fetchone() == ("t_id",)
    assert list(rows(db)) == ["001", "002"]
    status = cli("status", "--json", "--migrations", folder, "--database-url", database, cwd=tmp_path)
    assert {m["state"] for m in status.json()["migrations"]} == {"applied"}


def test_a_role_the_file_takes_ends_before_the_history_write(folder, database, db):
    db.execute("DROP ROLE IF EXISTS paste_reader; CREATE ROLE paste_reader NOLOGIN")
    try:
        folder.write("001_r.sql", """
            CREATE TABLE r (id int);
            GRANT SELECT ON r TO paste_reader;
            SET ROLE paste_reader;
            SELECT count(*) FROM r;
        """)
        (migration,) = catalog.load(folder.path).migrations
        (part,) = manual.parts(migration)
        done = paste(database, part.paste)
        assert done.returncode == 0, done.stderr
        assert list(rows(db)) == ["001"]
    finally:
        db.execute("DROP OWNED BY paste_reader; DROP ROLE paste_reader")


def test_a_file_of_concurrent_statements_alone_pastes_them_alone(tmp_path, database, db, cli):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "001_t.sql").write_text("CREATE TABLE t (id int, at int);\n")
    (folder / "002_index.sql").write_text(  # no header: every statement needs to run without a transaction
        "CREATE INDEX CONCURRENTLY t_id ON t (id);\nCREATE INDEX CONCURRENTLY t_at ON t (at);\n")
    result = cli("manual", "--export", tmp_path / "out", "--migrations", folder, cwd=tmp_path)
    assert result.code == 0, result.output
    assert "every statement of it needs that" in (tmp_path / "out" / "INDEX.md").read_text()
    names = ["001_t.sql", "002_index.part1of3.sql", "002_index.part2of3.sql", "002_index.part3of3.sql"]
    assert sorted(p.name for p in (tmp_path / "out").glob("*.sql")) == names
    for name in names:
        done = paste(database, (tmp_path / "out" / name).read_text())
        assert done.returncode == 0, (name, done.stderr)
    assert list(rows(db)) == ["001", "002"]
    (migration,) = [m for m in catalog.load(folder).migrations if m.version == "002"]
    assert rows(db)["002"][1] == [s.text for s in migration.statements]
