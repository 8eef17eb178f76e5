"""The manual path's engine: export for the SQL editor, the REST presence check, pasted dashboard
errors, manual records and kept progress."""

import pytest
from helpers import MIGRATIONS, assert_clean, history
from postgrest import ANON, PostgrestStandIn

from wizard.core import catalog, manual
from wizard.core import history as wizard_history
from wizard.core.diagnosis import diagnose
from wizard.core.db.https import statement_naming, parse_error
from wizard.core.runner import Runner


@pytest.fixture
def rest(database):
    stand_in = PostgrestStandIn(database, ANON)
    yield stand_in
    stand_in.close()


def test_export_writes_every_migration_and_an_index(tmp_path, cli):
    (tmp_path / ".env.local").write_text("SUPABASE_URL=https://abcdefghijklmnopqrst.supabase.co\n")
    result = cli("manual", "--export", tmp_path / "out", "--migrations", MIGRATIONS, cwd=tmp_path)
    assert result.code == 0, result.err
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(files) == 19 and "INDEX.md" in files
    index = (tmp_path / "out" / "INDEX.md").read_text()
    assert "https://supabase.com/dashboard/project/abcdefghijklmnopqrst/sql/new" in index
    assert index.index("001_create_schema.sql") < index.index("018_fix_database_advisor_findings.sql")
    # the file's text, each line where it is in the file, between the lines that record it
    exported = (tmp_path / "out" / "007_seed_assessment_questions.sql").read_text()
    original = (MIGRATIONS / "007_seed_assessment_questions.sql").read_text()
    assert exported.split("\n")[1:original.count("\n")] == original.split("\n")[1:original.count("\n")]
    assert exported.split("\n")[0].endswith(original.split("\n")[0])
    assert "INSERT INTO supabase_migrations.schema_migrations" in exported


def test_export_into_the_migration_folder_is_refused_and_overwrites_nothing(folder, cli):
    """The pastes have the migrations' names: exporting into the folder itself (``--export .`` from
    inside it) would replace every migration with its paste."""
    folder.write("001_notes.sql", "CREATE TABLE notes (id int);\n")
    before = (folder.path / "001_notes.sql").read_bytes()
    for where, cwd in ((folder.path, None), (".", folder.path)):
        result = cli("manual", "--export", where, "--migrations", folder.path, cwd=cwd)
        assert result.code == 2, result.output
        assert_clean(result)
        assert "migration folder" in result.err and "nothing was exported" in result.err
        assert (folder.path / "001_notes.sql").read_bytes() == before
        assert not (folder.path / "INDEX.md").exists()


def test_a_new_export_removes_the_pastes_of_the_last_one_and_nothing_else(tmp_path, folder, cli):
    """A migration exported in parts, then short enough for one paste: the old parts go (pasting
    them would run the statements again), a file the person put there stays."""
    folder.write("001_big.sql", "CREATE TABLE big (id int);\n" + "".join(
        f"INSERT INTO big VALUES ({i});\n" for i in range(450)))
    out = tmp_path / "out"
    assert cli("manual", "--export", out, "--migrations", folder.path).code == 0
    assert sorted(p.name for p in out.iterdir()) == ["001_big.part1of2.sql", "001_big.part2of2.sql", "INDEX.md"]
    (out / "notes.sql").write_text("-- mine\n")
    folder.write("001_big.sql", "CREATE TABLE big (id int);\n")
    result = cli("manual", "--export", out, "--migrations", folder.path)
    assert result.code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["001_big.sql", "INDEX.md", "notes.sql"]


def test_large_files_are_split_at_statement_boundaries(folder, db):
    folder.write("001_big.sql", "CREATE TABLE big (id int, label text);\n" + "".join(
        f"INSERT INTO big VALUES ({i}, '{'x' * 50} {i}');\n" for i in range(300)))
    (migration,) = catalog.load(folder.path).migrations
    pieces = manual.parts(migration, max_bytes=4000)
    assert len(pieces) > 3
    assert pieces[0].first_statement == 1 and pieces[-1].last_statement == 301
    assert all(b.first_statement == a.last_statement + 1 for a, b in zip(pieces, pieces[1:]))
    assert all(len(p.sql.encode()) <= 4000 + 200 for p in pieces)
    for piece in pieces:  # a person pastes each part in turn
        db.execute(piece.sql)
    assert db.execute("SELECT count(*) FROM big").fetchone() == (300,)


def test_check_remote_through_the_rest_api(tmp_path, rest, db, cli):
    (tmp_path / ".env.local").write_text(f"SUPABASE_URL={rest.url}\nSUPABASE_ANON_KEY={ANON}\n")
    missing = cli("check-remote", "--json", "--migrations", MIGRATIONS, cwd=tmp_path)
    assert_clean(missing)
    assert missing.code == 1
    states = {t["name"]: t["state"] for t in missing.json()["tables"]}
    assert len(states) == 25 and set(states.values()) == {"missing"}

    Runner(db, catalog.load(MIGRATIONS)).run()
    rest.no_grant.add("audit_logs")
    present = cli("check-remote", "--json", "--migrations", MIGRATIONS, cwd=tmp_path)
    assert present.code == 0, present.output
    states = {t["name"]: t["state"] for t in present.json()["tables"]}
    assert states["audit_logs"] == "exists-without-grants" and states["users"] == "exists"
    assert ANON not in missing.output + present.output

    (tmp_path / ".env.local").write_text(f"SUPABASE_URL={rest.url}\nSUPABASE_ANON_KEY=eyJ.wrong.key\n")
    refused = cli("check-remote", "--migrations", MIGRATIONS, cwd=tmp_path)
    assert refused.code == 3 and "refused the key" in refused.err


def test_a_pasted_dashboard_error_is_located_and_advised(folder):
    folder.write("001_policies.sql", """
        CREATE TABLE notes (id int);
        ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
        CREATE POLICY notes_read ON notes FOR SELECT USING (true);
    """)
    (migration,) = catalog.load(folder.path).migrations
    pasted = 'Failed to run sql query: ERROR:  42710: policy "notes_read" for table "notes" already exists'
    error = parse_error(pasted)
    assert (error.sqlstate, error.message) == ("42710", 'policy "notes_read" for table "notes" already exists')
    found = diagnose(migration, error, statement=statement_naming(migration, error.message))
    assert (found.line, found.statement_index) == (3, 3)
    from wizard.core import advice

    assert "adopt" in advice.for_failure(found, catalog.load(folder.path)).actions


def test_a_migration_run_by_hand_is_recorded_as_manual(folder, database, db, cli):
    folder.write("001_a.sql", "CREATE TABLE a (id int);")
    folder.write("002_b.sql", "CREATE TABLE b (id int);")
    loaded = catalog.load(folder.path)
    db.execute(loaded.migrations[0].text)  # the person pastes it into the SQL editor
    Runner(db, loaded).adopt([loaded.migrations[0]], method="manual")
    assert history(db) == ["001"]
    assert wizard_history.read(db)["001"].method == "manual"
    result = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert [a["version"] for a in result.json()["applied"]] == ["002"]


def test_progress_is_kept_between_runs(tmp_path, folder):
    folder.write("001_a.sql", "CREATE TABLE a (id int);")
    folder.write("002_b.sql", "CREATE TABLE b (id int);")
    loaded = catalog.load(folder.path)
    assert manual.next_to_run(loaded, manual.load_progress(tmp_path)).version == "001"
    manual.confirm(tmp_path, loaded.migrations[0])
    assert manual.next_to_run(loaded, manual.load_progress(tmp_path)).version == "002"  # after a restart too
    folder.write("001_a.sql", "CREATE TABLE a (id int, changed int);")
    assert manual.next_to_run(catalog.load(folder.path), manual.load_progress(tmp_path)).version == "001"


def test_progress_is_kept_per_project(tmp_path, folder):
    folder.write("001_a.sql", "CREATE TABLE a (id int);")
    loaded = catalog.load(folder.path)
    staging = manual.target_key("stagingref", None)
    production = manual.target_key(None, "postgresql://postgres:secret@db.example.com:5432/postgres")
    assert production == "postgresql://db.example.com:5432/postgres"  # no user, no password
    manual.confirm(tmp_path, loaded.migrations[0], staging)
    assert manual.next_to_run(loaded, manual.load_progress(tmp_path, staging)) is None
    assert manual.next_to_run(loaded, manual.load_progress(tmp_path, production)).version == "001"
    assert "secret" not in (tmp_path / manual.PROGRESS_FILE).read_text()


def test_progress_written_before_targets_is_kept(tmp_path, folder):
    import json

    folder.write("001_a.sql", "CREATE TABLE a (id int);")
    folder.write("002_b.sql", "CREATE TABLE b (id int);")
    loaded = catalog.load(folder.path)
    (tmp_path / manual.PROGRESS_FILE).parent.mkdir(parents=True)
    (tmp_path / manual.PROGRESS_FILE).write_text(json.dumps({"confirmed": {"001": loaded.migrations[0].checksum}}))
    key = manual.target_key("myref", None)
    assert manual.next_to_run(loaded, manual.load_progress(tmp_path, key)).version == "002"
    manual.confirm(tmp_path, loaded.migrations[1], key)
    assert manual.load_progress(tmp_path, key) == {m.version: m.checksum for m in loaded.migrations}
    assert manual.load_progress(tmp_path, manual.target_key("otherref", None)) == {}
