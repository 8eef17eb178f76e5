"""What the folder and the database's history say together: the one source of the facts that
``status``, ``plan`` and the wizard's Path step show.

Each front end calls :func:`read` (status: the history's facts only; plan and the Path step: those
and pre-flight, the config's major version and seed files) or, with no way to the database,
:func:`offline`, and renders the :class:`Overview` it returns; none of them works a fact out on its
own, so they cannot disagree. Reading writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wizard.core import history, preflight
from wizard.core.catalog import Catalog, Migration
from wizard.core.history import MigrationState
from wizard.core.objects import Obj
from wizard.core.preflight import Finding


HISTORY_FACTS = ("drifted", "missing-file", "renamed", "out-of-order", "already-present")  # codes of the history's facts


@dataclass
class Partial:
    """The first pending migration, when the database already holds some of what it creates (a run
    by hand that stopped half-way, or one that was never recorded)."""

    state: MigrationState
    present: list[Obj]
    missing: list[Obj]

    def to_json(self) -> dict[str, Any]:
        return {"present": [o.describe() for o in self.present], "missing": [o.describe() for o in self.missing]}


@dataclass
class Overview:
    catalog: Catalog
    states: list[MigrationState]
    pending: list[Migration]
    findings: list[Finding] = field(default_factory=list)  # the history's facts first, then pre-flight's
    compat: list[str] = field(default_factory=list)  # what the compatibility step will create first ("kind name")
    partial: Partial | None = None
    # Errors that keep a run from starting: the folder's and the statements' own. A missing
    # dependency is an error too, but a run applies the migrations before it and stops there.
    refusals: list[Finding] = field(default_factory=list)
    offline: bool = False  # read from the folder alone, against a fresh Supabase project's baseline
    # What a run meets, each part of ``findings`` kept apart for apply: the pending statements' own
    # checks (their errors are refusals), the dependencies of the migration files (not the seeds'),
    # tables locked for long, the server's major version against supabase/config.toml.
    statement_facts: list[Finding] = field(default_factory=list)
    dependency_facts: list[Finding] = field(default_factory=list)
    lock_facts: list[Finding] = field(default_factory=list)
    version_facts: list[Finding] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many migrations are in each state, in the order states first appear."""
        counts: dict[str, int] = {}
        for s in self.states:
            counts[s.state] = counts.get(s.state, 0) + 1
        return counts

    def summary(self) -> str:
        """One line: how many migrations, in which states (drifted and adopted ones were applied,
        and are said apart)."""
        if self.offline:
            count = len(self.catalog.migrations)
            return (f"{count} migrations, analysed offline: the database's history is unknown, so all {count} "
                    "count as pending.")
        counts = self.counts()
        applied = counts.get(history.APPLIED, 0) + counts.get(history.ADOPTED, 0) + counts.get(history.DRIFTED, 0)
        parts = [f"{applied} applied", f"{counts.get(history.PENDING, 0)} pending"]
        if counts.get(history.ADOPTED):
            parts.append(f"{counts[history.ADOPTED]} of them adopted (run by hand)")
        if counts.get(history.DRIFTED):
            parts.append(f"{counts[history.DRIFTED]} changed since applied (drifted)")
        if counts.get(history.MISSING):
            parts.append(f"{counts[history.MISSING]} recorded without a file (missing)")
        return f"{len(self.catalog.migrations)} migrations: " + ", ".join(parts) + "."

    def to_json(self) -> dict[str, Any]:
        return {
            **({"offline": True, "baseline": OFFLINE_BASELINE, "unknown": list(OFFLINE_UNKNOWN)}
               if self.offline else {}),
            "migrations": [self._state_json(s) for s in self.states],
            "counts": self.counts(),
            "pending": [{"version": m.version, "name": m.name, "statements": len(m.statements)} for m in self.pending],
            "findings": [f.to_json() for f in self.findings],
            **({"compat": self.compat} if self.compat else {}),
        }

    def _state_json(self, state: MigrationState) -> dict[str, Any]:
        document = state.to_json()
        if self.partial is not None and state.version == self.partial.state.version:
            document["objects"] = self.partial.to_json()
        return document


OFFLINE_BASELINE = "a fresh Supabase project"
OFFLINE_UNKNOWN = ("the migration history (which files already ran)",
                   "objects made by hand, in the dashboard or by another tool")
OFFLINE_NOTE = (
    "Offline analysis: no database was asked. The folder is checked against a baseline of what a fresh "
    "Supabase project has (the auth, storage and extensions schemas, PostgreSQL's own functions and types). "
    "It cannot know what the real database already holds (its migration history, objects made by hand in the "
    "dashboard): every file counts as pending, and an object made by hand shows as missing."
)


def seed_files(project: Any, local: bool) -> tuple[list[Migration], list[Finding]]:
    """The seed files of supabase/config.toml, globbed and parsed once: those that parse, and what
    the seed settings give, as apply would say it: a seed path that matches no file (a warning), a
    seed file that cannot be read or parsed (an error where apply runs the seeds, the local
    database, which it then refuses to start; a warning elsewhere)."""
    if project is None:
        return [], []
    from wizard.core import project as projects
    from wizard.core import seeds

    files, unmatched = project.seeds()
    facts = [Finding(preflight.WARNING, "seed-unmatched", projects.shown(project.config), None, warning)
             for warning in unmatched]
    if not files:
        return [], facts
    loaded, problems = seeds.load(files)
    severity = preflight.ERROR if local else preflight.WARNING
    return loaded, facts + [preflight._from_problem(p, severity) for p in problems]


def offline(catalog: Catalog, project: Any = None) -> Overview:
    """The folder alone, without a database: every file pending, pre-flight against the baseline of
    a fresh Supabase project (see ``preflight.offline``), the project's seed files after them.
    Connects to nothing."""
    states = history.states(catalog, {})
    pending = list(catalog.migrations) if catalog.ok else []
    seeds, seed_facts = seed_files(project, local=False)
    findings = preflight.offline(catalog, seeds) + seed_facts
    refusals = [f for f in preflight.blocking(findings) if f.code not in preflight.DEPENDENCY_CODES]
    return Overview(catalog, states, pending, findings, offline=True, refusals=refusals)


def history_facts(catalog: Catalog, states: list[MigrationState]) -> list[Finding]:
    """What the history says beyond "applied" and "pending": files changed after they were applied,
    history rows without a file (when and how they were applied, and what to do), files renamed
    after they were applied, pending files that sort before one already applied."""
    from wizard.core.flows import disagree, recover

    facts = []
    moved = {r.file.version: r for r in disagree.renamed(states)}
    moved_records = {r.record.version for r in moved.values()}
    late = {o.file.version: o for o in disagree.out_of_order(states)}
    for s in states:
        filename = s.file.rsplit("/", 1)[-1] if s.file else ""
        if s.state == history.DRIFTED:
            facts.append(Finding(
                preflight.WARNING, "drifted", filename, None,
                "changed after it was applied: the database does not have the new content "
                f"('migration-wizard diff {s.version}' shows the change; 'migration-wizard accept {s.version}' "
                "records it once the database has it)",
            ))
        elif s.state == history.MISSING and s.version not in moved_records:
            record = s.record
            count = record.statements if record is not None else None
            how = recover.explain(record.applied_at if record else None, record.method if record else None, count)
            action = (f"'migration-wizard fetch {s.version}' writes it back from the history" if count
                      else f"'migration-wizard forget {s.version}' removes the record if it is not needed")
            facts.append(Finding(
                preflight.WARNING, "missing-file", f"version {s.version}" + (f" ({s.name})" if s.name else ""), None,
                f"is recorded in the database but has no file in {catalog.directory}: {how}; {action}",
            ))
        elif s.version in moved and s.state == history.PENDING:
            facts.append(Finding(preflight.WARNING, "renamed", filename, None,
                                 moved[s.version].message(catalog.directory)))
        elif s.version in late and s.state == history.PENDING:
            facts.append(Finding(preflight.WARNING, "out-of-order", filename, None, late[s.version].message()))
    return facts


def _partial(conn: Any, catalog: Catalog, states: list[MigrationState]) -> Partial | None:
    from wizard.core import verify

    from wizard.core.flows import disagree

    moved = {r.file.version for r in disagree.renamed(states)}  # the same migration, recorded under its old name
    first = next((s for s in states if s.state == history.PENDING and s.version not in moved), None)
    if first is None or not catalog.ok:
        return None
    present, missing = verify.migration_presence(conn, catalog.by_version()[first.version])
    return Partial(first, present, missing) if present else None


def partial_fact(partial: Partial) -> Finding:
    name = f"{partial.state.version}_{partial.state.name}.sql"
    if partial.missing:
        message = (
            "is pending, but part of it is already in the database (a run by hand that stopped half-way?): "
            f"it has {', '.join(o.describe() for o in partial.present[:8])}; "
            f"it lacks {', '.join(o.describe() for o in partial.missing[:8])}"
        )
    else:
        message = (
            "is pending, but everything it creates is already in the database: "
            f"'migration-wizard adopt {partial.state.version}' records it as applied"
        )
    return Finding(preflight.WARNING, "already-present", name, None, message)


def major_version_fact(project: Any, conn: Any) -> list[Finding]:
    """A warning when the server's major version is not the one supabase/config.toml names."""
    from wizard.core import project as projects

    from wizard.core.db import database

    warning = projects.major_version_warning(project, database(conn).server_version)
    if warning is None:
        return []
    return [Finding(preflight.WARNING, "major-version", projects.shown(project.config),
                    project.major_version_line, warning)]


def read(catalog: Catalog, conn: Any, *, checks: bool = True, compat: bool = True, project: Any = None,
         local: bool = False) -> Overview:
    """The folder against the database behind ``conn``. With ``checks``, pre-flight runs over the
    pending migrations too (statement checks, dependencies, long locks, what the compatibility step
    will create; ``compat`` False when the run will not take that step; the major version
    supabase/config.toml names and its seed files, when ``project`` is the project it describes;
    ``local``: the target is the local database, where apply runs the seeds)."""
    from wizard.core import compat as compat_step
    from wizard.core import runner
    from wizard.core.db import batch
    from wizard.core.preflight import locks

    # where a request counts (over HTTPS), the reads that need no earlier answer go in one
    batch.prefetch(conn, [(history.PRESENT, None)] + (compat_step.reads() if checks and compat else [])
                   + ([locks.any_big_table()] if checks else []))
    records = history.read(conn)
    states = history.states(catalog, records)
    pending = runner.pending(catalog, records) if catalog.ok else []
    overview = Overview(catalog, states, pending)
    overview.partial = _partial(conn, catalog, states)
    overview.findings = history_facts(catalog, states)
    if overview.partial is not None:
        overview.findings.append(partial_fact(overview.partial))
    if not checks:
        problems = [preflight._from_problem(p) for p in catalog.problems]
        overview.findings += problems
        overview.refusals = problems
        return overview
    statement_checks = preflight.check(catalog, pending) + preflight.missing_extensions(pending, conn)
    overview.refusals = preflight.blocking(statement_checks)
    overview.statement_facts = statement_checks
    overview.findings += statement_checks
    shape = compat_step.inspect(conn) if compat else None
    seeds, seed_facts = seed_files(project, local)
    found = preflight.seed_findings(preflight.dependencies(catalog, pending + seeds, conn, compat_will_run=shape),
                                    seeds)
    seed_names = {seed.filename for seed in seeds}
    overview.dependency_facts = [f for f in found if f.file not in seed_names]
    overview.findings += found
    overview.lock_facts = preflight.big_table_locks(pending, conn)
    overview.findings += overview.lock_facts
    if project is not None:
        overview.version_facts = major_version_fact(project, conn)
        overview.findings += overview.version_facts
    overview.findings += seed_facts
    overview.refusals += preflight.blocking(seed_facts)  # apply refuses to start over them
    if shape is not None and shape.will_run and pending:
        overview.compat = shape.missing or [shape.summary()]
        overview.findings.append(Finding(
            preflight.INFO, "compat", str(catalog.directory), None,
            "plain PostgreSQL: the run will first make it Supabase-shaped: " + shape.summary(),
        ))
    return overview
