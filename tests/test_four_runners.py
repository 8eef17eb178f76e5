"""Four runners at once on one database and the project's own migrations: two command lines over a
database connection, one over HTTPS (the Management API's stand-in on the same database) and the
terminal wizard. Each migration is applied once; every runner ends done, or on the held lock."""

from __future__ import annotations

import json
import subprocess
import sys

from api_server import REF, TOKEN, ApiServer
from helpers import MIGRATIONS, ROOT, cli_env, history
from tui_pilot import press, settle, wizard_app

from wizard.tui.screens.apply import ApplyScreen
from wizard.tui.screens.troubleshoot import TroubleshootScreen

ALL = [f"{i:03d}" for i in range(1, 19)]


def start(args: list[str], cwd) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "wizard", "apply", "--yes", "--json", "--migrations",
                             str(MIGRATIONS), *args], cwd=cwd, env=cli_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)


async def test_four_runners_at_once_apply_each_migration_once(tmp_path, database, db):
    project = tmp_path / "over-https"
    project.mkdir()
    (project / ".env.local").write_text(f"SUPABASE_URL=https://{REF}.supabase.co\nSUPABASE_ACCESS_TOKEN={TOKEN}\n")
    with ApiServer(database, REF, TOKEN) as api:
        runs = [start(["--database-url", database], ROOT), start(["--database-url", database], ROOT),
                start(["--api-url", api.url], project)]
        app = wizard_app(tmp_path, MIGRATIONS, database)
        try:
            async with app.run_test(size=(80, 24)) as pilot:
                await settle(pilot)
                await press(pilot, "enter", "enter", "enter")  # welcome, environment, path: apply
                await settle(pilot, timeout=180)
                screen = app.screen
                if isinstance(screen, TroubleshootScreen):  # it waited for another run's lock, in vain
                    trouble = screen.trouble
                    assert trouble.what == "Another migration run holds the lock", trouble
                    assert "It is held by pid" in trouble.message
                    wizard = (4, [])
                else:
                    assert isinstance(screen, ApplyScreen) and screen.finished is not None, screen
                    assert screen.finished.ok and screen.trouble is None, (screen.finished, screen.trouble)
                    wizard = (0, [a.version for a in screen.applied])
        finally:
            results = [(run.wait(timeout=300), *run.communicate()) for run in runs]

    applied = list(wizard[1])
    codes = [wizard[0]]
    for code, out, err in results:
        assert "Traceback" not in out + err
        assert code in (0, 4), err
        codes.append(code)
        if code == 0:
            applied += [a["version"] for a in json.loads(out)["applied"]]
        else:
            assert "another migration run" in err, err
    assert len(applied) == len(set(applied)), applied  # no runner applied what another did
    if codes == [0, 0, 0, 0]:
        assert sorted(applied) == ALL
    assert history(db) == ALL
    rows = db.execute("SELECT count(*), count(DISTINCT version) FROM supabase_migrations.schema_migrations").fetchone()
    assert rows == (18, 18)
    meta = db.execute("SELECT count(*) FROM supabase_migrations.migration_wizard_history").fetchone()
    assert meta == (18,)


def test_a_run_over_https_waits_for_a_run_over_a_connection_then_exits_4_naming_it(tmp_path, folder, database, db,
                                                                                    cli):
    import psycopg

    from wizard.core.runner import LOCK_KEY

    (tmp_path / ".env.local").write_text(f"SUPABASE_URL=https://{REF}.supabase.co\nSUPABASE_ACCESS_TOKEN={TOKEN}\n")
    folder.write("001_a.sql", "CREATE TABLE a (id int);")
    holder = psycopg.connect(database, autocommit=True, application_name="other-deploy")
    holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    try:
        with ApiServer(database, REF, TOKEN) as api:
            result = cli("apply", "--yes", "--json", "--no-compat", "--lock-timeout", "1", "--table-lock-timeout",
                         "0.2", "--migrations", folder.path, "--api-url", api.url, cwd=tmp_path)
    finally:
        holder.close()
    assert result.code == 4, result.output
    assert result.json()["error"]["kind"] == "lock-held"
    assert "other-deploy" in result.err and "runs again" not in result.err
    assert history(db) == [] and db.execute("SELECT to_regclass('a')").fetchone() == (None,)
