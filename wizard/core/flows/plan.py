"""``plan``: what a run would apply, and every pre-flight finding; writes nothing.

Read against the database (:func:`plan`) or, with no way to it, from the folder alone against a
fresh Supabase project (``database`` None). The report holds what the command prints and what the
wizard's Path step shows, and the exit code: a run cannot start while an error stands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wizard.core import preflight
from wizard.core.catalog import Catalog
from wizard.core.errors import ExitCode
from wizard.core.flows import overview
from wizard.core.flows.lint import LintReport
from wizard.core.flows.overview import Overview
from wizard.core.preflight import Finding


@dataclass
class PlanReport:
    overview: Overview
    seeds: list[str] = field(default_factory=list)  # the seed files apply runs after the migrations
    no_way_in: str | None = None  # why it was read offline without being asked to
    lint: LintReport | None = None  # the lint rules: the files', and the database's with a connection

    @property
    def errors(self) -> list[Finding]:
        return preflight.blocking(self.overview.findings)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.USAGE if self.errors else ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        return {**self.overview.to_json(), **({"seeds": self.seeds} if self.seeds else {}),
                **({"lint": self.lint.to_json()} if self.lint is not None else {})}


def plan(catalog: Catalog, database: Any, project: Any = None, *, compat: bool = True, local: bool = False,
         no_way_in: str | None = None, lint: bool = True) -> PlanReport:
    """The plan of a run against ``database`` (an open connection), or offline when it is None;
    with ``lint``, the lint rules' findings too (the database's rules with a connection)."""
    from wizard.core.flows import lint as linting

    if database is None:
        report = overview.offline(catalog, project)
    else:
        report = overview.read(catalog, database, compat=compat, project=project, local=local)
    seeds = [f.path for f in project.seeds()[0]] if project is not None else []
    found = None
    if lint and catalog.ok:
        if database is None:
            found = linting.offline(catalog)
        else:  # the history as the overview read it: not asked twice
            from wizard.core import history

            pending = {s.version for s in report.states if s.state == history.PENDING}
            found = linting.lint(catalog, database, pending=pending)
    return PlanReport(report, seeds, no_way_in, found)
