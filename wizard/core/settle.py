"""Settle before speaking: when a migration's outcome is unknown (its COMMIT, or its request, went
out and no answer came back), the runner reaches the database again, with bounded retries and a
pause between them that it announces, and reads the history before it does or says anything else.

What it then tells is the truth: the migration was applied (its reply was lost), or it was not; or,
when the database cannot be reached at all, that its outcome is unknown and the next run finds out
(``OutcomeUnknown``, exit 3). A migration is never run twice, and never reported failed when it
committed."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from wizard.core.catalog import Migration
from wizard.core.errors import ExitCode, WizardError
from wizard.core.events import Event, Notice

# Seconds to wait before each new attempt to reach the database (after a first one at once): about
# a quarter of a minute in all, enough for a dropped connection or a restarting pooler.
DELAYS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0)

T = TypeVar("T")


class Unreachable(Exception):
    """The database could not be reached (raised by an attempt; the message says why, without secrets)."""


class OutcomeUnknown(WizardError):
    """Migrations may or may not have committed, and the database cannot be reached to find out."""

    kind = "outcome-unknown"
    exit_code = ExitCode.CONNECT
    advice_key = ("connection", "outcome-unknown")

    def __init__(self, migrations: Sequence[Migration], reason: str) -> None:
        names = ", ".join(m.filename for m in migrations)
        verb, its = ("is", "its answer was") if len(migrations) == 1 else ("are", "their answers were")
        super().__init__(
            f"the outcome of {names} {verb} unknown: {its} lost and the database cannot be reached "
            f"({reason}); the next run finds out: run 'migration-wizard status' or apply again once the database "
            "answers (nothing is applied twice)"
        )
        self.versions = tuple(m.version for m in migrations)


def reach(attempt: Callable[[], T], emit: Callable[[Event], None], delays: Sequence[float] = DELAYS) -> T:
    """The result of ``attempt``, tried at once and again after each delay while it raises
    ``Unreachable``; each wait is announced. Raises ``Unreachable`` (the last reason) when every
    attempt failed."""
    reason = ""
    tries = len(delays) + 1
    for number, delay in enumerate((0.0, *delays), start=1):
        if delay:
            emit(Notice(f"The database cannot be reached ({reason}): trying again in {delay:g} s "
                        f"(attempt {number} of {tries})."))
            time.sleep(delay)
        try:
            return attempt()
        except Unreachable as exc:
            reason = str(exc) or "no answer"
    raise Unreachable(reason)
