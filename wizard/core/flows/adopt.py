"""``adopt``: record pending migrations as applied when the database already holds what they
create (they were run by hand, or by a tool that kept no history).

:func:`choose` looks each candidate up (nothing is written); :func:`adopt` records the chosen ones
under the run lock. Named versions are adopted each on its own merits; without names, adoption
goes in order and stops at the first migration that is not wholly in the database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wizard.core.catalog import Catalog, Migration
from wizard.core.events import AppliedMigration, Event
from wizard.core.objects import Obj
from wizard.core.runner import RunOptions


@dataclass(frozen=True)
class Refused:
    """A migration that cannot be adopted: what the database has of it, and what it lacks."""

    migration: Migration
    present: list[Obj]
    missing: list[Obj]


@dataclass
class AdoptChoice:
    explicit: bool  # versions were named
    unknown: list[str] = field(default_factory=list)  # named versions no file has
    chosen: list[Migration] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)

    @property
    def stopped_at(self) -> Refused | None:
        """Without names: the migration where adoption stopped."""
        return self.refused[0] if self.refused and not self.explicit else None


@dataclass
class AdoptReport:
    choice: AdoptChoice
    adopted: list[AppliedMigration]

    def to_json(self) -> dict[str, Any]:
        stopped = self.choice.stopped_at
        return {"ok": True, "adopted": [a.to_json() for a in self.adopted],
                "stopped_at": stopped.migration.version if stopped else None}


def choose(catalog: Catalog, database: Any, versions: Sequence[str] = ()) -> AdoptChoice:
    """Which pending migrations can be adopted (``versions``: only these). Reads only."""
    from wizard.core import history, runner, verify

    pending = runner.pending(catalog, history.read(database))
    by_version = {m.version: m for m in catalog.migrations}
    choice = AdoptChoice(explicit=bool(versions), unknown=[v for v in versions if v not in by_version])
    if choice.unknown:
        return choice
    candidates = [m for m in pending if m.version in set(versions)] if choice.explicit else pending
    for migration in candidates:
        present, missing = verify.migration_presence(database, migration)
        if missing or (not present and not choice.explicit):
            choice.refused.append(Refused(migration, present, missing))
            if not choice.explicit:
                break
            continue
        choice.chosen.append(migration)
    return choice


def adopt(catalog: Catalog, database: Any, choice: AdoptChoice, options: RunOptions | None = None,
          on_event: Callable[[Event], None] | None = None) -> AdoptReport:
    """Record the chosen migrations as applied, under the run lock (raises LockHeld)."""
    from wizard.core import runner

    run = runner.runner_for(database)(database, catalog, options or RunOptions(), on_event=on_event)
    return AdoptReport(choice, run.adopt(choice.chosen))
