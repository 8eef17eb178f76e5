"""Time ``plan --rehearse`` on a large schema: the copy (a throwaway database, the compatibility
step, pg_dump --schema-only of the target, pg_restore, the history rows) and the pending migrations
applied on it, then the copy dropped.

The target is a database with 300 generated tables (bench/generate.py: one table per migration,
with its indexes, policies, grants and comments; the seed rows left out: schema only) applied by
the wizard; 20 more generated
migrations are pending. Everything runs on an embedded PostgreSQL 18 in a temporary directory,
removed at the end (the rehearsal's copy lives on the same server).

    .venv/bin/python bench/rehearse.py [--tables 300] [--pending 20] [--runs 3]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from generate import generate  # noqa: E402

from wizard.core import catalog, compat, runner, schemacopy  # noqa: E402
from wizard.core.flows import overview  # noqa: E402
from wizard.core.flows.rehearse import rehearse  # noqa: E402
from wizard.core.local import LocalServer  # noqa: E402


def commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def _schema_only(text: str) -> str:
    """A generated migration without its seed rows (the target holds the schema only)."""
    return re.sub(r"^(INSERT INTO|UPDATE|DELETE FROM) .*?;\n", "", text, flags=re.S | re.M)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=300, help="tables of the target (applied migrations)")
    parser.add_argument("--pending", type=int, default=20, help="pending migrations")
    parser.add_argument("--runs", type=int, default=3, help="timed rehearsals")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-rehearse-") as scratch:
        folder = Path(scratch) / "migrations"
        for path in generate(folder, args.tables + args.pending):
            path.write_text(_schema_only(path.read_text(encoding="utf-8")), encoding="utf-8")
        server = LocalServer(Path(scratch) / "server")
        admin = server.start()
        try:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute("CREATE DATABASE bench_target")
            target_url = server.url("bench_target")
            loaded = catalog.load(folder)
            applied = [m.version for m in loaded.migrations[:args.tables]]
            print(f"target: {args.tables} tables, applying them...", file=sys.stderr)
            with psycopg.connect(target_url, autocommit=True) as target:
                finished = runner.Runner(target, loaded).run(only=applied)
                assert finished.ok, finished.failed
                tables = target.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0]
                objects = target.execute("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = "
                                         "c.relnamespace WHERE n.nspname = 'public'").fetchone()[0]
                read = overview.read(loaded, target)
                assert len(read.pending) == args.pending, len(read.pending)
                rows = []
                for run in range(args.runs):
                    started = time.monotonic()
                    report = rehearse(read, target, server)
                    total = int((time.monotonic() - started) * 1000)
                    assert report.ok and report.dropped and not report.restore_failures, report.lines()
                    assert len(report.apply.finished.applied) == args.pending
                    rows.append((report.copy_ms, report.run_ms, total))
                    print(f"  run {run + 1}: copy {report.copy_ms} ms, apply {report.run_ms} ms, total {total} ms",
                          file=sys.stderr)
                with schemacopy.throwaway(server) as (name, copy):  # where the copy's time goes, once
                    started = time.monotonic()
                    compat.ensure(copy)
                    shaped = time.monotonic()
                    schemacopy.dump_into(target, copy, server.url(name))
                    split = (int((shaped - started) * 1000), int((time.monotonic() - shaped) * 1000))
        finally:
            server.stop()

    print(f"rehearsal benchmark, wizard {commit()}, embedded PostgreSQL 18, {args.runs} runs (median)")
    print(f"target: {tables} tables ({objects} relations in public: tables, indexes, sequences, views), "
          f"{args.pending} pending migrations")
    print("| step | median ms | min ms | max ms |")
    print("|---|---:|---:|---:|")
    for label, index in (("copy (database, compat step, pg_dump, pg_restore, history)", 0),
                         (f"apply the {args.pending} pending migrations", 1),
                         ("whole rehearsal (copy + apply + lint + drop)", 2)):
        values = [r[index] for r in rows]
        print(f"| {label} | {int(statistics.median(values))} | {min(values)} | {max(values)} |")
    print(f"of one copy: the compatibility step {split[0]} ms, pg_dump + pg_restore + history rows {split[1]} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
