"""The migration folder: order, statements and their lines, and the problems found before any SQL runs."""

import hashlib

from helpers import assert_clean, history, tables

from wizard.core import catalog


def test_files_in_name_order_with_versions_as_text(folder):
    folder.write("20250821_a.sql", "SELECT 1;")
    folder.write("028_c.sql", "SELECT 1;")
    folder.write("20250819100000_b.sql", "SELECT 1;")
    folder.write("001_first.sql", "SELECT 1;")
    folder.write("notes.md", "not a migration")
    folder.write("002-bad-name.sql", "SELECT 1;")
    loaded = catalog.load(folder.path)
    assert [(m.version, m.name) for m in loaded.migrations] == [
        ("001", "first"),
        ("028", "c"),
        ("20250819100000", "b"),
        ("20250821", "a"),
    ]
    assert loaded.ignored == ["002-bad-name.sql", "notes.md"]
    assert loaded.ok
    assert any(w.code == "version-widths" for w in loaded.warnings)


def test_statements_keep_their_start_lines_and_checksum(folder):
    sql = (
        "-- header comment\n"
        "CREATE TABLE t (\n"
        "  id int\n"
        ");\n"
        "\n"
        "/* a block\n   comment */ INSERT INTO t VALUES (1); INSERT INTO t VALUES ('é');\n"
        "DO $$\nBEGIN\n  PERFORM 1;\nEND\n$$;\n"
    )
    path = folder.write("001_t.sql", sql)
    (migration,) = catalog.load(folder.path).migrations
    assert [(s.index, s.kind, s.line) for s in migration.statements] == [
        (1, "CreateStmt", 2),
        (2, "InsertStmt", 7),
        (3, "InsertStmt", 7),
        (4, "DoStmt", 8),
    ]
    assert migration.statements[0].text == "CREATE TABLE t (\n  id int\n)"
    assert migration.statements[2].text == "INSERT INTO t VALUES ('é')"
    assert migration.checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    offset = sql.index("('é')")
    assert migration.line_col(offset) == (7, sql[: offset].split("\n")[-1].__len__() + 1)
    assert migration.statement_at(offset).index == 3


def test_every_problem_is_reported_together(folder):
    folder.write("001_ok.sql", "CREATE TABLE ok (id int);")
    folder.write("002_one.sql", "SELECT 1;")
    folder.write("002_two.sql", "SELECT 2;")
    folder.write("003_latin1.sql", "SELECT 'caf\xe9';".encode("latin-1"))
    folder.write("004_empty.sql", "-- nothing here\n\n")
    folder.write("005_meta.sql", "CREATE TABLE m (id int);\n\\i other.sql\n\\set x 1\n")
    folder.write("006_syntax.sql", "CREATE TABLE s (id int);\nCREATE TABLE broken (id int,);\n")
    loaded = catalog.load(folder.path)
    found = {(p.code, p.file, p.line) for p in loaded.problems}
    assert ("not-utf8", "003_latin1.sql", 1) in found
    assert ("empty", "004_empty.sql", None) in found
    assert ("psql-meta-command", "005_meta.sql", 2) in found
    assert ("psql-meta-command", "005_meta.sql", 3) in found
    duplicate = next(p for p in loaded.problems if p.code == "duplicate-version")
    assert "002_one.sql" in duplicate.message and "002_two.sql" in duplicate.message
    syntax = next(p for p in loaded.problems if p.code == "syntax")
    assert (syntax.file, syntax.line, syntax.column) == ("006_syntax.sql", 2, 29)
    assert "syntax error" in syntax.message


def test_apply_refuses_a_folder_with_problems_and_applies_nothing(folder, database, db, cli):
    folder.write("001_ok.sql", "CREATE TABLE ok (id int);")
    folder.write("002_syntax.sql", "CREATE TABLE broken (id int,);")
    folder.write("003_empty.sql", "")
    result = cli("apply", "--yes", "--migrations", folder.path, "--database-url", database)
    assert result.code == 2
    assert_clean(result)
    assert "002_syntax.sql:1:" in result.err
    assert "003_empty.sql" in result.err
    assert tables(db) == set()
    assert history(db) == []


def test_plan_lists_folder_problems_as_errors(folder, database, cli):
    folder.write("001_meta.sql", "\\c otherdb\nCREATE TABLE x (id int);")
    result = cli("plan", "--json", "--migrations", folder.path, "--database-url", database)
    assert result.code == 2
    (finding,) = [f for f in result.json()["findings"] if f["severity"] == "error"]
    assert finding["code"] == "psql-meta-command" and finding["file"] == "001_meta.sql" and finding["line"] == 1


def test_missing_folder_is_a_usage_error(tmp_path, database, cli):
    result = cli("apply", "--yes", "--migrations", tmp_path / "nope", "--database-url", database)
    assert result.code == 2
    assert_clean(result)
    assert "does not exist" in result.err


def test_status_of_a_folder_with_problems_is_one_json_document(folder, database, cli):
    folder.write("001_ok.sql", "CREATE TABLE ok (id int);")
    folder.write("002_bad.sql", "CREATE TABLE (;")
    result = cli("status", "--json", "--migrations", folder.path, "--database-url", database)
    assert result.code == 2
    document = result.json()
    assert [m["state"] for m in document["migrations"]] == ["pending", "pending"]
    assert document["problems"][0]["file"] == "002_bad.sql"


def test_a_cached_parse_is_the_same_as_a_fresh_one(folder, monkeypatch):
    from wizard.core import objects

    folder.write("001_a.sql", "CREATE TABLE a (id int);\nCREATE INDEX a_idx ON a (id);\nINSERT INTO a VALUES (1);")
    first = catalog.load(folder.path).migrations[0]
    second = catalog.load(folder.path).migrations[0]  # from the cache
    monkeypatch.setenv("MIGRATION_WIZARD_NO_CACHE", "1")
    fresh = catalog.load(folder.path).migrations[0]
    for a, b in ((first, fresh), (second, fresh)):
        assert [(s.index, s.kind, s.node, s.start, s.end, s.line, s.text) for s in a.statements] == [
            (s.index, s.kind, s.node, s.start, s.end, s.line, s.text) for s in b.statements
        ]
        assert [objects.effects(s) for s in a.statements] == [objects._effects(s) for s in b.statements]


def test_caches_of_other_versions_go_when_stale(folder, tmp_path, monkeypatch):
    import os
    import time

    from wizard.core import parsecache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    base = parsecache.directory().parent
    stale, recent = base / "v0-stale", base / "v0-recent"
    for old in (stale, recent):
        (old / "inside").mkdir(parents=True)
    long_ago = time.time() - (parsecache.STALE_DAYS + 1) * 86400
    os.utime(stale, (long_ago, long_ago))
    folder.write("001_a.sql", "CREATE TABLE a (id int);")
    assert not parsecache.directory().exists()
    catalog.load(folder.path)  # parses the file, and makes this version's cache
    assert parsecache.directory().is_dir()
    assert not stale.exists() and recent.is_dir()
