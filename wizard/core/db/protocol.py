"""What the engine needs from a database, whichever way it is reached.

Two executors answer it: ``direct`` (a psycopg connection: a session, whose settings and locks last
between calls, and whose migrations travel in libpq's pipeline) and ``https`` (the Supabase
Management API: every request is a transaction of its own). Neither imitates the other; the engine
asks the ``session`` capability where their behaviour differs.

SQL errors raise psycopg's error classes (``psycopg.Error`` and its SQLSTATE subclasses) on both,
since both speak PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

if TYPE_CHECKING:
    from psycopg import sql

    from wizard.core.diagnosis import ServerError

# The advisory lock every migration-wizard run takes on the target database (an arbitrary constant,
# the same for every version of the tool; the manual path's pastes take it too).
LOCK_KEY = 7_240_515_902_117_312_001

Row: TypeAlias = tuple[Any, ...]
Query: TypeAlias = "str | sql.SQL | sql.Composed"
Params: TypeAlias = "Sequence[Any] | Mapping[str, Any] | None"


class Database(Protocol):
    """A database the engine reads, checks and migrates."""

    # True when the connection is a session: settings, session locks and transactions last across
    # calls (a psycopg connection). False when each call stands alone (the Management API).
    session: bool

    @property
    def server_version(self) -> int:
        """The server's version number (150004 for 15.4); 0 when not known yet."""
        ...

    @property
    def encoding(self) -> str:
        """The client encoding text travels in (a Python codec name)."""
        ...

    def query(self, query: Query, params: Params = None) -> list[Row]:
        """Run a query (several statements when there are no parameters) and return the rows of
        its last result; none for a statement without rows."""
        ...

    def transaction(self, script: str) -> None:
        """Run statements as one transaction: all of them commit, or none."""
        ...

    def rolled_back(self, query: Query, params: Params = None, *, before: Sequence[Query] = (),
                    read_only: bool = False) -> list[Row]:
        """Run ``before`` then ``query`` in one transaction that is rolled back whatever happens
        (read-only when asked); the rows of ``query``."""
        ...

    def execute(self, script: str) -> ServerError | None:
        """Run a script of statements as the server runs a query string (a failure stops it);
        the server's error instead of raising. A transaction the script opened and did not end
        is the caller's to ``rollback``."""
        ...

    def rollback(self) -> None:
        """Roll back what a failed ``execute`` left open, if anything; never raises."""
        ...

    def try_lock(self) -> bool:
        """Take the run lock, the one every migration run of this tool takes on this database,
        without waiting; False when another run holds it."""
        ...

    def lock_holder(self) -> str | None:
        """Who holds the run lock, for people (process, machine, since when); None if unknown."""
        ...

    def unlock(self) -> None:
        """Release the run lock taken by ``try_lock`` (nothing when it is not held)."""
        ...

    def cancel(self) -> None:
        """Ask the server to stop the statement in progress (from another thread)."""
        ...

    def close(self) -> None:
        ...
