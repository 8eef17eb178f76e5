"""Apply pending migrations: one transaction per migration, under an advisory lock.

The migrations travel to the server in pipeline mode (PostgreSQL's extended protocol): for each
migration ``BEGIN``, its statements one by one, the reset of any session setting the file made,
the history rows and ``COMMIT``, with the next migrations queued behind it, so the server never
waits for the client between statements or files, and each statement's result comes back as soon
as it is done (live progress). When a statement fails the server skips everything queued after it
until the pipeline's single synchronisation point, the later migrations included; the wizard then
rolls back, so the database is exactly as it was before that migration, and every migration before
it is committed with its history row. A killed client never commits a migration it was running
either: the server notices the dead connection within a second and rolls back.

A file whose first line is ``-- wizard:no-transaction`` runs statement by statement outside a
transaction (``CREATE INDEX CONCURRENTLY`` and the like); a failure there can leave the statements
before it applied, and the run says so.
"""

from __future__ import annotations

import re
import select
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import psycopg
from psycopg import pq
from psycopg.adapt import PyFormat, Transformer

from wizard.core import compat, history
from wizard.core.catalog import Catalog, Migration, Statement
from wizard.core.diagnosis import Diagnosis, ServerError, diagnose
from wizard.core.events import (
    AppliedMigration,
    Event,
    MigrationApplied,
    MigrationFailed,
    MigrationStarted,
    Notice,
    RunFinished,
    StatementDone,
)

# The advisory lock every migration-wizard run takes on the target database (an arbitrary constant,
# the same for every version of the tool).
LOCK_KEY = 7_240_515_902_117_312_001

_RESET_SESSION = "RESET ALL;\nRESET SESSION AUTHORIZATION;\n"
_OK = {pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK, pq.ExecStatus.EMPTY_QUERY}

_RECORD_QUERY = history.RECORD_QUERY.encode()

# Migrations queued on the server ahead of the one it runs: enough that it never waits for the
# client, few enough that a stop request leaves little already sent.
_WINDOW = 3
# How long the client lets results gather before reading them (seconds): results of quick
# statements then come in batches instead of one wake-up each.
_GATHER = 0.003
# How often a waiting client looks at a stop request (seconds).
_TICK = 0.1


class LockHeld(Exception):
    """Another run holds the migration lock on this database."""

    def __init__(self, waited: float, holder: str | None):
        self.waited = waited
        self.holder = holder
        super().__init__(f"another migration run holds the lock (waited {waited:g} s)")


class Interrupted(Exception):
    """The run was cancelled; the migration in progress was rolled back."""


@dataclass
class RunOptions:
    lock_timeout: float = 10.0  # seconds to wait for another run's lock
    statement_timeout: float | None = None  # seconds; the server's statement_timeout per statement
    table_lock_timeout: float | None = None  # seconds; the server's lock_timeout per statement
    compat: bool = True  # make a plain PostgreSQL Supabase-shaped first (compat.sql)
    method: str = "automated"


def _settings_sql(options: RunOptions, server_version: int, local: bool = False) -> str:
    """The session settings of a run; ``local`` makes them last one transaction (SET LOCAL)."""
    parts = []
    if server_version >= 140000 and not local:
        # A backend whose client died (killed, network gone) notices within a second and rolls
        # back, instead of holding its locks until the statement ends.
        parts.append("SET client_connection_check_interval = 1000;\n")
    if options.statement_timeout is not None:
        parts.append(f"SET {'LOCAL ' if local else ''}statement_timeout = {int(options.statement_timeout * 1000)};\n")
    if options.table_lock_timeout is not None:
        parts.append(f"SET {'LOCAL ' if local else ''}lock_timeout = {int(options.table_lock_timeout * 1000)};\n")
    return "".join(parts)


def _path_literals(stored: str) -> str:
    """A search_path as pg_db_role_setting stores it (``"$user", public``; an empty one is ``""``)
    as the string literals SET takes, so that an empty path or a quoted name stays what it was."""
    from psycopg import sql

    names = [n[1:-1].replace('""', '"') if n.startswith('"') else n
             for n in re.findall(r'"(?:[^"]|"")*"|[^,\s][^,]*?(?=\s*(?:,|$))', stored)]
    return ", ".join(sql.Literal(n).as_string(None) for n in names) or "''"


class Runner:
    """Applies the pending migrations of a catalog over one connection (autocommit mode)."""

    def __init__(
        self,
        conn: psycopg.Connection,
        catalog: Catalog,
        options: RunOptions | None = None,
        on_event: Callable[[Event], None] | None = None,
    ):
        if not catalog.ok:
            raise ValueError("the migration folder has problems; nothing may be applied")
        self.conn = conn
        self.catalog = catalog
        self.options = options or RunOptions()
        self._emit = on_event or (lambda event: None)
        self._settings = ""
        self._cancelled = False
        self.compat_created: list[str] = []  # what the compatibility step made in this run ("kind name")

    # -- the run ---------------------------------------------------------------------------------

    def run(self, only: Iterable[str] | None = None) -> RunFinished:
        """Apply every pending migration in order (or only the given versions), stopping at the
        first failure. Raises LockHeld when another run keeps the lock past the timeout."""
        self.conn.autocommit = True
        self._session_setup()
        try:
            self._acquire_lock()
        except Interrupted:
            return self._finish(RunFinished([], interrupted=True))
        try:
            if self.options.compat:
                created = self.compat_created = compat.ensure(self.conn)
                if created:
                    self._emit(Notice("Supabase compatibility step: created " + compat.summary(created)))
                    self._keep_database_search_path()
            history.ensure(self.conn)
            todo = pending(self.catalog, history.read(self.conn))
            if only is not None:
                wanted = set(only)
                todo = [m for m in todo if m.version in wanted]
            return self._finish(self._apply_all(todo))
        finally:
            self._release_lock()

    def _apply_all(self, todo: list[Migration]) -> RunFinished:
        """Consecutive transactional migrations go in one pipeline; a no-transaction file runs on
        its own, between them."""
        applied: list[AppliedMigration] = []
        start = 0
        while start < len(todo):
            if self._cancelled:
                return RunFinished(applied, interrupted=True)
            if todo[start].no_transaction:
                stopped = self._apply_one(todo[start], applied)
                start += 1
            else:
                end = start
                while end < len(todo) and not todo[end].no_transaction:
                    end += 1
                stopped = self._apply_pipelined(todo[start:end], applied)
                start = end
            if stopped is not None:
                return stopped
        return RunFinished(applied)

    def _apply_one(self, migration: Migration, applied: list[AppliedMigration]) -> RunFinished | None:
        """Apply one migration on its own; the end of the run when it did not apply."""
        try:
            outcome = self._apply(migration)
        except (KeyboardInterrupt, Interrupted):
            self._rollback_quietly()
            self._emit(Notice(f"Interrupted: {migration.filename} was rolled back."))
            return RunFinished(applied, interrupted=True)
        if isinstance(outcome, Diagnosis):
            self._emit(MigrationFailed(migration.version, migration.name, outcome))
            return RunFinished(applied, failed=outcome)
        applied.append(outcome)
        self._emit(MigrationApplied(migration.version, migration.name, outcome.duration_ms))
        return None

    def adopt(self, migrations: list[Migration], method: str = "adopted") -> list[AppliedMigration]:
        """Record migrations as applied without running them (their objects are already there,
        made by hand, or a person just ran them in the dashboard: method "manual"): one
        transaction for all, under the run lock."""
        self.conn.autocommit = True
        self._acquire_lock()
        try:
            history.ensure(self.conn)
            recorded = history.read(self.conn)
            todo = [m for m in migrations if m.version not in recorded]
            if not todo:
                return []
            query = "BEGIN;\n" + "".join(
                self._record_sql(m, [s.text for s in m.statements], method) + ";\n" for m in todo
            ) + "COMMIT;"
            self._run_script(query)
            return [AppliedMigration(m.version, m.name, 0) for m in todo]
        finally:
            self._release_lock()

    def _record_sql(self, migration: Migration, statements: list[str], method: str) -> str:
        return history.record_sql(migration, statements, method)

    def _execute(self, query: str) -> ServerError | None:
        """Run a query whose results do not matter; the server's error, if any."""
        return self._stream(query, lambda result: None)

    def _run_script(self, query: str) -> None:
        error = self._execute(query)
        if error is not None:
            self._rollback_quietly()
            raise psycopg.DatabaseError(f"recording the migrations failed: {error.message}")

    def _session_setup(self) -> None:
        self._settings = _settings_sql(self.options, self.conn.info.server_version)
        if self._settings:
            self.conn.execute(self._settings)

    def _keep_database_search_path(self) -> None:
        """The compatibility step put ``extensions`` on the database's search_path, which sessions
        opened before it do not see once they reset their settings (RESET ALL goes back to the
        values of the session's start): the resets between files restore the database's path, as
        a new session would have it."""
        row = self.conn.execute(
            "SELECT substr(s, length('search_path=') + 1) FROM pg_db_role_setting d, unnest(d.setconfig) s "
            "WHERE d.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND d.setrole = 0 AND s LIKE 'search_path=%'"
        ).fetchone()
        if row is not None and row[0]:
            self._settings += f"SET search_path = {_path_literals(row[0])};\n"

    def cancel(self) -> None:
        """Ask the run to stop (from another thread): the running migration is cancelled on the
        server and rolled back; nothing after it starts."""
        self._cancelled = True
        self._send_cancel()

    @property
    def stop_requested(self) -> bool:
        return self._cancelled

    def request_stop(self) -> None:
        """Ask the run to stop, from a signal handler: the run itself cancels the migration in
        progress within a tenth of a second."""
        self._cancelled = True

    def _send_cancel(self) -> None:
        try:
            self.conn.cancel_safe(timeout=5)
        except (psycopg.Error, OSError):
            pass

    def _finish(self, finished: RunFinished) -> RunFinished:
        self._emit(finished)
        return finished

    # -- the lock --------------------------------------------------------------------------------

    def _acquire_lock(self) -> None:
        started = time.monotonic()
        told = False
        while True:
            (got,) = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
            if got:
                return
            if self._cancelled:
                raise Interrupted()
            waited = time.monotonic() - started
            if waited >= self.options.lock_timeout:
                raise LockHeld(round(self.options.lock_timeout, 1), self._lock_holder())
            if not told:
                self._emit(
                    Notice(
                        "Another migration run holds the lock on this database; "
                        f"waiting up to {self.options.lock_timeout:g} s."
                    )
                )
                told = True
            time.sleep(min(0.2, self.options.lock_timeout - waited))

    def _lock_holder(self) -> str | None:
        row = self.conn.execute(
            """SELECT a.pid, a.application_name, a.client_addr::text, a.backend_start
                 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                WHERE l.locktype = 'advisory' AND l.granted
                  AND ((l.classid::bigint << 32) | l.objid::bigint) = %s""",
            (LOCK_KEY,),
        ).fetchone()
        if not row:
            return None
        pid, app, addr, started = row
        who = f"pid {pid}"
        if app:
            who += f" ({app})"
        if addr:
            who += f" from {addr}"
        return who + f", connected since {started:%H:%M:%S}"

    def _release_lock(self) -> None:
        try:
            if self.conn.closed:
                return
            if self.conn.info.transaction_status != pq.TransactionStatus.IDLE:
                self._rollback_quietly()
            self.conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        except psycopg.Error:
            pass  # the server releases a session lock when the connection ends

    # -- one migration ---------------------------------------------------------------------------

    def _apply(self, migration: Migration) -> AppliedMigration | Diagnosis:
        """One migration on its own (a no-transaction file, here)."""
        if migration.no_transaction:
            return self._apply_without_transaction(migration)
        applied: list[AppliedMigration] = []
        stopped = self._apply_pipelined([migration], applied)
        if stopped is None:
            return applied[0]
        if stopped.interrupted:
            raise Interrupted()
        return stopped.failed

    def _commands(self, migration: Migration, encoding: str) -> list[tuple[str, Statement | None, int, bytes, tuple]]:
        """What a migration sends, in order: (what, statement, its 1-based position among the
        statements that run, query, parameters)."""
        statements = migration.executable_statements
        commands: list[tuple[str, Statement | None, int, bytes, tuple]] = [("begin", None, 0, b"BEGIN", ())]
        commands += [("statement", s, i, s.text.encode(encoding), ()) for i, s in enumerate(statements, start=1)]
        if migration.changes_session:
            commands += [("reset", None, 0, q.encode(), ()) for q in self._reset_statements()]
        params = history.record_params(migration, [s.text for s in statements], self.options.method)
        commands.append(("record", None, 0, _RECORD_QUERY, params))
        commands.append(("commit", None, 0, b"COMMIT", ()))
        return commands

    def _reset_statements(self) -> list[str]:
        return [q for q in (_RESET_SESSION + self._settings).split(";\n") if q.strip()]

    def _apply_pipelined(self, batch: list[Migration], applied: list[AppliedMigration]) -> RunFinished | None:
        """Apply transactional migrations in order over one pipeline; the end of the run when one
        failed or the run was stopped, None when all of them were applied."""
        conn = self.conn
        pgconn = conn.pgconn
        fileno = pgconn.socket
        with conn.lock:
            pgconn.enter_pipeline_mode()
            try:
                pipeline = _Pipeline(self, batch, applied)
                first = batch[0]
                self._emit(MigrationStarted(first.version, first.name, len(first.executable_statements), True))
                cancel_sent_at = 0.0
                while True:
                    pipeline.send_more()
                    if self._cancelled and pipeline.error is None and time.monotonic() - cancel_sent_at > _TICK:
                        # a cancel that reaches the server between two statements is lost: repeat
                        # it until a statement reports it
                        self._send_cancel()
                        cancel_sent_at = time.monotonic()
                    more_to_send = pgconn.flush()
                    readable, _, _ = select.select([fileno], [fileno] if more_to_send else [], [], _TICK)
                    if not readable:
                        continue
                    if not more_to_send and pipeline.all_sent_that_may_be:
                        time.sleep(_GATHER)
                    pgconn.consume_input()
                    if pipeline.read_arrived():
                        break
            except BaseException:
                self._abandon_pipeline()
                raise
            pgconn.exit_pipeline_mode()
        if pgconn.status == pq.ConnStatus.BAD:
            raise psycopg.OperationalError("the connection to the server was lost")
        error = pipeline.error
        if error is None:
            if self._cancelled and pipeline.done < len(batch):
                return RunFinished(applied, interrupted=True)
            return None
        self._rollback_quietly()
        index, what, statement = pipeline.failed_at
        migration = batch[index]
        if self._cancelled and error.sqlstate == "57014":
            self._emit(Notice(f"Interrupted: {migration.filename} was rolled back."))
            return RunFinished(applied, interrupted=True)
        if what == "record":
            diagnosis = self._history_failure(migration, error)
        else:
            offset = None
            if statement is not None and error.position is not None and 0 < error.position <= len(statement.text):
                offset = statement.start + error.position - 1
            diagnosis = diagnose(migration, error, offset=offset, statement=statement)
        self._emit(MigrationFailed(migration.version, migration.name, diagnosis))
        return RunFinished(applied, failed=diagnosis)

    def _abandon_pipeline(self) -> None:
        """Leave pipeline mode after an exception (the connection lost, the process interrupted):
        cancel what runs, skip the rest and read what is left, so the connection can roll back."""
        pgconn = self.conn.pgconn
        try:
            if pgconn.status == pq.ConnStatus.BAD:
                return
            pgconn.get_cancel().cancel()
            pgconn.pipeline_sync()
            pgconn.nonblocking = 0
            try:
                while pgconn.flush():
                    pass
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:  # read every result still due, whatever it is
                    result = pgconn.get_result()
                    if result is None or result.status == pq.ExecStatus.PIPELINE_SYNC:
                        try:
                            pgconn.exit_pipeline_mode()
                            return
                        except psycopg.Error:
                            continue  # more results due
            finally:
                pgconn.nonblocking = 1
        except (psycopg.Error, OSError):
            pass

    def _apply_without_transaction(self, migration: Migration) -> AppliedMigration | Diagnosis:
        statements = migration.statements
        self._emit(MigrationStarted(migration.version, migration.name, len(statements), False))
        started = time.monotonic()
        for statement in statements:
            if self._cancelled:
                raise Interrupted()
            error = self._execute(statement.text)
            if error is not None:
                self._rollback_quietly()
                if self._cancelled and error.sqlstate == "57014":
                    raise Interrupted()
                offset = None
                if error.position is not None and 0 < error.position <= len(statement.text):
                    offset = statement.start + error.position - 1
                diagnosis = diagnose(migration, error, offset=offset, statement=statement)
                done = statement.index - 1
                note = (
                    f"{migration.filename} runs outside a transaction: "
                    + (f"its first {done} statement(s) stay applied. " if done else "nothing of it was applied. ")
                    + "Fix the file so that it can run again from the start (IF NOT EXISTS), then retry."
                )
                self._emit(Notice(note))
                return diagnosis
            self._emit(StatementDone(migration.version, statement.index, len(statements)))
        record = self._record_sql(migration, [s.text for s in statements], self.options.method)
        query = "BEGIN;\n" + _RESET_SESSION + self._settings + record + ";\nCOMMIT;"
        error = self._execute(query)
        if error is not None:
            self._rollback_quietly()
            return self._history_failure(migration, error)
        return AppliedMigration(migration.version, migration.name, int((time.monotonic() - started) * 1000))

    def _history_failure(self, migration: Migration, error: ServerError) -> Diagnosis:
        return Diagnosis(
            version=migration.version,
            name=migration.name,
            file=str(migration.path),
            sqlstate=error.sqlstate,
            message=f"recording the migration in {history.TABLE} failed: {error.message}",
            detail=error.detail,
            hint=error.hint,
        )

    # -- the wire --------------------------------------------------------------------------------

    def _stream(self, query: str, on_result: Callable[[pq.abc.PGresult], None]) -> ServerError | None:
        """Send a simple-protocol query and hand each statement's result over as it arrives.
        Returns the server's error, if a statement failed."""
        conn = self.conn
        pgconn = conn.pgconn
        encoding = conn.info.encoding
        error: ServerError | None = None
        with conn.lock:
            pgconn.send_query(query.encode(encoding))
            fileno = pgconn.socket
            while pgconn.flush():
                readable, _, _ = select.select([fileno], [fileno], [])
                if readable:
                    pgconn.consume_input()
            cancel_sent = False
            while True:
                try:
                    while pgconn.is_busy():
                        readable, _, _ = select.select([fileno], [], [], _TICK)
                        if self._cancelled and not cancel_sent:
                            self._send_cancel()
                            cancel_sent = True
                        if readable:
                            pgconn.consume_input()
                except BaseException:
                    # Interrupted while the server works: cancel the query and read what is left,
                    # so that the connection can still roll back.
                    self._cancel_and_drain()
                    raise
                result = pgconn.get_result()
                if result is None:
                    break
                status = result.status
                if status == pq.ExecStatus.FATAL_ERROR:
                    if error is None:
                        error = ServerError.from_result(result, encoding)
                elif status == pq.ExecStatus.COPY_IN:
                    pgconn.put_copy_end(b"COPY FROM STDIN needs psql; load the data another way")
                elif status == pq.ExecStatus.COPY_OUT:
                    while pgconn.get_copy_data(0)[0] > 0:
                        pass
                elif status in _OK and error is None:
                    on_result(result)
        if pgconn.status == pq.ConnStatus.BAD:
            raise psycopg.OperationalError("the connection to the server was lost")
        return error

    def _cancel_and_drain(self) -> None:
        pgconn = self.conn.pgconn
        try:
            pgconn.get_cancel().cancel()
            pgconn.nonblocking = 0
            while pgconn.get_result() is not None:
                pass
            pgconn.nonblocking = 1
        except (psycopg.Error, OSError):
            pass

    def _rollback_quietly(self) -> None:
        try:
            if self.conn.info.transaction_status != pq.TransactionStatus.IDLE:
                self._stream("ROLLBACK", lambda result: None)
        except psycopg.Error:
            pass


class _Pipeline:
    """One pipeline of transactional migrations: what was sent, and what came back.

    Each migration sends BEGIN, its statements, the session reset when the file changed a
    setting, the history row and COMMIT; a flush request after each statement and after COMMIT
    makes the server send those results at once (live progress). One synchronisation point ends the
    pipeline: after an error, the server skips everything up to it."""

    def __init__(self, runner: Runner, batch: list[Migration], applied: list[AppliedMigration]):
        self.runner = runner
        self.batch = batch
        self.applied = applied
        self.pgconn = runner.conn.pgconn
        self.encoding = runner.conn.info.encoding
        self.dumper = Transformer(runner.conn)
        # sent, result not read yet: (migration index, what, statement, position among those that run)
        self.waiting: deque[tuple[int, str, Statement | None, int]] = deque()
        self.sent = 0  # migrations sent
        self.done = 0  # migrations committed
        self.synced = False
        self.error: ServerError | None = None
        self.failed_at: tuple[int, str, Statement | None] | None = None
        self.duration_ms = 0  # the server's time for the last migration recorded

    @property
    def all_sent_that_may_be(self) -> bool:
        return self.sent - self.done >= min(_WINDOW, len(self.batch) - self.done)

    def send_more(self) -> None:
        """Queue migrations up to the window; the synchronisation point after the last one, or as
        soon as the run must stop."""
        stopping = self.runner.stop_requested or self.error is not None
        while not stopping and self.sent < len(self.batch) and self.sent - self.done < _WINDOW:
            self._send(self.sent)
            self.sent += 1
        if not self.synced and (stopping or self.sent == len(self.batch)):
            self.pgconn.pipeline_sync()
            self.waiting.append((-1, "sync", None, 0))
            self.synced = True

    def _send(self, index: int) -> None:
        pgconn = self.pgconn
        for what, statement, position, query, params in self.runner._commands(self.batch[index], self.encoding):
            self.waiting.append((index, what, statement, position))
            if params:
                values = self.dumper.dump_sequence(params, [PyFormat.TEXT] * len(params))
                pgconn.send_query_params(
                    query, values, param_types=self.dumper.types, param_formats=self.dumper.formats
                )
            else:
                pgconn.send_query_params(query, None)
            if what in ("statement", "commit"):
                pgconn.send_flush_request()

    def read_arrived(self) -> bool:
        """Handle the results that have arrived; True once the synchronisation point's has."""
        pgconn = self.pgconn
        between = False  # a command's results were read; the next one's may not be there yet
        while not pgconn.is_busy():
            result = pgconn.get_result()
            if result is None:
                if between or not self.waiting:
                    return False
                between = True
                continue
            between = False
            index, what, statement, position = self.waiting.popleft()
            status = result.status
            if status == pq.ExecStatus.PIPELINE_SYNC:
                return True
            if status == pq.ExecStatus.FATAL_ERROR:
                if self.error is None:
                    self.error = ServerError.from_result(result, self.encoding)
                    self.failed_at = (index, what, statement)
            elif status in _OK and self.error is None:  # anything else was skipped after an error
                self._done(index, what, position, result)
        return False

    def _done(self, index: int, what: str, position: int, result: pq.abc.PGresult) -> None:
        runner, migration = self.runner, self.batch[index]
        if what == "statement":
            runner._emit(StatementDone(migration.version, position, len(migration.executable_statements)))
        elif what == "record":
            self.duration_ms = int(result.get_value(0, 0) or 0)
        elif what == "commit":
            outcome = AppliedMigration(migration.version, migration.name, self.duration_ms)
            self.applied.append(outcome)
            self.done += 1
            runner._emit(MigrationApplied(migration.version, migration.name, outcome.duration_ms))
            if self.done < len(self.batch) and not runner.stop_requested:
                following = self.batch[self.done]
                runner._emit(MigrationStarted(following.version, following.name,
                                              len(following.executable_statements), True))


def runner_for(conn) -> type[Runner]:
    """The runner that drives this connection: over HTTPS, the Management API's."""
    if getattr(conn, "stateless", False):
        from wizard.core.https import ApiRunner

        return ApiRunner
    return Runner


def pending(catalog: Catalog, records: dict[str, history.Record]) -> list[Migration]:
    return [m for m in catalog.migrations if m.version not in records]
