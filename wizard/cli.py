"""The command line: the headless commands, and the terminal wizard when no command is given.

Results go to stdout (with ``--json``, exactly one JSON document), narration to stderr. Nothing on
the headless paths imports Textual. Exit codes: see ``ExitCode``.
"""

from __future__ import annotations

import argparse
import contextlib
import enum
import gc
import json
import math
import os
import signal
import sys
import textwrap
from pathlib import Path

from wizard import __version__


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1  # a migration (or a check) failed
    USAGE = 2  # bad flag, bad migration folder, bad configuration
    CONNECT = 3  # cannot connect
    LOCKED = 4  # another run holds the lock
    INTERRUPTED = 130


class Stop(Exception):
    """Ends a command with a message and an exit code (never a traceback)."""

    def __init__(self, code: ExitCode, message: str, kind: str = "error"):
        super().__init__(message)
        self.code = code
        self.message = message
        self.kind = kind


# -- arguments ---------------------------------------------------------------------------------


def _seconds(text: str) -> float:
    """A duration flag: a finite number of seconds, not negative."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (such as 10 or 0.5)")
    return value


def _server_seconds(text: str) -> float:
    """A PostgreSQL timeout in seconds: from 1 ms (0 would mean no limit) to PostgreSQL's maximum."""
    value = _seconds(text)
    if not 0.001 <= value <= 2147483.647:
        raise argparse.ArgumentTypeError(f"{text!r}: give from 0.001 to 2147483 seconds")
    return value


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    def default(value):
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("target and folder")
    group.add_argument("--database-url", metavar="URL", default=default(None),
                       help="the PostgreSQL to migrate (default: from the environment, else the local database)")
    group.add_argument("--local", action="store_true", default=default(False),
                       help="use the local embedded PostgreSQL")
    group.add_argument("--local-dir", metavar="DIR", type=Path, default=default(None),
                       help="where the local database lives (default: a per-user data directory)")
    group.add_argument("--migrations", metavar="DIR", type=Path, default=default(None),
                       help="the migration folder (default: ./migrations, else ./supabase/migrations; "
                       "./supabase/migrations first when ./supabase/config.toml exists)")
    group.add_argument("--env-file", metavar="PATH", type=Path, default=default(None),
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="migration-wizard",
        description="Apply an ordered folder of SQL migrations to Supabase or any PostgreSQL, and prove the "
        "result. With no command, opens the terminal wizard.",
    )
    parser.add_argument("--version", action="version", version=f"migration-wizard {__version__}")
    _common(parser, suppress=False)
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
    apply = command("apply", "apply the pending migrations, each in one transaction")
    apply.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    apply.add_argument("--lock-timeout", metavar="SECONDS", type=_seconds, default=10.0,
                       help="how long to wait for another run's lock before giving up (default 10)")
    apply.add_argument("--statement-timeout", metavar="SECONDS", type=_server_seconds,
                       help="cancel any statement that runs longer (PostgreSQL statement_timeout)")
    apply.add_argument("--table-lock-timeout", metavar="SECONDS", type=_server_seconds,
                       help="fail a statement that waits longer for a table lock (PostgreSQL lock_timeout)")
    apply.add_argument("--no-compat", action="store_true",
                       help="do not make a plain PostgreSQL Supabase-shaped (auth, storage, extensions, roles) first")
    apply.add_argument("--include-seed", action="store_true",
                       help="on a remote database, also run the seed files of supabase/config.toml (after "
                       "confirmation, or with --yes); the local database always gets them")
    command("status", "every migration with its state: applied, pending, drifted or missing")
    command("verify", "check that the database holds what the migrations create, and the checks file passes")
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
    manual = command("manual", "the manual path: export every migration for the dashboard's SQL editor")
    manual.add_argument("--export", metavar="DIR", type=Path, required=True,
                        help="write one file per migration (parts where needed) and an index into DIR")
    manual.add_argument("--despite-findings", action="store_true",
                        help="export even when the offline pre-flight finds errors (they head INDEX.md)")
    command("check-remote", "check through the project's REST API (no database credential) that every table "
            "the migrations create exists")
    local = command("local", "the local embedded PostgreSQL")
    local.add_argument("action", choices=("start", "url", "stop"),
                       help="start: start it and print its URL; url: print its URL; stop: stop it")
    return parser


# -- output ------------------------------------------------------------------------------------


def say(message: str = "") -> None:
    print(message, file=sys.stderr, flush=True)


def plain(markdown: str, links: bool = True) -> str:
    """Markdown advice as terminal text: links as 'text (url)' (or the text alone when the links
    would not be the user's: a Supabase page without a project), no emphasis."""
    import re

    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1 (\2)" if links else r"\1", markdown)
    return text.replace("**", "").replace("`", "")


def emit_json(document: dict) -> None:
    json.dump(document, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")
    sys.stdout.flush()


# -- shared steps ------------------------------------------------------------------------------


def _project(args):
    """supabase/config.toml beside the migration folder (or in ./supabase), read once; None when
    there is none. A malformed file stops the command (exit 2), before anything runs."""
    if "project" not in vars(args):
        from wizard.core import project

        try:
            args.project = project.find(args.migrations)
        except project.ConfigError as exc:
            raise Stop(ExitCode.USAGE, f"{exc}; fix the file, then run again", "config") from None
    return args.project


def _catalog(args):
    from wizard.core import catalog

    found = _project(args)
    directory = args.migrations or catalog.default_directory()
    if args.migrations is None and found is not None and found.migrations.is_dir() and directory != found.migrations:
        say(f"Using {found.migrations} (beside {found.config}), not {directory}.")
        directory = found.migrations
    try:
        loaded = catalog.load(directory)
    except catalog.FolderNotFound:
        hint = "" if args.migrations else " (looked for ./migrations and ./supabase/migrations)"
        what = "is a file, not a folder" if Path(directory).is_file() else "does not exist"
        raise Stop(ExitCode.USAGE, f"the migration folder {directory} {what}{hint}; "
                   "pass --migrations DIR", "folder-not-found") from None
    return loaded


def _local_server(args):
    from wizard.core.local import LocalServer, default_dir

    return LocalServer((args.local_dir or default_dir()).expanduser().resolve())


def _start_local(args) -> str:
    from wizard.core.local import LocalError

    server = _local_server(args)
    try:
        url = server.start()
    except LocalError as exc:
        raise Stop(ExitCode.CONNECT, f"the local database could not start: {exc}", "local-failed") from None
    except OSError as exc:  # --local-dir names a file, or a place this user cannot write
        raise Stop(ExitCode.USAGE, f"the local database cannot live in {server.directory}: "
                   f"{exc.strerror or exc}; pass another --local-dir", "local-dir") from None
    say(f"Local database: {url} (data in {server.directory})")
    args.local_target = True  # the wizard's own server: the one with stand-in extensions
    return url


def _target(args) -> str:
    """The URL to connect to: --database-url, --local, the first candidate of the environment, or
    the local database when nothing is configured. Says where it came from."""
    from wizard.core import env

    if args.database_url and args.local:
        raise Stop(ExitCode.USAGE, "--database-url and --local name two different targets: pass one of them")
    if args.local:
        return _start_local(args)
    if args.database_url:
        candidates = env.candidates(env.Environment(), explicit=args.database_url)
    else:
        try:
            environment = env.load(env_file=args.env_file)
        except env.EnvFileError as exc:
            raise Stop(ExitCode.USAGE, str(exc), "env-file") from None
        candidates = env.candidates(environment)
        token, ref = environment.get("SUPABASE_ACCESS_TOKEN"), environment.supabase_ref()
        if (args.https or not candidates) and token and ref:
            return _api(args, ref, token)
        if args.https:
            raise Stop(ExitCode.USAGE, "--https needs SUPABASE_URL (the project) and SUPABASE_ACCESS_TOKEN (a personal "
                       "access token, https://supabase.com/dashboard/account/tokens)", "no-token")
        if not candidates and environment.supabase_url_variable():
            raise Stop(
                ExitCode.USAGE,
                f"{environment.supabase_url_variable()} names a Supabase project, but there is no way to reach its "
                "database: set SUPABASE_DB_PASSWORD (Project Settings > Database), or set SUPABASE_DB_URL to the "
                "connection string from the dashboard's Connect dialog. 'migration-wizard doctor' shows what is "
                "there and what is missing. To use the local database instead, pass --local.",
                "no-credentials",
            )
        if not candidates:
            say("No database is configured (no --database-url, no DATABASE_URL or similar): using the local database.")
            return _start_local(args)
    chosen = candidates[0]
    if chosen.fixed and not _consent(
        f"The password in {chosen.source.split(' ')[0]} holds characters that must be percent-encoded in a URL "
        "(such as # @ / % :). Encode them and go on?"
    ):
        raise Stop(
            ExitCode.USAGE,
            f"the password in {chosen.source.split(' ')[0]} holds characters that must be percent-encoded in a URL "
            "(such as # @ / % :), so the URL cannot be read as it is. Run 'migration-wizard doctor --save' to store "
            "an encoded copy in .env.local, give the password alone as SUPABASE_DB_PASSWORD, or encode it yourself "
            "(# is %23, @ is %40, / is %2F, % is %25, : is %3A).",
            "bad-url",
        )
    say(f"Target: {chosen.masked} (from {chosen.source})")
    if env.transaction_pooler(chosen.url):
        say("warning: this is the transaction pooler (port 6543): it keeps no session, so the run lock and session "
            "settings do not hold. For migrations use the session pooler (the same host, port 5432) or the direct host.")
    return chosen.url


def _no_way_in(args) -> str | None:
    """Why no way to the database exists, when none does: a Supabase project is named (SUPABASE_URL)
    but there is no password, connection string or access token. None when ``_target`` would find
    a target (or start the local database)."""
    from wizard.core import env

    if args.database_url or args.local or args.https:
        return None
    try:
        environment = env.load(env_file=args.env_file)
    except env.EnvFileError as exc:
        raise Stop(ExitCode.USAGE, str(exc), "env-file") from None
    variable = environment.supabase_url_variable()
    if variable is None or env.candidates(environment):
        return None
    if environment.get("SUPABASE_ACCESS_TOKEN") and environment.supabase_ref():
        return None
    return (f"{variable} names a Supabase project, but there is no way to reach its database (no password, "
            "connection string or access token)")


def _api(args, ref: str, token: str):
    """The project's database through the Management API, probed with a harmless query."""
    from wizard.core import https

    say(f"Target: Supabase project {ref} over HTTPS ({args.api_url or https.DEFAULT_API_URL}, "
        "token from SUPABASE_ACCESS_TOKEN)")
    try:
        database, version = https.open_database(ref, token, args.api_url, args.connect_timeout,
                                                args.request_timeout, on_notice=say)
    except https.ApiError as exc:
        raise _api_stop(exc, ref) from None
    except Exception as exc:  # an SQL error on a harmless query: the service is not what it should be
        raise Stop(ExitCode.CONNECT, f"the Management API answered the probe with an error: {exc}", "https") from None
    say(f"  PostgreSQL {version}")
    return database


def _api_stop(exc, ref: str | None) -> Stop:
    from wizard.core import advice

    entry = advice.entry("https", exc.kind, ref=ref, message=exc.message)
    message = exc.message + (f". {plain(entry.fix)}" if entry else "")
    return Stop(ExitCode.CONNECT, message, exc.connect_kind)


def _consent(question: str) -> bool:
    """Ask on a terminal; never assume yes elsewhere."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return False
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes", "o", "oui")
    except EOFError:
        return False


def _open(args):
    """The target database: a psycopg connection, or the Management API."""
    target = _target(args)
    return _connect(args, target) if isinstance(target, str) else target


def _connect(args, url: str):
    from wizard.core.connect import ConnectError, connect

    try:
        return connect(url, timeout=args.connect_timeout)
    except ConnectError as exc:
        from wizard.core import advice, env

        ref = env.url_ref(url)
        help_text = advice.for_connection(exc.kind, exc.reason, ref=ref)
        message = f"{exc}. {plain(help_text.cause)} {plain(help_text.fix, links=ref is not None)}"
        raise Stop(ExitCode.USAGE if exc.config_error else ExitCode.CONNECT, message, exc.kind) from None


def _check_folder(loaded) -> None:
    from wizard.core import preflight

    findings = preflight.check(loaded, [])  # only the folder's own problems here
    errors = preflight.blocking(findings)
    if errors:
        say(f"The migration folder {loaded.directory} has {len(errors)} problem(s); nothing was applied:")
        for finding in errors:
            say(f"  {finding.location()}: {finding.message}")
        raise Stop(ExitCode.USAGE, f"fix the {len(errors)} problem(s) above, then run again", "folder-problems")


# -- commands ----------------------------------------------------------------------------------


def cmd_plan(args) -> int:
    from wizard.core import overview, preflight

    if args.offline and (args.database_url or args.local or args.https):
        raise Stop(ExitCode.USAGE, "--offline connects to nothing: leave out --database-url, --local and --https")
    loaded = _catalog(args)
    why = None if args.offline else _no_way_in(args)
    if args.offline or why:
        if why:
            say(f"{why}: analysing the folder offline. 'migration-wizard doctor' shows what a connection needs.")
        report = overview.offline(loaded, _project(args))
    else:
        conn = _open(args)
        with conn:
            report = overview.read(loaded, conn, compat=not args.no_compat, project=_project(args),
                                   local=getattr(args, "local_target", False))
    found = _project(args)
    seed_files = found.seeds()[0] if found is not None else []
    findings = report.findings
    errors = preflight.blocking(findings)
    if args.json:
        emit_json({**report.to_json(), **({"seeds": [f.path for f in seed_files]} if seed_files else {})})
    else:
        if report.offline:
            print(textwrap.fill(overview.OFFLINE_NOTE, 100))
        print(report.summary())
        if report.pending:
            print(f"{len(report.pending)} pending migration(s):")
            for m in report.pending:
                print(f"  {m.filename}  ({len(m.statements)} statements)")
        else:
            print("Nothing to apply: the database is up to date." if loaded.ok else "Nothing can be applied.")
        if findings:
            print("Pre-flight:")
            for f in findings:
                print(f"  {f.severity:<7} {f.location()}: {f.message}")
        if seed_files:
            print("Seed files, run by apply after the migrations (on the local database, or with --include-seed), "
                  "unless unchanged since they last ran: " + ", ".join(f.path for f in seed_files))
        for name in loaded.ignored:
            say(f"Ignored (not a migration file): {name}")
    return ExitCode.USAGE if errors else ExitCode.OK


def cmd_status(args) -> int:
    from wizard.core import overview

    loaded = _catalog(args)
    conn = _open(args)
    with conn:
        report = overview.read(loaded, conn, checks=False)
    problems = [p.to_json() for p in loaded.problems]
    if args.json:
        document = report.to_json()
        emit_json({"migrations": document["migrations"], "counts": document["counts"],
                   "findings": document["findings"], **({"problems": problems} if problems else {})})
    else:
        width = max((len(s.version) + len(s.name) + 1 for s in report.states), default=10)
        for s in report.states:
            when = f"  {s.record.applied_at:%Y-%m-%d %H:%M}" if s.record and s.record.applied_at else ""
            print(f"  {(s.version + '_' + s.name):<{width}}  {s.state}{when}")
        print(report.summary() if report.states else "no migrations")
        for f in report.findings:
            if f.code in overview.HISTORY_FACTS:
                say(f"{f.severity}: {f.location()} {f.message}")
            else:
                say(f"problem: {f.location()}: {f.message}")
    return ExitCode.USAGE if problems else ExitCode.OK


class _Narrator:
    """Prints run events on stderr: a line per migration; live statement progress on a terminal."""

    def __init__(self, quiet: bool, width: int = 0):
        self.quiet = quiet
        self.live = sys.stderr.isatty() and not quiet
        self.width = width
        self.current = ""
        self.label = ""
        self.transactional = True

    def __call__(self, event) -> None:
        from wizard.core import events

        if isinstance(event, events.Notice):
            self._line(event.message)
        elif isinstance(event, events.MigrationStarted):
            label = f"seed {event.name}" if event.version == "seed" else f"{event.version}_{event.name}"
            self.current = label.ljust(self.width)
            self.label = label
            self.transactional = event.transactional
            if self.live:
                sys.stderr.write(f"\r\033[K  {self.current}  0/{event.statements}")
                sys.stderr.flush()
        elif isinstance(event, events.StatementDone):
            if self.live:
                sys.stderr.write(f"\r\033[K  {self.current}  {event.index}/{event.total}")
                sys.stderr.flush()
        elif isinstance(event, events.MigrationApplied):
            self._line(f"  {self.current}  applied in {event.duration_ms} ms")
        elif isinstance(event, events.MigrationFailed):
            from wizard.core.diagnosis import excerpt

            d = event.diagnosis
            self._line(f"  {self.current}  FAILED")
            self._line("")
            self._line(f"{d.location()}: {d.sqlstate or ''} {d.message}".replace(":  ", ": "))
            if d.detail:
                self._line(f"  detail: {d.detail}")
            if d.hint:
                self._line(f"  hint: {d.hint}")
            lines = excerpt(d)
            if lines:
                width = len(str(lines[-1][0]))
                for number, text in lines:
                    marker = ">" if number == d.line else " "
                    self._line(f"  {marker} {number:>{width}} | {text}")
                    if number == d.line and d.column:
                        self._line(f"    {' ' * width} | {' ' * (d.column - 1)}^")
            elif d.statement_index:
                self._line(f"  in statement {d.statement_index}:")
                for text_line in (d.statement or "").splitlines()[:12]:
                    self._line(f"    {text_line}")
            if self.transactional:
                what = "the seed file" if event.version == "seed" else "the migration"
                self._line(f"Nothing of {self.label.removeprefix('seed ')} was kept: {what} was rolled back.")
            self._line("")

    def _line(self, text: str) -> None:
        if self.quiet and not text.startswith(("Supabase", "Another", "Interrupted")):
            return
        if self.live:
            sys.stderr.write("\r\033[K")
        say(text)


@contextlib.contextmanager
def _stop_on_interrupt(run):
    """Ctrl-C during a run asks the runner to stop: the migration in progress is cancelled and
    rolled back, what was applied before it stays and is reported. A second Ctrl-C stops at once."""
    def handler(signum, frame):
        if run.stop_requested:
            raise KeyboardInterrupt
        say("Stopping: nothing after the migration in progress will start (Ctrl-C again to quit at once)...")
        run.request_stop()

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _seeds(args, conn):
    """The seed files this run applies after the migrations (parsed), or []: on the local database
    always, on another only with --include-seed and a yes. Decided before anything runs."""
    from wizard.core import project, seeds

    found = _project(args)
    local = getattr(args, "local_target", False)
    if found is None or not (local or args.include_seed):
        if args.include_seed:
            say("--include-seed: there is no supabase/config.toml here, so no seed file to run.")
        return []
    if not found.seed_enabled:
        if args.include_seed:
            say(f"--include-seed: seeding is disabled in {found.config} ([db.seed] enabled = false).")
        return []
    files, warnings = found.seeds()
    for warning in warnings:
        say(f"warning: {project.shown(found.config)}: {warning}")
    if not files:
        return []
    if getattr(conn, "stateless", False):
        say("The seed files are not run over HTTPS: run them in the SQL editor, or over a database connection.")
        return []
    loaded, problems = seeds.load(files)
    if problems:
        say(f"The seed files have {len(problems)} problem(s); nothing was applied:")
        for problem in problems:
            say(f"  {problem.location()}: {problem.message}")
        raise Stop(ExitCode.USAGE, "fix the problem(s) above, then run again", "seed-problems")
    if not local and not args.yes:
        names = ", ".join(f.path for f in files)
        if args.json or not sys.stdin.isatty():
            raise Stop(ExitCode.USAGE, f"--include-seed runs {names} on a remote database: confirm with --yes "
                       "(nothing was applied)", "seed-needs-yes")
        if not _consent(f"Also run the seed file(s) {names} on this database after the migrations?"):
            say("The seed files will not run.")
            return []
    return loaded


def cmd_apply(args) -> int:
    from wizard.core import compat, preflight, runner
    from wizard.core.history import read

    loaded = _catalog(args)
    _check_folder(loaded)
    conn = _open(args)
    with conn:
        todo = runner.pending(loaded, read(conn))
        findings = preflight.check(loaded, todo)
        findings += preflight.missing_extensions(todo, conn)
        errors = preflight.blocking(findings)
        if not errors and todo:
            shape = compat.inspect(conn) if not args.no_compat else None
            for f in preflight.dependencies(loaded, todo, conn, compat_will_run=shape):
                if f.severity == preflight.ERROR:
                    say(f"pre-flight: {f.location()}: {f.message}; the run will stop there")
                else:
                    findings.append(f)  # a function that will fail when called: shown with the warnings
            findings += preflight.big_table_locks(todo, conn)
        if errors:
            say(f"Pre-flight found {len(errors)} problem(s); nothing was applied:")
            for f in errors:
                say(f"  {f.location()}: {f.message}")
            raise Stop(ExitCode.USAGE, "fix the problem(s) above, then run again", "preflight")
        found = _project(args)
        if found is not None:
            from wizard.core import overview

            findings += overview.major_version_fact(found, conn)
        for f in findings:
            if f.severity == preflight.WARNING:
                say(f"warning: {f.location()}: {f.message}")
        seed_files = _seeds(args, conn)
        if not todo:
            say("Nothing to apply: the database is up to date.")
        elif not args.yes and not args.json and sys.stdin.isatty():
            alone = [m for m in todo if m.no_transaction and m.transaction_marker is None]
            say(f"{len(todo)} migration(s) will be applied:")
            for m in todo:
                note = "  without a transaction" if m.no_transaction else ""
                say(f"  {m.filename}  ({len(m.statements)} statements){note}")
            question = "Apply them now?"
            if alone:
                question = (f"Apply them now, {len(alone)} of them without a transaction (their statements cannot "
                            "run in one, see above)?")
            try:
                answer = input(f"{question} [y/N] ")
            except EOFError:
                answer = ""
            if answer.strip().lower() not in ("y", "yes", "o", "oui"):
                say("Nothing was applied.")
                return ExitCode.OK
        options = runner.RunOptions(
            lock_timeout=args.lock_timeout,
            statement_timeout=args.statement_timeout,
            table_lock_timeout=args.table_lock_timeout,
            compat=not args.no_compat,
        )
        narrator = _Narrator(quiet=False, width=max((len(f"{m.version}_{m.name}") for m in todo), default=0))
        run = runner.runner_for(conn)(conn, loaded, options, on_event=narrator)
        seeded = []
        try:
            with _stop_on_interrupt(run):
                finished = run.run()
            if finished.ok and seed_files:
                from wizard.core import seeds

                seeding = seeds.SeedRunner(conn, seed_files, options, on_event=narrator)
                with _stop_on_interrupt(seeding):
                    seeded = seeding.run_seeds()
        except runner.LockHeld as exc:
            raise _lock_held(exc) from None
        except compat.CompatError as exc:
            raise Stop(ExitCode.USAGE, str(exc), "compat-failed") from None
        used_standins = []
        if getattr(args, "local_target", False) and not finished.interrupted:
            from wizard.core import standins

            used_standins = standins.installed(conn)
    failed = finished.failed or next((s.diagnosis for s in seeded if s.diagnosis), None)
    help_text = None
    if failed:
        from wizard.core import advice

        help_text = advice.for_failure(failed, loaded)
    if help_text is not None and not args.json:
        say(f"Why: {plain(help_text.cause)}")
        for note in help_text.notes:
            say(f"Note: {plain(note)}")
        say(f"Fix: {plain(help_text.fix)}")
    interrupted = finished.interrupted or (bool(seed_files) and finished.ok and not failed
                                           and len(seeded) < len(seed_files))
    if args.json:
        emit_json({
            "ok": finished.ok and not failed and not interrupted,
            "applied": [a.to_json() for a in finished.applied],
            "failed": ({**failed.to_json(), **({"advice": help_text.to_json()} if help_text else {})}
                       if failed else None),
            **({"advice": help_text.to_json()} if help_text else {}),
            **({"seeds": [s.to_json() for s in seeded]} if seed_files else {}),
            **({"standins": used_standins} if used_standins else {}),
            **({"compat": run.compat_created} if getattr(run, "compat_created", None) else {}),
        })
    elif used_standins:
        from wizard.core import standins

        say(standins.describe(used_standins))
    if interrupted:
        return ExitCode.INTERRUPTED
    if failed:
        return ExitCode.FAILED
    if finished.applied:
        say(f"Applied {len(finished.applied)} migration(s).")
    for s in seeded:
        if s.outcome == "applied":
            say(f"Seed {s.path}: " + ("run again (its content changed since it last ran)." if s.rerun else "applied."))
        else:
            say(f"Seed {s.path}: unchanged since it ran, not run again.")
    return ExitCode.OK


def cmd_verify(args) -> int:
    from wizard.core import verify

    loaded = _catalog(args)
    _check_folder(loaded)
    conn = _open(args)

    def show(result) -> None:
        if not args.json:
            print(f"  {'ok  ' if result.ok else 'FAIL'}  {result.name}: {result.detail}", flush=True)

    with conn:
        results = verify.run(conn, loaded, on_result=show)
    ok = all(r.ok for r in results)
    if args.json:
        emit_json({"ok": ok, "checks": [r.to_json() for r in results]})
    else:
        failed = [r for r in results if not r.ok]
        print("All checks pass." if ok else f"{len(failed)} of {len(results)} checks failed.")
    return ExitCode.OK if ok else ExitCode.FAILED


def _lock_held(exc) -> Stop:
    holder = f" It is held by {exc.holder}." if exc.holder else ""
    return Stop(
        ExitCode.LOCKED,
        f"another migration run is in progress on this database (waited {exc.waited:g} s for its lock)."
        f"{holder} Wait for it to finish, then run again; or raise --lock-timeout.",
        "lock-held",
    )


def cmd_adopt(args) -> int:
    from wizard.core import history, runner, verify

    loaded = _catalog(args)
    _check_folder(loaded)
    conn = _open(args)
    with conn:
        pending = runner.pending(loaded, history.read(conn))
        by_version = {m.version: m for m in loaded.migrations}
        unknown = [v for v in args.versions if v not in by_version]
        if unknown:
            raise Stop(ExitCode.USAGE, f"no migration file has version {', '.join(unknown)}", "unknown-version")
        explicit = bool(args.versions)
        candidates = [m for m in pending if m.version in set(args.versions)] if explicit else pending
        chosen, refused = [], []
        for migration in candidates:
            present, missing = verify.migration_presence(conn, migration)
            if missing or (not present and not explicit):
                refused.append((migration, present, missing))
                if not explicit:
                    break
                continue
            chosen.append(migration)
        if explicit and refused:
            for migration, _, missing in refused:
                say(f"{migration.filename} cannot be adopted: the database lacks "
                    + ", ".join(o.describe() for o in missing[:15])
                    + (f" and {len(missing) - 15} more" if len(missing) > 15 else ""))
            raise Stop(ExitCode.FAILED, "nothing was adopted: apply those migrations instead, or finish running "
                       "them by hand first", "adopt-refused")
        run = runner.runner_for(conn)(conn, loaded, runner.RunOptions(lock_timeout=args.lock_timeout),
                                on_event=_Narrator(quiet=False))
        try:
            adopted = run.adopt(chosen)
        except runner.LockHeld as exc:
            raise _lock_held(exc) from None
    for a in adopted:
        say(f"  {a.version}_{a.name}  adopted (its objects were already in the database)")
    stopped_at = None
    if refused and not explicit:
        migration, present, missing = refused[0]
        stopped_at = migration.version
        if present:
            say(f"{migration.filename} is only partly in the database: it has "
                + ", ".join(o.describe() for o in present[:10]) + "; it lacks "
                + ", ".join(o.describe() for o in missing[:10]) + ". Not adopted.")
        elif missing:
            say(f"{migration.filename} is not in the database: adoption stops there; apply it.")
        else:
            say(f"{migration.filename} creates nothing the wizard can look up: name its version to adopt it.")
    if args.json:
        emit_json({"ok": True, "adopted": [a.to_json() for a in adopted], "stopped_at": stopped_at})
    elif not adopted:
        print("Nothing was adopted.")
    else:
        print(f"Adopted {len(adopted)} migration(s).")
    return ExitCode.OK


_MISSING_HELP = {
    "SUPABASE_DB_PASSWORD": "the database password, for the automated path: reset or copy it under Database settings ({database_settings})",
    "SUPABASE_DB_URL": "or a whole connection string: the dashboard's Connect dialog ({connect}); the Session pooler one works on every network",
    "SUPABASE_ACCESS_TOKEN": "or a personal access token, for the automated path over HTTPS: {access_tokens}",
}


def cmd_doctor(args) -> int:
    from wizard.core import advice, env
    from wizard.core.connect import probe

    if args.database_url and args.local:
        raise Stop(ExitCode.USAGE, "--database-url and --local name two different targets: pass one of them")
    try:
        environment = env.load(env_file=args.env_file)
    except env.EnvFileError as exc:
        raise Stop(ExitCode.USAGE, str(exc), "env-file") from None
    ref = environment.supabase_ref()
    links = env.dashboard(ref)
    found = environment.found()
    problems = environment.problems()
    for name, value in environment.values.items():
        claims = env.jwt_claims(value) if env.KNOWN.get(name) == "key" else None
        if claims and name in found:
            found[name]["role"] = claims.get("role")
            found[name]["project_ref"] = claims.get("ref")

    if args.local:
        local_url = _start_local(args)
        candidates = [env.Candidate("--local", local_url)]
    else:
        candidates = env.candidates(environment, explicit=args.database_url)
    probes = []
    for candidate in candidates:
        say(f"Trying {candidate.source}: {candidate.masked} ...")
        result = probe(candidate.source, candidate.url, timeout=args.connect_timeout)
        if candidate.fixed:
            result.reason = (result.reason + "; " if result.reason else "") + (
                "the password in this URL had characters that must be percent-encoded: the wizard encoded them"
            )
        probes.append((candidate, result))
    working = next((c for c, r in probes if r.ok), None)
    token = environment.get("SUPABASE_ACCESS_TOKEN")
    api_ok = False
    if token and ref and not args.local:
        result = _probe_api(args, ref, token)
        api_ok = result.ok
        probes.append((None, result))
    missing = [name for name in ("SUPABASE_DB_PASSWORD", "SUPABASE_DB_URL", "SUPABASE_ACCESS_TOKEN")
               if name not in found] if working is None and not api_ok and ref else []
    paths = {"automated": working is not None or api_ok, "database": working is not None, "https": api_ok,
             "manual": ref is not None}

    def advice_for(result) -> dict | None:
        if result.ok:
            return None
        entry = advice.for_probe(result.result, result.reason, ref=ref)
        return {"title": entry.title, "cause": plain(entry.cause), "fix": plain(entry.fix)}

    if working is not None:
        next_step = "Run 'migration-wizard apply' (it uses " + working.source + ")."
    elif api_ok:
        next_step = "Run 'migration-wizard apply': it goes through the Management API with your access token."
    elif probes:
        next_step = advice_for(probes[0][1])["fix"]
    elif ref:
        next_step = (f"Set SUPABASE_DB_PASSWORD in .env.local (Database settings: {links['database_settings']}), "
                     f"or paste the Session pooler connection string from {links['connect']} as SUPABASE_DB_URL. "
                     f"Without either, apply the migrations by hand in the SQL editor: {links['sql_editor']}.")
    else:
        next_step = ("No Supabase project and no database are configured: pass --database-url URL, set DATABASE_URL, "
                     "or use the local database: 'migration-wizard apply --local'.")

    saved = None
    if working is not None and args.save:
        target = Path.cwd() / ".env.local"
        env.save_url(target, "SUPABASE_DB_URL", working.url)
        saved = str(target)
        say(f"Saved the working URL to {target} as SUPABASE_DB_URL (readable by you only).")

    if args.json:
        emit_json({
            "ok": paths["automated"] and not problems,
            "project_ref": ref,
            "found": found,
            "missing": missing,
            "problems": problems,
            "candidates": [
                {"source": r.source, "url_masked": r.url_masked, "result": r.result, "reason": r.reason,
                 "advice": advice_for(r),
                 **({"server_version": r.server_version, "supabase": r.supabase, "compat_needed": r.compat_needed}
                    if r.ok else {})}
                for _, r in probes
            ],
            "paths": paths,
            "links": links if ref else {},
            "next_step": next_step,
            **({"saved_to": saved} if saved else {}),
        })
    else:
        print("Environment")
        if not found:
            print("  nothing: no .env, .env.local or variables that the wizard knows")
        for name, info in found.items():
            extra = ""
            if info.get("role"):
                extra = f"  ({info['role']} key" + (f", project {info['project_ref']}" if info.get("project_ref") else "") + ")"
            print(f"  {name:<26} {info['value']}{extra}  [{info['source']}]")
        if ref:
            print(f"  Supabase project: {ref}")
        for name in missing:
            print(f"  missing {name}: " + _MISSING_HELP[name].format(**links))
        for problem in problems:
            print(f"  problem: {problem}")
        print("Connection candidates")
        if not probes:
            print("  none: no connection URL, and no database password to build one")
        for candidate, result in probes:
            if candidate is None:  # the HTTPS path
                state = "ok    " if result.ok else "FAILED"
                print(f"  {state}  {result.source}: {result.url_masked}" + (f"  {result.reason}" if result.reason else ""))
                if not result.ok:
                    print(f"          {advice_for(result)['fix']}")
                continue
            if result.ok:
                kind = "Supabase" if result.supabase else "PostgreSQL (the compatibility step will make it Supabase-shaped)" \
                    if result.compat_needed else "PostgreSQL"
                print(f"  ok      {candidate.source}: {result.url_masked}  {kind} {result.server_version}, as {result.user}")
            else:
                help_text = advice_for(result)
                print(f"  FAILED  {candidate.source}: {result.url_masked}  {help_text['title']}: {result.reason}")
                print(f"          {help_text['fix']}")
        print("Paths")
        print("  automated, database connection: " + ("possible" if paths["database"] else
              "not possible yet: needs the database password or a connection string that works"))
        print("  automated, HTTPS (access token): " + ("possible" if paths["https"] else
              f"not possible yet: needs SUPABASE_ACCESS_TOKEN ({links['access_tokens']})" if not token else
              "not possible: the token or the service failed (above)"))
        print("  manual, dashboard SQL editor:   " + (f"possible: {links['sql_editor']}" if paths["manual"] else
              "needs the project URL (SUPABASE_URL)"))
        print(f"Next step: {next_step}")
    if problems and not paths["automated"]:
        return ExitCode.USAGE
    if not paths["automated"]:
        return ExitCode.CONNECT
    return ExitCode.OK


def _probe_api(args, ref: str, token: str):
    """The HTTPS path, tried with a harmless query."""
    from wizard.core import https

    say(f"Trying {https.PROBE_SOURCE} ...")
    return https.probe(ref, token, args.api_url, timeout=args.connect_timeout)


def cmd_manual(args) -> int:
    from wizard.core import env, manual, preflight

    loaded = _catalog(args)
    _check_folder(loaded)
    try:
        ref = env.load(env_file=args.env_file).supabase_ref()
    except env.EnvFileError as exc:
        raise Stop(ExitCode.USAGE, str(exc), "env-file") from None
    # What a paste would meet, found before the first one: the folder alone, against a fresh
    # Supabase project (the export connects to nothing).
    findings = preflight.offline(loaded)
    errors = preflight.blocking(findings)
    if findings:
        say(f"Pre-flight, offline (against a fresh Supabase project): {len(errors)} error(s), "
            f"{len(findings) - len(errors)} other finding(s):")
        for f in sorted(findings, key=lambda f: f.severity != preflight.ERROR):
            say(f"  {f.severity:<7} {f.location()}: {f.message}")
    if errors and not args.despite_findings:
        raise Stop(ExitCode.USAGE, f"nothing was exported: the pastes would fail at the {len(errors)} error(s) above. "
                   "Fix the files, or export anyway with --despite-findings (the findings then head INDEX.md; "
                   "an object made by hand in the dashboard is one the offline check cannot see)", "findings")
    try:
        written = manual.export(loaded, args.export, ref, findings)
    except manual.ExportRefused as exc:
        raise Stop(ExitCode.USAGE, f"nothing was exported: {exc}", "export") from None
    except OSError as exc:
        raise Stop(ExitCode.USAGE, f"cannot write to {args.export}: {exc.strerror or exc}", "export") from None
    index, files = written[0], written[1:]
    if args.json:
        emit_json({"index": str(index), "files": [str(f) for f in files], "sql_editor": manual.sql_editor_url(ref),
                   "findings": [f.to_json() for f in findings]})
    else:
        print(f"Wrote {len(files)} file(s) and {index}.")
        print(f"Run them in order in the SQL editor: {manual.sql_editor_url(ref)}")
        print("Then 'migration-wizard check-remote' checks every table exists.")
    return ExitCode.OK


def cmd_check_remote(args) -> int:
    from wizard.core import env, manual

    loaded = _catalog(args)
    _check_folder(loaded)
    try:
        environment = env.load(env_file=args.env_file)
    except env.EnvFileError as exc:
        raise Stop(ExitCode.USAGE, str(exc), "env-file") from None
    variable = environment.supabase_url_variable()
    key_name = environment.rest_key()
    if not variable or not key_name:
        raise Stop(ExitCode.USAGE, "check-remote needs the project URL (SUPABASE_URL) and an API key "
                   "(SUPABASE_SERVICE_ROLE_KEY or SUPABASE_ANON_KEY), from .env.local or the environment", "no-key")
    base = environment.get(variable).strip()
    names = manual.tables(loaded)
    say(f"Checking {len(names)} table(s) through {base}/rest/v1 with {key_name} ...")
    try:
        states = manual.rest_check(base, environment.get(key_name), names, timeout=args.connect_timeout)
    except manual.RestError as exc:
        from wizard.core import advice

        code = ExitCode.CONNECT if exc.kind in ("bad-key", "unreachable") else ExitCode.FAILED
        entry = advice.entry("rest", exc.kind, key_name=key_name, url=base, message=exc.message,
                             ref=environment.supabase_ref())
        raise Stop(code, exc.message + (f". {plain(entry.fix)}" if entry else ""), f"rest-{exc.kind}") from None
    missing = [n for n, state in states.items() if state == manual.MISSING]
    if args.json:
        emit_json({"ok": not missing, "tables": [{"name": n, "state": st} for n, st in states.items()]})
    else:
        for name, state in states.items():
            mark = {"exists": "ok  ", "exists-without-grants": "ok  ", "missing": "MISSING"}[state]
            note = " (exists; this key's role has no grant on it)" if state == manual.EXISTS_WITHOUT_GRANTS else ""
            print(f"  {mark}  {name}{note}")
        print("All tables exist." if not missing else f"{len(missing)} of {len(states)} tables are missing: run the "
              "migrations that create them (the first missing one shows where to resume).")
    return ExitCode.OK if not missing else ExitCode.FAILED


def cmd_local(args) -> int:
    server = _local_server(args)
    if args.action == "start":
        url = _start_local(args)
        if args.json:
            emit_json({"url": url, "directory": str(server.directory)})
        else:
            print(url)
        return ExitCode.OK
    if args.action == "url":
        if not server.initialized():
            raise Stop(ExitCode.USAGE, f"there is no local database in {server.directory}: run "
                       "'migration-wizard local start'", "no-local")
        if not server.running():
            raise Stop(ExitCode.CONNECT, f"the local database in {server.directory} is not running: run "
                       "'migration-wizard local start'", "local-stopped")
        if args.json:
            emit_json({"url": server.url(), "directory": str(server.directory)})
        else:
            print(server.url())
        return ExitCode.OK
    stopped = server.stop() if server.initialized() else False
    say("The local database was stopped." if stopped else "The local database was not running.")
    if args.json:
        emit_json({"stopped": stopped, "directory": str(server.directory)})
    return ExitCode.OK


_headless = False

COMMANDS = {
    "plan": cmd_plan,
    "apply": cmd_apply,
    "status": cmd_status,
    "verify": cmd_verify,
    "doctor": cmd_doctor,
    "manual": cmd_manual,
    "check-remote": cmd_check_remote,
    "adopt": cmd_adopt,
    "local": cmd_local,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from wizard.tui import run

        return run(migrations=args.migrations, database_url=args.database_url, local=args.local,
                   local_dir=args.local_dir, env_file=args.env_file, connect_timeout=args.connect_timeout,
                   api_url=args.api_url)
    # A headless command is short-lived and its data (parse trees) holds no cycles: the cyclic
    # garbage collector would only slow it down.
    global _headless
    _headless = True
    gc.disable()
    try:
        return int(COMMANDS[args.command](args))
    except Stop as stop:
        if getattr(args, "json", False):
            emit_json({"ok": False, "error": {"kind": stop.kind, "message": stop.message}})
        say(f"migration-wizard: {stop.message}")
        return int(stop.code)
    except KeyboardInterrupt:
        say("migration-wizard: interrupted; nothing of the migration in progress was kept.")
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.FAILED)
    except Exception as exc:  # the last line of defence: a message, never a traceback
        import psycopg

        if os.environ.get("WIZARD_DEBUG"):
            raise
        from wizard.core.https import ApiError

        if isinstance(exc, ApiError):
            stop = _api_stop(exc, None)
            code, kind, message = stop.code, stop.kind, stop.message
        elif isinstance(exc, psycopg.OperationalError) and not getattr(exc, "sqlstate", None):
            code, kind = ExitCode.CONNECT, "connection-lost"
            message = f"the connection to the database was lost: {str(exc).strip()}"
        elif isinstance(exc, psycopg.Error):
            from wizard.core import advice

            code, kind = ExitCode.FAILED, f"sqlstate.{exc.sqlstate}"
            message = f"the database refused a step of the wizard's own: {exc.sqlstate} {str(exc).strip()}"
            help_text = advice.entry("sqlstate", exc.sqlstate or "", message=str(exc).strip(), object="it")
            if help_text:
                message += f". {plain(help_text.fix)}"
        else:
            code, kind = ExitCode.FAILED, "unexpected"
            message = f"unexpected error ({type(exc).__name__}): {exc}"
        if getattr(args, "json", False):
            emit_json({"ok": False, "error": {"kind": kind, "message": message}})
        say(f"migration-wizard: {message}")
        return int(code)


def run() -> None:
    """The console script: main(), then a quick exit. A headless command has closed its connections
    and files by then; what is left is freeing memory that the process is about to give back."""
    code = main()
    if _headless:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
