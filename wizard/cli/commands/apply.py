"""``apply``: the pending migrations, each in one transaction, then the seed files when asked."""

from __future__ import annotations

import signal
import sys

from wizard.cli.errors import ExitCode, Stop
from wizard.cli.output import _Narrator, emit_json, plain, say
from wizard.cli.steps import _catalog, _check_folder, _consent, _open, _project, answered_yes, handling, stop_on_interrupt


def _terminate_as_interrupt():
    """SIGTERM during the whole command is Ctrl-C: the command ends as interrupted (exit 130)."""
    return handling(signal.default_int_handler, signal.SIGTERM)


STOPPING = "Stopping: nothing after the migration in progress will start (Ctrl-C again to quit at once)..."


def _ended_with_report(session, error: BaseException) -> int:
    """The run ended on an error (a lost connection, a held lock, an unknown outcome, a second
    Ctrl-C): with --json, the error and what the run did; the error's exit code."""
    from wizard.core.describe import describe

    description = describe(error)
    emit_json({"ok": False, "error": {"kind": description.kind, "message": description.line}, "failed": None,
               **session.runner.report.to_json()})
    say(f"migration-wizard: {description.line}")
    return int(description.exit_code)


def _seeds(args, conn):
    """The seed files this run applies after the migrations (parsed), or []: on the local database
    always, on another only with --include-seed and a yes. Decided before anything runs."""
    from wizard.core import project
    from wizard.core.db import database
    from wizard.core.flows.apply import SeedSkip, seed_plan

    found = _project(args)
    local = getattr(args, "local_target", False)
    plan = seed_plan(found, local=local, asked=args.include_seed, stateless=not database(conn).session)
    if plan.skipped is SeedSkip.NO_CONFIG and args.include_seed:
        say("--include-seed: there is no supabase/config.toml here, so no seed file to run.")
    if plan.skipped is SeedSkip.DISABLED and args.include_seed:
        say(f"--include-seed: seeding is disabled in {found.config} ([db.seed] enabled = false).")
    for warning in plan.unmatched:
        say(f"warning: {project.shown(found.config)}: {warning}")
    if plan.skipped is SeedSkip.OVER_HTTPS:
        say("The seed files are not run over HTTPS: run them in the SQL editor, or over a database connection.")
    if plan.skipped is not None:
        return []
    if plan.problems:
        say(f"The seed files have {len(plan.problems)} problem(s); nothing was applied:")
        for problem in plan.problems:
            say(f"  {problem.location()}: {problem.message}")
        raise Stop(ExitCode.USAGE, "fix the problem(s) above, then run again", "seed-problems")
    if plan.needs_consent and not args.yes:
        names = ", ".join(f.path for f in plan.files)
        if args.json or not sys.stdin.isatty():
            raise Stop(ExitCode.USAGE, f"--include-seed runs {names} on a remote database: confirm with --yes "
                       "(nothing was applied)", "seed-needs-yes")
        if not _consent(f"Also run the seed file(s) {names} on this database after the migrations?"):
            say("The seed files will not run.")
            return []
    return plan.loaded


def cmd_apply(args) -> int:
    with _terminate_as_interrupt():
        return _apply(args)


def _apply(args) -> int:
    from wizard.core import runner
    from wizard.core.db import database
    from wizard.core.flows import apply

    loaded = _catalog(args)
    _check_folder(loaded)
    conn = _open(args)
    with conn:
        local = getattr(args, "local_target", False)
        checked = apply.preflight(loaded, conn, _project(args), compat=not args.no_compat, local=local)
        todo = checked.pending
        for f in checked.stops:
            say(f"pre-flight: {f.location()}: {f.message}; the run will stop there")
        if checked.refusals:
            say(f"Pre-flight found {len(checked.refusals)} problem(s); nothing was applied:")
            for f in checked.refusals:
                say(f"  {f.location()}: {f.message}")
            raise Stop(ExitCode.USAGE, "fix the problem(s) above, then run again", "preflight")
        late = checked.out_of_order
        if late and not args.include_all:
            for o in late:
                say(f"  {o.filename} sorts before {o.latest_name}, which is already applied")
            raise Stop(ExitCode.USAGE, f"{', '.join(o.filename for o in late)} would run out of order; nothing was "
                       "applied: pass --include-all to apply it (its dependencies are checked first)", "out-of-order")
        for f in checked.warnings:
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
            if not database(conn).session:  # each request counts against the Management API's limit
                from wizard.core import apipack

                say(f"Over HTTPS: {apipack.budget(todo, args.pack_size)} (the Management API allows 60 requests a "
                    "minute).")
            question = "Apply them now?"
            if alone:
                question = (f"Apply them now, {len(alone)} of them without a transaction (their statements cannot "
                            "run in one, see above)?")
            if not answered_yes(question):
                say("Nothing was applied.")
                return ExitCode.OK
        options = runner.RunOptions(
            lock_timeout=args.lock_timeout,
            statement_timeout=args.statement_timeout,
            table_lock_timeout=args.table_lock_timeout,
            compat=not args.no_compat,
            pack_kib=args.pack_size,
        )
        narrator = _Narrator(quiet=False, width=max((len(f"{m.version}_{m.name}") for m in todo), default=0))
        session = apply.Session(conn, loaded, options, narrator, seed_files=seed_files, on_seed_event=narrator,
                                local=local)
        session.runner.report.plan(todo)
        # LockHeld (exit 4) and CompatError (exit 2) end the command: see wizard.core.describe.
        try:
            with stop_on_interrupt(session, STOPPING):
                session.migrate()
            with stop_on_interrupt(session, STOPPING):
                session.seed()
        except (Exception, KeyboardInterrupt) as exc:
            if not args.json:
                raise
            return _ended_with_report(session, exc)
        report = session.report()
    help_text = report.advice
    if help_text is not None and not args.json:
        say(f"Why: {plain(help_text.cause)}")
        for note in help_text.notes:
            say(f"Note: {plain(note)}")
        say(f"Fix: {plain(help_text.fix)}")
    if args.json:
        emit_json(report.to_json())
    elif report.standins:
        from wizard.core import standins

        say(standins.describe(report.standins))
    if report.exit_code != ExitCode.OK:
        return report.exit_code
    if report.finished.applied:
        say(f"Applied {len(report.finished.applied)} migration(s).")
    for s in report.seeded:
        if s.outcome == "applied":
            say(f"Seed {s.path}: " + ("run again (its content changed since it last ran)." if s.rerun else "applied."))
        else:
            say(f"Seed {s.path}: unchanged since it ran, not run again.")
    return ExitCode.OK
