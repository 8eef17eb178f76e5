"""``plan --rehearse``: the pending migrations applied for real, on a throwaway copy of the target.

A database of its own on the local embedded server (a random suffix in its name) gets the
target's current schema, then the pending migrations through the same :class:`Session` ``apply``
uses, so the report is the one ``apply`` would give (each migration's result and time, the first
failure at file:line with its advice); the database rules lint the result; the copy is dropped,
on failure and Ctrl-C too. The target is only read.

How the copy gets the target's schema (:class:`CopyMethod`):

- over a database connection, ``pg_dump --schema-only`` of the target, restored without owners
  and privileges, with the database's settings and the history with its rows (``schemacopy``); a
  Supabase project (or a database the compatibility step shaped) has its managed schemas left
  out, the copy being shaped first; any other database is copied whole, and the run on the copy
  takes the compatibility step where apply would;
- over HTTPS or with no connection, the files the target's history records as applied (offline:
  none) are replayed from the folder first: the copy is rebuilt from the files, not dumped.

Schema only, never data: what depends on the rows cannot fail on the copy (:data:`DATA_NOTE`).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wizard.core import history
from wizard.core.catalog import Catalog
from wizard.core.describe import plain
from wizard.core.diagnosis import Diagnosis
from wizard.core.errors import ExitCode
from wizard.core.events import AppliedMigration, Event, Notice
from wizard.core.flows.apply import ApplyReport
from wizard.core.flows.overview import Overview
from wizard.core.lint.model import LintFinding
from wizard.core.local import LocalServer
from wizard.core.runoptions import RunOptions

DATA_NOTE = ("The copy holds the schema only, no data: failures that depend on the rows (a unique index over "
             "duplicate values, NOT NULL on a column holding nulls, a check existing rows break) cannot show here; "
             "pre-flight's warnings for those statements stand.")
# A failure of this class (integrity constraints) on an empty copy may be the copy's own: a row a
# migration inserts may reference a row the target has and the copy has not.
DATA_CLASS = "23"
ROWS_NOTE = ("this failure may be the copy's own: it holds no rows, and a row this migration writes may need one "
             "the target has (a foreign key to existing data)")


class CopyMethod(enum.Enum):
    DUMPED = "pg_dump"  # the target's schema, dumped and restored
    REBUILT = "files"  # rebuilt by replaying the files the target's history records as applied


@dataclass
class RehearsalReport:
    """What the rehearsal did and what ``apply`` would report."""

    method: CopyMethod
    database: str = ""  # the throwaway database's name on the local server
    copy_ms: int = 0
    run_ms: int = 0
    apply: ApplyReport | None = None  # None when nothing was rehearsed (``refused``, or the copy failed)
    replayed: list[AppliedMigration] = field(default_factory=list)  # REBUILT: the files replayed first
    rebuild_failed: Diagnosis | None = None  # REBUILT: an applied file that did not replay
    restore_failures: list[str] = field(default_factory=list)  # DUMPED: statements of the dump that did not restore
    history_rows: int = 0  # DUMPED: history rows copied
    offline: bool = False  # no target: nothing was replayed, every file counted as pending
    refused: str | None = None  # why nothing was rehearsed
    lint: list[LintFinding] = field(default_factory=list)  # the database rules' findings on the copy
    dropped: bool = False  # the throwaway database is gone

    @property
    def failed(self) -> Diagnosis | None:
        return self.apply.failed if self.apply is not None else None

    @property
    def may_need_rows(self) -> bool:
        """The failure is an integrity constraint's, which the copy's missing rows can cause."""
        failed = self.failed
        return failed is not None and (failed.sqlstate or "").startswith(DATA_CLASS)

    @property
    def ok(self) -> bool:
        return self.apply is not None and self.apply.ok and self.rebuild_failed is None

    @property
    def exit_code(self) -> ExitCode:
        """FAILED when a migration failed on the copy (or the copy could not be rebuilt)."""
        if self.apply is not None and self.apply.interrupted:
            return ExitCode.INTERRUPTED
        return ExitCode.FAILED if (self.failed is not None or self.rebuild_failed is not None) else ExitCode.OK

    def copy_text(self) -> str:
        if self.method is CopyMethod.DUMPED:
            return (f"the target's schema, dumped with pg_dump (schema only, no data) and {self.history_rows} "
                    f"history row(s), in {self.copy_ms} ms")
        if self.offline:
            return (f"rebuilt from the files, not dumped (offline: the target's history is unknown, so no file was "
                    f"replayed and every file counts as pending), in {self.copy_ms} ms")
        return (f"rebuilt from the files, not dumped (over HTTPS): the {len(self.replayed)} file(s) the target's "
                f"history records as applied were replayed first, in {self.copy_ms} ms")

    def lines(self) -> list[str]:
        """The report as text lines (the command's output, the wizard's Rehearse step)."""
        if self.refused is not None:
            return [f"Rehearsal: not rehearsed: {self.refused}."]
        out = [f"Rehearsal on a throwaway copy ({self.database} on the local server, "
               + ("dropped afterwards" if self.dropped else "NOT dropped") + "):"]
        out.append(f"  copy: {self.copy_text()}")
        if self.restore_failures:
            out.append(f"  warning: {len(self.restore_failures)} statement(s) of the target's schema did not restore "
                       f"on the copy (it differs there): {self.restore_failures[0]}")
        if self.rebuild_failed is not None:
            d = self.rebuild_failed
            out.append(f"  the copy could not be rebuilt: {d.location()}: {d.sqlstate or ''} {d.message}")
            return out
        if self.apply is None:
            return out
        for applied in self.apply.finished.applied:
            out.append(f"  {applied.version}_{applied.name}  applied in {applied.duration_ms} ms")
        failed, advice = self.failed, self.apply.advice
        if failed is not None:
            out.append(f"  {failed.version}_{failed.name}  FAILED")
            out.append(f"  {failed.location()}: {failed.sqlstate or ''} {failed.message}".replace(":  ", ": "))
            if advice is not None:
                out += _indented(f"Why: {plain(advice.cause)}") + _indented(f"Fix: {plain(advice.fix)}")
            if self.may_need_rows:
                out.append(f"  Note: {ROWS_NOTE}.")
            out.append(f"Rehearsal FAILED: apply would stop at {failed.location()} "
                       f"({len(self.apply.finished.applied)} migration(s) before it would apply).")
        elif self.apply.interrupted:
            out.append("Rehearsal interrupted.")
        else:
            count = len(self.apply.finished.applied)
            out.append(f"Rehearsal passed: {count} pending migration(s) applied on the copy in {self.run_ms} ms."
                       if count else "Rehearsal passed: nothing pending to apply.")
        out.append(f"Lint of the copy: {len(self.lint)} finding(s)" + (":" if self.lint else "."))
        out += [f"  {f.severity.value:<7} {f.location()}: {f.rule.id} {f.object}: {f.message}" for f in self.lint]
        out.append(DATA_NOTE)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "database": self.database,
            "dropped": self.dropped,
            "copy": {
                "method": self.method.value,
                "duration_ms": self.copy_ms,
                **({"history_rows": self.history_rows} if self.method is CopyMethod.DUMPED else {}),
                **({"replayed": [a.to_json() for a in self.replayed]} if self.method is CopyMethod.REBUILT else {}),
                **({"offline": True} if self.offline else {}),
                **({"restore_failures": self.restore_failures} if self.restore_failures else {}),
                **({"rebuild_failed": self.rebuild_failed.to_json()} if self.rebuild_failed else {}),
            },
            **({"may_need_rows": True} if self.may_need_rows else {}),
            **({"refused": self.refused} if self.refused is not None else {}),
            **(self.apply.to_json() if self.apply is not None else {}),
            "duration_ms": self.run_ms,
            "lint": [finding.to_json() for finding in self.lint],
            "note": DATA_NOTE,
        }


def _indented(text: str) -> list[str]:
    return ["  " + line for line in text.splitlines()]


def _lint_copy(conn: Any, catalog: Catalog) -> list[LintFinding]:
    """The database rules over the rehearsal's copy (read-only), each finding with its rule id,
    level, object, file:line and fix."""
    from wizard.core import lint

    return lint.database(conn, catalog)


def method_for(target: Any) -> CopyMethod:
    """Dumped over a database connection; rebuilt from the files over HTTPS or offline."""
    import psycopg

    if target is None:
        return CopyMethod.REBUILT
    if isinstance(target, psycopg.Connection):
        return CopyMethod.DUMPED
    from wizard.core.db.direct import DirectDatabase

    return CopyMethod.DUMPED if isinstance(target, DirectDatabase) else CopyMethod.REBUILT


def rehearse(overview: Overview, target: Any, server: LocalServer, *, compat: bool = True, local: bool = False,
             on_event: Callable[[Event], None] | None = None, connect_timeout: float = 10) -> RehearsalReport:
    """Rehearse the pending migrations of ``overview`` (plan's reading of ``target``; ``target``
    None: offline) on a throwaway database of the local ``server`` (started here if needed).
    Raises CopyError when the target's schema cannot be dumped, LocalError when the local server
    cannot start."""
    from wizard.core import schemacopy

    method = method_for(target)
    report = RehearsalReport(method, offline=target is None)
    if overview.refusals:
        report.refused = (f"pre-flight found {len(overview.refusals)} problem(s) that keep apply from starting "
                          f"(first: {overview.refusals[0].location()}: {overview.refusals[0].message})")
        return report
    emit = on_event or (lambda event: None)
    server.start()
    name = ""
    try:
        with schemacopy.throwaway(server, connect_timeout) as (name, copy):
            report.database = name
            emit(Notice(f"Rehearsal: a throwaway database {name} on the local server."))
            started = time.monotonic()
            if method is CopyMethod.DUMPED:
                _dump(report, target, copy, server.url(name))
            else:
                _rebuild(report, overview.catalog, target, copy)
            report.copy_ms = int((time.monotonic() - started) * 1000)
            emit(Notice(f"Copy: {report.copy_text()}."))
            if report.rebuild_failed is not None:
                return report
            # a new session, as apply's would be: it starts with the database's settings as the copy
            # has them now (the search_path the compatibility step set)
            with schemacopy.connect(server, name, connect_timeout) as session:
                _run(report, overview.catalog, session, compat, local, on_event)
                report.lint = _lint_copy(session, overview.catalog)
    finally:
        if name:
            report.dropped = not schemacopy.exists(server, name)
    return report


def _dump(report: RehearsalReport, target: Any, copy: Any, copy_url: str) -> None:
    """A Supabase project, or a database the compatibility step shaped as it is now: the copy is
    shaped first and their managed schemas are not dumped. Any other database is dumped whole, and
    the run on the copy takes the compatibility step where apply would (reporting what it made)."""
    from wizard.core import compat as compat_step
    from wizard.core import schemacopy
    from wizard.core.db.direct import DirectDatabase

    conn = target.conn if isinstance(target, DirectDatabase) else target
    schemacopy.check_versions(conn.info.server_version)
    shape = compat_step.inspect(conn)
    shaped = shape.supabase or shape.marked
    if shaped:
        compat_step.ensure(copy)
    copied = schemacopy.dump_into(conn, copy, copy_url, exclude_managed=shaped)
    report.restore_failures, report.history_rows = copied.failed_statements, copied.history_rows


def _rebuild(report: RehearsalReport, catalog: Catalog, target: Any, copy: Any) -> None:
    """A fresh Supabase-shaped database, then the files the target's history records as applied."""
    from wizard.core import compat as compat_step
    from wizard.core import runner

    compat_step.ensure(copy)
    if target is None:
        return
    recorded = history.read(target)
    applied = [m.version for m in catalog.migrations if m.version in recorded]
    if not applied:
        return
    finished = runner.Runner(copy, catalog, RunOptions()).run(only=applied)
    report.replayed, report.rebuild_failed = finished.applied, finished.failed


def _run(report: RehearsalReport, catalog: Catalog, copy: Any, compat: bool, local: bool,
         on_event: Callable[[Event], None] | None) -> None:
    from wizard.core.flows.apply import Session

    started = time.monotonic()
    session = Session(copy, catalog, RunOptions(compat=compat), on_event, local=local)
    session.migrate()
    report.apply = session.report()
    report.run_ms = int((time.monotonic() - started) * 1000)
