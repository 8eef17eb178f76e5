"""``verify``: the database holds what the migrations create, and the checks file passes; or,
with no database connection, every table the migrations create, asked of the project's REST API.
Each result is handed to ``on_result`` as it comes, for a front end that shows them live."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wizard.core.catalog import Catalog
from wizard.core.checks import CheckResult
from wizard.core.errors import ExitCode
from wizard.core.flows.lint import LintReport

OnResult = Callable[[CheckResult], None]


@dataclass
class VerifyReport:
    checks: list[CheckResult] = field(default_factory=list)
    over_rest: bool = False  # asked of the REST API: tables only
    lint: LintReport | None = None  # the database lint rules' findings (not over the REST API)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.checks)

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.checks if not r.ok]

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.ok else ExitCode.FAILED

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [r.to_json() for r in self.checks],
                **({"lint": self.lint.to_json()} if self.lint is not None else {})}


def verify(catalog: Catalog, database: Any, on_result: OnResult | None = None, *, lint: bool = True) -> VerifyReport:
    """Every check against ``database`` (an open connection), in order; with ``lint``, the database
    lint rules' findings too."""
    from wizard.core import verify as checks
    from wizard.core.db import batch
    from wizard.core.flows import lint as linting
    from wizard.core.lint import dbrules

    # where a request counts (over HTTPS), the checks' catalog reads and the lint rules' go in one
    batch.prefetch(database, checks.catalog_reads(catalog) + ([dbrules.rules_read()] if lint else []))
    report = VerifyReport(checks.run(database, catalog, on_result=on_result))
    if lint:
        report.lint = linting.database_only(catalog, database)
    return report


def verify_over_rest(catalog: Catalog, rest: Any, on_result: OnResult | None = None) -> VerifyReport:
    """Every table the migrations create, asked of the REST API (``manual.RestApi``). Raises
    ``manual.RestError`` when the API refuses the key or cannot be reached."""
    from wizard.core import manual
    from wizard.core.objects import final_objects

    made_by = {obj.name: m.filename for obj, m, _ in final_objects(catalog.migrations) if obj.kind == "table"}
    report = VerifyReport(over_rest=True)
    for name in manual.tables(catalog):
        state = rest.state(name)
        detail = {manual.EXISTS: "exists (REST API)",
                  manual.EXISTS_WITHOUT_GRANTS: f"exists (REST API); {rest.key_name}'s role has no grant on it",
                  manual.MISSING: f"missing (REST API): run {made_by.get(name, 'the migration that creates it')}"}
        report.checks.append(CheckResult(f"table {name}", state != manual.MISSING, detail[state]))
        if on_result is not None:
            on_result(report.checks[-1])
    return report
