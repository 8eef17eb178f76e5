"""A lock another session holds, that a migration waited for: the relation and the sessions that
hold it (pid, application, state, how long in a transaction; never their query text), as found
from the side while the migration waits (``pg_blocking_pids`` of its backend)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# The sessions blocking the backends of ``{waiting}`` (a query of one column, their pids), with the
# relation each waiting backend waits for: its lock not granted yet, or, waiting on a row, the
# relation of the row's tuple lock it holds meanwhile.
BLOCKERS_QUERY = """
SELECT (SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
          FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE l.pid = w.pid AND (NOT l.granted OR l.locktype = 'tuple')
         ORDER BY l.granted LIMIT 1) AS relation,
       a.pid, a.application_name, a.state,
       extract(epoch FROM clock_timestamp() - a.xact_start)::float8 AS in_transaction
  FROM ({waiting}) AS w (pid)
  JOIN pg_stat_activity a ON a.pid = ANY (pg_blocking_pids(w.pid))
 ORDER BY a.xact_start NULLS LAST, a.pid
"""


@dataclass(frozen=True)
class Blocker:
    """A session that holds a lock a migration waits for."""

    pid: int
    application: str | None
    state: str | None  # "idle in transaction", "active"... (None when the server hides it)
    in_transaction: float | None  # seconds since its transaction began

    def describe(self) -> str:
        text = f"pid {self.pid}"
        if self.application:
            text += f", application '{self.application}'"
        if self.state:
            text += f", {self.state}"
        if self.in_transaction is not None:
            text += f", {self.in_transaction:.0f} s in a transaction"
        return text

    def to_json(self) -> dict[str, object]:
        return {"pid": self.pid, "application": self.application, "state": self.state,
                "in_transaction_s": None if self.in_transaction is None else round(self.in_transaction, 1)}


@dataclass(frozen=True)
class LockWait:
    """What a migration waited for, and (once it gave up) for how long and how many times."""

    relation: str | None
    blockers: tuple[Blocker, ...] = ()
    timeout: float | None = None  # seconds each attempt waited
    attempts: int = 0  # attempts that gave up waiting

    @property
    def key(self) -> tuple[str | None, tuple[int, ...]]:
        """What tells one wait from another (not the durations, which grow)."""
        return self.relation, tuple(b.pid for b in self.blockers)

    def what(self) -> str:
        """'a lock on public.users held by pid 4242, application 'backend', ...'"""
        text = f"a lock on {self.relation}" if self.relation else "a lock"
        if self.blockers:
            text += " held by " + "; ".join(b.describe() for b in self.blockers)
        return text

    def to_json(self) -> dict[str, object]:
        return {"relation": self.relation, "blockers": [b.to_json() for b in self.blockers],
                "timeout_s": self.timeout, "attempts": self.attempts}


def from_rows(rows: Sequence[Sequence[Any]]) -> LockWait | None:
    """The wait that ``BLOCKERS_QUERY`` found (None when nothing blocks the migration)."""
    if not rows:
        return None
    relation = next((str(r[0]) for r in rows if r[0]), None)
    blockers = tuple(Blocker(int(r[1]), r[2] or None, r[3] or None, None if r[4] is None else float(r[4]))
                     for r in rows)
    return LockWait(relation, blockers)


def notes(wait: LockWait, filename: str) -> list[str]:
    """What the advice for a lock timeout says of this very wait."""
    tried = ""
    if wait.timeout is not None and wait.attempts:
        tried = f" ({wait.attempts} attempt{'s' if wait.attempts != 1 else ''} of {wait.timeout:g} s each)"
    if not wait.blockers:
        return [f"{filename} waited for {wait.what()}{tried}; the session holding it was not seen (it ended "
                "meanwhile, or this user may not see other sessions)."]
    said = [f"{filename} waited for {wait.what()}{tried}."]
    for blocker in wait.blockers:
        said.append(f"To end pid {blocker.pid}'s session (its open transaction rolls back: make sure it is not "
                    f"work that must be kept): `SELECT pg_terminate_backend({blocker.pid});`")
    return said

