"""One error model: every error of the engine's own is a WizardError that describe() turns into a
title, a message, the advice and the documented exit code; the command line and the wizard show
the same description of the same error."""

from __future__ import annotations

import json
import pickle

import psycopg
import pytest

from helpers import assert_clean
from wizard.cli.errors import Stop
from wizard.core import catalog, checks, env, manual, project
from wizard.core.db import https
from wizard.core.compat import CompatError
from wizard.core.connect import ConnectError, connect
from wizard.core.describe import Description, describe
from wizard.core.env import mask_url
from wizard.core.errors import ExitCode, WizardError
from wizard.core.flows.target import Kind
from wizard.core.local import LocalError, LocalServer
from wizard.core.runner import LOCK_KEY, Interrupted, LockHeld, RunOptions, runner_for
from wizard.tui.target import Target
from wizard.tui.trouble import Trouble

CLOSED = "postgresql://postgres:hunter2hunter2@127.0.0.1:1/postgres"  # nothing listens on port 1


def raised(call, *args, **kwargs) -> BaseException:
    """The exception ``call`` raises."""
    try:
        call(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - the point is to catch it
        return exc
    raise AssertionError(f"{call.__name__} raised nothing")


def well_described(error: BaseException, code: ExitCode, **context) -> Description:
    found = describe(error, **context)
    assert found.exit_code == code, (error, found)
    assert found.title.strip() and "\n" not in found.title, found
    assert found.message.strip() and found.line.strip() and found.kind.strip(), found
    assert "Traceback" not in found.line + found.message
    trouble = Trouble.error(error)
    assert trouble.what and trouble.message, trouble
    return found


# -- each error of the engine's own, met for real where that is cheap --------------------------


def test_a_malformed_config_toml_is_a_usage_error(tmp_path):
    (tmp_path / "supabase" / "migrations").mkdir(parents=True)
    (tmp_path / "supabase" / "config.toml").write_text("[db\nmajor_version = 15\n")
    error = raised(project.find, tmp_path / "supabase" / "migrations")
    assert isinstance(error, project.ConfigError) and isinstance(error, WizardError)
    found = well_described(error, ExitCode.USAGE)
    assert found.kind == "config" and found.line.endswith("; fix the file, then run again")


def test_a_closed_port_is_a_connect_error():
    error = raised(connect, CLOSED, timeout=2)
    assert isinstance(error, ConnectError) and isinstance(error, WizardError)
    assert (error.kind, error.target) == ("connection-refused", mask_url(CLOSED)) and error.reason
    found = well_described(error, ExitCode.CONNECT)
    assert found.advice is not None and found.advice.key == "connection.connection-refused"
    assert "hunter2" not in found.line + found.message + found.title
    copied = pickle.loads(pickle.dumps(error))  # a copy is built as the error was
    assert (copied.kind, copied.target, copied.reason, str(copied)) == (error.kind, error.target, error.reason, str(error))


def test_a_malformed_url_is_a_usage_error():
    error = raised(connect, "postgresql://postgres:pw@127.0.0.1:notaport/postgres", timeout=2)
    assert isinstance(error, ConnectError) and error.config_error
    well_described(error, ExitCode.USAGE)


def test_a_missing_env_file(tmp_path):
    error = raised(env.load, env_file=tmp_path / "nope.env")
    assert isinstance(error, env.EnvFileError)
    assert well_described(error, ExitCode.USAGE).kind == "env-file"


def test_a_missing_migration_folder(tmp_path):
    error = raised(catalog.load, tmp_path / "nowhere")
    assert isinstance(error, catalog.FolderNotFound)
    found = well_described(error, ExitCode.USAGE)
    assert found.line == f"the migration folder {tmp_path / 'nowhere'} does not exist; pass --migrations DIR"
    guessed = describe(error, folder_named=False).line
    assert "(looked for ./migrations and ./supabase/migrations)" in guessed


def test_an_export_into_the_migration_folder(folder):
    folder.write("001_a.sql", "CREATE TABLE a (id int);")
    loaded = catalog.load(folder.path)
    error = raised(manual.export, loaded, folder.path, None)
    assert isinstance(error, manual.ExportRefused)
    assert well_described(error, ExitCode.USAGE).line.startswith("nothing was exported: ")


def test_an_unreachable_rest_api():
    error = raised(manual.rest_check, "http://127.0.0.1:1", "a-key", ["a"], timeout=2)
    assert isinstance(error, manual.RestError) and error.kind == "unreachable"
    found = well_described(error, ExitCode.CONNECT, rest_key="SUPABASE_ANON_KEY", rest_url="http://127.0.0.1:1")
    assert found.kind == "rest-unreachable" and found.details
    assert describe(manual.RestError("unexpected", "the REST API answered 500 for a")).exit_code == ExitCode.FAILED
    copied = pickle.loads(pickle.dumps(error))
    assert (copied.kind, copied.message, str(copied)) == (error.kind, error.message, error.message)


def test_a_checks_file_that_is_not_toml(folder):
    (folder.path / catalog.CHECKS_FILE).write_text("[[check]\n")
    error = raised(checks.load, folder.path)
    assert isinstance(error, checks.ChecksFileError)
    well_described(error, ExitCode.USAGE)


@pytest.mark.parametrize("value", ['"users"', "3"])
def test_a_checks_file_whose_expect_contains_is_no_list(folder, value):
    (folder.path / catalog.CHECKS_FILE).write_text(f'[[check]]\nname = "t"\nsql = "SELECT 1"\nexpect_contains = {value}\n')
    error = raised(checks.load, folder.path)
    assert isinstance(error, checks.ChecksFileError) and "expect_contains needs a list" in str(error)
    well_described(error, ExitCode.USAGE)


def test_a_local_directory_that_holds_something_else(tmp_path):
    server = LocalServer(tmp_path / "local")
    server.data.mkdir(parents=True)
    (server.data / "notes.txt").write_text("not a data directory")
    error = raised(server.start)
    assert isinstance(error, LocalError)
    found = well_described(error, ExitCode.CONNECT)
    assert found.kind == "local-failed" and found.line.startswith("the local database could not start: ")


def test_the_compatibility_step_refused():
    error = CompatError("the Supabase compatibility step needs to create auth.users, and this user may not")
    assert well_described(error, ExitCode.USAGE).kind == "compat-failed"


def test_an_unreachable_management_api():
    error = raised(https.open_database, "abcdefghijklmnopqrst", "a-token", "http://127.0.0.1:1", 2, 2)
    assert isinstance(error, https.ApiError)
    found = well_described(error, ExitCode.CONNECT)
    assert found.kind == "https-unreachable" and found.advice is not None


def test_a_held_lock_and_an_interrupted_run(folder, database, db):
    folder.write("001_a.sql", "CREATE TABLE a (id int);")
    loaded = catalog.load(folder.path)
    holder = psycopg.connect(database, autocommit=True, application_name="other-deploy")
    holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    try:
        with connect(database) as conn:
            error = raised(runner_for(conn)(conn, loaded, RunOptions(lock_timeout=0.2)).run)
    finally:
        holder.close()
    assert isinstance(error, LockHeld)
    found = well_described(error, ExitCode.LOCKED)
    assert found.kind == "lock-held" and "other-deploy" in found.line
    assert well_described(Interrupted(), ExitCode.INTERRUPTED).kind == "interrupted"
    assert describe(KeyboardInterrupt()).exit_code == ExitCode.INTERRUPTED


def test_database_errors(database, db):
    refused = raised(db.execute, "SELECT * FROM no_such_table")
    found = well_described(refused, ExitCode.FAILED)
    assert found.kind == "sqlstate.42P01" and found.advice is not None and found.advice.key == "sqlstate.42P01"
    assert found.title == "The database refused a step of the wizard's own"
    gone = psycopg.connect(database)
    gone.close()
    lost = raised(gone.execute, "SELECT 1")
    assert isinstance(lost, psycopg.OperationalError) and not lost.sqlstate
    found = well_described(lost, ExitCode.CONNECT)
    assert found.kind == "connection-lost" and found.title == "The connection to the database was lost"


def test_an_error_nobody_expected():
    found = well_described(ValueError("a value"), ExitCode.FAILED)
    assert (found.kind, found.title, found.message) == ("unexpected", "Something unexpected went wrong",
                                                        "ValueError: a value")


def test_a_stop_of_the_command_line_is_a_wizard_error():
    stop = Stop(ExitCode.LOCKED, "another run; wait", "lock-held")
    assert isinstance(stop, WizardError) and stop.code == ExitCode.LOCKED
    found = well_described(stop, ExitCode.LOCKED)
    assert (found.kind, found.line) == ("lock-held", "another run; wait")


# -- the command line and the wizard say the same -----------------------------------------------


def test_the_command_line_and_the_wizard_describe_a_refused_connection_alike(cli, one_file):
    result = cli("status", "--json", "--migrations", one_file.path, "--database-url", CLOSED)
    assert_clean(result)
    error = raised(connect, CLOSED, timeout=2)
    found = describe(error, ref=env.url_ref(CLOSED))
    assert result.code == found.exit_code == ExitCode.CONNECT
    assert json.loads(result.out)["error"] == {"kind": found.kind, "message": found.line}
    assert result.err.strip().splitlines()[-1] == f"migration-wizard: {found.line}"
    target = Target(Kind.URL, "--database-url", mask_url(CLOSED), url=CLOSED)
    trouble = Trouble.error(error, target)
    assert trouble.what == found.title == describe(error, shown=target.shown).title
    assert (trouble.message, trouble.advice) == (found.message, found.advice)
    # the command line's sentence opens with the wizard's title
    assert found.line.startswith(trouble.what[0].lower() + trouble.what[1:] + ": ")


def test_the_command_line_and_the_wizard_describe_a_missing_env_file_alike(cli, one_file, tmp_path):
    result = cli("status", "--json", "--env-file", tmp_path / "nope.env", "--migrations", one_file.path)
    error = raised(env.load, env_file=tmp_path / "nope.env")
    found = describe(error)
    assert result.code == found.exit_code == ExitCode.USAGE
    assert json.loads(result.out)["error"] == {"kind": "env-file", "message": found.line}
    assert Trouble.error(error).what == found.title == "A settings file cannot be read"


def test_the_command_line_and_the_wizard_describe_a_held_lock_alike(cli, folder, database):
    folder.write("001_a.sql", "CREATE TABLE a (id int);")
    loaded = catalog.load(folder.path)
    holder = psycopg.connect(database, autocommit=True, application_name="other-deploy")
    holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    try:
        result = cli("apply", "--yes", "--json", "--lock-timeout", "1", "--migrations", folder.path,
                     "--database-url", database)
        with connect(database) as conn:
            error = raised(runner_for(conn)(conn, loaded, RunOptions(lock_timeout=1)).run)
    finally:
        holder.close()
    found = describe(error)
    assert result.code == found.exit_code == ExitCode.LOCKED
    assert json.loads(result.out)["error"] == {"kind": "lock-held", "message": found.line}
    trouble = Trouble.error(error)
    assert (trouble.what, trouble.message, trouble.advice) == (found.title, found.message, found.advice)


@pytest.fixture
def one_file(folder):
    folder.write("001_a.sql", "CREATE TABLE a (id int);")
    return folder
