"""Time ``migration-wizard fleet apply`` and ``fleet status`` on many databases behind a network's delay.

    .venv/bin/python bench/fleet.py [--database-url URL] [--targets 20] [--status-targets 100] [--runs 3]

Every database is reached through bench/latency_proxy.py, a TCP proxy that delays each chunk by
--delay-ms (default 20) in each direction: a round trip costs 40 ms, as to a database in another
region. One proxy fronts the whole server (the database name is in each connection's startup
message). The delay is checked first: the median of 20 ``SELECT 1`` through it and without.

- **fleet apply**: --targets fresh databases (copies of a template that has the Supabase
  compatibility objects, so each run applies every migration of the folder), a targets file naming
  them by variable (the variables in the command's environment), and
  ``migration-wizard fleet apply --targets FILE --parallel 10 --yes --json`` timed end to end as a
  process; against **the loop**: a bash script running
  ``migration-wizard apply --yes --database-url URL --migrations DIR`` for each of as many fresh
  databases, one after the other, as a user would without fleet. Each database must then have one
  history row per file. The two are interleaved (their order alternates), the median of --runs is
  reported, and the ratio fleet / loop (target: at most 0.2).
- **fleet status**: --status-targets copies of a database with every migration applied,
  ``fleet status --targets FILE --parallel 32 --json`` timed through the proxy (target: under 2 s)
  and without it, interleaved; every target must be up to date.

The proxy logs each connection (its database, its turns: the round trips the client waited for),
so the report also says, per database, how many connections and round trips each command made,
and when the first and last connections of a run opened and closed against the process's start.

Printed on stdout; progress on stderr; the results also go to bench/results/fleet-<time>.json
(--json FILE to choose; bench/results/ is ignored by git). The databases it creates (bench_*) are
dropped at the end, on an error, on Ctrl-C or SIGTERM. Needs the venv's psycopg and bash.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import (  # noqa: E402
    ROOT, BenchError, Server, _interrupt, child_env, find_wizard, masked, migration_files, revision, say,
    source_digest, with_database,
)

RESULTS = HERE / "results"
HISTORY_ROWS = "SELECT count(*) FROM supabase_migrations.schema_migrations"


# -- processes -----------------------------------------------------------------------------------


@dataclass
class Ran:
    seconds: float
    started: float  # time.time() at spawn, to place the proxy's connections
    ended: float
    cpu: float  # user + system CPU of the process and the ones it waited for
    out: str
    err: str


def run_timed(command: list[str], cwd: Path, env: dict[str, str], what: str) -> Ran:
    """Run to the end, timed from spawn to reaped; exit 0 or BenchError with the output's tail."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        wall = time.time()
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        ran = Ran(seconds, wall, time.time(), usage.ru_utime + usage.ru_stime,
                  out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))
    if proc.returncode != 0:
        tail = "\n".join((ran.err + ran.out).strip().splitlines()[-15:])
        raise BenchError(f"{what} exited with code {proc.returncode}:\n{tail}")
    return ran


# -- the proxy -----------------------------------------------------------------------------------


class Proxy:
    """bench/latency_proxy.py in a process of its own, and what it logged."""

    def __init__(self, admin_url: str, delay_ms: float, log: Path) -> None:
        parts = urlsplit(admin_url)
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "latency_proxy.py"), "--target", f"{parts.hostname}:{parts.port or 5432}",
             "--delay-ms", str(delay_ms), "--log", str(log)],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("listening on "):
            self.stop()
            raise BenchError(f"the latency proxy did not start: {line!r}")
        self.port = int(line.rsplit(":", 1)[1])

    def url(self, direct_url: str) -> str:
        """The same URL through the proxy."""
        parts = urlsplit(direct_url)
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = (userinfo + "@" if userinfo else "") + f"127.0.0.1:{self.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    def connections(self, since: float, databases: set[str]) -> list[dict]:
        """The logged connections to these databases opened after ``since`` (time.time())."""
        time.sleep(0.1)  # the last ones close a delay after the client
        found = []
        for line in self.log.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record["opened"] >= since and record.get("database") in databases:
                found.append(record)
        return found

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def round_trip_ms(url: str, count: int = 20) -> tuple[float, float]:
    """Median milliseconds of connecting and of a ``SELECT 1``."""
    connects, queries = [], []
    for _ in range(3):
        started = time.perf_counter()
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        connects.append(time.perf_counter() - started)
        with conn:
            for _ in range(count // 3 + 1):
                started = time.perf_counter()
                conn.execute("SELECT 1").fetchone()
                queries.append(time.perf_counter() - started)
    return statistics.median(connects) * 1000, statistics.median(queries) * 1000


# -- the fleet -----------------------------------------------------------------------------------


@dataclass
class Fleet:
    """Fresh databases for one run, their URLs through the proxy and a targets file naming them."""

    names: list[str]
    urls: list[str]  # through the proxy (or direct)
    targets: Path
    env: dict[str, str] = field(default_factory=dict)


def make_fleet(server: Server, template: str, count: int, key: str, work: Path, migrations: Path,
               proxy: Proxy | None) -> Fleet:
    tag = uuid.uuid4().hex[:6]
    names, urls, env = [], [], {}
    lines = [f"migrations = {json.dumps(str(migrations))}", ""]
    for i in range(count):
        name = f"bench_{key}_{tag}_{i + 1:03d}"
        direct = server.create(name, template)
        url = proxy.url(direct) if proxy else direct
        names.append(name)
        urls.append(url)
        variable = f"FLEET_DB_{i + 1:03d}_URL"
        env[variable] = url
        lines += [f"[targets.db{i + 1:03d}]", f'url_env = "{variable}"', ""]
    targets = work / f"{key}-{tag}.toml"
    targets.write_text("\n".join(lines), encoding="utf-8")
    return Fleet(names, urls, targets, env)


def history_rows(server: Server, names: list[str]) -> list[int]:
    rows = []
    for name in names:
        with psycopg.connect(with_database(server.admin_url, name), autocommit=True) as conn:
            present = conn.execute("SELECT to_regclass('supabase_migrations.schema_migrations')").fetchone()[0]
            rows.append(conn.execute(HISTORY_ROWS).fetchone()[0] if present else 0)
    return rows


def drop_all(server: Server, names: list[str]) -> None:
    for name in names:
        server.drop(name)


@dataclass
class Profile:
    """What the proxy saw of one timed command."""

    connections: int
    turns: int
    per_database_turns: float
    per_database_connections: float
    first_open_s: float  # from the process's spawn to its first connection
    last_close_s: float  # from its spawn to its last connection closed
    connected_s: float  # median time a database's connections were open, in all
    forced: int = 0  # connections the proxy had to close (one side gone, the other silent): should be 0

    def to_json(self) -> dict:
        return self.__dict__.copy()


def profile(records: list[dict], ran: Ran, databases: int) -> Profile | None:
    if not records:
        return None
    by_database: dict[str, float] = {}
    for r in records:
        by_database[r["database"]] = by_database.get(r["database"], 0.0) + (r["closed"] - r["opened"])
    turns = sum(r["turns"] for r in records)
    return Profile(len(records), turns, turns / databases, len(records) / databases,
                   min(r["opened"] for r in records) - ran.started,
                   max(r["closed"] for r in records) - ran.started,
                   statistics.median(by_database.values()), sum(1 for r in records if r.get("forced")))


@dataclass
class Series:
    label: str
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    profiles: list[Profile] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def add(self, ran: Ran, found: Profile | None) -> None:
        self.seconds.append(ran.seconds)
        self.cpu.append(ran.cpu)
        if found is not None:
            self.profiles.append(found)

    def to_json(self) -> dict:
        return {"label": self.label, "seconds": self.seconds, "median": self.median, "cpu": self.cpu,
                "profiles": [p.to_json() for p in self.profiles]}


def fleet_apply(server, template, args, work, migrations, proxy, wizard, expected,
                direct: bool = False) -> tuple[Ran, Profile | None]:
    fleet = make_fleet(server, template, args.targets, "fd" if direct else "fa", work, migrations,
                       None if direct else proxy)
    try:
        server.checkpoint()
        ran = run_timed([wizard, "fleet", "apply", "--targets", str(fleet.targets), "--parallel", str(args.parallel),
                         "--yes", "--json"], work, child_env() | fleet.env, "fleet apply")
        summary = json.loads(ran.out)["summary"]
        if summary.get("done") != args.targets:
            raise BenchError(f"fleet apply: not every target is done: {summary}")
        check_rows(server, fleet.names, expected, "fleet apply")
        return ran, None if direct else profile(proxy.connections(ran.started, set(fleet.names)), ran, args.targets)
    finally:
        drop_all(server, fleet.names)


def fleet_apply_direct(server, template, args, work, migrations, proxy, wizard, expected) -> tuple[Ran, None]:
    return fleet_apply(server, template, args, work, migrations, proxy, wizard, expected, direct=True)


def loop_apply(server, template, args, work, migrations, proxy, wizard, expected) -> tuple[Ran, Profile | None]:
    fleet = make_fleet(server, template, args.targets, "loop", work, migrations, proxy)
    try:
        script = work / "loop.sh"
        script.write_text(
            "set -e\n"
            f"for url in {' '.join(shlex.quote(u) for u in fleet.urls)}; do\n"
            f"  {shlex.quote(wizard)} apply --yes --database-url \"$url\" --migrations {shlex.quote(str(migrations))}\n"
            "done\n", encoding="utf-8")
        server.checkpoint()
        ran = run_timed(["bash", str(script)], work, child_env(), "the loop of apply")
        check_rows(server, fleet.names, expected, "the loop of apply")
        return ran, profile(proxy.connections(ran.started, set(fleet.names)), ran, args.targets)
    finally:
        drop_all(server, fleet.names)


def check_rows(server: Server, names: list[str], expected: int, what: str) -> None:
    rows = history_rows(server, names)
    wrong = [f"{n}: {r}" for n, r in zip(names, rows) if r != expected]
    if wrong:
        raise BenchError(f"{what}: history rows differ from the {expected} files: {', '.join(wrong[:5])}")


def fleet_status(fleet: Fleet, args, work: Path, wizard: str, what: str) -> Ran:
    ran = run_timed([wizard, "fleet", "status", "--targets", str(fleet.targets), "--parallel",
                     str(args.status_parallel), "--json"], work, child_env() | fleet.env, what)
    summary = json.loads(ran.out)["summary"]
    if summary.get("up_to_date") != len(fleet.names) or summary.get("unreachable"):
        raise BenchError(f"{what}: not every target is up to date: {summary}")
    return ran


# -- the report ----------------------------------------------------------------------------------


def _cell(values: list[float], fmt: str = "{:.1f}") -> str:
    return fmt.format(statistics.median(values)) if values else "-"


def table(rows: list[Series], databases: int) -> list[str]:
    lines = ["| runner | median s | min s | max s | client CPU s | connections per db | round trips per db "
             "| first connection at s | last closed at s | connected per db s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in rows:
        p = s.profiles
        lines.append(
            f"| {s.label} | {s.median:.3f} | {min(s.seconds):.3f} | {max(s.seconds):.3f} | {statistics.median(s.cpu):.3f} "
            f"| {_cell([x.per_database_connections for x in p])} | {_cell([x.per_database_turns for x in p])} "
            f"| {_cell([x.first_open_s for x in p], '{:.3f}')} | {_cell([x.last_close_s for x in p], '{:.3f}')} "
            f"| {_cell([x.connected_s for x in p], '{:.3f}')} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time fleet apply and fleet status behind a network's delay.")
    parser.add_argument("--database-url", metavar="URL",
                        help="a superuser URL of the server to use (default: an embedded PostgreSQL 18 in a "
                        "temporary directory, stopped at the end)")
    parser.add_argument("--targets", type=int, default=20, help="databases of the fleet apply run (default 20)")
    parser.add_argument("--parallel", type=int, default=10, help="fleet apply --parallel (default 10)")
    parser.add_argument("--status-targets", type=int, default=100,
                        help="databases of the fleet status run (default 100; 0: skip it)")
    parser.add_argument("--status-parallel", type=int, default=32, help="fleet status --parallel (default 32, as the command)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each command (default 3)")
    parser.add_argument("--no-direct", action="store_true",
                        help="leave out the runs without the proxy (fleet apply and fleet status on loopback)")
    parser.add_argument("--delay-ms", type=float, default=20.0, help="the proxy's delay each way (default 20)")
    parser.add_argument("--migrations", metavar="DIR", type=Path, default=ROOT / "migrations",
                        help="the migration folder (default: the project's migrations/)")
    parser.add_argument("--json", metavar="FILE", type=Path,
                        help="where to write the results (default bench/results/fleet-<time>.json)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.targets < 1 or args.parallel < 1 or args.status_targets < 0 or args.delay_ms < 0:
        parser.error("--runs, --targets and --parallel must be at least 1; --status-targets and --delay-ms "
                     "cannot be negative")

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    work = Path(tempfile.mkdtemp(prefix="wizard-bench-fleet-"))
    embedded = server = proxy = None
    try:
        wizard = find_wizard()
        migrations = args.migrations.resolve()
        files = migration_files(migrations) if migrations.is_dir() else []
        if not files:
            raise BenchError(f"{migrations}: no migration files")
        expected = len(files)
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
        proxy = Proxy(admin_url, args.delay_ms, work / "proxy.log")
        direct_rtt = round_trip_ms(admin_url)
        proxied_rtt = round_trip_ms(proxy.url(admin_url))
        say(f"Server: PostgreSQL {server.version} at {where}; {os.cpu_count()} CPU(s); proxy on port {proxy.port}")
        say(f"SELECT 1 round trip: {direct_rtt[1]:.2f} ms direct, {proxied_rtt[1]:.2f} ms through the proxy; "
            f"connecting: {direct_rtt[0]:.1f} ms, {proxied_rtt[0]:.1f} ms")
        if proxied_rtt[1] < 2 * args.delay_ms * 0.95:
            raise BenchError(f"the proxy's delay is not there: a round trip takes {proxied_rtt[1]:.1f} ms through it")

        compileall.compile_dir(str(ROOT / "wizard"), quiet=1)
        digest = source_digest()
        load_before = os.getloadavg()
        template = server.template("fleet")
        migrated = f"bench_fleet_done_{uuid.uuid4().hex[:8]}"
        url = server.create(migrated, template)
        run_timed([wizard, "apply", "--yes", "--database-url", url, "--migrations", str(migrations)], work,
                  child_env(), "apply on the migrated template")  # also fills the parse cache
        check_rows(server, [migrated], expected, "apply on the migrated template")

        fleet_series = Series(f"fleet apply --parallel {args.parallel}")
        loop_series = Series("loop of apply (bash)")
        direct_series = Series(f"fleet apply --parallel {args.parallel}, direct (loopback)")
        runners = [(fleet_series, fleet_apply), (loop_series, loop_apply)]
        if not args.no_direct:
            runners.append((direct_series, fleet_apply_direct))
        say(f"\n{args.targets} databases, {migrations.name}/ ({expected} files), {args.runs} run(s), interleaved")
        for round_ in range(args.runs):
            for series, function in (runners if round_ % 2 == 0 else runners[::-1]):
                ran, found = function(server, template, args, work, migrations, proxy, wizard, expected)
                series.add(ran, found)
                turns = f", {found.per_database_turns:.1f} round trips per db" if found else ""
                say(f"  run {round_ + 1}/{args.runs}  {series.label:<28} {ran.seconds:8.3f} s{turns}")
        ratio = fleet_series.median / loop_series.median

        status_series = [Series(f"fleet status --parallel {args.status_parallel}, through the proxy"),
                         Series(f"fleet status --parallel {args.status_parallel}, direct (loopback)")]
        if args.status_targets:
            say(f"\n{args.status_targets} databases up to date (copies of the migrated one)")
            fleet = make_fleet(server, migrated, args.status_targets, "st", work, migrations, None)
            proxied = Fleet(fleet.names, [proxy.url(u) for u in fleet.urls], fleet.targets,
                            {k: proxy.url(v) for k, v in fleet.env.items()})
            try:
                server.checkpoint()
                kinds = [(status_series[0], proxied)] + ([] if args.no_direct else [(status_series[1], fleet)])
                for round_ in range(args.runs):
                    for series, which in (kinds if round_ % 2 == 0 else kinds[::-1]):
                        ran = fleet_status(which, args, work, wizard, series.label)
                        found = profile(proxy.connections(ran.started, set(fleet.names)), ran, len(fleet.names)) \
                            if which is proxied else None
                        series.add(ran, found)
                        say(f"  run {round_ + 1}/{args.runs}  {series.label:<52} {ran.seconds:8.3f} s")
            finally:
                drop_all(server, fleet.names)
        load_after = os.getloadavg()

        rev = revision()
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        print(f"migration-wizard at {rev}, {stamp}; PostgreSQL {server.version} "
              f"({'embedded, ' if embedded else ''}{urlsplit(admin_url).hostname}), {os.cpu_count()} CPU(s), "
              f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
        print(f"every database behind a proxy adding {args.delay_ms:g} ms each way: SELECT 1 takes "
              f"{proxied_rtt[1]:.1f} ms through it ({direct_rtt[1]:.2f} ms direct), connecting {proxied_rtt[0]:.0f} ms "
              f"({direct_rtt[0]:.1f} ms direct)")
        print()
        print(f"apply: {args.targets} fresh databases, {migrations.name}/ ({expected} files), "
              f"median of {args.runs} interleaved run(s)")
        for line in table([fleet_series, loop_series] + ([direct_series] if direct_series.seconds else []),
                          args.targets):
            print(line)
        verdict = "met" if ratio <= 0.2 else "MISSED"
        print(f"fleet / loop: {ratio:.3f} (target at most 0.2: {verdict}); the loop takes "
              f"{loop_series.median / args.targets:.3f} s per database")
        if args.status_targets:
            print()
            print(f"status: {args.status_targets} databases up to date, median of {args.runs} interleaved run(s)")
            for line in table([s for s in status_series if s.seconds], args.status_targets):
                print(line)
            status_verdict = "met" if status_series[0].median < 2 else "MISSED"
            print(f"through the proxy: {status_series[0].median:.3f} s (target under 2 s: {status_verdict})")
        forced = sum(p.forced for s in (fleet_series, loop_series, *status_series) for p in s.profiles)
        if forced:
            print(f"WARNING: the proxy closed {forced} connection(s) whose other side had gone silent")
        changed = source_digest() != digest
        if changed:
            print("WARNING: the wizard's sources changed while the benchmark ran: run it again")

        report = {"revision": rev, "date": stamp, "server": server.version, "cpus": os.cpu_count(),
                  "load_average": {"before": load_before, "after": load_after}, "delay_ms": args.delay_ms,
                  "round_trip_ms": {"direct": direct_rtt[1], "proxied": proxied_rtt[1]},
                  "connect_ms": {"direct": direct_rtt[0], "proxied": proxied_rtt[0]},
                  "files": expected, "runs": args.runs,
                  "apply": {"targets": args.targets, "parallel": args.parallel, "ratio": ratio,
                            "fleet": fleet_series.to_json(), "loop": loop_series.to_json(),
                            "fleet_direct": direct_series.to_json() if direct_series.seconds else None},
                  "status": {"targets": args.status_targets, "parallel": args.status_parallel,
                             "proxied": status_series[0].to_json() if status_series[0].seconds else None,
                             "direct": status_series[1].to_json() if status_series[1].seconds else None},
                  "sources_changed": changed}
        out = args.json or RESULTS / f"fleet-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        say(f"\nResults written to {out}")
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
        if proxy is not None:
            proxy.stop()
        if server is not None:
            server.close()
        if embedded is not None:
            try:
                embedded.stop()
            except Exception as exc:  # noqa: BLE001 - report, and still remove the directory
                say(f"could not stop the embedded server: {exc}")
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
