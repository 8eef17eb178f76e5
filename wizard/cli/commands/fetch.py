"""``fetch``: write history rows that have no file back into the folder, from their recorded statements."""

from __future__ import annotations

from wizard.cli.errors import ExitCode, Stop
from wizard.cli.output import emit_json, say
from wizard.cli.steps import _catalog, _open


def cmd_fetch(args) -> int:
    from wizard.core.flows import fetch

    if not args.versions and not args.all:
        raise Stop(ExitCode.USAGE, "name the versions to fetch, or pass --all for every history row without a file",
                   "usage")
    loaded = _catalog(args)
    conn = _open(args)
    with conn:
        choice = fetch.choose(loaded, conn, args.versions)
        if choice.unknown:
            raise Stop(ExitCode.USAGE, f"the history has no version {', '.join(choice.unknown)}: nothing was fetched",
                       "unknown-version")
        report = fetch.fetch(loaded, conn, choice, args.lock_timeout)  # LockHeld ends the command (exit 4)
    for s in choice.skipped:
        say(f"  {s.version}: not fetched: {s.reason}")
    for line in report.changed:
        say(f"  {line}")
    if args.json:
        emit_json(report.to_json())
    elif report.fetched:
        print(f"Fetched {len(report.fetched)} migration(s) into {loaded.directory}.")
    else:
        print("Nothing was fetched: every history row has a file." if not choice.skipped else "Nothing was fetched.")
    return ExitCode.OK if not (args.versions and choice.skipped) else ExitCode.FAILED
