"""``forget``: remove a history row (the Supabase CLI's ``migration repair --status reverted``),
once the objects of it still in the database are shown and the removal confirmed."""

from __future__ import annotations

from wizard.cli.errors import ExitCode, Stop
from wizard.cli.output import emit_json, say
from wizard.cli.steps import _catalog, _consent, _open


def cmd_forget(args) -> int:
    from wizard.core.flows import forget

    loaded = _catalog(args)
    conn = _open(args)
    with conn:
        checked = forget.check(loaded, conn, args.version)
        row = checked.row
        label = f"{row.version}" + (f"_{row.name}" if row.name else "")
        if not checked.known:
            say(f"{label}: what it created cannot be worked out (no file, and no statements recorded).")
        elif checked.present:
            say(f"{label}: still in the database: " + ", ".join(o.describe() for o in checked.present[:20])
                + (f" and {len(checked.present) - 20} more" if len(checked.present) > 20 else "")
                + ". Forgetting the record does not drop them; the next apply would run the file again.")
        else:
            say(f"{label}: none of its objects is in the database.")
        if not args.yes:
            import sys

            if args.json or not sys.stdin.isatty():
                raise Stop(ExitCode.USAGE, f"forget removes version {row.version} from the history: confirm with "
                           "--yes (nothing was changed)", "forget-needs-yes")
            if not _consent(f"Remove version {row.version} from the migration history?"):
                raise Stop(ExitCode.USAGE, "not confirmed: nothing was changed", "not-confirmed")
        report = forget.forget(conn, checked, args.lock_timeout)  # LockHeld ends the command (exit 4)
    for line in report.changed:
        say(f"  {line}")
    if args.json:
        emit_json(report.to_json())
    else:
        print(f"Forgot {label}: the history no longer records it.")
    return ExitCode.OK
