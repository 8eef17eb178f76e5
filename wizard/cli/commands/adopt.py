"""``adopt``: record pending migrations as applied when their objects already exist."""

from __future__ import annotations


from wizard.cli.errors import ExitCode, Stop
from wizard.cli.output import _Narrator, emit_json, say
from wizard.cli.steps import _catalog, _check_folder, _open


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
        adopted = run.adopt(chosen)  # LockHeld ends the command (exit 4)
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
