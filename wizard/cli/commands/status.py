"""``status``: every migration with its state: applied, pending, drifted or missing."""

from __future__ import annotations


from wizard.cli.output import emit_json, say
from wizard.cli.steps import _catalog, _open


def cmd_status(args) -> int:
    from wizard.core.flows import overview
    from wizard.core.flows.status import status

    loaded = _catalog(args)
    conn = _open(args)
    with conn:
        found = status(loaded, conn)
    report = found.overview
    if args.json:
        emit_json(found.to_json())
    else:
        width = max((len(s.version) + len(s.name) + 1 for s in report.states), default=10)
        for s in report.states:
            when = f"  {s.record.applied_at:%Y-%m-%d %H:%M}" if s.record and s.record.applied_at else ""
            print(f"  {(s.version + '_' + s.name):<{width}}  {s.state}{when}")
        print(report.summary() if report.states else "no migrations")
        for f in report.findings:
            if f.code in overview.HISTORY_FACTS:
                say(f"{f.severity}: {f.location()} {f.message}")
            else:
                say(f"problem: {f.location()}: {f.message}")
    return found.exit_code
