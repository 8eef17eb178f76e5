"""libpq driven by hand, for the direct executor: a simple-protocol script whose results are read
as they arrive, and a pipeline of migrations (PostgreSQL's extended protocol) that the server runs
without waiting for the client between statements or files.

Nothing here knows migration rules: the runner says what to send (``Command``) and hears what came
back (``PipelineListener``)."""

from __future__ import annotations

import enum
import select
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from psycopg import pq
from psycopg.adapt import PyFormat, Transformer

from wizard.core.catalog import Statement
from wizard.core.diagnosis import ServerError

_OK = {pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK, pq.ExecStatus.EMPTY_QUERY}

# Migrations queued on the server ahead of the one it runs: enough that it never waits for the
# client, few enough that a stop request leaves little already sent.
WINDOW = 3
# How long the client lets results gather before reading them (seconds): results of quick
# statements then come in batches instead of one wake-up each.
_GATHER = 0.003
# How often a waiting client looks at a stop request (seconds).
TICK = 0.1


class Step(enum.Enum):
    """What a command of a migration is, in the order they are sent."""

    BEGIN = "begin"
    STATEMENT = "statement"
    RESET = "reset"
    RECORD = "record"
    COMMIT = "commit"


@dataclass(slots=True)  # thousands per run, made on the hot path: not frozen, which costs thrice the time
class Command:
    """One query of a migration in the pipeline."""

    step: Step
    query: bytes
    params: tuple[Any, ...] = ()
    statement: Statement | None = None
    position: int = 0  # 1-based position among the statements that run (a STATEMENT's)


@dataclass(frozen=True)
class Failure:
    """Where a pipeline stopped: the migration (its index in the batch), the command, the error."""

    index: int
    step: Step
    statement: Statement | None
    error: ServerError


@dataclass(frozen=True)
class Lost:
    """The connection was lost before the pipeline's end: the error, and the migrations (their
    indices in the batch) whose COMMIT was sent and not acknowledged: each may have committed."""

    error: psycopg.OperationalError
    in_doubt: tuple[int, ...]


@dataclass(frozen=True)
class PipelineResult:
    done: int  # migrations committed
    failure: Failure | None
    lost: Lost | None = None


class PipelineListener(Protocol):
    def commands(self, index: int, encoding: str) -> Sequence[Command]:
        """What the migration at this index of the batch sends, in order."""
        ...

    def statement_done(self, index: int, position: int) -> None: ...

    def committed(self, index: int, duration_ms: int) -> None:
        """The migration committed; ``duration_ms`` is what its RECORD command returned."""
        ...


def _lost(pgconn: pq.abc.PGconn) -> None:
    if pgconn.status == pq.ConnStatus.BAD:
        raise psycopg.OperationalError("the connection to the server was lost")


def send_cancel(conn: psycopg.Connection[Any]) -> None:
    try:
        conn.cancel_safe(timeout=5)
    except (psycopg.Error, OSError):
        pass  # a cancel is a request: the server may have finished already, or be gone


def stream(conn: psycopg.Connection[Any], query: str, stopping: Callable[[], bool],
           on_result: Callable[[pq.abc.PGresult], None] | None = None) -> ServerError | None:
    """Send a simple-protocol query and hand each statement's result over as it arrives.
    Returns the server's error, if a statement failed. Cancels on the server once ``stopping``."""
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
                    readable, _, _ = select.select([fileno], [], [], TICK)
                    if not cancel_sent and stopping():
                        send_cancel(conn)
                        cancel_sent = True
                    if readable:
                        pgconn.consume_input()
            except BaseException:
                # Interrupted while the server works: cancel the query and read what is left,
                # so that the connection can still roll back.
                _cancel_and_drain(pgconn)
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
            elif status in _OK and error is None and on_result is not None:
                on_result(result)
    _lost(pgconn)
    return error


def _cancel_and_drain(pgconn: pq.abc.PGconn) -> None:
    try:
        pgconn.get_cancel().cancel()
        pgconn.nonblocking = 0
        while pgconn.get_result() is not None:
            pass
        pgconn.nonblocking = 1
    except (psycopg.Error, OSError):
        pass  # the connection is gone: nothing is left to read


def run_pipeline(conn: psycopg.Connection[Any], count: int, listener: PipelineListener,
                 stopping: Callable[[], bool]) -> PipelineResult:
    """Send ``count`` migrations over one pipeline (their commands from the listener) and read
    their results as they come; stops at the first error, or when ``stopping`` says so (the
    migration in progress is then cancelled on the server)."""
    pgconn = conn.pgconn
    fileno = pgconn.socket
    with conn.lock:
        pgconn.enter_pipeline_mode()
        pipeline = _Pipeline(conn, count, listener, stopping)
        try:
            cancel_sent_at = 0.0
            while True:
                pipeline.send_more()
                if stopping() and pipeline.error is None and time.monotonic() - cancel_sent_at > TICK:
                    # a cancel that reaches the server between two statements is lost: repeat
                    # it until a statement reports it
                    send_cancel(conn)
                    cancel_sent_at = time.monotonic()
                more_to_send = pgconn.flush()
                readable, _, _ = select.select([fileno], [fileno] if more_to_send else [], [], TICK)
                if not readable:
                    continue
                if not more_to_send and pipeline.all_sent_that_may_be:
                    time.sleep(_GATHER)
                pgconn.consume_input()
                if pipeline.read_arrived():
                    break
        except psycopg.OperationalError as exc:
            if pgconn.status != pq.ConnStatus.BAD:
                pipeline.abandon()
                raise
            return PipelineResult(pipeline.done, pipeline.failure, Lost(exc, pipeline.in_doubt()))
        except BaseException:
            pipeline.abandon()
            raise
        pgconn.exit_pipeline_mode()
    _lost(pgconn)
    return PipelineResult(pipeline.done, pipeline.failure)


@dataclass(slots=True)
class _Sent:
    """A command sent whose result has not been read yet (index -1: the synchronisation point)."""

    index: int
    command: Command | None


class _Pipeline:
    """One pipeline of transactional migrations: what was sent, and what came back.

    A flush request after each statement and after COMMIT makes the server send those results at
    once (live progress). One synchronisation point ends the pipeline: after an error, the server
    skips everything up to it."""

    def __init__(self, conn: psycopg.Connection[Any], count: int, listener: PipelineListener,
                 stopping: Callable[[], bool]):
        self.count = count
        self.listener = listener
        self.stopping = stopping
        self.pgconn = conn.pgconn
        self.encoding = conn.info.encoding
        self.dumper = Transformer(conn)
        self.waiting: deque[_Sent] = deque()
        self.sent = 0  # migrations sent
        self.done = 0  # migrations committed
        self.synced = False
        self.error: ServerError | None = None
        self.failure: Failure | None = None
        self.duration_ms = 0  # the server's time for the last migration recorded

    @property
    def all_sent_that_may_be(self) -> bool:
        return self.sent - self.done >= min(WINDOW, self.count - self.done)

    def send_more(self) -> None:
        """Queue migrations up to the window; the synchronisation point after the last one, or as
        soon as the run must stop."""
        stopping = self.error is not None or self.stopping()
        while not stopping and self.sent < self.count and self.sent - self.done < WINDOW:
            self._send(self.sent)
            self.sent += 1
        if not self.synced and (stopping or self.sent == self.count):
            self.pgconn.pipeline_sync()
            self.waiting.append(_Sent(-1, None))
            self.synced = True

    def _send(self, index: int) -> None:
        pgconn = self.pgconn
        for command in self.listener.commands(index, self.encoding):
            self.waiting.append(_Sent(index, command))
            params = command.params
            if params:
                values = self.dumper.dump_sequence(params, [PyFormat.TEXT] * len(params))
                pgconn.send_query_params(
                    command.query, values, param_types=self.dumper.types, param_formats=self.dumper.formats
                )
            else:
                pgconn.send_query_params(command.query, None)
            if command.step is Step.STATEMENT or command.step is Step.COMMIT:
                pgconn.send_flush_request()

    def in_doubt(self) -> tuple[int, ...]:
        """The migrations whose COMMIT was sent and not acknowledged (none at or after one that
        failed: the server skips everything after an error)."""
        limit = self.failure.index if self.failure is not None else self.count
        return tuple(sorted({s.index for s in self.waiting
                             if s.command is not None and s.command.step is Step.COMMIT and s.index < limit}))

    def abandon(self) -> None:
        """Leave pipeline mode after an exception (the process interrupted): cancel what runs, skip
        the rest and read what is left, so the connection can roll back. A COMMIT acknowledged
        meanwhile is told to the listener: that migration did commit."""
        pgconn = self.pgconn
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
                    self._drained(result)
            finally:
                pgconn.nonblocking = 1
        except (psycopg.Error, OSError):
            pass  # the connection is gone: the server rolls back on its own

    def _drained(self, result: pq.abc.PGresult) -> None:
        """A result read while abandoning the pipeline: only a COMMIT's success matters now."""
        if not self.waiting:
            return
        sent = self.waiting.popleft()
        command = sent.command
        if command is None or self.error is not None:
            return
        if result.status == pq.ExecStatus.FATAL_ERROR:
            self.error = ServerError.from_result(result, self.encoding)
        elif command.step is Step.RECORD and result.status in _OK:
            self.duration_ms = int((result.get_value(0, 0) if result.ntuples else None) or 0)
        elif command.step is Step.COMMIT and result.status in _OK:
            self.done += 1
            self.listener.committed(sent.index, self.duration_ms)

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
            sent = self.waiting.popleft()
            status = result.status
            if status == pq.ExecStatus.PIPELINE_SYNC:
                return True
            command = sent.command
            if command is None:
                continue
            if status == pq.ExecStatus.FATAL_ERROR:
                if self.error is None:
                    self.error = ServerError.from_result(result, self.encoding)
                    self.failure = Failure(sent.index, command.step, command.statement, self.error)
            elif status in _OK and self.error is None:  # anything else was skipped after an error
                self._done(sent.index, command, result)
        return False

    def _done(self, index: int, command: Command, result: pq.abc.PGresult) -> None:
        step = command.step
        if step is Step.STATEMENT:
            self.listener.statement_done(index, command.position)
        elif step is Step.RECORD:
            value = result.get_value(0, 0) if result.ntuples else None
            self.duration_ms = int(value or 0)
        elif step is Step.COMMIT:
            self.done += 1
            self.listener.committed(index, self.duration_ms)
