"""The arguments: every command, its flags and their help texts."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from wizard import __version__


def _seconds(text: str) -> float:
    """A duration flag: a finite number of seconds, not negative."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (such as 10 or 0.5)")
    return value


def _path(text: str) -> Path:
    """A file or folder flag: an empty value names nothing (Path('') would be the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty value names no file or folder")
    return Path(text)


def _server_seconds(text: str) -> float:
    """A PostgreSQL timeout in seconds: from 1 ms (0 would mean no limit) to PostgreSQL's maximum."""
    value = _seconds(text)
    if not 0.001 <= value <= 2147483.647:
        raise argparse.ArgumentTypeError(f"{text!r}: give from 0.001 to 2147483 seconds")
    return value


def _lock_wait_seconds(text: str) -> float | None:
    """The table lock timeout: a PostgreSQL timeout, or 0 for none (None)."""
    if _seconds(text) == 0:
        return None
    return _server_seconds(text)


def _kib(text: str) -> int:
    """A size in KiB: a whole number, not negative."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size in KiB (such as 256, or 0)")
    return value


def _port(text: str) -> int:
    """A TCP port: 1 to 65535, or 0 for any free one."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: give 1 to 65535 (0: any free port)")
    return value


def _host(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty value names no address")
    return text.strip()


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    def default(value):
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("target and folder")
    group.add_argument("--database-url", metavar="URL", default=default(None),
                       help="the PostgreSQL to migrate (default: from the environment, else the local database)")
    group.add_argument("--local", action="store_true", default=default(False),
                       help="use the local embedded PostgreSQL")
    group.add_argument("--local-dir", metavar="DIR", type=_path, default=default(None),
                       help="where the local database lives (default: a per-user data directory)")
    group.add_argument("--migrations", metavar="DIR", type=_path, default=default(None),
                       help="the migration folder (default: ./migrations, else ./supabase/migrations; "
                       "./supabase/migrations first when ./supabase/config.toml exists)")
    group.add_argument("--env-file", metavar="PATH", type=_path, default=default(None),
                       help="an extra .env file to read (after .env and .env.local)")
    group.add_argument("--json", action="store_true", default=default(False),
                       help="print one JSON document on stdout")
    group.add_argument("--connect-timeout", metavar="SECONDS", type=_seconds, default=default(10.0),
                       help="give up connecting after this long (default 10)")
    group.add_argument("--https", action="store_true", default=default(False),
                       help="go through the Supabase Management API with SUPABASE_ACCESS_TOKEN, even when a "
                       "database connection is configured")
    group.add_argument("--api-url", metavar="URL", default=default(None),
                       help="the Management API's address (default https://api.supabase.com)")
    group.add_argument("--request-timeout", metavar="SECONDS", type=_seconds, default=default(300.0),
                       help="over HTTPS, give up on a request after this long (default 300)")


def _shard(text: str) -> tuple[int, int]:
    """--shard I/N: the I-th (from 1) of N slices."""
    index, _, count = text.partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not I/N (such as 2/5)") from None
    if not 1 <= i <= n:
        raise argparse.ArgumentTypeError(f"{text!r}: I goes from 1 to N (such as 1/{max(n, 2)}); a Kubernetes "
                                         "Indexed Job passes $((JOB_COMPLETION_INDEX + 1))/N")
    return i, n


def _count(minimum: int):
    """A count of at least ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least {minimum}")
        return value
    return parse


def _fleet(fleet: argparse.ArgumentParser) -> None:
    actions = fleet.add_subparsers(dest="fleet_command", metavar="ACTION", required=True)

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, description=help_text)
        _common(sub, suppress=True)
        group = sub.add_argument_group("the fleet")
        group.add_argument("--targets", metavar="FILE", type=_path, default=argparse.SUPPRESS,
                           help="the targets file (default: ./migration-wizard.toml)")
        group.add_argument("--target", metavar="NAME", action="append", default=[],
                           help="only this target (again for more)")
        group.add_argument("--group", metavar="GROUP", action="append", default=[],
                           help="only the targets of this group (again for more)")
        group.add_argument("--shard", metavar="I/N", type=_shard,
                           help="only the I-th of N stable slices of the targets (a CI matrix, a Kubernetes "
                           "Indexed Job)")
        group.add_argument("--parallel", metavar="N", type=_count(1), default=4 if name == "apply" else 32,
                           help=f"targets at a time (default {4 if name == 'apply' else 32})")
        return sub

    action("status", "each target against the folder: applied, pending, drifted, failed, unreachable")
    apply = action("apply", "apply the pending migrations on every target: canaries first, then the rest in "
                   "parallel; each migration in one transaction on each target")
    apply.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    apply.add_argument("--canary", metavar="NAME", nargs="+", default=[],
                       help="apply these targets first, one at a time; the fleet stops when one of them fails")
    apply.add_argument("--max-failures", metavar="K", type=_count(0), default=1,
                       help="once K targets failed, start no new target; the running ones finish (default 1; "
                       "0: no limit)")
    apply.add_argument("--lock-timeout", metavar="SECONDS", type=_seconds, default=10.0,
                       help="how long to wait for another run's lock on a target before giving up (default 10)")
    apply.add_argument("--statement-timeout", metavar="SECONDS", type=_server_seconds,
                       help="cancel any statement that runs longer (PostgreSQL statement_timeout)")
    apply.add_argument("--table-lock-timeout", metavar="SECONDS", type=_lock_wait_seconds, default=5.0,
                       help="as apply's (default 5; 0: wait as long as another session holds the lock)")
    apply.add_argument("--no-compat", action="store_true",
                       help="do not make plain PostgreSQL targets Supabase-shaped first")
    apply.add_argument("--include-all", action="store_true",
                       help="also apply pending files that sort before one already applied (out of order)")
    apply.add_argument("--pack-size", metavar="KIB", type=_kib, default=256,
                       help="over HTTPS, as apply's (default 256; 0: one migration per request)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="migration-wizard",
        description="Apply an ordered folder of SQL migrations to Supabase or any PostgreSQL, and prove the "
        "result. With no command, opens the terminal wizard.",
    )
    parser.add_argument("--version", action="version", version=f"migration-wizard {__version__}")
    _common(parser, suppress=False)
    parser.add_argument("--targets", metavar="FILE", type=_path, default=None,
                        help="the fleet's targets file: the wizard's Fleet screen (f on Welcome) reads it "
                        "(default: ./migration-wizard.toml, when there is one)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _common(sub, suppress=True)
        return sub

    plan = command("plan", "what would run, and pre-flight findings; writes nothing")
    plan.add_argument("--offline", action="store_true",
                      help="connect to nothing: check the folder alone against what a fresh Supabase project has "
                      "(also taken when no way to the database is configured)")
    plan.add_argument("--no-compat", action="store_true",
                      help="plan as apply --no-compat runs: without the step that makes a plain PostgreSQL "
                      "Supabase-shaped")
    plan.add_argument("--rehearse", action="store_true",
                      help="also apply the pending migrations on a throwaway copy of the target's schema, on the "
                      "local embedded PostgreSQL (dropped afterwards), and report what apply would report; the "
                      "target is only read")
    plan.add_argument("--fail-on", choices=("warning", "error"),
                      help="exit 1 when a lint finding is at this level or above (default: lint does not change "
                      "the exit code)")
    apply = command("apply", "apply the pending migrations, each in one transaction")
    apply.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    apply.add_argument("--lock-timeout", metavar="SECONDS", type=_seconds, default=10.0,
                       help="how long to wait for another run's lock before giving up (default 10)")
    apply.add_argument("--statement-timeout", metavar="SECONDS", type=_server_seconds,
                       help="cancel any statement that runs longer (PostgreSQL statement_timeout)")
    apply.add_argument("--table-lock-timeout", metavar="SECONDS", type=_lock_wait_seconds, default=5.0,
                       help="how long a statement may wait for a lock another session holds (PostgreSQL "
                       "lock_timeout); past it the migration rolls back and is tried again, 3 times in all, "
                       "then the run fails naming that session (default 5; 0: wait as long as it holds it)")
    apply.add_argument("--pack-size", metavar="KIB", type=_kib, default=256,
                       help="over HTTPS, send up to this many KiB of SQL in one request, each migration still in "
                       "its own transaction (default 256; 0: one migration per request)")
    apply.add_argument("--no-compat", action="store_true",
                       help="do not make a plain PostgreSQL Supabase-shaped (auth, storage, extensions, roles) first")
    apply.add_argument("--include-all", action="store_true",
                       help="also apply pending files whose version sorts before one already applied (out of order)")
    apply.add_argument("--include-seed", action="store_true",
                       help="on a remote database, also run the seed files of supabase/config.toml (after "
                       "confirmation, or with --yes); the local database always gets them")
    lint = command("lint", "rules over the migration files and, with a target, over the database: security, "
                   "performance and migration safety, each with its fix")
    lint.add_argument("--fail-on", choices=("warning", "error"),
                      help="exit 1 when a finding is at this level or above (default: findings do not fail)")
    lint.add_argument("--offline", action="store_true", help="the file rules only, without connecting")
    lint.add_argument("--big-table-rows", metavar="ROWS", type=int, default=100_000,
                      help="a table with this many rows (estimated) is big, for the rules about locks (default 100000)")
    command("status", "every migration with its state: applied, pending, drifted or missing")
    verify = command("verify", "check that the database holds what the migrations create, and the checks file passes")
    verify.add_argument("--fail-on", choices=("warning", "error"),
                        help="exit 1 when a database lint finding is at this level or above (default: lint does not "
                        "change the exit code)")
    doctor = command("doctor", "what the environment holds, each way to connect and its result, the paths "
                     "possible now, and the next step")
    doctor.add_argument("--save", action="store_true",
                        help="save the first working connection URL to .env.local as SUPABASE_DB_URL")
    adopt = command("adopt", "record pending migrations as applied when their objects already exist "
                    "(they were run by hand)")
    adopt.add_argument("versions", nargs="*", metavar="VERSION",
                       help="the versions to adopt (default: the pending ones, in order, while their objects exist)")
    adopt.add_argument("--lock-timeout", metavar="SECONDS", type=_seconds, default=10.0,
                       help="how long to wait for another run's lock before giving up (default 10)")
    fetch = command("fetch", "write history rows that have no file back into the folder, from the statements "
                    "the history recorded (never overwriting a file)")
    fetch.add_argument("versions", nargs="*", metavar="VERSION", help="the versions to write back")
    fetch.add_argument("--all", action="store_true", help="every history row that has no file")
    diff = command("diff", "what changed in a file since it was applied: the recorded statements against the file")
    diff.add_argument("version", metavar="VERSION")
    accept = command("accept", "record a file edited after it was applied, once the database has what it creates")
    accept.add_argument("version", metavar="VERSION")
    forget = command("forget", "remove a version from the migration history (as 'supabase migration repair "
                     "--status reverted'), after showing which of its objects are still there")
    forget.add_argument("version", metavar="VERSION")
    forget.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    for recovery in (fetch, accept, forget):
        recovery.add_argument("--lock-timeout", metavar="SECONDS", type=_seconds, default=10.0,
                              help="how long to wait for another run's lock before giving up (default 10)")
    fleet = command("fleet", "many databases: the targets file's fleet, its status and its rollout")
    _fleet(fleet)
    manual = command("manual", "the manual path: export every migration for the dashboard's SQL editor")
    manual.add_argument("--export", metavar="DIR", type=_path, required=True,
                        help="write one file per migration (parts where needed) and an index into DIR")
    manual.add_argument("--despite-findings", action="store_true",
                        help="export even when the offline pre-flight finds errors (they head INDEX.md)")
    command("check-remote", "check through the project's REST API (no database credential) that every table "
            "the migrations create exists")
    serve = command("serve", "the wizard in a browser (textual-serve), on this machine only unless --host says "
                    "otherwise; the address printed carries the access token every request needs")
    serve.add_argument("--port", metavar="N", type=_port, default=8000,
                       help="the port to listen on (default 8000; 0: any free port)")
    serve.add_argument("--host", metavar="ADDRESS", type=_host, default="127.0.0.1",
                       help="the address to listen on (default 127.0.0.1, this machine only; any other is "
                       "reachable by others and prints a warning)")
    serve.add_argument("--sessions", metavar="N", type=_count(1), default=1,
                       help="how many browsers may run the wizard at once (default 1)")
    local = command("local", "the local embedded PostgreSQL")
    local.add_argument("action", choices=("start", "url", "stop"),
                       help="start: start it and print its URL; url: print its URL; stop: stop it")
    return parser
