"""``fleet status``: every target of the fleet against the folder, read in parallel: a matrix of
targets by migrations (applied, pending, drifted, failed, missing), and the targets that could not
be reached. Each target's history is read once; nothing is written."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from wizard.core import history
from wizard.core.catalog import Catalog
from wizard.core.describe import Description, describe
from wizard.core.env import Environment
from wizard.core.errors import ExitCode
from wizard.core.fleet import failures
from wizard.core.fleet.failures import Failure
from wizard.core.fleet.reach import Reach, open_target
from wizard.core.fleet.targets import Target

APPLIED, PENDING, DRIFTED, FAILED, MISSING = "applied", "pending", "drifted", "failed", "missing"
UNREACHABLE = "unreachable"
STATES = (APPLIED, PENDING, DRIFTED, FAILED, MISSING)


@dataclass
class TargetStatus:
    """One target: each migration's state, or why it could not be read."""

    target: Target
    states: dict[str, str] = field(default_factory=dict)  # version -> applied, pending, drifted, failed, missing
    failures: dict[str, Failure] = field(default_factory=dict)  # the pending versions that failed last time
    error: Description | None = None  # unreachable (or its history unreadable)

    @property
    def reachable(self) -> bool:
        return self.error is None

    def state(self, version: str) -> str:
        return self.states.get(version, PENDING) if self.reachable else UNREACHABLE

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for v in self.states.values() if v == s) for s in STATES}

    @property
    def summary(self) -> str:
        """One phrase: ``up to date``, ``3 pending``, ``failed at 002_x.sql:14``, ``unreachable: ...``."""
        if self.error is not None:
            return f"unreachable: {self.error.line}"
        counts = self.counts()
        parts = []
        failed = [f for v, f in self.failures.items() if self.states.get(v) == FAILED]
        if failed:
            parts.append(f"failed at {failed[0].location()}")
        for state in (PENDING, DRIFTED, MISSING):
            if counts[state]:
                parts.append(f"{counts[state]} {state}")
        return ", ".join(parts) or "up to date"

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {**self.target.to_json(), "reachable": self.reachable}
        if self.error is not None:
            document["error"] = {"kind": self.error.kind, "message": self.error.line}
            return document
        document["migrations"] = dict(self.states)
        document["counts"] = self.counts()
        if self.failures:
            document["failures"] = [f.to_json() for v, f in self.failures.items() if self.states.get(v) == FAILED]
        return document


@dataclass
class FleetStatus:
    versions: list[str]  # the folder's versions, then history rows without a file on any target
    names: dict[str, str]  # version -> name (the file's, or the recorded one)
    targets: list[TargetStatus]

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.CONNECT if any(not t.reachable for t in self.targets) else ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        reachable = [t for t in self.targets if t.reachable]
        return {
            "ok": self.exit_code == ExitCode.OK,
            "migrations": [{"version": v, "name": self.names.get(v, "")} for v in self.versions],
            "targets": [t.to_json() for t in self.targets],
            "summary": {"targets": len(self.targets), "unreachable": len(self.targets) - len(reachable),
                        "up_to_date": sum(1 for t in reachable if all(s == APPLIED for s in t.states.values())),
                        "failed": sum(1 for t in reachable if FAILED in t.states.values())},
        }


def read_target(target: Target, catalog: Catalog, environment: Environment, reach: Reach) -> TargetStatus:
    """One target's states, or its error: never raises for a target that cannot be read."""
    try:
        opened = open_target(target, environment, reach, probe=False)  # two reads: the history is the probe
    except Exception as exc:
        return TargetStatus(target, error=describe(exc))
    try:
        records, failed = failures.read_with_history(opened.conn)
    except Exception as exc:
        return TargetStatus(target, error=describe(exc))
    finally:
        opened.close()
    states: dict[str, str] = {}
    for state in history.states(catalog, records):
        value = {history.ADOPTED: APPLIED}.get(state.state, state.state)
        if value == PENDING and state.version in failed:
            value = FAILED
        states[state.version] = value
    return TargetStatus(target, states, {v: f for v, f in failed.items() if states.get(v) == FAILED})


def read(targets: list[Target], catalog: Catalog, environment: Environment, reach: Reach | None = None, *,
         parallel: int = 32, on_target: Callable[[TargetStatus], None] | None = None) -> FleetStatus:
    """Every target's status, ``parallel`` at a time; ``on_target`` hears each as it is read (from
    a worker thread)."""
    reach = reach or Reach()
    found: dict[str, TargetStatus] = {}
    lock = threading.Lock()

    def one(target: Target) -> None:
        status = read_target(target, catalog, environment, reach)
        with lock:
            found[target.name] = status
        if on_target is not None:
            on_target(status)

    if targets:
        with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(targets))),
                                thread_name_prefix="fleet-status") as pool:
            list(pool.map(one, targets))
    statuses = [found[t.name] for t in targets]
    versions = [m.version for m in catalog.migrations]
    names = {m.version: m.name for m in catalog.migrations}
    extra: dict[str, str] = {}
    for status in statuses:
        for version, state in status.states.items():
            if state == MISSING and version not in names:
                extra[version] = ""
    return FleetStatus(versions + sorted(extra), {**extra, **names}, statuses)
