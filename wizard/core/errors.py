"""One error model for the engine: every error the engine raises on purpose derives from
``WizardError``, which carries what a front end needs to end a step or a command well: a kind (a
short stable name), the exit code of the headless command, and the advice entry that explains it.

Exit codes are the engine's, so that the command line and the wizard agree on what an outcome is.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1  # a migration (or a check) failed
    USAGE = 2  # bad flag, bad migration folder, bad configuration
    CONNECT = 3  # cannot connect
    LOCKED = 4  # another run holds the lock
    INTERRUPTED = 130


class WizardError(Exception):
    """An error of the engine's own: a message for people, a kind, an exit code, an advice key.

    Subclasses set the class attributes ``kind`` and ``exit_code`` (or pass them) and may name the
    advice entry (``advice_key``: section and key of advice.toml) that explains the error."""

    kind: str = "error"
    exit_code: ExitCode = ExitCode.USAGE
    advice_key: tuple[str, str] | None = None

    def __init__(
        self,
        message: str,
        *,
        kind: str | None = None,
        exit_code: ExitCode | None = None,
        advice_key: tuple[str, str] | None = None,
        details: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        if kind is not None:
            self.kind = kind
        if exit_code is not None:
            self.exit_code = exit_code
        if advice_key is not None:
            self.advice_key = advice_key
        self.details = details
