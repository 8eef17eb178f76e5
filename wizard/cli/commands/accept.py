"""``accept``: record a file edited after it was applied, once the database has what it creates."""

from __future__ import annotations

from wizard.cli.errors import ExitCode, Stop
from wizard.cli.output import emit_json, say
from wizard.cli.steps import _catalog, _check_folder, _open


def cmd_accept(args) -> int:
    from wizard.core.flows import accept

    loaded = _catalog(args)
    _check_folder(loaded)
    conn = _open(args)
    with conn:
        checked = accept.check(loaded, conn, args.version)
        if checked.refused:
            missing = checked.missing
            say(f"{checked.migration.filename} cannot be accepted: the database lacks "
                + ", ".join(o.describe() for o in missing[:15])
                + (f" and {len(missing) - 15} more" if len(missing) > 15 else ""))
            raise Stop(ExitCode.FAILED, "nothing was recorded: apply the change to the database first (a new "
                       "migration holding it), or finish running it by hand", "accept-refused")
        if checked.unchanged:
            if args.json:
                emit_json({"ok": True, "accepted": None, "changed": []})
            say(f"{checked.migration.filename} is already what the history records: nothing to accept.")
            return ExitCode.OK
        report = accept.accept(conn, checked, args.lock_timeout)  # LockHeld ends the command (exit 4)
    for line in report.changed:
        say(f"  {line}")
    if args.json:
        emit_json(report.to_json())
    else:
        print(f"Accepted {report.version}_{report.name}: the history records the file as it is now.")
    return ExitCode.OK
