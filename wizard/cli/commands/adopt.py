"""``adopt``: record pending migrations as applied when their objects already exist."""

from __future__ import annotations


from wizard.cli.errors import ExitCode, Stop
from wizard.cli.output import _Narrator, emit_json, say
from wizard.cli.steps import _catalog, _check_folder, _open


def cmd_adopt(args) -> int:
    from wizard.core import runner
    from wizard.core.flows import adopt

    loaded = _catalog(args)
    _check_folder(loaded)
    conn = _open(args)
    with conn:
        choice = adopt.choose(loaded, conn, args.versions)
        if choice.unknown:
            raise Stop(ExitCode.USAGE, f"no migration file has version {', '.join(choice.unknown)}", "unknown-version")
        if choice.explicit and choice.refused:
            for refused in choice.refused:
                missing = refused.missing
                say(f"{refused.migration.filename} cannot be adopted: the database lacks "
                    + ", ".join(o.describe() for o in missing[:15])
                    + (f" and {len(missing) - 15} more" if len(missing) > 15 else ""))
            raise Stop(ExitCode.FAILED, "nothing was adopted: apply those migrations instead, or finish running "
                       "them by hand first", "adopt-refused")
        report = adopt.adopt(loaded, conn, choice, runner.RunOptions(lock_timeout=args.lock_timeout),
                             on_event=_Narrator(quiet=False))  # LockHeld ends the command (exit 4)
    for a in report.adopted:
        say(f"  {a.version}_{a.name}  adopted (its objects were already in the database)")
    stopped = choice.stopped_at
    if stopped is not None:
        migration, present, missing = stopped.migration, stopped.present, stopped.missing
        if present:
            say(f"{migration.filename} is only partly in the database: it has "
                + ", ".join(o.describe() for o in present[:10]) + "; it lacks "
                + ", ".join(o.describe() for o in missing[:10]) + ". Not adopted.")
        elif missing:
            say(f"{migration.filename} is not in the database: adoption stops there; apply it.")
        else:
            say(f"{migration.filename} creates nothing the wizard can look up: name its version to adopt it.")
    if args.json:
        emit_json(report.to_json())
    elif not report.adopted:
        print("Nothing was adopted.")
    else:
        print(f"Adopted {len(report.adopted)} migration(s).")
    return ExitCode.OK
