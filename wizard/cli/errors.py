"""How a command ends: its exit codes, and ``Stop``, which ends it with a message instead of a
traceback."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wizard.core.errors import ExitCode, WizardError

if TYPE_CHECKING:
    from wizard.core.describe import Description

__all__ = ["ExitCode", "Stop"]


class Stop(WizardError):
    """Ends a command with a message and an exit code (never a traceback): an error of the command
    line's own (a flag, a confirmation), or an engine error described for the command line."""

    def __init__(self, code: ExitCode, message: str, kind: str = "error"):
        super().__init__(message, kind=kind, exit_code=code)

    @classmethod
    def of(cls, description: Description) -> Stop:
        """The end of a command as ``describe`` tells it: its sentence, kind and exit code."""
        return cls(description.exit_code, description.line, description.kind)

    @property
    def code(self) -> ExitCode:
        return self.exit_code
