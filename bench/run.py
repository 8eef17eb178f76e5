"""Time `migration-wizard apply` against psql and the Supabase CLI on the same server and files.

    .venv/bin/python bench/run.py [--database-url URL] [--count 200] [--runs 5] [--migrations DIR]

For each migration set (a generated folder of --count files, and the project's own migrations/),
a template database is created once, with the Supabase compatibility objects of
wizard/core/compat.sql already in it. Every run of every runner then gets a fresh copy
(CREATE DATABASE ... TEMPLATE), is timed end to end as a subprocess (wall clock, process start-up
included), checked, and dropped. Runs are interleaved (run 1 of every runner, then run 2...) so a
slow patch of the machine does not land on one runner only. The median of --runs is reported.

Runners:
  wizard        migration-wizard apply --yes --database-url URL --migrations DIR
  psql-session  one psql session: BEGIN; \\i file; COMMIT; for every file (the server's own work)
  psql-file     psql -1 -f file, once per file (a process and a connection per file)
  supabase      supabase db push --db-url URL --yes (when the Supabase CLI is installed)

Dependencies: the standard library and psycopg (the project's venv has it), psql, and optionally
the Supabase CLI (.tools/node_modules/.bin/supabase, or `supabase` on PATH).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from generate import generate  # noqa: E402

COMPAT_SQL = ROOT / "wizard" / "core" / "compat.sql"
COMPAT_ROLES = ("authenticator", "anon", "authenticated", "service_role", "supabase_admin", "supabase_auth_admin",
                "supabase_storage_admin", "dashboard_user")  # the roles compat.sql creates
BASELINE = "psql-session"
MIGRATION_FILE = re.compile(r"^\d+_.+\.sql$")
# Variables that could point a tool at another database than the one it is given.
SCRUBBED_ENV = ("DATABASE_URL", "DIRECT_URL", "POSTGRES_URL", "POSTGRES_URL_NON_POOLING", "SUPABASE_DB_URL",
                "SUPABASE_URL", "SUPABASE_DB_PASSWORD", "PGDATABASE", "PGSERVICE")


class BenchError(Exception):
    """A runner failed, or a run did not produce what it should: the numbers would be meaningless."""


def say(message: str = "") -> None:
    print(message, file=sys.stderr, flush=True)


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":****@", 1)
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env["DO_NOT_TRACK"] = "1"
    env["SUPABASE_TELEMETRY_DISABLED"] = "1"
    return env


# -- timing a process --------------------------------------------------------------------------


@dataclass
class Process:
    seconds: float
    code: int
    rss_kib: int | None  # peak resident set size of the command (KiB), when measured
    cpu: float  # user + system CPU seconds of the command and the processes it waited for
    err: str


# GNU time reports the peak RSS of the command it runs: /usr/bin/time is a small process, so what it
# forks starts small. The rusage os.wait4 returns for a child of this script is not usable for that:
# a child created by fork/vfork shares or copies this (psycopg-loaded) interpreter's memory until it
# execs, and Linux carries that high-water mark across exec into ru_maxrss.
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def timed(command: list[str], cwd: Path | None = None, memory: bool = False) -> Process:
    """Run a command to its end; its wall-clock time from spawn to reaped (perf_counter) and, with
    ``memory``, its peak RSS (under GNU time when installed, else ru_maxrss from os.wait4: an upper
    bound that includes this script's own size)."""
    with tempfile.TemporaryDirectory() as scratch, \
            open(Path(scratch) / "out", "w+b") as out, open(Path(scratch) / "err", "w+b") as err:
        rss_file = Path(scratch) / "rss"
        if memory and GNU_TIME:
            command = [GNU_TIME, "-f", "%M", "-o", str(rss_file), *command]
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, env=child_env(), stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        rss = None
        if memory and GNU_TIME:
            try:
                rss = int(rss_file.read_text().strip().splitlines()[-1])
            except (OSError, ValueError, IndexError):
                rss = None
        elif memory:
            rss = usage.ru_maxrss
        err.seek(0)
        out.seek(0)
        text = err.read().decode("utf-8", "replace") + out.read().decode("utf-8", "replace")
    return Process(seconds, proc.returncode, rss, usage.ru_utime + usage.ru_stime, text)


def checked(process: Process, what: str) -> Process:
    if process.code != 0:
        tail = "\n".join(process.err.strip().splitlines()[-15:])
        raise BenchError(f"{what} exited with code {process.code}:\n{tail}")
    return process


# -- migration sets ----------------------------------------------------------------------------


@dataclass
class MigrationSet:
    label: str
    key: str
    directory: Path
    files: list[Path]
    work: Path  # scratch space for this set (psql script, Supabase project)

    @property
    def size(self) -> int:
        return sum(p.stat().st_size for p in self.files)


def migration_files(directory: Path) -> list[Path]:
    """Migration files as both the wizard and the Supabase CLI pick them: <digits>_<name>.sql."""
    return sorted((p for p in directory.iterdir() if p.is_file() and MIGRATION_FILE.match(p.name)),
                  key=lambda p: p.name)


# -- runners -----------------------------------------------------------------------------------


@dataclass
class Sample:
    seconds: float
    rss_kib: int | None
    cpu: float  # the client's CPU seconds (not the server's)


@dataclass
class Runner:
    key: str
    label: str
    run: Callable[[str, MigrationSet], Sample]
    records_history: bool = False  # writes supabase_migrations.schema_migrations


def wizard_runner(script: str) -> Runner:
    def run(url: str, mset: MigrationSet) -> Sample:
        process = checked(
            timed([script, "apply", "--yes", "--database-url", url, "--migrations", str(mset.directory)],
                  cwd=mset.work, memory=True),
            "migration-wizard apply",
        )
        return Sample(process.seconds, process.rss_kib, process.cpu)

    return Runner("wizard", "migration-wizard apply", run, records_history=True)


def psql_session_runner(psql: str) -> Runner:
    def run(url: str, mset: MigrationSet) -> Sample:
        script = mset.work / "all-in-one-session.psql"
        if not script.exists():
            lines = []
            for path in mset.files:
                lines += ["BEGIN;", "\\i '" + str(path).replace("'", "\\'") + "'", "COMMIT;"]
            script.write_text("\n".join(lines) + "\n", encoding="utf-8")
        process = checked(timed([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(script)],
                                memory=True),
                          "psql (one session)")
        return Sample(process.seconds, process.rss_kib, process.cpu)

    return Runner("psql-session", "psql, one session", run)


def psql_file_runner(psql: str) -> Runner:
    def run(url: str, mset: MigrationSet) -> Sample:
        # Not under GNU time: one more exec per file would be charged to this runner only.
        started = time.perf_counter()
        cpu = 0.0
        for path in mset.files:
            cpu += checked(timed([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-d", url, "-f", str(path)]),
                           f"psql -1 -f {path.name}").cpu
        return Sample(time.perf_counter() - started, None, cpu)

    return Runner("psql-file", "psql -1 -f, per file", run)


def supabase_runner(cli: str) -> Runner:
    def run(url: str, mset: MigrationSet) -> Sample:
        project = mset.work / "supabase-project"
        folder = project / "supabase" / "migrations"
        if not folder.exists():
            folder.mkdir(parents=True)
            for path in mset.files:
                shutil.copy2(path, folder / path.name)
        process = checked(timed([cli, "db", "push", "--db-url", url, "--yes"], cwd=project, memory=True),
                          "supabase db push")
        # The npm package's entry point is a Node script that starts the CLI's binary as its child:
        # the peak is the larger of the two processes.
        return Sample(process.seconds, process.rss_kib, process.cpu)

    return Runner("supabase", "supabase db push", run, records_history=True)


def find_supabase_cli() -> str | None:
    installed = ROOT / ".tools" / "node_modules" / ".bin" / "supabase"
    for candidate in (os.environ.get("WIZARD_SUPABASE_CLI"), str(installed), shutil.which("supabase")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def find_wizard() -> str:
    for candidate in (Path(sys.executable).parent / "migration-wizard", ROOT / ".venv" / "bin" / "migration-wizard"):
        if os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("migration-wizard")
    if found:
        return found
    raise BenchError("migration-wizard is not installed: run `.venv/bin/pip install -e .` first")


# -- the server --------------------------------------------------------------------------------


class Server:
    """The admin connection, and every database and role the benchmark creates (removed at the end)."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.conn = psycopg.connect(admin_url, autocommit=True, connect_timeout=10)
        self.databases: list[str] = []
        self.created_roles: list[str] = []
        self.can_checkpoint = True
        self.version = self.conn.execute("SHOW server_version").fetchone()[0]
        self.settings = dict(self.conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers')"
        ).fetchall())
        existing = {r for (r,) in self.conn.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)",
                                                    (list(COMPAT_ROLES),))}
        self.missing_roles = [r for r in COMPAT_ROLES if r not in existing]

    def create(self, name: str, template: str | None = None) -> str:
        self.databases.append(name)
        self.conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return with_database(self.admin_url, name)

    def drop(self, name: str) -> None:
        self.conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.databases:
            self.databases.remove(name)

    def checkpoint(self) -> None:
        """Write out what earlier runs left in shared buffers, so that no run pays for the one before
        it. Needs a superuser (or pg_checkpoint); skipped without."""
        if self.can_checkpoint:
            try:
                self.conn.execute("CHECKPOINT")
            except psycopg.errors.InsufficientPrivilege:
                self.can_checkpoint = False
                say("note: this role cannot CHECKPOINT; runs are not separated by a checkpoint")

    def template(self, key: str) -> str:
        """A database with the Supabase compatibility objects in it; its name."""
        name = f"bench_tpl_{key}_{uuid.uuid4().hex[:8]}"
        url = self.create(name)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(COMPAT_SQL.read_text(encoding="utf-8"))
        self.created_roles = list(self.missing_roles)
        return name

    def close(self) -> None:
        for name in list(self.databases):
            try:
                self.drop(name)
            except psycopg.Error as exc:
                say(f"could not drop database {name}: {exc}")
        for role in self.created_roles:  # roles are per server: leave it as it was found
            try:
                self.conn.execute(f'DROP ROLE IF EXISTS "{role}"')
            except psycopg.Error as exc:
                say(f"could not drop role {role}: {exc}")
        self.conn.close()


FINGERPRINT = """
SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'supabase_migrations', 'auth')),
       (SELECT count(*) FROM pg_policy),
       (SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal),
       (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'auth'))
"""


def verify(url: str, runner: Runner, mset: MigrationSet, expected: dict) -> None:
    """Every runner must leave the same schema behind; the history writers one row per file."""
    with psycopg.connect(url, autocommit=True) as conn:
        fingerprint = tuple(conn.execute(FINGERPRINT).fetchone())
        if runner.records_history:
            present = conn.execute("SELECT to_regclass('supabase_migrations.schema_migrations')").fetchone()[0]
            rows = conn.execute("SELECT count(*) FROM supabase_migrations.schema_migrations").fetchone()[0] \
                if present else 0
            if rows != len(mset.files):
                raise BenchError(f"{runner.label}: supabase_migrations.schema_migrations has {rows} row(s), "
                                 f"expected {len(mset.files)} (one per file)")
    if "fingerprint" not in expected:
        expected["fingerprint"] = (fingerprint, runner.label)
    elif fingerprint != expected["fingerprint"][0]:
        raise BenchError(
            f"{runner.label} left a different schema than {expected['fingerprint'][1]} "
            f"(relations, policies, triggers, functions: {fingerprint} vs {expected['fingerprint'][0]})"
        )


# -- the benchmark -----------------------------------------------------------------------------


@dataclass
class Result:
    runner: str
    label: str
    seconds: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak_mib(self) -> float | None:
        return max(self.rss_kib) / 1024 if self.rss_kib else None


def bench_set(server: Server, mset: MigrationSet, runners: list[Runner], runs: int, warmup: int) -> list[Result]:
    template = server.template(mset.key)
    results = {r.key: Result(r.key, r.label) for r in runners}
    expected: dict = {}
    try:
        for round_ in range(warmup + runs):
            timed_round = round_ >= warmup
            for runner in runners:
                name = f"bench_{mset.key}_{runner.key.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
                url = server.create(name, template)
                server.checkpoint()
                try:
                    sample = runner.run(url, mset)
                    verify(url, runner, mset, expected)
                finally:
                    server.drop(name)
                what = f"run {round_ - warmup + 1}/{runs}" if timed_round else "warm-up"
                say(f"  {mset.key:<9} {what:<9} {runner.label:<24} {sample.seconds:8.3f} s")
                if timed_round:
                    results[runner.key].seconds.append(sample.seconds)
                    results[runner.key].cpu.append(sample.cpu)
                    if sample.rss_kib is not None:
                        results[runner.key].rss_kib.append(sample.rss_kib)
    finally:
        server.drop(template)
    return [results[r.key] for r in runners]


def table(results: list[Result]) -> list[str]:
    base = next((r.median for r in results if r.runner == BASELINE), None)
    header = (f"{'runner':<26} {'median s':>9} {'min s':>8} {'max s':>8} {'vs psql session':>16} "
              f"{'client CPU s':>13} {'peak RSS MiB':>13}")
    lines = [header, "-" * len(header)]
    for r in results:
        ratio = f"{r.median / base:.2f}x" if base else "-"
        memory = f"{r.peak_mib:.1f}" if r.peak_mib is not None else "-"
        lines.append(f"{r.label:<26} {r.median:9.3f} {min(r.seconds):8.3f} {max(r.seconds):8.3f} {ratio:>16} "
                     f"{statistics.median(r.cpu):13.3f} {memory:>13}")
    return lines


def revision() -> str:
    """The project's commit, marked dirty when the working tree differs from it."""
    try:
        found = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True,
                               text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return found.stdout.strip() or "unknown"


def source_digest() -> str:
    """A digest of the wizard's sources, to notice a change while the benchmark runs."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((ROOT / "wizard").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".sql", ".toml"):
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def startup_cost(wizard: str, runs: int) -> list[float]:
    return [checked(timed([wizard, "--version"]), "migration-wizard --version").seconds for _ in range(runs)]


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time migration-wizard apply against psql and the Supabase CLI.")
    parser.add_argument("--database-url", metavar="URL",
                        help="a superuser URL of the server to use (default: an embedded PostgreSQL 18 in a "
                        "temporary directory, stopped at the end)")
    parser.add_argument("--count", type=int, default=300, help="generated migrations (default 300; 0: none)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per runner and set (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first, per runner (default 1)")
    parser.add_argument("--migrations", metavar="DIR", type=Path, default=ROOT / "migrations",
                        help="a real migration folder to time too (default: the project's migrations/)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated migrations (default 1)")
    parser.add_argument("--skip-supabase", action="store_true", help="do not time the Supabase CLI")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0 or args.count < 0:
        parser.error("--runs must be at least 1; --warmup and --count cannot be negative")

    # SIGTERM and SIGHUP end the run like Ctrl-C does, through the clean-up below.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)

    work = Path(tempfile.mkdtemp(prefix="wizard-bench-"))
    embedded = None
    server = None
    try:
        wizard = find_wizard()
        psql = shutil.which("psql") or "/usr/bin/psql"
        if not os.access(psql, os.X_OK):
            raise BenchError("psql is not installed")
        runners = [wizard_runner(wizard), psql_session_runner(psql), psql_file_runner(psql)]
        cli = None if args.skip_supabase else find_supabase_cli()
        if cli:
            runners.append(supabase_runner(cli))
        else:
            say("Supabase CLI: skipped (" + ("--skip-supabase" if args.skip_supabase else
                "not found in .tools/node_modules/.bin/ nor on PATH") + ")")

        if args.database_url:
            admin_url, where = args.database_url, masked(args.database_url)
        else:
            from wizard.core.local import LocalError, LocalServer

            embedded = LocalServer(work / "postgres")
            say("Starting an embedded PostgreSQL in " + str(embedded.directory))
            try:
                admin_url = embedded.start()
            except LocalError as exc:
                raise BenchError(f"the embedded PostgreSQL did not start: {exc}") from None
            where = f"{admin_url} (embedded, temporary)"
        server = Server(admin_url)

        sets = []
        if args.count:
            directory = work / "generated"
            generate(directory, args.count, args.seed)
            (work / "generated-work").mkdir()
            sets.append(MigrationSet(f"generated ({args.count} files)", "generated", directory,
                                     migration_files(directory), work / "generated-work"))
        project = args.migrations.resolve()
        if project.is_dir() and migration_files(project):
            (work / "project-work").mkdir()
            files = migration_files(project)
            sets.append(MigrationSet(f"{project.name}/ ({len(files)} files)", "project", project, files,
                                     work / "project-work"))
        else:
            say(f"{project}: no migration files, skipped")
        if not sets:
            raise BenchError("nothing to time: --count 0 and no migration folder")

        # pip byte-compiles an installed package; an editable install compiles on first import,
        # unless PYTHONDONTWRITEBYTECODE says not to: compile it here, so no run pays for it.
        compileall.compile_dir(str(ROOT / "wizard"), quiet=1)
        say(f"Server: PostgreSQL {server.version} at {where}; {os.cpu_count()} CPU(s)")
        say(f"{args.runs} timed run(s) per runner after {args.warmup} warm-up run(s); median reported")
        digest = source_digest()
        startup = startup_cost(wizard, max(args.runs, 10))

        report = {"revision": revision(), "server": server.version, "settings": server.settings,
                  "cpus": os.cpu_count(), "runs": args.runs, "startup_seconds": statistics.median(startup),
                  "sets": []}
        outputs = []
        for mset in sets:
            say(f"\n{mset.label}, {mset.size / 1024:.0f} KiB of SQL")
            results = bench_set(server, mset, runners, args.runs, args.warmup)
            outputs.append((mset, results))
            report["sets"].append({"set": mset.label, "files": len(mset.files), "bytes": mset.size,
                                   "results": [asdict(r) | {"median": r.median} for r in results]})

        print(f"PostgreSQL {server.version} ({'embedded, ' if embedded else ''}{urlsplit(admin_url).hostname}), "
              f"{os.cpu_count()} CPU(s), median of {args.runs} run(s); migration-wizard at {report['revision']}")
        for mset, results in outputs:
            print()
            print(f"{mset.label}, {mset.size / 1024:.0f} KiB of SQL")
            for line in table(results):
                print(line)
        if source_digest() != digest:
            print("WARNING: the wizard's sources changed while the benchmark ran: run it again")
            report["sources_changed"] = True
        print()
        print(f"Python start-up, `migration-wizard --version`: {statistics.median(startup):.3f} s (median of "
              f"{len(startup)})")
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        return 0
    except BenchError as exc:
        say(f"bench: FAILED: {exc}")
        return 1
    except psycopg.Error as exc:
        say(f"bench: FAILED: database error: {str(exc).strip()}")
        return 1
    except KeyboardInterrupt:
        say("bench: interrupted")
        return 130
    finally:
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # let the clean-up finish
        if server is not None:
            server.close()
        if embedded is not None:
            try:
                embedded.stop()
            except Exception as exc:  # noqa: BLE001 - report, and still remove the directory
                say(f"could not stop the embedded server: {exc}")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
