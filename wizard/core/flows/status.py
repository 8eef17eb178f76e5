"""``status``: every migration with its state (applied, pending, drifted, missing) and what the
history says beyond that; the folder's own problems. Reads the history only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wizard.core.catalog import Catalog
from wizard.core.errors import ExitCode
from wizard.core.flows import overview
from wizard.core.flows.overview import Overview


@dataclass
class StatusReport:
    overview: Overview

    @property
    def problems(self) -> list[dict[str, Any]]:
        return [p.to_json() for p in self.overview.catalog.problems]

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.USAGE if self.problems else ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        document = self.overview.to_json()
        problems = self.problems
        return {"migrations": document["migrations"], "counts": document["counts"],
                "findings": document["findings"], **({"problems": problems} if problems else {})}


def status(catalog: Catalog, database: Any) -> StatusReport:
    """The folder against the history of ``database`` (an open connection)."""
    return StatusReport(overview.read(catalog, database, checks=False))
