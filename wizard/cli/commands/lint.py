"""``lint``: rules over the migration files (always) and over the database (when a target is
given), with the fix and the advisor's documentation for each finding."""

from __future__ import annotations

from wizard.cli.errors import ExitCode, Stop
from wizard.cli.output import emit_json, lint_findings, say
from wizard.cli.steps import _catalog, _check_folder, _choice, _open


def _target_given(args) -> bool:
    """A target named by a flag or the environment (not the local database taken by default)."""
    from wizard.core.flows.target import Kind

    if args.database_url or args.local or args.https:
        return True
    choice = _choice(args)
    return choice.refused is None and choice.target is not None and choice.target.kind is not Kind.LOCAL


def cmd_lint(args) -> int:
    from wizard.core.flows import lint
    from wizard.core.lint import Level

    if args.offline and (args.database_url or args.local or args.https):
        raise Stop(ExitCode.USAGE, "--offline connects to nothing: leave out --database-url, --local and --https")
    loaded = _catalog(args)
    _check_folder(loaded)
    if args.offline or not _target_given(args):
        if not args.offline:
            say("No database named (--database-url, --local, or one in the environment): the file rules only.")
        report = lint.offline(loaded)
    else:
        conn = _open(args)
        with conn:
            report = lint.lint(loaded, conn, big_rows=args.big_table_rows)
    fail_on = Level(args.fail_on) if args.fail_on else None
    if args.json:
        emit_json({"ok": report.exit_code(fail_on) == ExitCode.OK, **report.to_json()})
    else:
        lint_findings(report.findings, indent="")
        counts = report.counts()
        scope = "file and database rules" if report.database else "file rules"
        print(f"{len(report.findings)} finding(s) ({scope}): {counts['error']} error(s), "
              f"{counts['warning']} warning(s), {counts['info']} info.")
    return int(report.exit_code(fail_on))
