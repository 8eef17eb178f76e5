"""How a command ends: its exit codes, and ``Stop``, which ends it with a message instead of a
traceback."""

from __future__ import annotations

from wizard.core.errors import ExitCode

__all__ = ["ExitCode", "Stop"]


class Stop(Exception):
    """Ends a command with a message and an exit code (never a traceback)."""

    def __init__(self, code: ExitCode, message: str, kind: str = "error"):
        super().__init__(message)
        self.code = code
        self.message = message
        self.kind = kind
