"""What the Fleet screen says in words: a target's row from its status or from its run's events,
and the report at the end of a run (done, failed with file:line and the advice's why and fix, not
started, unreachable), as ``fleet apply`` prints it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text

from wizard.tui.trouble import Trouble
from wizard.tui.widgets.matrix import Row, style

if TYPE_CHECKING:
    from textual.app import App

    from wizard.core.catalog import Catalog
    from wizard.core.diagnosis import Diagnosis
    from wizard.core.fleet.targets import Fleet
    from wizard.core.fleet.failures import Failure
    from wizard.core.flows.fleet_apply import FleetEvent, FleetReport, TargetResult
    from wizard.core.flows.fleet_status import FleetStatus, TargetStatus
    from wizard.tui.settings import Settings


def status_row(status: TargetStatus, versions: list[str], settings: Settings) -> Row:
    """A target as ``fleet status`` read it."""
    from wizard.core.flows.fleet_status import APPLIED, DRIFTED, FAILED, MISSING, PENDING

    name = status.target.name
    if not status.reachable:
        return Row(name, summary=status.summary, tone="error", reachable=False)
    states = {v: PENDING for v in versions} | dict(status.states)
    values = set(status.states.values())
    tone = ("error" if FAILED in values else "warning" if values & {DRIFTED, MISSING}
            else "success" if values <= {APPLIED} else None)
    summary = status.summary
    for failure in status.failures.values():  # where it failed, as the user thinks of the file
        shown = settings.show_path(Path(failure.file)) + (f":{failure.line}" if failure.line else "")
        summary = summary.replace(failure.location(), shown)
    return Row(name, states, summary, tone)


def where(diagnosis: Diagnosis, settings: Settings) -> str:
    """file:line(:column), the file as the user thinks of it."""
    shown = settings.show_path(Path(diagnosis.file))
    return shown + "".join(f":{n}" for n in (diagnosis.line, diagnosis.column) if n)


def ended_row(row: Row, result: TargetResult, settings: Settings) -> Row:
    """A target whose run ended."""
    from wizard.core.flows.fleet_apply import Outcome

    states = {v: ("pending" if s == "running" else s) for v, s in row.states.items()}
    outcome = result.outcome
    if result.failed is not None:
        summary = f"failed at {where(result.failed, settings)}: {result.failed.message}"
    else:
        summary = result.summary
    tone = {Outcome.DONE: "success", Outcome.FAILED: "error", Outcome.INTERRUPTED: "warning",
            Outcome.UNREACHABLE: "error", Outcome.NOT_STARTED: "muted"}[outcome]
    return replace(row, states=states, summary=summary, tone=tone, running=False,
                   reachable=row.reachable and outcome is not Outcome.UNREACHABLE)


def progressed(row: Row, event: FleetEvent, settings: Settings) -> Row:
    """A target's row after one event of its run."""
    from wizard.core import events
    from wizard.core.flows import fleet_apply as fleet

    if isinstance(event, fleet.TargetStarted):
        return replace(row, running=True, reachable=True, tone="primary",
                       summary="canary: connecting…" if event.canary else "connecting…")
    if isinstance(event, fleet.TargetEnded):
        return ended_row(row, event.result, settings)
    if not isinstance(event, fleet.TargetProgress):
        return row
    inner = event.event
    if isinstance(inner, events.MigrationStarted):
        return replace(row, states={**row.states, inner.version: "running"}, tone="primary",
                       summary=f"applying {inner.version}_{inner.name}")
    if isinstance(inner, events.StatementDone):
        return replace(row, summary=f"{row.summary.split('  ')[0]}  {inner.index}/{inner.total}")
    if isinstance(inner, events.MigrationApplied):
        return replace(row, states={**row.states, inner.version: "applied"},
                       summary=f"applied {inner.version}_{inner.name}")
    if isinstance(inner, events.MigrationSkipped):
        return replace(row, states={**row.states, inner.version: "applied"})
    if isinstance(inner, events.MigrationFailed):
        return replace(row, states={**row.states, inner.version: "failed"}, tone="error",
                       summary=f"failed at {where(inner.diagnosis, settings)}")
    if isinstance(inner, events.Notice):
        return replace(row, summary=inner.message)
    return row


def counts(report: FleetReport) -> str:
    from wizard.core.flows.fleet_apply import Outcome

    said = ", ".join(f"{len(report.having(o))} {o.value.replace('-', ' ')}" for o in Outcome if report.having(o))
    return f"Fleet: {said} (of {len(report.results)})."


def report_text(app: App[Any], report: FleetReport, settings: Settings) -> Text:
    """The end of a run: each outcome with its targets; a failure with where, why and the fix."""
    from wizard.core.describe import plain
    from wizard.core.flows.fleet_apply import Outcome

    text = Text(counts(report), style="bold")
    headings = ((Outcome.DONE, "Done", "success"), (Outcome.FAILED, "Failed", "error"),
                (Outcome.INTERRUPTED, "Interrupted", "warning"), (Outcome.NOT_STARTED, "Not started", "muted"),
                (Outcome.UNREACHABLE, "Unreachable", "error"))
    for outcome, heading, tone in headings:
        results = report.having(outcome)
        if not results:
            continue
        text.append("\n")
        text.append(f"{heading}:", style="bold " + style(app, tone))
        if outcome in (Outcome.DONE, Outcome.NOT_STARTED):
            text.append(" " + ", ".join(r.target.name for r in results))
            continue
        for result in results:
            text.append(f"\n  {result.target.name}  ", style="bold")
            if result.failed is not None:
                text.append(f"{where(result.failed, settings)}: {result.failed.message}")
            elif result.error is not None:
                text.append(result.error.line)
            else:
                text.append(result.summary)
            if result.failed is not None and result.advice is not None:
                for label, said in (("Why", result.advice.cause), ("Fix", result.advice.fix)):
                    text.append(f"\n    {label}: " + plain(said).strip().replace("\n", "\n         "))
    if not report.ok:
        text.append("\nApplying again (a) continues where each target stopped.", style="dim")
        if report.having(Outcome.FAILED):
            text.append(" t shows a failure in full: the lines around it, why, what to do.", style="dim")
    return text


def confirmation(fleet: Fleet, catalog: Catalog, parallel: int, max_failures: int,
                 settings: Settings, canary: tuple[str, ...] = ()) -> tuple[str, str]:
    """The question before the fleet is applied, and what it will do."""
    names = [t.name for t in fleet.targets]
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    waves = fleet.waves(list(fleet.targets))
    order = " Groups, in order: " + " then ".join(w[0].group or "" for w in waves) + "." if len(waves) > 1 else ""
    limit = (f"once {max_failures} target(s) failed, no new target starts" if max_failures
             else "every target is tried, whatever fails")
    first = (f" First {', then '.join(canary)} alone: the others start only once it is done." if canary else "")
    details = (f"The pending migrations of {settings.show_path(catalog.directory)} on {len(names)} target(s): "
               f"{shown}.{first}{order} Each target in its own run, {parallel} at a time, each migration in one "
               f"transaction there; {limit}. c stops the run: the migrations in progress roll back.")
    return f"Apply to the fleet ({len(names)} target(s))?", details


def trouble(result: TargetResult, catalog: Catalog) -> Trouble:
    """A failed target as Troubleshoot shows it: its migration's failure at its line, with the
    advice, or what else ended its run."""
    if result.failed is not None:
        found = Trouble.failed(result.failed, catalog)
        return replace(found, what=f"{result.target.name}: {found.what}", advice=result.advice or found.advice)
    assert result.error is not None  # a failed target has its failure or its error
    found = Trouble.described(result.error)
    return replace(found, what=f"{result.target.name}: {found.what}")


def failure_to_show(report: FleetReport | None, found: FleetStatus | None, catalog: Catalog,
                    highlighted: str | None) -> Trouble | None:
    """What Troubleshoot shows: a failure of the run just made, else a failure the targets'
    databases keep from an earlier fleet run (read with their status, whoever ran it, from any
    machine); the highlighted target's, else the first."""
    from wizard.core.flows.fleet_apply import Outcome

    if report is not None:
        failed = [r for r in report.having(Outcome.FAILED) if r.failed is not None or r.error is not None]
        chosen = next((r for r in failed if r.target.name == highlighted), failed[0] if failed else None)
        return trouble(chosen, catalog) if chosen is not None else None
    kept = [s for s in (found.targets if found is not None else []) if recorded(s) is not None]
    status = next((s for s in kept if s.target.name == highlighted), kept[0] if kept else None)
    return recorded_trouble(status, catalog) if status is not None else None


def recorded(status: TargetStatus) -> Failure | None:
    """The failure a target's database keeps for one of its pending migrations, if any."""
    from wizard.core.flows.fleet_status import FAILED

    return next((f for v, f in status.failures.items() if status.states.get(v) == FAILED), None)


def recorded_trouble(status: TargetStatus, catalog: Catalog) -> Trouble:
    """A kept failure as Troubleshoot shows it: at its line in the folder's file, with the advice
    for its error (what was recorded: no detail or hint)."""
    from wizard.core.diagnosis import Diagnosis

    failure = recorded(status)
    assert failure is not None
    migration = catalog.by_version().get(failure.version)
    diagnosis = Diagnosis(failure.version, failure.name, str(migration.path) if migration else failure.file,
                          failure.sqlstate, failure.message, line=failure.line)
    found = Trouble.failed(diagnosis, catalog)
    when = f" at {failure.failed_at:%Y-%m-%d %H:%M}" if failure.failed_at else ""
    return replace(found, what=f"{status.target.name}: {found.what} (kept by the fleet run{when})")
