"""How a command ends: its exit codes, and ``Stop``, which ends it with a message instead of a
traceback."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1  # a migration (or a check) failed
    USAGE = 2  # bad flag, bad migration folder, bad configuration
    CONNECT = 3  # cannot connect
    LOCKED = 4  # another run holds the lock
    INTERRUPTED = 130


class Stop(Exception):
    """Ends a command with a message and an exit code (never a traceback)."""

    def __init__(self, code: ExitCode, message: str, kind: str = "error"):
        super().__init__(message)
        self.code = code
        self.message = message
        self.kind = kind
