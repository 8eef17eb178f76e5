"""The direct executor: a psycopg connection, a session of its own.

The run lock is a session-level advisory lock; migrations travel in libpq's pipeline (``wire``)."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg import pq

from wizard.core.db import wire
from wizard.core.db.bound import bind, take, text_of
from wizard.core.db.protocol import LOCK_KEY, Params, Query, Row
from wizard.core.diagnosis import ServerError

# Who holds the run lock (session or transaction level), by its key
HOLDER_QUERY = """SELECT a.pid, a.application_name, a.client_addr::text, a.backend_start
               FROM pg_locks l JOIN pg_stat_activity a USING (pid)
              WHERE l.locktype = 'advisory' AND l.granted
                AND ((l.classid::bigint << 32) | l.objid::bigint) = %s"""


# Answers read ahead (``batch.prefetch``) for each connection, whichever DirectDatabase wraps it:
# when, and the rows; each given once, while fresh. Anything but a read asked through the
# DirectDatabase drops them (a write may make them stale).
_READ_AHEAD: weakref.WeakKeyDictionary[psycopg.Connection[Any], dict[str, tuple[float, list[Row]]]] = (
    weakref.WeakKeyDictionary())


def holder_text(row: Row) -> str:
    """A row of ``HOLDER_QUERY``, for people."""
    pid, app, addr, started = row
    who = f"pid {pid}"
    if app:
        who += f" ({app})"
    if addr:
        who += f" from {addr}"
    return who + f", connected since {started:%H:%M:%S}"


class DirectDatabase:
    """A PostgreSQL database over a psycopg connection (which it does not own: ``close`` closes it
    all the same, as the connection's user asked)."""

    session = True

    def __init__(self, conn: psycopg.Connection[Any],
                 reopen: Callable[[], psycopg.Connection[Any]] | None = None):
        self.conn = conn
        self.stopping: Callable[[], bool] = lambda: False  # set by a run: cancel what streams once True
        self._reopen = reopen  # how to open the same session again (see ``keep_reopenable``)
        self._backend_pid = 0

    def __repr__(self) -> str:
        return f"DirectDatabase({self.conn.info.host!r}, {self.conn.info.dbname!r})"

    @property
    def server_version(self) -> int:
        return self.conn.info.server_version

    @property
    def encoding(self) -> str:
        return self.conn.info.encoding

    # -- queries -----------------------------------------------------------------------------------

    def query(self, query: Query, params: Params = None) -> list[Row]:
        kept = self._kept(query, params)
        if kept is not None:
            return kept
        cursor = self.conn.execute(query, params)
        return cursor.fetchall() if cursor.description is not None else []

    def transaction(self, script: str) -> None:
        """The script in one transaction; between transactions in autocommit mode, sent with its
        BEGIN and COMMIT as one query (one round trip: a statement that fails skips the rest, and
        the transaction is rolled back)."""
        self._drop()
        conn = self.conn
        if not conn.autocommit or conn.info.transaction_status != pq.TransactionStatus.IDLE:
            with conn.transaction():
                conn.execute(script)
            return
        try:
            conn.execute(f"BEGIN;\n{script}\n;\nCOMMIT")
        except BaseException:
            if conn.info.transaction_status != pq.TransactionStatus.IDLE:
                self.rollback()
            raise

    def rolled_back(self, query: Query, params: Params = None, *, before: Sequence[Query] = (),
                    read_only: bool = False) -> list[Row]:
        """The query's rows in a transaction rolled back (nothing of it stays: what was read ahead
        stays true); read ahead, when nothing runs before it."""
        kept = None if before else self._kept(query, params)
        if kept is not None:
            return kept
        with self.conn.transaction(force_rollback=True):
            if read_only:
                self.conn.execute("SET TRANSACTION READ ONLY")
            for statement in before:
                self.conn.execute(statement)
            return self.query(query, params)

    def execute(self, script: str) -> ServerError | None:
        """Run a script of statements (the simple protocol), reading results as they come; the
        server's error when a statement failed (the transaction it opened stays open: ``rollback``)."""
        self._drop()
        return wire.stream(self.conn, script, self.stopping)

    def rollback(self) -> None:
        """Roll back the transaction a failed script left open, if any; quietly."""
        self._drop()
        try:
            if self.conn.info.transaction_status != pq.TransactionStatus.IDLE:
                wire.stream(self.conn, "ROLLBACK", self.stopping)
        except psycopg.Error:
            pass  # the connection is gone: the server rolled back

    def autocommit(self) -> None:
        """Each statement outside BEGIN ... COMMIT commits on its own (what the runner needs)."""
        self.conn.autocommit = True

    def pipeline(self, count: int, listener: wire.PipelineListener) -> wire.PipelineResult:
        """Migrations over libpq's pipeline: see ``wire.run_pipeline``."""
        self._drop()
        return wire.run_pipeline(self.conn, count, listener, self.stopping)

    # -- reads ahead, in one round trip --------------------------------------------------------------

    @property
    def prefetched(self) -> dict[str, tuple[float, list[Row]]]:
        return _READ_AHEAD.setdefault(self.conn, {})

    def read_ahead(self, reads: Sequence[tuple[Query, Params]]) -> list[list[Row]]:
        """The rows of each read, all sent in one pipeline (one round trip) inside a read-only
        transaction that is rolled back. Only between transactions in autocommit mode (where a
        read cannot disturb the caller's transaction): raises RuntimeError otherwise, and the
        read's error when one fails (nothing stays open either way)."""
        conn = self.conn
        if not conn.autocommit or conn.info.transaction_status != pq.TransactionStatus.IDLE:
            raise RuntimeError("reads go ahead only between transactions")
        try:
            with conn.pipeline():
                conn.execute("BEGIN READ ONLY")
                cursors = [conn.execute(query, params) for query, params in reads]
                conn.execute("ROLLBACK")
            return [c.fetchall() if c.description is not None else [] for c in cursors]
        finally:
            if conn.info.transaction_status != pq.TransactionStatus.IDLE:
                self.rollback()

    def _kept(self, query: Query, params: Params) -> list[Row] | None:
        """The answer read ahead for this query, once, while fresh."""
        waiting = _READ_AHEAD.get(self.conn)
        if not waiting:
            return None
        try:
            text = bind(text_of(query), params)
        except Exception:  # noqa: BLE001 - a value with no literal form: not one read ahead
            return None
        return take(waiting, text)

    def _drop(self) -> None:
        _READ_AHEAD.pop(self.conn, None)

    # -- the run lock ------------------------------------------------------------------------------

    def try_lock(self) -> bool:
        self._drop()
        row = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
        return bool(row and row[0])

    def lock_holder(self) -> str | None:
        row = self.conn.execute(HOLDER_QUERY, (LOCK_KEY,)).fetchone()
        return holder_text(row) if row else None

    def unlock(self) -> None:
        self._drop()
        try:
            if self.conn.closed:
                return
            self.rollback()
            self.conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        except psycopg.Error:
            pass  # the server releases a session lock when the connection ends

    # -- the connection ----------------------------------------------------------------------------

    def keep_reopenable(self) -> None:
        """Remember how to open this session again should it be lost (the connection's own
        parameters, its password included, kept in memory only), and which backend serves it."""
        self._backend_pid = self.conn.info.backend_pid
        if self._reopen is None:
            self._reopen = _reopener(self.conn)

    def reopen(self) -> int:
        """A new connection in place of a lost one, with the same parameters (autocommit); the
        backend pid of the lost one. Raises psycopg.OperationalError when it cannot connect."""
        if self._reopen is None:
            raise psycopg.OperationalError("the connection was lost, and this one cannot be opened again")
        lost = self._backend_pid
        self._drop()
        conn = self._reopen()
        try:
            self.conn.close()
        except psycopg.Error:
            pass  # it is gone already
        self.conn = conn
        self._backend_pid = conn.info.backend_pid
        return lost

    def wait_gone(self, pid: int, timeout: float = 30) -> bool:
        """End the backend of a lost session if it still runs (what it had not committed rolls
        back; what it committed stays) and wait until it is gone; False when it outlived the
        timeout. Until then, it could still commit what it had received."""
        if not pid:
            return True
        # the lost session's backend, recognised as this run's (through a pooler, the pid the client
        # saw may not be a backend's: nothing else is touched)
        lost = ("FROM pg_stat_activity WHERE pid = %s AND pid <> pg_backend_pid() AND usename = current_user "
                "AND application_name = current_setting('application_name') "
                "AND backend_start < (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid())")
        try:
            self.query("SELECT pg_terminate_backend(pid) " + lost, (pid,))
        except psycopg.errors.InsufficientPrivilege:
            pass  # it ends on its own: the server notices a lost client within a second
        deadline = time.monotonic() + timeout
        while self.query("SELECT 1 " + lost, (pid,)):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def cancel(self) -> None:
        wire.send_cancel(self.conn)

    def close(self) -> None:
        self.conn.close()


def _reopener(conn: psycopg.Connection[Any]) -> Callable[[], psycopg.Connection[Any]]:
    """Open a connection like ``conn``: its parameters (libpq leaves the password out of them, so
    it is passed on its own), autocommit, the same prepared-statement policy."""
    dsn = conn.info.dsn
    password = conn.info.password
    threshold = conn.prepare_threshold
    extra: dict[str, Any] = {"password": password} if password else {}
    if "connect_timeout" not in conn.info.get_parameters():
        extra["connect_timeout"] = 10  # a lost host must not hang the run

    def reopen() -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(dsn, autocommit=True, prepare_threshold=threshold, **extra)
        except psycopg.OperationalError as exc:
            message = str(exc)
            if password:
                message = message.replace(password, "****")
            raise psycopg.OperationalError(message) from None

    return reopen
