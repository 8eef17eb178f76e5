"""The steps several commands share: supabase/config.toml, the migration folder and its own
problems, the choice of the target (a URL, the local database or the Management API) and the
connection to it."""

from __future__ import annotations

import contextlib
import signal
import sys

from wizard.cli.errors import ExitCode, Stop
from wizard.cli.output import say
from wizard.core.describe import describe


def _project(args):
    """supabase/config.toml beside the migration folder (or in ./supabase), read once; None when
    there is none. A malformed file stops the command (a ConfigError, exit 2), before anything runs."""
    if "project" not in vars(args):
        from wizard.core import project

        args.project = project.find(args.migrations)
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
    except catalog.FolderNotFound as exc:
        raise Stop.of(describe(exc, folder_named=bool(args.migrations))) from None
    return loaded


def _local_server(args):
    from wizard.core.flows import local

    return local.server(args.local_dir)


def _start_local(args) -> str:
    """Start the local database (a LocalError when it cannot start): its URL."""
    server = _local_server(args)
    try:
        url = server.start()
    except OSError as exc:  # --local-dir names a file, or a place this user cannot write
        raise Stop(ExitCode.USAGE, f"the local database cannot live in {server.directory}: "
                   f"{exc.strerror or exc}; pass another --local-dir", "local-dir") from None
    say(f"Local database: {url} (data in {server.directory})")
    args.local_target = True  # the wizard's own server: the one with stand-in extensions
    return url


def _choice(args):
    """The ways to the database the options and the environment give (the engine decides)."""
    from wizard.core.flows import target

    if "choice" not in vars(args):
        request = target.Request(database_url=args.database_url, local=args.local,
                                 https=getattr(args, "https", False), env_file=args.env_file)
        args.choice = target.choose(request)  # an unreadable env file: an EnvFileError (exit 2)
    return args.choice


def _target(args):
    """The URL to connect to: --database-url, --local, the first candidate of the environment, or
    the local database when nothing is configured (or the Management API). Says where it came from."""
    from wizard.core import env
    from wizard.core.flows.target import Kind, NoWay

    choice = _choice(args)
    refused = choice.refused
    if refused is NoWay.CONFLICT:
        raise Stop(ExitCode.USAGE, "--database-url and --local name two different targets: pass one of them")
    if refused is NoWay.NO_TOKEN:
        raise Stop(ExitCode.USAGE, "--https needs SUPABASE_URL (the project) and SUPABASE_ACCESS_TOKEN (a personal "
                   "access token, https://supabase.com/dashboard/account/tokens)", "no-token")
    if refused is NoWay.NO_CREDENTIALS:
        raise Stop(
            ExitCode.USAGE,
            f"{choice.environment.supabase_url_variable()} names a Supabase project, but there is no way to reach its "
            "database: set SUPABASE_DB_PASSWORD (Project Settings > Database), or set SUPABASE_DB_URL to the "
            "connection string from the dashboard's Connect dialog. 'migration-wizard doctor' shows what is "
            "there and what is missing. To use the local database instead, pass --local.",
            "no-credentials",
        )
    chosen = choice.target
    if chosen.kind is Kind.LOCAL:
        if not args.local:
            say("No database is configured (no --database-url, no DATABASE_URL or similar): using the local database.")
        return _start_local(args)
    if chosen.kind is Kind.HTTPS:
        return _api(args, chosen.ref, chosen.token)
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
    if args.database_url or args.local:
        return None
    return _choice(args).no_way_in


def _api(args, ref: str, token: str):
    """The project's database through the Management API, probed with a harmless query."""
    from wizard.core.db import https

    say(f"Target: Supabase project {ref} over HTTPS ({args.api_url or https.DEFAULT_API_URL}, "
        "token from SUPABASE_ACCESS_TOKEN)")
    try:
        database, version = https.open_database(ref, token, args.api_url, args.connect_timeout,
                                                args.request_timeout, on_notice=say)
    except https.ApiError as exc:
        raise Stop.of(describe(exc, ref=ref)) from None
    except Exception as exc:  # an SQL error on a harmless query: the service is not what it should be
        raise Stop(ExitCode.CONNECT, f"the Management API answered the probe with an error: {exc}", "https") from None
    say(f"  PostgreSQL {version}")
    return database


def _consent(question: str) -> bool:
    """Ask on a terminal; never assume yes elsewhere."""
    return sys.stdin.isatty() and sys.stderr.isatty() and answered_yes(question)


def answered_yes(question: str) -> bool:
    """The question with [y/N] on the terminal: yes only when the answer says so (y, yes, o, oui)."""
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
        from wizard.core import env

        raise Stop.of(describe(exc, ref=env.url_ref(url))) from None


def _check_folder(loaded) -> None:
    from wizard.core import preflight

    findings = preflight.check(loaded, [])  # only the folder's own problems here
    errors = preflight.blocking(findings)
    if errors:
        say(f"The migration folder {loaded.directory} has {len(errors)} problem(s); nothing was applied:")
        for finding in errors:
            say(f"  {finding.location()}: {finding.message}")
        raise Stop(ExitCode.USAGE, f"fix the {len(errors)} problem(s) above, then run again", "folder-problems")



@contextlib.contextmanager
def stop_on_interrupt(run, stopping: str):
    """Ctrl-C (or SIGTERM: a cancelled CI job) during a run asks it to stop (``run``: anything with
    ``stop_requested`` and ``request_stop``): the migration in progress is cancelled and rolled
    back, what was applied before it stays and is reported. ``stopping`` is said then. A second
    one stops at once."""
    def handler(signum, frame):
        if run.stop_requested:
            raise KeyboardInterrupt
        say(stopping)
        run.request_stop()

    with handling(handler, signal.SIGINT, signal.SIGTERM):
        yield


@contextlib.contextmanager
def handling(handler, *signals: signal.Signals):
    """``handler`` for these signals while the block runs, the previous handlers back after it;
    nothing changes outside the main thread (where Python sets no handler)."""
    try:
        previous = {s: signal.signal(s, handler) for s in signals}
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for number, action in previous.items():
            signal.signal(number, action)
