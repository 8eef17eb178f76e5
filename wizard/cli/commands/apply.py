"""``apply``: the pending migrations, each in one transaction, then the seed files when asked."""

from __future__ import annotations

import contextlib
import signal
import sys

from wizard.cli.errors import ExitCode, Stop
from wizard.cli.output import _Narrator, emit_json, plain, say
from wizard.cli.steps import _catalog, _check_folder, _consent, _open, _project


@contextlib.contextmanager
def _stop_on_interrupt(run):
    """Ctrl-C (or SIGTERM: a cancelled CI job) during a run asks the runner to stop: the migration
    in progress is cancelled and rolled back, what was applied before it stays and is reported. A
    second one stops at once."""
    def handler(signum, frame):
        if run.stop_requested:
            raise KeyboardInterrupt
        say("Stopping: nothing after the migration in progress will start (Ctrl-C again to quit at once)...")
        run.request_stop()

    try:
        previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for number, action in previous.items():
            signal.signal(number, action)


@contextlib.contextmanager
def _terminate_as_interrupt():
    """SIGTERM during the whole command is Ctrl-C: the command ends as interrupted (exit 130)."""
    try:
        previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _ended_with_report(args, run, error: BaseException) -> int:
    """The run ended on an error (a lost connection, a held lock, an unknown outcome, a second
    Ctrl-C): with --json, the error and what the run did; the error's exit code."""
    from wizard.core.describe import describe

    description = describe(error)
    emit_json({"ok": False, "error": {"kind": description.kind, "message": description.line}, "failed": None,
               **run.report.to_json()})
    say(f"migration-wizard: {description.line}")
    return int(description.exit_code)


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
    from wizard.core.db import database

    if not database(conn).session:
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
    with _terminate_as_interrupt():
        return _apply(args)


def _apply(args) -> int:
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
        run.report.plan(todo)
        seeded = []
        # LockHeld (exit 4) and CompatError (exit 2) end the command: see wizard.core.describe.
        try:
            with _stop_on_interrupt(run):
                finished = run.run()
        except (Exception, KeyboardInterrupt) as exc:
            if not args.json:
                raise
            return _ended_with_report(args, run, exc)
        if isinstance(run, runner.Runner):
            conn = run.db  # the run's session: a new one when the first was lost and reopened
        if finished.ok and seed_files:
            from wizard.core import seeds

            seeding = seeds.SeedRunner(conn, seed_files, options, on_event=narrator)
            with _stop_on_interrupt(seeding):
                seeded = seeding.run_seeds()
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
            **run.report.to_json(),
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
