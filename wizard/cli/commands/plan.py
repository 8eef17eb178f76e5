"""``plan``: what would run, and the pre-flight findings; writes nothing."""

from __future__ import annotations

import textwrap

from wizard.cli.errors import ExitCode, Stop
from wizard.cli.output import _Narrator, emit_json, lint_findings, say
from wizard.cli.steps import _catalog, _local_server, _no_way_in, _open, _project


def cmd_plan(args) -> int:
    from wizard.core.flows import overview
    from wizard.core.flows.plan import plan

    if args.offline and (args.database_url or args.local or args.https):
        raise Stop(ExitCode.USAGE, "--offline connects to nothing: leave out --database-url, --local and --https")
    loaded = _catalog(args)
    why = None if args.offline else _no_way_in(args)
    if args.offline or why:
        if why:
            say(f"{why}: analysing the folder offline. 'migration-wizard doctor' shows what a connection needs.")
        found = plan(loaded, None, _project(args), no_way_in=why)
        rehearsal = _rehearse(args, found, None) if args.rehearse else None
    else:
        conn = _open(args)
        with conn:
            found = plan(loaded, conn, _project(args), compat=not args.no_compat,
                         local=getattr(args, "local_target", False))
            rehearsal = _rehearse(args, found, conn) if args.rehearse else None
    report, seed_files, findings = found.overview, found.seeds, found.overview.findings
    if args.json:
        emit_json({**found.to_json(), **({"rehearsal": rehearsal.to_json()} if rehearsal is not None else {})})
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
                  "unless unchanged since they last ran: " + ", ".join(seed_files))
        if found.lint is not None and found.lint.findings:
            scope = "file and database rules" if found.lint.database else "file rules"
            print(f"Lint ({scope}; 'migration-wizard lint' shows each fix):")
            lint_findings(found.lint.findings, fixes=False)
        for name in loaded.ignored:
            say(f"Ignored (not a migration file): {name}")
        if rehearsal is not None:
            print("\n".join(rehearsal.lines()))
    if found.errors:  # the report is on stdout; the outcome is said where errors are looked for
        where = "the findings of the JSON document" if args.json else "Pre-flight, above"
        say(f"migration-wizard: {len(found.errors)} error(s) found before anything runs ({where}): fix them, "
            "then run again")
    if rehearsal is not None and rehearsal.exit_code != ExitCode.OK:
        return rehearsal.exit_code
    return _with_lint(found, args)


def _rehearse(args, found, conn):
    """The pending migrations applied on a throwaway copy of the target on the local server."""
    from wizard.core.flows.rehearse import rehearse

    pending = found.overview.pending
    narrator = _Narrator(quiet=False, width=max((len(f"{m.version}_{m.name}") for m in pending), default=0))
    server = _local_server(args)
    try:
        return rehearse(found.overview, conn, server, compat=not args.no_compat,
                        local=getattr(args, "local_target", False), on_event=narrator,
                        connect_timeout=args.connect_timeout)
    except OSError as exc:  # --local-dir names a file, or a place this user cannot write
        raise Stop(ExitCode.USAGE, f"the rehearsal's local database cannot live in {server.directory}: "
                   f"{exc.strerror or exc}; pass another --local-dir", "local-dir") from None


def _with_lint(found, args) -> int:
    """The plan's exit code, or 1 when --fail-on is given and a lint finding reaches its level."""
    from wizard.core.lint import Level

    code = int(found.exit_code)
    if code == 0 and args.fail_on and found.lint is not None and found.lint.at_or_above(Level(args.fail_on)):
        return int(ExitCode.FAILED)
    return code
