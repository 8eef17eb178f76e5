"""Count and time the requests of ``apply`` over HTTPS: migrations packed into few requests (the
default, up to 256 KiB of SQL each) against one request per migration (``--pack-size 0``).

128 generated migrations (bench/generate.py) go through the test suite's stand-in for the
Management API (tests/api_server.py: each request runs on a fresh connection to a real PostgreSQL,
an embedded PostgreSQL 18 started in a temporary directory and removed at the end). The stand-in
has no rate limit; the Management API allows 60 requests a minute, so the report also gives the
least time that limit imposes on each way (a request past the 60th of a minute waits for the next).

    .venv/bin/python bench/https_pack.py [--count 128] [--runs 3] [--database-url SUPERUSER_URL]

``--database-url`` uses that server (a database per run is created and dropped there) instead of
starting one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from api_server import ApiServer  # noqa: E402
from generate import generate  # noqa: E402

from wizard.core.local import LocalServer  # noqa: E402

REF = "benchbenchbenchbench"
TOKEN = "sbp_" + "0" * 40
RECORDED = re.compile(r"INSERT INTO supabase_migrations\.schema_migrations \(version, name, statements\) VALUES")
PER_MINUTE = 60


def commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def rate_floor(requests: int) -> int:
    """Seconds the Management API's limit imposes at least: the 61st request waits for minute 2."""
    return ((requests - 1) // PER_MINUTE) * 60 if requests else 0


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def apply(admin: str, name: str, folder: Path, project: Path, pack: list[str]) -> tuple[float, int, int]:
    """One apply over the stand-in on a fresh database: seconds, requests holding migrations, all requests."""
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with ApiServer(with_database(admin, name), REF, TOKEN) as api:
            command = [sys.executable, "-m", "wizard", "apply", "--yes", "--json", *pack, "--migrations", str(folder),
                       "--api-url", api.url]
            env = {k: v for k, v in os.environ.items() if not k.startswith(("SUPABASE", "DATABASE_URL", "WIZARD"))}
            started = time.perf_counter()
            done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
            seconds = time.perf_counter() - started
            if done.returncode != 0:
                raise SystemExit(f"apply failed ({done.returncode}):\n{done.stderr[-3000:]}")
            report = json.loads(done.stdout)
            migrations = sum(1 for q in api.requests if RECORDED.search(q))
            assert report["requests"]["sent"] == len(api.requests), (report["requests"], len(api.requests))
            return seconds, migrations, len(api.requests)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=128, help="generated migrations")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each way (median)")
    parser.add_argument("--database-url", help="a superuser URL of the server to use (default: start one)")
    args = parser.parse_args(argv)

    ways = {"packed (default, 256 KiB)": [], "one request per migration (--pack-size 0)": ["--pack-size", "0"]}
    results: dict[str, list[tuple[float, int, int]]] = {way: [] for way in ways}
    with tempfile.TemporaryDirectory(prefix="bench-https-pack-") as scratch:
        folder = Path(scratch) / "migrations"
        generate(folder, args.count)
        size = sum(p.stat().st_size for p in folder.glob("*.sql"))
        project = Path(scratch) / "project"
        project.mkdir()
        (project / ".env.local").write_text(f"SUPABASE_URL=https://{REF}.supabase.co\nSUPABASE_ACCESS_TOKEN={TOKEN}\n")
        server = None if args.database_url else LocalServer(Path(scratch) / "server")
        admin = args.database_url or server.start()
        try:
            for run in range(args.runs):
                for number, (way, flags) in enumerate(ways.items()):
                    result = apply(admin, f"bench_pack_{run}_{number}", folder, project, flags)
                    results[way].append(result)
                    print(f"  run {run + 1}, {way}: {result[0]:.2f} s, {result[1]} migration requests, "
                          f"{result[2]} in all", file=sys.stderr)
        finally:
            if server is not None:
                server.stop()

    print(f"HTTPS packing benchmark, wizard {commit()}, {args.count} generated migrations ({size / 1024:.0f} KiB of "
          f"SQL), the Management API stand-in over {'that server' if args.database_url else 'an embedded PostgreSQL 18'}, "
          f"{args.runs} runs (median)")
    print("| apply over HTTPS | requests holding migrations | requests in all | median s (stand-in) | "
          "least time at 60 requests a minute |")
    print("|---|---:|---:|---:|---:|")
    medians = {}
    for way, rows in results.items():
        seconds = statistics.median(r[0] for r in rows)
        medians[way] = seconds
        migrations, total = rows[0][1], rows[0][2]
        print(f"| {way} | {migrations} | {total} | {seconds:.2f} | {rate_floor(total)} s |")
    packed, single = (results[w][0] for w in ways)
    first, second = list(medians.values())
    print(f"packed / one per migration: {packed[2] / single[2]:.2f}x the requests in all, "
          f"{packed[1] / single[1]:.3f}x the migration requests, {first / second:.2f}x the time on the stand-in")
    return 0


if __name__ == "__main__":
    sys.exit(main())
