"""The benchmark runs end to end on a tiny generated set. Its figures are not checked (tests do
not time anything): that it runs, checks every runner's result and prints the ratios is."""

import json
import re
import shutil
import subprocess
import sys

import pytest
from helpers import ROOT, cli_env


@pytest.mark.skipif(shutil.which("psql") is None, reason="the benchmark compares the wizard with psql")
def test_the_benchmark_runs_and_prints_the_ratios(server, tmp_path):
    no_project = tmp_path / "no-project"
    no_project.mkdir()
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--database-url", server.admin_url, "--count", "4",
         "--runs", "1", "--warmup", "0", "--skip-supabase", "--migrations", str(no_project),
         "--json", str(tmp_path / "results.json")],
        cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^(migration-wizard apply|psql, one session|psql -1 -f, per file)"
                                                       r"\s.*?(\d+\.\d\dx)", result.stdout, re.MULTILINE)}
    assert set(rows) == {"migration-wizard apply", "psql, one session", "psql -1 -f, per file"}, result.stdout
    assert rows["psql, one session"] == "1.00x"
    assert "generated (4 files)" in result.stdout
    assert (tmp_path / "results.json").is_file()
    with server.connect() as conn:  # the benchmark's databases are gone
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'bench%%'").fetchone() == (0,)


def test_the_fleet_benchmark_runs_behind_its_latency_proxy(server, tmp_path):
    """bench/fleet.py in a tiny mode: fleet apply against the loop of apply, fleet status through the
    proxy and without it; every database checked, the ratio printed, the JSON written, nothing left."""
    out = tmp_path / "fleet.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "fleet.py"), "--database-url", server.admin_url, "--targets", "2",
         "--status-targets", "3", "--runs", "1", "--delay-ms", "5", "--json", str(out)],
        cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r"^\| fleet apply --parallel 10 \| \d+\.\d{3} \|", result.stdout, re.MULTILINE), result.stdout
    assert re.search(r"^\| loop of apply \(bash\) \| \d+\.\d{3} \|", result.stdout, re.MULTILINE), result.stdout
    assert re.search(r"^fleet / loop: \d\.\d{3} ", result.stdout, re.MULTILINE), result.stdout
    assert "fleet status --parallel 32, through the proxy" in result.stdout
    report = json.loads(out.read_text())
    assert report["round_trip_ms"]["proxied"] >= 9.5  # the delay is real: 5 ms each way
    fleet = report["apply"]["fleet"]["profiles"][0]
    assert fleet["per_database_connections"] >= 1 and fleet["per_database_turns"] > 3  # seen by the proxy
    with server.connect() as conn:  # the benchmark's databases are gone
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'bench%%'").fetchone() == (0,)


def test_the_https_packing_benchmark_runs(server, tmp_path):
    """bench/https_pack.py in a tiny mode: packed against one request per migration through the
    Management API stand-in; the requests counted, the ratio printed, nothing left behind."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "https_pack.py"), "--database-url", server.admin_url, "--count", "6",
         "--runs", "1"],
        cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r"^\| packed \(default, 256 KiB\) \| 1 \|", result.stdout, re.MULTILINE), result.stdout
    assert re.search(r"^\| one request per migration \(--pack-size 0\) \| 6 \|", result.stdout, re.MULTILINE)
    assert "packed / one per migration:" in result.stdout
    with server.connect() as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'bench_pack%%'").fetchone() == (0,)
