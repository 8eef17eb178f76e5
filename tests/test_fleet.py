"""Many databases: the targets file, ``fleet status`` and ``fleet apply`` on real databases of the
suite's server (and one project through the Management API's stand-in)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from helpers import PASSWORD, PASSWORD_USER, assert_clean, cli_env, history, new_database, run_cli

from wizard.core.fleet import targets as targets_file

MIGRATIONS = {
    "001_a.sql": "CREATE TABLE a (id int PRIMARY KEY);\n",
    "002_b.sql": "CREATE TABLE b (id int PRIMARY KEY);\nINSERT INTO a VALUES (2);\n",
    "003_c.sql": "CREATE TABLE c (id int PRIMARY KEY);\n",
}


@pytest.fixture
def fleet(server, tmp_path):
    """A working folder with a migration folder and six databases t1..t6, named by variables in
    .env.local and by a targets file; yields (folder, {name: url})."""
    folder = tmp_path / "project"
    (folder / "migrations").mkdir(parents=True)
    for name, sql in MIGRATIONS.items():
        (folder / "migrations" / name).write_text(sql)
    with contextlib.ExitStack() as stack:
        urls = {f"t{i}": stack.enter_context(new_database(server.admin_url, "wizard_fleet_")) for i in range(1, 7)}
        write_targets(folder, urls)
        yield folder, urls


def write_targets(folder: Path, urls: dict[str, str], extra: str = "") -> None:
    (folder / ".env.local").write_text("".join(f"{n.upper()}_URL={u}\n" for n, u in urls.items()))
    (folder / "migration-wizard.toml").write_text(
        'migrations = "migrations"\n' + extra
        + "".join(f'\n[targets.{n}]\nurl_env = "{n.upper()}_URL"\n' for n in urls))


def fleet_cli(folder: Path, *args, env: dict | None = None, timeout: float = 180):
    result = run_cli("fleet", *args, cwd=folder, env=env, timeout=timeout)
    assert_clean(result)
    return result


def versions(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return history(conn)


def table_exists(url: str, name: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"public.{name}",)).fetchone()[0]


def break_target(url: str) -> None:
    """002 creates table b: a b made beforehand makes 002 fail at its first line."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE b (x int)")


def by_name(document: dict) -> dict[str, dict]:
    return {t["name"]: t for t in document["targets"]}


# -- the targets file ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, line, words", [
    ("[targets.a]\nurl_env = \"A_URL\"\n[targets.b\n", 3, "not valid TOML"),
    ("[targets.a]\nurl_env = \"A_URL\"\ncolour = \"red\"\n", 3, "'colour' is not a setting"),
    ("[targets.a]\nurl_env = \"A_URL\"\n\n[targets.b]\nurl = \"postgresql://u:hunter2@db/x\"\n", 5, "secret"),
    ("[targets.a]\nurl_env = \"postgresql://u:hunter2@db/x\"\n", 2, "names an environment variable"),
    ("[targets.a]\nurl_env = \"A_URL\"\nlocal = true\n", 1, "exactly one of"),
    ("[targets.a]\nproject_ref = \"short\"\n", 2, "20 lowercase letters"),
    ("[targets.a]\nurl_env = \"A\"\ntoken_env = \"T\"\n", 3, "token_env goes with project_ref"),
    ("groups = [\"staging\"]\n[targets.a]\nurl_env = \"A\"\ngroup = \"prod\"\n", 4, "not in groups"),
    ("migrations = \"m\"\n", None, "names no target"),
    ("[targets.\"a b\"]\nurl_env = \"A\"\n", 1, "is not a target name"),
])
def test_a_malformed_targets_file_is_refused_at_its_line(text, line, words, tmp_path):
    path = tmp_path / "migration-wizard.toml"
    path.write_text(text)
    with pytest.raises(targets_file.TargetsError) as caught:
        targets_file.load(path)
    assert words in caught.value.message
    assert "hunter2" not in caught.value.message
    if line is not None:
        assert caught.value.line == line and f"{path}:{line}:" in caught.value.message


def test_the_command_line_says_where_the_targets_file_is_wrong(tmp_path):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migration-wizard.toml").write_text('[targets.a]\nurl_env = "A"\n\n[targets.b]\n'
                                                   'password = "hunter2"\n')
    result = run_cli("fleet", "status", cwd=tmp_path)
    assert_clean(result)
    assert result.code == 2
    assert "migration-wizard.toml:5:" in result.err and "hunter2" not in result.output
    missing = run_cli("fleet", "apply", "--yes", cwd=tmp_path / "migrations")
    assert missing.code == 2 and "no migration-wizard.toml here" in missing.err
    for bad in ("0/3", "4/3", "x/y"):
        wrong = run_cli("fleet", "status", "--shard", bad, cwd=tmp_path)
        assert wrong.code == 2 and "--shard" in wrong.err, wrong.output


def test_groups_order_the_rollout_and_select(tmp_path):
    path = tmp_path / "migration-wizard.toml"
    path.write_text('groups = ["staging", "production"]\n'
                    '[targets.p1]\nurl_env = "P1"\ngroup = "production"\n'
                    '[targets.s1]\nurl_env = "S1"\ngroup = "staging"\n'
                    '[targets.p2]\nproject_ref = "abcdefghijklmnopqrst"\ngroup = "production"\n')
    fleet = targets_file.load(path)
    assert [[t.name for t in w] for w in fleet.waves(list(fleet.targets))] == [["s1"], ["p1", "p2"]]
    assert [t.name for t in fleet.in_groups(["production"])] == ["p1", "p2"]
    assert fleet.targets[2].kind == "https" and fleet.targets[2].token_env == "SUPABASE_ACCESS_TOKEN"
    with pytest.raises(targets_file.TargetsError):
        fleet.named(["nope"])


@pytest.mark.parametrize("count", range(1, 8))
def test_shards_cover_every_target_exactly_once(count):
    names = [f"tenant-{i:02d}" for i in (7, 3, 11, 1, 9, 4, 12, 2, 10, 5, 8, 6, 13)]
    fleet = [targets_file.Target(n, url_env="X") for n in names]
    slices = [targets_file.shard(fleet, i, count) for i in range(1, count + 1)]
    seen = [t.name for s in slices for t in s]
    assert sorted(seen) == sorted(names) and len(seen) == len(set(seen))
    assert max(map(len, slices)) - min(map(len, slices)) <= 1
    # stable: the file's order does not change which slice a target is in
    reordered = list(reversed(fleet))
    assert [{t.name for t in targets_file.shard(reordered, i, count)} for i in range(1, count + 1)] == \
        [{t.name for t in s} for s in slices]


# -- fleet apply -----------------------------------------------------------------------------------

def test_a_broken_target_stops_the_fleet_and_a_second_run_finishes_it(fleet):
    folder, urls = fleet
    break_target(urls["t3"])
    first = fleet_cli(folder, "apply", "--yes", "--no-compat", "--parallel", "1", "--json")
    assert first.code == 1, first.output
    report = by_name(first.json())
    assert [report[n]["outcome"] for n in sorted(report)] == ["done", "done", "failed", "not-started",
                                                               "not-started", "not-started"]
    failed = report["t3"]["failed"]
    assert failed["file"].endswith("002_b.sql") and failed["line"] == 1
    assert failed["advice"]["fix"]
    assert [a["version"] for a in report["t3"]["applied"]] == ["001"]
    # nothing half applied: t3 has 001 and nothing of 002 (its INSERT into a did not stay)
    assert versions(urls["t3"]) == ["001"]
    with psycopg.connect(urls["t3"], autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM a").fetchone()[0] == 0
    assert versions(urls["t1"]) == versions(urls["t2"]) == ["001", "002", "003"]
    assert all(versions(urls[n]) == [] for n in ("t4", "t5", "t6"))
    # the status of the whole fleet, read afterwards, says where t3 failed
    status = fleet_cli(folder, "status", "--json")
    assert status.code == 0
    t3 = by_name(status.json())["t3"]
    assert t3["migrations"] == {"001": "applied", "002": "failed", "003": "pending"}
    assert t3["failures"][0]["line"] == 1 and t3["failures"][0]["file"].endswith("002_b.sql")
    text = fleet_cli(folder, "status")
    assert "failed at" in text.out and "002_b.sql:1" in text.out

    with psycopg.connect(urls["t3"], autocommit=True) as conn:
        conn.execute("DROP TABLE b")
    second = fleet_cli(folder, "apply", "--yes", "--no-compat", "--parallel", "3")
    assert second.code == 0, second.output
    assert "6 done (of 6)" in second.out
    assert all(versions(u) == ["001", "002", "003"] for u in urls.values())
    after = by_name(fleet_cli(folder, "status", "--json").json())
    assert all(t["counts"]["applied"] == 3 and "failures" not in t for t in after.values())


def test_max_failures_zero_keeps_going_and_the_running_ones_finish(fleet):
    folder, urls = fleet
    break_target(urls["t3"])
    result = fleet_cli(folder, "apply", "--yes", "--no-compat", "--parallel", "2", "--max-failures", "0")
    assert result.code == 1
    assert "5 done, 1 failed (of 6)" in result.out
    assert "t3: 002_b FAILED at" in result.err  # plain lines when not on a terminal
    assert "Why:" in result.out and "Fix:" in result.out
    assert all(versions(urls[n]) == ["001", "002", "003"] for n in urls if n != "t3")


def test_a_failing_canary_stops_the_fleet_before_anything_else(fleet):
    folder, urls = fleet
    break_target(urls["t5"])
    result = fleet_cli(folder, "apply", "--yes", "--no-compat", "--canary", "t5", "--json")
    assert result.code == 1
    report = by_name(result.json())
    assert report["t5"]["outcome"] == "failed" and report["t5"]["canary"] is True
    assert all(report[n]["outcome"] == "not-started" for n in report if n != "t5")
    assert all(versions(urls[n]) == [] for n in urls if n != "t5")
    assert "canary t5 is not done" in result.err

    with psycopg.connect(urls["t5"], autocommit=True) as conn:
        conn.execute("DROP TABLE b")
    good = fleet_cli(folder, "apply", "--yes", "--no-compat", "--canary", "t5", "t1", "--json")
    assert good.code == 0
    lines = [line for line in good.err.splitlines() if line.endswith(": started") or ": done: " in line]
    # the canaries first, in the order given, one at a time (t5 had 001 from the first run)
    assert lines[:4] == ["t5: started", "t5: done: 2 applied", "t1: started", "t1: done: 3 applied"]


def test_unreachable_and_unconfigured_targets_are_reported_and_count_as_failures(fleet, server):
    folder, urls = fleet
    closed = "postgresql://postgres@127.0.0.1:9/nothing?connect_timeout=2"
    secret_url = urls["t2"].replace("postgres@", f"{PASSWORD_USER}:{PASSWORD.replace('#', '%23').replace('@', '%40').replace('/', '%2F')}Xq9@")
    env = (folder / ".env.local").read_text()
    env = env.replace(f"T1_URL={urls['t1']}", f"T1_URL={closed}").replace(f"T2_URL={urls['t2']}", f"T2_URL={secret_url}")
    env = env.replace(f"T6_URL={urls['t6']}\n", "")
    (folder / ".env.local").write_text(env)
    status = fleet_cli(folder, "status", "--json")
    assert status.code == 3
    document = by_name(status.json())
    assert not document["t1"]["reachable"] and "refused" in document["t1"]["error"]["message"]
    assert not document["t2"]["reachable"]
    assert "T6_URL is not set" in document["t6"]["error"]["message"]
    assert document["t3"]["migrations"] == {"001": "pending", "002": "pending", "003": "pending"}
    assert PASSWORD not in status.output
    assert "Xq9" not in status.output and "%23" not in status.output
    apply = fleet_cli(folder, "apply", "--yes", "--no-compat", "--max-failures", "0", "--parallel", "3", "--json")
    report = by_name(apply.json())
    assert {n: t["outcome"] for n, t in report.items()} == {
        "t1": "unreachable", "t2": "unreachable", "t3": "done", "t4": "done", "t5": "done", "t6": "unreachable"}
    assert apply.code == 3  # unreachable only: the connection's exit code
    assert PASSWORD not in apply.output


def test_two_fleet_runs_at_once_apply_each_migration_once_per_target(fleet, tmp_path):
    folder, urls = fleet
    slow = folder / "migrations" / "002_b.sql"
    slow.write_text("CREATE TABLE b (id int PRIMARY KEY);\nSELECT pg_sleep(0.3);\nINSERT INTO a VALUES (2);\n")
    command = [sys.executable, "-m", "wizard", "fleet", "apply", "--yes", "--no-compat", "--parallel", "4",
               "--lock-timeout", "60", "--json"]
    first = subprocess.Popen([*command, "--target", "t1", "--target", "t2", "--target", "t3", "--target", "t4"],
                             cwd=folder, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen([*command, "--target", "t3", "--target", "t4", "--target", "t5", "--target", "t6"],
                              cwd=folder, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out1, err1 = first.communicate(timeout=180)
    out2, err2 = second.communicate(timeout=180)
    assert first.returncode == 0 and second.returncode == 0, err1 + err2
    for name, url in urls.items():
        assert versions(url) == ["001", "002", "003"]
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT count(*) FROM a").fetchone()[0] == 1, name  # 002 ran once
    assert "Traceback" not in err1 + err2


def test_shards_of_a_fleet_apply_together_migrate_every_target(fleet):
    folder, urls = fleet
    for index in (1, 2, 3):
        result = fleet_cli(folder, "apply", "--yes", "--no-compat", "--shard", f"{index}/3", "--json")
        assert result.code == 0 and len(result.json()["targets"]) == 2
        assert f"Shard {index}/3: 2 of the fleet's targets" in result.err
    status = fleet_cli(folder, "status", "--json").json()
    assert status["summary"] == {"targets": 6, "unreachable": 0, "up_to_date": 6, "failed": 0}


def test_a_fleet_with_the_compatibility_step_and_an_https_target(server, tmp_path):
    from api_server import ApiServer

    folder = tmp_path / "project"
    (folder / "migrations").mkdir(parents=True)
    (folder / "migrations" / "001_profiles.sql").write_text(
        "CREATE TABLE profiles (id uuid PRIMARY KEY REFERENCES auth.users (id));\n"
        "ALTER TABLE profiles ENABLE ROW LEVEL SECURITY;\n")
    ref, token = "abcdefghijklmnopqrst", "sbp_" + "f" * 40
    with new_database(server.admin_url, "wizard_fleet_") as direct, \
            new_database(server.admin_url, "wizard_fleet_") as remote, ApiServer(remote, ref, token) as api:
        (folder / ".env.local").write_text(f"DIRECT_DB={direct}\nTOKEN_B={token}\n")
        (folder / "migration-wizard.toml").write_text(
            f'migrations = "migrations"\n[targets.direct]\nurl_env = "DIRECT_DB"\n'
            f'[targets.remote]\nproject_ref = "{ref}"\ntoken_env = "TOKEN_B"\napi_url = "{api.url}"\n')
        result = fleet_cli(folder, "apply", "--yes", "--json")
        assert result.code == 0, result.output
        assert {n: t["outcome"] for n, t in by_name(result.json()).items()} == {"direct": "done", "remote": "done"}
        assert versions(direct) == versions(remote) == ["001"]
        before = len(api.requests)
        status = fleet_cli(folder, "status")
        assert status.code == 0 and "2 up to date" in status.out, status.out
        assert len(api.requests) - before == 2  # what the history tables are, then their rows: no probe first
        assert token not in status.output + result.output
        # a failure over HTTPS is kept on the project and read back by status
        (folder / "migrations" / "002_posts.sql").write_text("SELECT 1;\nCREATE TABLE posts (id int);\n")
        with psycopg.connect(remote, autocommit=True) as conn:
            conn.execute("CREATE TABLE posts (x int)")
        failed = fleet_cli(folder, "apply", "--yes", "--max-failures", "0", "--json")
        assert failed.code == 1
        remote_report = by_name(failed.json())["remote"]
        assert remote_report["outcome"] == "failed" and remote_report["failed"]["line"] == 2
        again = by_name(fleet_cli(folder, "status", "--json").json())
        assert again["remote"]["migrations"] == {"001": "applied", "002": "failed"}
        assert again["remote"]["failures"][0]["file"].endswith("002_posts.sql")
        assert again["direct"]["migrations"] == {"001": "applied", "002": "applied"}
        # a token the service refuses: that project is unreachable, said as a probe would say it
        (folder / ".env.local").write_text(f"DIRECT_DB={direct}\nTOKEN_B=sbp_{'0' * 40}\n")
        refused = fleet_cli(folder, "status", "--json")
        assert refused.code == 3
        remote_status = by_name(refused.json())["remote"]
        assert remote_status["reachable"] is False and remote_status["error"]["kind"] == "https-unauthorized"
        assert "401" in remote_status["error"]["message"]


def test_the_readme_example_targets_file_reads(tmp_path):
    import re

    from helpers import ROOT

    text = (ROOT / "README.md").read_text()
    example = re.search(r"```toml\n(migrations = .*?)```", text, re.S).group(1)
    fleet = targets_file.parse(example, tmp_path / "migration-wizard.toml")
    assert [(t.name, t.kind) for t in fleet.targets] == [("staging", "url"), ("acme", "https"), ("dev", "local")]
    assert fleet.groups == ("dev", "staging", "production")


def test_ctrl_c_stops_every_target_and_nothing_is_half_applied(fleet):
    import signal
    import time

    folder, urls = fleet
    (folder / "migrations" / "002_b.sql").write_text(
        "CREATE TABLE b (id int PRIMARY KEY);\nSELECT pg_sleep(30);\nINSERT INTO a VALUES (2);\n")
    run = subprocess.Popen([sys.executable, "-m", "wizard", "fleet", "apply", "--yes", "--no-compat", "--parallel",
                            "3", "--json"], cwd=folder, env=cli_env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(versions(u) == ["001"] for u in urls.values()) < 3:
        time.sleep(0.2)
    time.sleep(0.5)
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    report = by_name(__import__("json").loads(out))
    assert sorted(t["outcome"] for t in report.values()) == ["interrupted"] * 3 + ["not-started"] * 3
    for url in urls.values():
        assert versions(url) in ([], ["001"]) and not table_exists(url, "b")
    assert "Traceback" not in err
