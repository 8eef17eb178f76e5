"""``lint``: the file rules over the migration folder (offline, always) and, with a database, the
database rules over its catalog (read-only, rolled back) and the file rules about big tables for
the migrations not applied yet. The report holds every finding, and the exit code for a level to
fail on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wizard.core import lint as rules
from wizard.core.catalog import Catalog
from wizard.core.db import Connectable
from wizard.core.errors import ExitCode
from wizard.core.lint import Level, LintFinding


@dataclass
class LintReport:
    findings: list[LintFinding] = field(default_factory=list)
    database: bool = False  # the database rules ran
    offline: str | None = None  # why they did not, when a reason is known

    def at_or_above(self, level: Level) -> list[LintFinding]:
        return rules.at_or_above(self.findings, level)

    def exit_code(self, fail_on: Level | None = None) -> ExitCode:
        """FAILED when a finding is at ``fail_on`` or above; OK otherwise (and without ``fail_on``)."""
        return ExitCode.FAILED if fail_on is not None and self.at_or_above(fail_on) else ExitCode.OK

    def counts(self) -> dict[str, int]:
        return {level.value: sum(1 for f in self.findings if f.severity is level) for level in Level}

    def by_rule(self) -> dict[str, list[LintFinding]]:
        """The findings grouped by rule, the most severe rules first."""
        groups: dict[str, list[LintFinding]] = {}
        for finding in sorted(self.findings, key=lambda f: (-f.severity.rank, f.rule.id)):
            groups.setdefault(finding.rule.id, []).append(finding)
        return groups

    def to_json(self) -> dict[str, Any]:
        return {"database_rules": self.database, "counts": self.counts(),
                "findings": [f.to_json() for f in self.findings]}


def _order(finding: LintFinding) -> tuple[int, str, int, str]:
    return (-finding.severity.rank, finding.file or "~", finding.line or 0, finding.rule.id)


def offline(catalog: Catalog, why: str | None = None) -> LintReport:
    """The file rules alone: what the folder says without a database."""
    return LintReport(sorted(rules.files(catalog), key=_order), offline=why)


def lint(catalog: Catalog, database: Connectable | None, *, big_rows: int = rules.BIG_TABLE_ROWS,
         big_pages: int = rules.BIG_TABLE_PAGES, pending: set[str] | None = None) -> LintReport:
    """Every rule: on the files, and on ``database`` (an open connection) when there is one.
    ``pending``: the versions the history does not hold, when the caller read it already."""
    if database is None:
        return offline(catalog)
    from wizard.core import history
    from wizard.core.db import batch
    from wizard.core.lint import dbrules

    # the catalog reads that need no earlier answer go together (one request over HTTPS)
    batch.prefetch(database, ([(history.PRESENT, None)] if pending is None else [])
                   + [dbrules.big_tables_read(big_rows, big_pages), dbrules.rules_read()])
    if pending is None:
        applied = history.read(database)
        pending = {m.version for m in catalog.migrations if m.version not in applied}
    big = rules.big_tables(database, big_rows, big_pages)
    found = rules.files(catalog, big, pending) + rules.database(database, catalog)
    return LintReport(sorted(found, key=_order), database=True)


def database_only(catalog: Catalog, database: Connectable) -> LintReport:
    """The database rules alone (what ``verify`` shows)."""
    return LintReport(sorted(rules.database(database, catalog), key=_order), database=True)
