"""``manual``: the manual path, every migration exported for the dashboard's SQL editor."""

from __future__ import annotations


from wizard.cli.errors import ExitCode, Stop
from wizard.cli.output import emit_json, say
from wizard.cli.steps import _catalog, _check_folder


def cmd_manual(args) -> int:
    from wizard.core import env, preflight
    from wizard.core.flows import manual as flow

    loaded = _catalog(args)
    _check_folder(loaded)
    ref = env.load(env_file=args.env_file).supabase_ref()
    # What a paste would meet, found before the first one: the folder alone, against a fresh
    # Supabase project (the export connects to nothing).
    export = flow.prepare(loaded, ref)
    findings, errors = export.findings, export.errors
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
        flow.write(export, args.export)
    except OSError as exc:
        raise Stop(ExitCode.USAGE, f"cannot write to {args.export}: {exc.strerror or exc}", "export") from None
    if args.json:
        emit_json(export.to_json())
    else:
        print(f"Wrote {len(export.files)} file(s) and {export.index}.")
        print(f"Run them in order in the SQL editor: {export.sql_editor}")
        print("Then 'migration-wizard check-remote' checks every table exists.")
    return ExitCode.OK
