"""Apply pending migrations: one transaction per migration, under the run lock.

Over a session (a psycopg connection) the migrations travel to the server in pipeline mode
(PostgreSQL's extended protocol, see ``db.wire``): for each migration ``BEGIN``, its statements one
by one, the reset of any session setting the file made, the history rows and ``COMMIT``, with the
next migrations queued behind it, so the server never waits for the client between statements or
files, and each statement's result comes back as soon as it is done (live progress). When a
statement fails the server skips everything queued after it until the pipeline's single
synchronisation point, the later migrations included; the wizard then rolls back, so the database
is exactly as it was before that migration, and every migration before it is committed with its
history row. A killed client never commits a migration it was running either: the server notices
the dead connection within a second and rolls back.

A file whose first line is ``-- wizard:no-transaction`` runs statement by statement outside a
transaction (``CREATE INDEX CONCURRENTLY`` and the like); a failure there can leave the statements
before it applied, and the run says so.

Over the Management API, ``apirunner.ApiRunner`` keeps the same rules, one request per migration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from wizard.core import history, settle
from wizard.core.catalog import Catalog, Migration
from wizard.core.db import Connectable
from wizard.core.db.direct import DirectDatabase
from wizard.core.db.protocol import LOCK_KEY
from wizard.core.db.wire import Command, PipelineResult, Step
from wizard.core.diagnosis import Diagnosis, diagnose
from wizard.core.lockretry import DirectProbe, LockRetry, watched_once
from wizard.core.events import (
    AppliedMigration,
    Event,
    MigrationApplied,
    MigrationFailed,
    MigrationStarted,
    Notice,
    Outcome,
    RunFinished,
    StatementDone,
)
from wizard.core.runbase import RESET_SESSION, BaseRunner, Interrupted, LockHeld, pending, settings_sql
from wizard.core.runoptions import RunOptions

__all__ = ["LOCK_KEY", "BaseRunner", "Interrupted", "LockHeld", "RunOptions", "Runner", "pending", "runner_for",
           "settings_sql"]

_RECORD_QUERY = history.RECORD_QUERY.encode()


class Runner(BaseRunner):
    """Applies the pending migrations of a catalog over one psycopg connection (autocommit mode)."""

    db: DirectDatabase

    def __init__(self, conn: DirectDatabase | psycopg.Connection[Any], catalog: Catalog,
                 options: RunOptions | None = None, on_event: Callable[[Event], None] | None = None):
        db = conn if isinstance(conn, DirectDatabase) else DirectDatabase(conn)
        super().__init__(db, catalog, options, on_event)
        db.stopping = lambda: self._cancelled
        self._lock_retry: LockRetry | None = None
        self._retried: set[str] = set()  # versions applied again once after a lost connection

    @property
    def conn(self) -> psycopg.Connection[Any]:
        return self.db.conn

    def _prepare(self) -> None:
        self.db.autocommit()
        self.db.keep_reopenable()

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

    def _apply_in_transaction(self, migration: Migration) -> AppliedMigration | Diagnosis:
        applied: list[AppliedMigration] = []
        stopped = self._apply_pipelined([migration], applied)
        if stopped is None:
            return applied[0]
        if stopped.failed is None:
            raise Interrupted()
        return stopped.failed

    def _commands(self, migration: Migration, encoding: str) -> list[Command]:
        """What a migration sends, in order."""
        statements = migration.executable_statements
        commands = [Command(Step.BEGIN, b"BEGIN")]
        commands += [Command(Step.STATEMENT, s.text.encode(encoding), statement=s, position=i)
                     for i, s in enumerate(statements, start=1)]
        if migration.changes_session:
            commands += [Command(Step.RESET, q.encode()) for q in self._reset_statements()]
        params = history.record_params(migration, [s.text for s in statements], self.options.method)
        commands.append(Command(Step.RECORD, _RECORD_QUERY, params))
        commands.append(Command(Step.COMMIT, b"COMMIT"))
        return commands

    def _reset_statements(self) -> list[str]:
        return [q for q in (RESET_SESSION + self._settings).split(";\n") if q.strip()]

    # -- locks held by other sessions: a migration that waited too long is tried again -----------

    def _apply_pipelined(self, batch: list[Migration], applied: list[AppliedMigration]) -> RunFinished | None:
        """Apply transactional migrations in order over pipelines; the end of the run when one
        failed or the run was stopped, None when all of them were applied. A migration that gave
        up waiting for a lock another session holds was rolled back: after a pause, it and those
        after it go again (``lockretry``), up to the attempts the options allow."""
        retry = self._lock_retry = LockRetry(self.options, self._emit)
        probe = DirectProbe(self.conn)
        try:
            while True:
                with retry.watching(probe):
                    stopped = self._pipeline_attempt(batch, applied)
                if not retry.again or stopped is None or stopped.failed is None:
                    return stopped
                batch = batch[[m.version for m in batch].index(stopped.failed.version):]
                if not retry.pause(lambda: self._cancelled):
                    self._emit(Notice(f"Interrupted: {batch[0].filename} was rolled back."))
                    return RunFinished(applied, interrupted=True)
        finally:
            self._lock_retry = None
            probe.close()

    def _failed_in_pipeline(self, migration: Migration, diagnosis: Diagnosis,
                            applied: list[AppliedMigration]) -> RunFinished:
        """A migration of the pipeline failed: a lock wait to try again is said as such (a Notice),
        any other failure (the last lock wait included, with what it waited for) as a failure."""
        retry = self._lock_retry
        if retry is not None:
            if retry.retry(migration, diagnosis, self._cancelled):
                return RunFinished(applied, failed=diagnosis)
            diagnosis = retry.explain(diagnosis)
        self._emit(MigrationFailed(migration.version, migration.name, diagnosis))
        return RunFinished(applied, failed=diagnosis)

    def _apply_without_transaction(self, migration: Migration) -> AppliedMigration | Diagnosis:
        """As every runner's, with what a statement that gave up waiting for a lock waited for."""
        probe = DirectProbe(self.conn)
        apply = super()._apply_without_transaction
        try:
            return watched_once(self.options, self._emit, probe, lambda: apply(migration))
        finally:
            probe.close()

    def _pipeline_progressed(self) -> None:
        if self._lock_retry is not None:
            self._lock_retry.progressed()

    # -- one pipeline ------------------------------------------------------------------------------

    def _pipeline_attempt(self, batch: list[Migration], applied: list[AppliedMigration]) -> RunFinished | None:
        """Apply transactional migrations in order over one pipeline; the end of the run when one
        failed or the run was stopped, None when all of them were applied."""
        first = batch[0]
        self._emit(MigrationStarted(first.version, first.name, len(first.executable_statements), True))
        result = self.db.pipeline(len(batch), _Progress(self, batch, applied))
        if result.lost is not None:
            return self._settle_lost_connection(batch, result, applied)
        failure = result.failure
        if failure is None:
            if self._cancelled and result.done < len(batch):
                return RunFinished(applied, interrupted=True)
            return None
        self.db.rollback()
        error, statement = failure.error, failure.statement
        migration = batch[failure.index]
        if self._cancelled and error.sqlstate == "57014":
            self._emit(Notice(f"Interrupted: {migration.filename} was rolled back."))
            return RunFinished(applied, interrupted=True)
        if failure.step is Step.RECORD:
            diagnosis = self._history_failure(migration, error)
        else:
            offset = None
            if statement is not None and error.position is not None and 0 < error.position <= len(statement.text):
                offset = statement.start + error.position - 1
            diagnosis = diagnose(migration, error, offset=offset, statement=statement)
        return self._failed_in_pipeline(migration, diagnosis, applied)

    # -- a connection lost in the middle of the run ------------------------------------------------

    def _settle_lost_connection(self, batch: list[Migration], result: PipelineResult,
                                applied: list[AppliedMigration]) -> RunFinished | None:
        """The connection was lost. A migration whose COMMIT was not sent did not commit (the
        server rolls back a transaction whose client is gone); one whose COMMIT was sent and not
        acknowledged may have: reconnect, wait until the lost session's backend is gone, and read
        the history before anything else. Then say what happened, and go on with the rest on the
        new connection, applying a migration that did not commit once more; or, when the database
        cannot be reached, raise OutcomeUnknown."""
        assert result.lost is not None
        error = result.lost.error
        doubt = [batch[i] for i in result.lost.in_doubt]
        if not doubt:
            if result.done < len(batch):
                self.report.stop(batch[result.done], Outcome.NOT_APPLIED,
                                 "the connection was lost before it committed: the server rolled it back")
            raise error
        names = ", ".join(m.filename for m in doubt)
        sent = "was sent, before its answer came" if len(doubt) == 1 else "were sent, before their answers came"
        self._emit(Notice(f"The connection was lost after the COMMIT of {names} {sent}: reconnecting to read the "
                          "history before anything else."))
        records = self._reach(doubt)
        again = []
        for migration in doubt:
            record = records.get(migration.version)
            if record is None:
                self._emit(Notice(f"{migration.filename} was not applied."))
                again.append(migration)
                continue
            self._emit(Notice(f"{migration.filename} was applied (its reply was lost)."))
            duration = record.duration_ms or 0
            applied.append(AppliedMigration(migration.version, migration.name, duration, reply_lost=True))
            self._emit(MigrationApplied(migration.version, migration.name, duration, reply_lost=True))
        twice = next((m for m in again if m.version in self._retried), None)
        if twice is not None:
            self.report.stop(twice, Outcome.NOT_APPLIED, "the connection was lost twice while it committed; "
                             "it was not applied either time")
            raise error
        self._retried.update(m.version for m in again)
        rest = [m for m in batch[result.done:] if m.version not in records]
        if not rest:
            return None
        if again:
            self._emit(Notice(f"Applying {again[0].filename} again, once, then the rest."))
        return self._apply_pipelined(rest, applied)

    def _settle_unanswered(self, migration: Migration, error: Exception) -> dict[str, history.Record]:
        if not isinstance(error, psycopg.OperationalError) or not self.conn.closed:
            raise error
        self._emit(Notice(f"The connection was lost while {migration.filename} was being recorded: reconnecting to "
                          "read the history before anything else."))
        return self._reach([migration])

    def _reach(self, doubt: list[Migration]) -> dict[str, history.Record]:
        """A new session, under the run lock again, and the history as it stands once the lost
        session is gone; OutcomeUnknown when the database cannot be reached."""
        try:
            records = settle.reach(self._reopen_and_read, self._emit, self.settle_delays)
        except settle.Unreachable as exc:
            for migration in doubt:
                self.report.stop(migration, Outcome.UNKNOWN, "its answer was lost and the database cannot be reached")
            raise settle.OutcomeUnknown(doubt, str(exc)) from None
        except BaseException:  # interrupted while reaching it: still unknown
            for migration in doubt:
                self.report.stop(migration, Outcome.UNKNOWN, "its answer was lost; the run stopped before it could "
                                 "read the history")
            raise
        try:
            self._resume_session()
        except BaseException:  # the lock taken by another run meanwhile...: the report still tells the truth
            for migration in doubt:
                record = records.get(migration.version)
                if record is not None:
                    self.report.applied_reply_lost(migration, record.duration_ms or 0)
                else:
                    self.report.stop(migration, Outcome.NOT_APPLIED, "its answer was lost; the history shows it "
                                     "was not applied")
            raise
        return records

    def _reopen_and_read(self) -> dict[str, history.Record]:
        """A new session, the lost one's backend gone, and the history as it now stands."""
        try:
            lost = self.db.reopen()
            if not self.db.wait_gone(lost):
                raise settle.Unreachable(f"the lost session (backend {lost}) is still running")
            return history.read(self.db)
        except psycopg.OperationalError as exc:
            raise settle.Unreachable(str(exc).strip().splitlines()[0] if str(exc).strip() else "") from None

    def _resume_session(self) -> None:
        """The new session as the lost one was: autocommit, the run's settings, the run lock."""
        self.db.autocommit()
        if self._settings:
            self.db.query(self._settings)
        self._acquire_lock()


class _Progress:
    """What the pipeline sends for a batch, and the events of what came back."""

    def __init__(self, runner: Runner, batch: list[Migration], applied: list[AppliedMigration]):
        self.runner = runner
        self.batch = batch
        self.applied = applied
        self.sent = 0  # how many of the batch went to the server

    def commands(self, index: int, encoding: str) -> Sequence[Command]:
        self.sent = max(self.sent, index + 1)
        return self.runner._commands(self.batch[index], encoding)

    def statement_done(self, index: int, position: int) -> None:
        migration = self.batch[index]
        self.runner._pipeline_progressed()
        self.runner._emit(StatementDone(migration.version, position, len(migration.executable_statements)))

    def committed(self, index: int, duration_ms: int) -> None:
        runner, migration = self.runner, self.batch[index]
        runner._pipeline_progressed()
        self.applied.append(AppliedMigration(migration.version, migration.name, duration_ms))
        runner._emit(MigrationApplied(migration.version, migration.name, duration_ms))
        # the next one is under way when it was sent already (a stop asked for since then cancels
        # it: it was attempted, and is reported so); otherwise only when the run goes on
        if index + 1 < len(self.batch) and (index + 1 < self.sent or not runner.stop_requested):
            following = self.batch[index + 1]
            runner._emit(MigrationStarted(following.version, following.name,
                                          len(following.executable_statements), True))


def runner_for(conn: Connectable) -> type[BaseRunner]:
    """The runner that drives this database: over a session, the pipelined one; where each
    request stands alone (the Management API), one request per migration."""
    if isinstance(conn, psycopg.Connection) or conn.session:
        return Runner
    from wizard.core.apirunner import ApiRunner  # the HTTPS client is loaded only when it is used

    return ApiRunner
