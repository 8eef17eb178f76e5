"""``local``: the local embedded PostgreSQL, started, asked for its URL, or stopped.

Each returns a :class:`LocalReport`; starting raises ``LocalError`` (the server would not start) or
OSError (its directory cannot be used), as ``LocalServer.start`` does.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wizard.core.local import LocalServer, default_dir


class State(enum.Enum):
    RUNNING = "running"
    STOPPED = "stopped"  # initialized, not running
    ABSENT = "absent"  # no local database in that directory


@dataclass(frozen=True)
class LocalReport:
    directory: Path
    state: State
    url: str | None = None  # while running
    stopped: bool = False  # this call stopped it

    def to_json(self) -> dict[str, Any]:
        if self.url is not None:
            return {"url": self.url, "directory": str(self.directory)}
        return {"stopped": self.stopped, "directory": str(self.directory)}


def server(directory: Path | None = None) -> LocalServer:
    """The local database in ``directory`` (default: the wizard's own)."""
    return LocalServer((directory or default_dir()).expanduser().resolve())


def start(directory: Path | None = None) -> LocalReport:
    found = server(directory)
    url = found.start()
    return LocalReport(found.directory, State.RUNNING, url)


def look(directory: Path | None = None) -> LocalReport:
    """Whether it is there and running, and its URL when it runs. Starts nothing."""
    found = server(directory)
    if not found.initialized():
        return LocalReport(found.directory, State.ABSENT)
    if not found.running():
        return LocalReport(found.directory, State.STOPPED)
    return LocalReport(found.directory, State.RUNNING, found.url())


def stop(directory: Path | None = None) -> LocalReport:
    found = server(directory)
    stopped = found.stop() if found.initialized() else False
    return LocalReport(found.directory, State.STOPPED if found.initialized() else State.ABSENT, stopped=stopped)
