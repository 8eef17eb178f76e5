"""``plan --rehearse``: the pending migrations applied on a throwaway copy of the target, on the
local server; the target (the suite's server stands in for production) is only read."""

import shutil
import subprocess

import psycopg
import pytest
from api_server import REF, TOKEN, ApiServer
from helpers import MIGRATIONS, assert_clean, history

from wizard.core import schemacopy


BROKEN_012 = """\
-- 012: an archive table, with an index on an expression that does not type-check
CREATE TABLE public.document_archive (
  id bigint PRIMARY KEY,
  size_bytes integer NOT NULL
);

CREATE INDEX document_archive_size_idx ON public.document_archive (lower(size_bytes));
"""


@pytest.fixture
def local_dir(server):
    """The local server the rehearsal uses: the suite's own."""
    if server.embedded is None:
        pytest.skip("the rehearsal needs the embedded server")
    return server.embedded.directory


def project_folder(folder, upto: int):
    for path in sorted(MIGRATIONS.glob("*.sql")):
        if int(path.name[:3]) <= upto:
            shutil.copy(path, folder.path / path.name)
    return folder


def schema_dump(url: str) -> str:
    result = subprocess.run([str(schemacopy.tool("pg_dump")), "--schema-only", f"--dbname={url}"],
                            capture_output=True, text=True, check=True)
    # pg_dump guards its script with a random key per dump (\restrict / \unrestrict)
    return "\n".join(line for line in result.stdout.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))


def history_rows(db) -> list[tuple]:
    rows = db.execute("SELECT * FROM supabase_migrations.schema_migrations ORDER BY version").fetchall()
    return rows + db.execute("SELECT * FROM supabase_migrations.migration_wizard_history ORDER BY version").fetchall()


def rehearsal_databases(server) -> list[str]:
    with server.connect() as conn:
        return [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'wizard_rehearsal_%'")]


def test_a_broken_012_is_named_and_the_target_is_left_unchanged(cli, folder, database, db, server, local_dir):
    project_folder(folder, 8)
    applied = cli("apply", "--yes", "--migrations", folder.path, "--database-url", database)
    assert applied.code == 0, applied.output
    project_folder(folder, 11)
    folder.write("012_broken_archive.sql", BROKEN_012)
    dump, rows = schema_dump(database), history_rows(db)
    assert len(rows) == 16

    result = cli("plan", "--rehearse", "--json", "--migrations", folder.path, "--database-url", database,
                 "--local-dir", local_dir)
    assert result.code == 1, result.output
    assert_clean(result)
    document = result.json()
    assert [m["version"] for m in document["pending"]] == ["009", "010", "011", "012"]  # plan's keys unchanged
    rehearsal = document["rehearsal"]
    assert rehearsal["ok"] is False and rehearsal["dropped"] is True
    assert rehearsal["copy"]["method"] == "pg_dump" and rehearsal["copy"]["history_rows"] == 16
    assert "restore_failures" not in rehearsal["copy"]
    assert [a["version"] for a in rehearsal["applied"]] == ["009", "010", "011"]
    failed = rehearsal["failed"]
    assert failed["version"] == "012" and failed["line"] == 7 and failed["sqlstate"] == "42883"
    assert failed["advice"]["fix"]

    text = cli("plan", "--rehearse", "--migrations", folder.path, "--database-url", database, "--local-dir", local_dir)
    assert text.code == 1, text.output
    assert "012_broken_archive.sql:7:" in text.out and "Rehearsal FAILED" in text.out
    assert "Fix:" in text.out and "schema only, no data" in text.out

    assert schema_dump(database) == dump
    assert history_rows(db) == rows
    assert rehearsal_databases(server) == []


def test_a_rehearsal_that_passes_matches_the_real_apply(cli, folder, database, db, server, local_dir):
    project_folder(folder, 8)
    assert cli("apply", "--yes", "--migrations", folder.path, "--database-url", database).code == 0
    project_folder(folder, 17)

    result = cli("plan", "--rehearse", "--json", "--migrations", folder.path, "--database-url", database,
                 "--local-dir", local_dir)
    assert result.code == 0, result.output
    rehearsal = result.json()["rehearsal"]
    assert rehearsal["ok"] is True and rehearsal["failed"] is None

    applied = cli("apply", "--yes", "--json", "--migrations", folder.path, "--database-url", database)
    assert applied.code == 0, applied.output
    real = applied.json()
    assert [a["version"] for a in rehearsal["applied"]] == [a["version"] for a in real["applied"]]
    assert [f"{v:03d}" for v in range(9, 18)] == [a["version"] for a in real["applied"]]
    assert (rehearsal["ok"], rehearsal["failed"]) == (real["ok"], real["failed"])
    assert rehearsal_databases(server) == []


def test_offline_the_copy_is_rebuilt_from_the_files(cli, folder, server, local_dir):
    project_folder(folder, 11)
    folder.write("012_broken_archive.sql", BROKEN_012)
    result = cli("plan", "--offline", "--rehearse", "--json", "--migrations", folder.path, "--local-dir", local_dir)
    assert result.code == 1, result.output
    rehearsal = result.json()["rehearsal"]
    assert rehearsal["copy"]["method"] == "files" and rehearsal["copy"]["offline"] is True
    assert rehearsal["copy"]["replayed"] == []
    assert [a["version"] for a in rehearsal["applied"]] == [f"{v:03d}" for v in range(1, 12)]
    assert rehearsal["failed"]["version"] == "012" and rehearsal["failed"]["line"] == 7

    text = cli("plan", "--offline", "--rehearse", "--migrations", folder.path, "--local-dir", local_dir)
    assert "rebuilt from the files, not dumped" in text.out
    assert rehearsal_databases(server) == []


def test_over_https_the_applied_files_are_replayed_first(cli, folder, database, db, server, local_dir, tmp_path):
    project_folder(folder, 8)
    assert cli("apply", "--yes", "--migrations", folder.path, "--database-url", database).code == 0
    project_folder(folder, 11)
    rows = history_rows(db)
    project = tmp_path / "backend"
    project.mkdir()
    (project / ".env.local").write_text(f"SUPABASE_URL=https://{REF}.supabase.co\nSUPABASE_ACCESS_TOKEN={TOKEN}\n")
    with ApiServer(database, REF, TOKEN) as api:
        result = cli("plan", "--rehearse", "--json", "--migrations", folder.path, "--api-url", api.url,
                     "--local-dir", local_dir, cwd=project)
    assert result.code == 0, result.output
    rehearsal = result.json()["rehearsal"]
    assert rehearsal["copy"]["method"] == "files"
    assert [a["version"] for a in rehearsal["copy"]["replayed"]] == [f"{v:03d}" for v in range(1, 9)]
    assert [a["version"] for a in rehearsal["applied"]] == ["009", "010", "011"]
    assert history_rows(db) == rows
    assert rehearsal_databases(server) == []


def test_refused_when_pg_dump_is_older_than_the_target():
    with pytest.raises(schemacopy.CopyError, match="pg_dump cannot read a newer server"):
        schemacopy.check_versions((schemacopy.tool_major() + 1) * 10000)


def test_the_copy_is_dropped_when_the_rehearsal_is_interrupted(server, local_dir):
    from wizard.core.local import LocalServer

    local = LocalServer(local_dir)
    with pytest.raises(KeyboardInterrupt):
        with schemacopy.throwaway(local) as (name, conn):
            assert conn.execute("SELECT current_database()").fetchone()[0] == name
            raise KeyboardInterrupt
    assert not schemacopy.exists(local, name)
    with psycopg.connect(local.url()) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,)).fetchone()[0] == 0


async def test_the_wizard_rehearses_from_the_path_step(tmp_path, folder, database, db, server, local_dir):
    from tui_pilot import press, settle, shown, wizard_app

    from wizard.tui.screens.path import PathScreen
    from wizard.tui.screens.rehearse import RehearseScreen

    project_folder(folder, 3)
    folder.write("004_broken.sql", "CREATE TABLE t (n integer);\n\nCREATE INDEX ON t (lower(n));\n")
    app = wizard_app(tmp_path, folder.path, database, local_dir=local_dir)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "enter", "enter")
        assert isinstance(app.screen, PathScreen)
        await press(pilot, "h")
        assert isinstance(app.screen, RehearseScreen)
        text = shown(app)
        assert "001_create_schema  applied in" in text and "004_broken  FAILED" in text
        assert "004_broken.sql:3:" in text and "Rehearsal FAILED" in text
        await press(pilot, "escape")
        assert isinstance(app.screen, PathScreen)
    assert history(db) == []
    assert rehearsal_databases(server) == []


def test_a_failure_the_missing_rows_may_cause_says_so(cli, folder, database, db, local_dir):
    folder.write("001_parent.sql", "CREATE TABLE parent (id int PRIMARY KEY);\nINSERT INTO parent VALUES (1);\n")
    assert cli("apply", "--yes", "--migrations", folder.path, "--database-url", database).code == 0
    folder.write("002_child.sql", "CREATE TABLE child (parent_id int REFERENCES parent);\n"
                 "INSERT INTO child VALUES (1);\n")
    result = cli("plan", "--rehearse", "--migrations", folder.path, "--database-url", database,
                 "--local-dir", local_dir)
    assert result.code == 1, result.output
    assert "002_child.sql:2" in result.out and "may be the copy's own: it holds no rows" in result.out
    assert cli("apply", "--yes", "--migrations", folder.path, "--database-url", database).code == 0


def test_a_postgresql_15_target_is_dumped_by_the_newer_pg_dump(cli, folder, postgres15, server, local_dir):
    """Supabase's older projects run PostgreSQL 15: the local distribution's pg_dump reads them."""
    from helpers import new_database

    project_folder(folder, 8)
    with new_database(postgres15) as target:
        assert cli("apply", "--yes", "--migrations", folder.path, "--database-url", target).code == 0
        project_folder(folder, 17)
        result = cli("plan", "--rehearse", "--json", "--migrations", folder.path, "--database-url", target,
                     "--local-dir", local_dir)
        assert result.code == 0, result.output
        rehearsal = result.json()["rehearsal"]
        assert rehearsal["ok"] and "restore_failures" not in rehearsal["copy"], rehearsal
        assert [a["version"] for a in rehearsal["applied"]] == [f"{v:03d}" for v in range(9, 18)]
    assert rehearsal_databases(server) == []


def test_a_plain_target_gets_the_compatibility_step_on_the_copy_as_apply_gives_it(cli, folder, database, db,
                                                                                  local_dir):
    """A database the compatibility step never shaped is dumped whole, with its own settings (a
    search_path naming its schema); the run on the copy takes the step, and reports what it made
    as apply then does."""
    folder.write("001_app.sql", "CREATE SCHEMA app;\nCREATE TABLE app.things (id int PRIMARY KEY);\n")
    assert cli("apply", "--yes", "--no-compat", "--migrations", folder.path, "--database-url", database).code == 0
    db.execute(f'ALTER DATABASE "{db.info.dbname}" SET search_path = app, public')
    folder.write("002_view.sql", "CREATE VIEW public.thing_ids AS SELECT id FROM things;\n")

    result = cli("plan", "--rehearse", "--json", "--migrations", folder.path, "--database-url", database,
                 "--local-dir", local_dir)
    assert result.code == 0, result.output
    rehearsal = result.json()["rehearsal"]
    assert rehearsal["ok"], rehearsal
    assert "table auth.users" in rehearsal["compat"]

    applied = cli("apply", "--yes", "--json", "--migrations", folder.path, "--database-url", database)
    assert applied.code == 0, applied.output
    real = applied.json()
    # roles are the server's, not a database's: here the copy's server is the target's, and the
    # rehearsal made them first
    assert real["compat"] == [item for item in rehearsal["compat"] if not item.startswith("role ")]
    assert [a["version"] for a in real["applied"]] == [a["version"] for a in rehearsal["applied"]] == ["002"]


def test_a_plan_apply_would_refuse_is_not_rehearsed(cli, folder, database, local_dir):
    folder.write("001_a.sql", "CREATE TABLE a (id int);\n")
    folder.write("002_b.sql", "\\i other.sql\n")
    result = cli("plan", "--rehearse", "--json", "--migrations", folder.path, "--database-url", database,
                 "--local-dir", local_dir)
    assert result.code == 2, result.output
    rehearsal = result.json()["rehearsal"]
    assert rehearsal["ok"] is False and "keep apply from starting" in rehearsal["refused"]


def test_ctrl_c_during_a_rehearsal_drops_the_copy(folder, database, server, local_dir):
    import os
    import signal
    import sys
    import time

    from helpers import ROOT, cli_env

    folder.write("001_slow.sql", "SELECT pg_sleep(60);\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "wizard", "plan", "--rehearse", "--migrations", str(folder.path), "--database-url",
         database, "--local-dir", str(local_dir)],
        cwd=ROOT, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        with server.connect() as conn:
            while time.monotonic() < deadline:  # the slow migration is running on the copy
                row = conn.execute("SELECT 1 FROM pg_stat_activity WHERE datname LIKE 'wizard_rehearsal_%' "
                                   "AND query LIKE '%pg_sleep%'").fetchone()
                if row:
                    break
                time.sleep(0.1)
            assert row, "the rehearsal never reached its migration"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
    assert process.returncode == 130, out + err
    assert "Traceback" not in err
    assert rehearsal_databases(server) == []


def test_a_local_dir_that_is_a_file_is_a_usage_error(cli, folder, tmp_path):
    folder.write("001_a.sql", "CREATE TABLE a (id int);\n")
    taken = tmp_path / "taken"
    taken.write_text("not a directory\n")
    result = cli("plan", "--offline", "--rehearse", "--migrations", folder.path, "--local-dir", taken)
    assert result.code == 2, result.output
    assert_clean(result)
    assert "--local-dir" in result.err
