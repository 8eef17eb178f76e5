"""``fleet status`` and ``fleet apply``: the databases of the targets file, many at once."""

from __future__ import annotations

import sys

from wizard.cli.errors import ExitCode, Stop
from wizard.cli.output import emit_json, plain, printable, say
from wizard.cli.steps import _catalog, _check_folder, _project, answered_yes, stop_on_interrupt

SYMBOLS = {"applied": "✓", "pending": "·", "drifted": "~", "failed": "✗", "missing": "?"}
ASCII = {"applied": "+", "pending": ".", "drifted": "~", "failed": "X", "missing": "?"}


def cmd_fleet(args) -> int:
    for flag, given in (("--database-url", args.database_url), ("--local", args.local),
                        ("--https", getattr(args, "https", False))):
        if given:
            raise Stop(ExitCode.USAGE, f"fleet takes its databases from the targets file: {flag} does not apply "
                       "(a target with local = true is the local database)")
    if args.fleet_command == "status":
        return _status(args)
    return _apply(args)


def _fleet(args):
    """The targets file, the targets chosen by --target, --group and --shard, the environment and
    the folder (the one the targets file names, unless --migrations)."""
    from wizard.core import env
    from wizard.core.fleet import targets

    fleet = targets.load(args.targets)
    chosen = list(fleet.targets)
    if args.target:
        chosen = fleet.named(args.target)
    if args.group:
        grouped = {t.name for t in fleet.in_groups(args.group)}
        chosen = [t for t in chosen if t.name in grouped]
    if args.shard:
        index, count = args.shard
        chosen = targets.shard(chosen, index, count)
        say(f"Shard {index}/{count}: {len(chosen)} of the fleet's targets ({', '.join(t.name for t in chosen) or 'none'}).")
    if args.migrations is None and fleet.migrations is not None:
        args.migrations = fleet.migrations
    environment = env.load(env_file=args.env_file)
    return fleet, chosen, environment


def _reach(args):
    from wizard.core.fleet.reach import Reach

    return Reach(args.connect_timeout, args.request_timeout, args.api_url, args.local_dir)


# -- status ----------------------------------------------------------------------------------------

def _status(args) -> int:
    from wizard.core.flows import fleet_status

    fleet, chosen, environment = _fleet(args)
    loaded = _catalog(args)
    found = fleet_status.read(chosen, loaded, environment, _reach(args), parallel=args.parallel)
    if args.json:
        emit_json(found.to_json())
        return found.exit_code
    symbols = SYMBOLS if (sys.stdout.encoding or "").lower().replace("-", "") == "utf8" else ASCII
    width = max((len(t.target.name) for t in found.targets), default=6)
    count = len(found.versions)
    print(f"{len(found.targets)} target(s) of {fleet.path}, {count} migration(s) in {loaded.directory}:")
    ruler = "".join(str(i + 1).ljust(10) if i % 10 == 0 else "" for i in range(count))
    print(f"  {'':<{width}}  {_grouped(ruler, count)}".rstrip())
    for status in found.targets:
        if not status.reachable:
            print(printable(f"  {status.target.name:<{width}}  {status.summary}"))
            continue
        strip = "".join(symbols.get(status.state(v), " ") for v in found.versions)
        print(printable(f"  {status.target.name:<{width}}  {_grouped(strip, count)}  {status.summary}"))
    print("  " + "  ".join(f"{symbols[s]} {s}" for s in SYMBOLS))
    summary = found.to_json()["summary"]
    print(f"{summary['up_to_date']} up to date, {summary['failed']} with a failed migration, "
          f"{summary['unreachable']} unreachable, of {summary['targets']}.")
    return found.exit_code


def _grouped(strip: str, count: int) -> str:
    """A column per migration, a space every ten."""
    text = strip.ljust(count)
    return " ".join(text[i:i + 10] for i in range(0, len(text), 10))


# -- apply -----------------------------------------------------------------------------------------

def _apply(args) -> int:
    from wizard.cli.board import Board
    from wizard.core.flows import fleet_apply
    from wizard.core.runoptions import RunOptions

    fleet, chosen, environment = _fleet(args)
    loaded = _catalog(args)
    _check_folder(loaded)  # the folder's own problems: once, before any target
    known = {t.name: t for t in fleet.named(args.canary)} if args.canary else {}
    canary = [known[n] for n in dict.fromkeys(args.canary)]  # in the order given
    missing = [t.name for t in canary if t not in chosen]
    if missing:
        say(f"The canary {', '.join(missing)} is not among the targets of this run (another --target, --group or "
            "--shard): it is not applied here.")
    if not chosen:
        say("No target to migrate.")
        if args.json:
            emit_json({"ok": True, "targets": [], "summary": {}})
        return ExitCode.OK
    if not args.yes and not args.json and sys.stdin.isatty():
        names = ", ".join(t.name for t in chosen[:8]) + (f" and {len(chosen) - 8} more" if len(chosen) > 8 else "")
        if not answered_yes(f"Apply the pending migrations of {loaded.directory} on {len(chosen)} target(s) "
                            f"({names})?"):
            say("Nothing was applied.")
            return ExitCode.OK
    options = fleet_apply.Options(
        parallel=args.parallel, canary=tuple(t.name for t in canary), max_failures=args.max_failures,
        run=RunOptions(lock_timeout=args.lock_timeout, statement_timeout=args.statement_timeout,
                       table_lock_timeout=args.table_lock_timeout, compat=not args.no_compat,
                       pack_kib=args.pack_size),
        include_all=args.include_all)
    chosen_names = {t.name for t in chosen}
    waves = [[t for t in wave if t.name in chosen_names] for wave in fleet.waves(chosen)]
    if len([w for w in waves if w]) > 1:
        say("Rollout in groups, in order: " + " then ".join(w[0].group or "" for w in waves if w) + ".")
    board = Board([t.name for t in chosen])
    run = fleet_apply.FleetApply(waves, loaded, environment, _reach(args), options, on_event=board,
                                 project=_project(args))
    try:
        with stop_on_interrupt(run, "Stopping: the migrations in progress roll back, no new target starts (Ctrl-C "
                               "again to quit at once)..."):
            report = run.run()
    finally:
        board.close()
    if args.json:
        emit_json(report.to_json())
    else:
        _report(report)
    return report.exit_code


def _report(report) -> None:
    from wizard.core.flows.fleet_apply import Outcome

    counts = ", ".join(f"{len(report.having(o))} {o.value.replace('-', ' ')}" for o in Outcome if report.having(o))
    print(f"Fleet: {counts} (of {len(report.results)}).")
    width = max((len(r.target.name) for r in report.results), default=6)
    for result in report.results:
        print(printable(f"  {result.target.name:<{width}}  {result.summary}"))
        if result.failed is not None and result.advice is not None:
            print(printable(f"  {'':<{width}}  Why: {plain(result.advice.cause)}"))
            print(printable(f"  {'':<{width}}  Fix: {plain(result.advice.fix)}"))
    if not report.ok:
        say("Running fleet apply again continues where each target stopped.")
