"""Bad input gets a clear message and its exit code, never a traceback, and changes nothing."""

import json
import subprocess
import sys
from urllib.parse import quote

import pytest
from helpers import PASSWORD, PASSWORD_USER, ROOT, assert_clean, history, tables, with_database


@pytest.fixture
def one_file(folder):
    folder.write("001_a.sql", "CREATE TABLE a (id int);")
    return folder


def test_the_headless_path_never_imports_textual():
    code = (
        "import sys, importlib, pkgutil, wizard.core, wizard.cli\n"
        "for m in pkgutil.iter_modules(wizard.core.__path__):\n"
        "    importlib.import_module('wizard.core.' + m.name)\n"
        "wizard.cli.build_parser()\n"
        "print('textual' in sys.modules, len([m for m in sys.modules if m.startswith('wizard.core.')]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "False"
    assert int(out[1]) >= 10


def test_unknown_flag(cli, one_file, database, db):
    result = cli("apply", "--yes", "--no-such-flag", "--migrations", one_file.path, "--database-url", database)
    assert result.code == 2
    assert_clean(result)
    assert "--no-such-flag" in result.err
    assert tables(db) == set()


@pytest.mark.parametrize("flag, value", [
    ("--statement-timeout", "nan"), ("--statement-timeout", "inf"), ("--statement-timeout", "-1"),
    ("--statement-timeout", "0.0000001"), ("--table-lock-timeout", "1e12"), ("--lock-timeout", "-5"),
    ("--connect-timeout", "nan"),
])
def test_a_duration_that_is_not_one_is_refused(cli, one_file, database, db, flag, value):
    """A timeout that is not a number of seconds PostgreSQL takes (or one so small it would mean no
    limit) is a usage error naming the flag, before anything runs."""
    result = cli("apply", "--yes", flag, value, "--migrations", one_file.path, "--database-url", database)
    assert result.code == 2, result.output
    assert_clean(result)
    assert flag in result.err and "unexpected" not in result.err
    assert tables(db) == set()


def test_a_local_dir_that_is_a_file_is_a_usage_error(cli, one_file, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("not a directory\n")
    result = cli("plan", "--local", "--local-dir", taken, "--migrations", one_file.path)
    assert result.code == 2, result.output
    assert_clean(result)
    assert "--local-dir" in result.err and "unexpected" not in result.err
    assert taken.read_text() == "not a directory\n"


def test_a_migration_folder_that_is_a_file_or_missing_is_named(cli, tmp_path):
    afile = tmp_path / "notes.txt"
    afile.write_text("not a folder")
    for path, said in ((afile, "is a file, not a folder"), (tmp_path / "nowhere", "does not exist")):
        result = cli("plan", "--offline", "--migrations", path)
        assert result.code == 2 and said in result.err, result.output
        assert_clean(result)


def test_unreachable_host(cli, one_file):
    result = cli("apply", "--yes", "--migrations", one_file.path, "--database-url",
                 "postgresql://postgres:hunter2hunter2@127.0.0.1:1/postgres")
    assert result.code == 3
    assert_clean(result)
    assert "cannot connect" in result.err and "refused" in result.err.lower()
    assert "hunter2" not in result.output
    assert "postgres:****@127.0.0.1:1" in result.err


def test_unknown_host(cli, one_file):
    result = cli("status", "--migrations", one_file.path, "--database-url",
                 "postgresql://postgres:pw@no-such-host.invalid:5432/postgres")
    assert result.code == 3
    assert_clean(result)
    assert "No address was found for the host" in result.err


def test_wrong_password_names_no_password(cli, one_file, server, database, db):
    with server.connect() as admin:
        admin.execute(f"DROP ROLE IF EXISTS {PASSWORD_USER}")
        admin.execute(f"CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD 'the-right-one'")
    try:
        url = with_database(database, db.info.dbname).replace(
            "postgres@", f"{PASSWORD_USER}:{quote(PASSWORD, safe='')}@", 1
        )
        if "@" not in url.split("//", 1)[1].split("/", 1)[0] or f"{PASSWORD_USER}:" not in url:
            pytest.skip("the test server URL has a password of its own")
        result = cli("apply", "--yes", "--json", "--migrations", one_file.path, "--database-url", url)
    finally:
        with server.connect() as admin:
            admin.execute(f"DROP ROLE IF EXISTS {PASSWORD_USER}")
    if result.code == 0:
        pytest.skip("the test server trusts this connection without a password")
    assert result.code == 3
    assert_clean(result)
    assert "password" in result.err.lower()
    for fragment in (PASSWORD, quote(PASSWORD, safe=""), "S3cret", "Pass"):
        assert fragment not in result.output
    assert json.loads(result.out)["error"]["kind"] == "wrong-password"
    assert history(db) == [] and tables(db) == set()


def test_a_malformed_url_is_a_usage_error_and_shows_no_password(cli, one_file):
    result = cli("status", "--migrations", one_file.path, "--database-url",
                 "postgresql://postgres:p@ss#word1@127.0.0.1:notaport/postgres")
    assert result.code in (2, 3)
    assert_clean(result)
    assert "ss#word1" not in result.output and "p@ss" not in result.output


def test_two_targets_at_once(cli, one_file, database):
    result = cli("status", "--local", "--database-url", database, "--migrations", one_file.path)
    assert result.code == 2
    assert_clean(result)


def test_missing_env_file(cli, one_file, tmp_path):
    result = cli("status", "--env-file", tmp_path / "nope.env", "--migrations", one_file.path)
    assert result.code == 2 and "nope.env" in result.err


def test_database_url_from_env_files_process_wins(cli, one_file, tmp_path, database, db):
    (tmp_path / ".env").write_text("DATABASE_URL=postgresql://postgres:x@127.0.0.1:1/nowhere\n")
    (tmp_path / ".env.local").write_text(f"DATABASE_URL={database}\n")
    result = cli("apply", "--yes", "--migrations", one_file.path, cwd=tmp_path)
    assert result.code == 0, result.err
    assert "from DATABASE_URL (.env.local)" in result.err
    assert history(db) == ["001"]
    refused = cli("status", "--migrations", one_file.path, cwd=tmp_path,
                  env={"DATABASE_URL": "postgresql://postgres:x@127.0.0.1:1/nowhere"})
    assert refused.code == 3


def test_a_supabase_project_without_credentials_is_not_silently_replaced_by_the_local_database(cli, one_file, tmp_path):
    (tmp_path / ".env.local").write_text(
        "SUPABASE_URL=https://abcdefghijklmnopqrst.supabase.co\nSUPABASE_ANON_KEY=eyJhbGciOiJIUzI1NiJ9.e30.x\n"
    )
    result = cli("apply", "--yes", "--migrations", one_file.path, cwd=tmp_path)
    assert result.code == 2
    assert_clean(result)
    assert "SUPABASE_DB_PASSWORD" in result.err and "--local" in result.err
    assert "eyJ" not in result.output


def test_json_is_one_document_even_on_errors(cli, one_file):
    result = cli("apply", "--json", "--migrations", one_file.path, "--database-url", "postgresql://u:p@127.0.0.1:1/x")
    assert result.code == 3
    document = json.loads(result.out)
    assert document["ok"] is False and document["error"]["kind"] == "connection-refused"


def test_plan_writes_nothing(cli, one_file, database, db):
    result = cli("plan", "--json", "--migrations", one_file.path, "--database-url", database)
    assert result.code == 0, result.err
    report = result.json()
    assert report["pending"] == [{"version": "001", "name": "a", "statements": 1}]
    assert {f["code"] for f in report["findings"]} == {"compat"}
    assert db.execute("SELECT to_regnamespace('supabase_migrations'), to_regnamespace('auth')").fetchone() == (None, None)


def test_module_and_console_script_agree():
    version = subprocess.run([sys.executable, "-m", "wizard", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert version.returncode == 0 and version.stdout.startswith("migration-wizard ")


def test_an_empty_folder_or_file_flag_is_a_usage_error_not_the_current_folder(cli, tmp_path):
    for flag in ("--migrations", "--env-file", "--local-dir"):
        result = cli("plan", "--offline", flag, "", cwd=tmp_path)
        assert result.code == 2, flag
        assert "an empty value names no file or folder" in result.err
        assert "Traceback" not in result.err


def test_an_escape_sequence_in_a_failing_file_is_shown_escaped_never_sent_to_the_terminal(cli, folder, database, db):
    folder.write("001_a.sql", "CREATE TABLE a (id int);\n-- \x1b]52;c;aGVsbG8=\x07 \x1b[2J\nSELECT * FROM missing_table;\n")
    result = cli("apply", "--yes", "--migrations", folder.path, "--database-url", database)
    assert result.code == 1
    assert "\x1b" not in result.err and "\x07" not in result.err
    assert "\\x1b]52;c;aGVsbG8=\\x07" in result.err  # the excerpt shows the line, escaped
