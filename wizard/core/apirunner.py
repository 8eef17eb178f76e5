"""The runner over the Management API: the same rules, events, history and diagnosis as over a
session. Each migration travels as ``BEGIN``, a transaction-level advisory lock (which also keeps
out a run over a database connection: it waits up to the run's lock timeout for one to end), a
look at the history (a version another run applied meanwhile is not run again), the file's text,
its history rows and ``COMMIT``; several of them go in one request up to a size budget
(``apipack``), each still its own transaction. The run lock among runs over HTTPS is the
database's lease; the compatibility step and the history tables are made under the advisory lock
too.

When a pack fails, the history says which of its migrations committed (they are reported
applied); the one that failed then runs alone, so that its error is located in its file as when
it travels on its own (or, when it goes through alone, the run carries on). A pack whose answer
is lost is settled the same way, after its request is known to have ended."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import replace

import psycopg

from wizard.core import apipack, history, settle
from wizard.core.apipack import ALREADY_APPLIED, RUN_LOCK_HELD, recorded_elsewhere, run_lock_sql
from wizard.core.catalog import Catalog, Migration, Statement
from wizard.core.db.apitext import at_the_wait, statement_naming
from wizard.core.db.direct import HOLDER_QUERY, holder_text
from wizard.core.db.https import STOPPED, ApiDatabase, ApiError, ApiServerError, ApiSqlError
from wizard.core.db.protocol import LOCK_KEY
from wizard.core.diagnosis import Diagnosis, diagnose
from wizard.core.events import (
    AppliedMigration,
    Event,
    MigrationApplied,
    MigrationSkipped,
    MigrationStarted,
    Notice,
    Outcome,
    RunFinished,
    StatementDone,
)
from wizard.core.lockretry import LOCK_NOT_AVAILABLE, ApiProbe, LockRetry
from wizard.core.runbase import BaseRunner, Interrupted, LockHeld
from wizard.core.runoptions import RunOptions


class ApiRunner(BaseRunner):
    """Applies the pending migrations of a catalog through the Management API."""

    db: ApiDatabase

    def __init__(self, db: ApiDatabase, catalog: Catalog, options: RunOptions | None = None,
                 on_event: Callable[[Event], None] | None = None):
        super().__init__(db, catalog, options, on_event)
        db.stopping = lambda: self._cancelled  # a migration's request waiting its turn is not sent
        self._prefix = ""
        self._requesting = False  # a migration's request is out, its answer not yet in
        self._packing = False  # a pack's request is out
        self._resend: str | None = None  # the version whose request was lost once already
        # the migration of a pack that waited too long for a lock, the attempts so far, the error
        self._lock_waited: tuple[str, LockRetry, ApiServerError] | None = None
        self.budget: apipack.Budget | None = None  # the requests the pending migrations take

    def _record_sql(self, migration: Migration, statements: list[str], method: str) -> str:
        return history.record_sql(migration, statements, "https" if method == "automated" else method)

    # -- the run lock, shared with runs over a database connection -------------------------------

    def run(self, only: Iterable[str] | None = None) -> RunFinished:
        """As every runner's; the compatibility step or the history tables that waited too long
        for a run over a database connection end the run as a held lock does."""
        self.db.transaction_guard = run_lock_sql(self.options.lock_timeout)
        try:
            return super().run(only)
        except psycopg.errors.LockNotAvailable as exc:
            if RUN_LOCK_HELD not in str(exc):
                raise
            raise self._lock_held() from None
        finally:
            self.db.transaction_guard = ""

    def _lock_held(self) -> LockHeld:
        try:
            rows = self.db.query(HOLDER_QUERY, (LOCK_KEY,))
        except (ApiError, psycopg.Error):
            rows = []
        return LockHeld(round(self.options.lock_timeout, 1), holder_text(rows[0]) if rows else None)

    def _apply_one(self, migration: Migration, applied: list[AppliedMigration]) -> RunFinished | None:
        try:
            return super()._apply_one(migration, applied)
        except _AppliedElsewhere:
            self._applied_elsewhere(migration)
            return None
        except _NotSent:
            self._emit(Notice(f"Stopped: {migration.filename} was not sent (it waited its turn under the rate "
                              "limit)."))
            return RunFinished(applied, interrupted=True)

    def _applied_elsewhere(self, migration: Migration) -> None:
        self._emit(Notice(f"{migration.filename} was applied by another run meanwhile: this run did not run it "
                          "again."))
        self._emit(MigrationSkipped(migration.version, migration.name, "applied by another run meanwhile"))

    # -- packs: several migrations in one request, each in its own transaction -------------------

    def _apply_all(self, todo: list[Migration]) -> RunFinished:
        self.budget = apipack.budget(todo, self.options.pack_kib)
        if todo:
            self._emit(Notice(f"Over HTTPS: {self.budget} (the Management API allows 60 requests a minute)."))
        applied: list[AppliedMigration] = []
        rest = list(todo)
        while rest:
            if self._cancelled:
                return RunFinished(applied, interrupted=True)
            pack = apipack.next_pack(rest, self.options.pack_kib)
            if len(pack) == 1:
                done, stopped = 1, self._apply_one(pack[0], applied)
            else:
                done, stopped = self._apply_pack(pack, applied)
            if stopped is not None:
                return stopped
            del rest[:done]
        return RunFinished(applied)

    def request_stop(self) -> None:
        """As every runner's; a pack in flight is cancelled on the server (the migrations before the
        one in progress stay applied)."""
        super().request_stop()
        if self._packing:
            self.db.cancel()

    def _apply_pack(self, pack: list[Migration], applied: list[AppliedMigration]) -> tuple[int, RunFinished | None]:
        """One request for the pack; how many of its migrations were settled (from the first), and
        the end of the run when it stops here."""
        self._emit(Notice(f"One request for {len(pack)} migrations, {pack[0].filename} to {pack[-1].filename} "
                          f"(of {self.budget} in all)."))
        parts = [self._migration_sql(m)[1] for m in pack]
        query = ("\n" + apipack.BETWEEN).join(parts) + "\n" + apipack.recorded_query(pack) + ";"
        failure: ApiSqlError | ApiError | None = None
        rows: list[dict[str, object]] = []
        retry = LockRetry(self.options, self._emit, every=2.0)  # the first attempt of each migration
        try:
            self._packing = True
            with retry.watching(ApiProbe(self.db)):
                rows = self.db.request(query, stoppable=True)
        except ApiSqlError as exc:
            failure = exc
        except ApiError as exc:
            if exc.kind == STOPPED:  # stopped while it waited its turn under the rate limit
                return 0, RunFinished(applied, interrupted=True)
            if not exc.sent:
                for m in pack:
                    self.report.stop(m, Outcome.NOT_APPLIED, f"its request did not reach the service: {exc.message}")
                raise
            failure = exc
        except BaseException:
            for m in pack:
                self.report.stop(m, Outcome.UNKNOWN, "the run stopped while its request was out")
            raise
        finally:
            self._packing = False
        if failure is None:
            durations = {str(r.get("version")): r.get("duration_ms") for r in rows}
            for m in pack:
                duration = durations.get(m.version)
                self._applied_now(m, applied, duration if isinstance(duration, int) else 0)
            return len(pack), None
        lost = failure if isinstance(failure, ApiError) else None
        committed = self._committed(pack, lost)
        elsewhere = recorded_elsewhere(failure.error) if isinstance(failure, ApiSqlError) else None
        count = 0
        for m in pack:
            if m.version == elsewhere:  # in the history, but by another run: this one stopped there
                self._applied_elsewhere(m)
                return count + 1, None
            if m.version not in committed:
                break
            if lost is not None:
                self._emit(Notice(f"{m.filename} was applied (its reply was lost)."))
            self._applied_now(m, applied, committed[m.version] or 0, reply_lost=lost is not None)
            count += 1
        if count == len(pack):
            return count, None
        failing = pack[count]
        if isinstance(failure, ApiSqlError) and self._cancelled and failure.error.sqlstate == "57014":
            self._emit(MigrationStarted(failing.version, failing.name, len(failing.executable_statements), True))
            self._emit(Notice(f"Interrupted: {failing.filename} was rolled back."))
            return count, RunFinished(applied, interrupted=True)
        if isinstance(failure, ApiSqlError) and RUN_LOCK_HELD in failure.error.message:
            self._emit(MigrationStarted(failing.version, failing.name, len(failing.executable_statements), True))
            raise self._lock_held()  # a run over a database connection kept the lock past the timeout
        if lost is not None:
            self._emit(Notice(f"{failing.filename} was not applied."))
            self._emit(Notice(f"Applying {failing.filename} again, once."))
            self._resend = failing.version
        elif (isinstance(failure, ApiSqlError) and failure.error.sqlstate == LOCK_NOT_AVAILABLE
              and RUN_LOCK_HELD not in failure.error.message):
            self._lock_waited = (failing.version, retry, failure.error)
        else:
            self._emit(Notice(f"{failing.filename} failed in its request ({failure.message}); running it alone "
                              "to locate the error."))
        return count + 1, self._apply_one(failing, applied)

    def _applied_now(self, migration: Migration, applied: list[AppliedMigration], duration_ms: int,
                     reply_lost: bool = False) -> None:
        """A migration of a pack committed: its events, as if it had travelled alone."""
        total = len(migration.executable_statements)
        self._emit(MigrationStarted(migration.version, migration.name, total, True))
        for index in range(1, total + 1):
            self._emit(StatementDone(migration.version, index, total))
        done = AppliedMigration(migration.version, migration.name, duration_ms, reply_lost)
        applied.append(done)
        self._emit(MigrationApplied(migration.version, migration.name, duration_ms, reply_lost))

    def _committed(self, pack: list[Migration], lost: ApiError | None) -> dict[str, int | None]:
        """Which migrations of a pack committed (with their duration), read from the history once its
        request is known to have ended; OutcomeUnknown when the service cannot be reached."""
        if lost is not None:
            self._emit(Notice(f"No answer for the request of {pack[0].filename} to {pack[-1].filename} "
                              f"({lost.message}): reading the history before anything else."))

        def read() -> dict[str, int | None]:
            try:
                if lost is not None and not self.db.settle_in_flight():
                    raise settle.Unreachable("the lost request is still running on the server")
                return {str(row[0]): row[1] for row in self.db.query(apipack.committed_query(pack))}
            except ApiError as exc:
                raise settle.Unreachable(exc.message) from None

        try:
            return settle.reach(read, self._emit, self.settle_delays)
        except settle.Unreachable as unreachable:
            for m in pack:
                self.report.stop(m, Outcome.UNKNOWN, "its request's answer was lost and the database cannot be "
                                 "reached")
            raise settle.OutcomeUnknown(pack, str(unreachable)) from None
        except BaseException:
            for m in pack:
                self.report.stop(m, Outcome.UNKNOWN, "the run stopped before it could read the history")
            raise

    # -- a migration, tried again when it waited too long for a lock another session holds -------

    def _apply_in_transaction(self, migration: Migration) -> AppliedMigration | Diagnosis:
        retry = LockRetry(self.options, self._emit, every=2.0)
        carried, self._lock_waited = self._lock_waited, None
        if carried is not None and carried[0] == migration.version:
            # its first attempt was in a pack, and waited too long for a lock: this is the second
            retry = carried[1]
            if retry.retry(migration, self._diagnose(migration, carried[2]), self._cancelled):
                if not retry.pause(lambda: self._cancelled):
                    raise Interrupted()
        while True:
            with retry.watching(ApiProbe(self.db)):
                outcome = self._request_migration(migration)
            if not isinstance(outcome, Diagnosis):
                return outcome
            if not retry.retry(migration, outcome, self._cancelled):
                return at_the_wait(migration, retry.explain(outcome))
            if not retry.pause(lambda: self._cancelled):
                raise Interrupted()

    def _outcome_in_flight(self) -> Outcome:
        return Outcome.UNKNOWN if self._requesting else Outcome.NOT_APPLIED

    def _migration_sql(self, migration: Migration) -> tuple[str, str]:
        """The prefix and the whole transaction of one migration. Everything before the file's text
        stays on its first line, so the server's LINE n is the file's (when it travels alone)."""
        prefix = (f"BEGIN; {self.db.mark} {run_lock_sql(self.options.lock_timeout, migration.version)} "
                  f"{self._settings}")
        statements = [s.text for s in migration.executable_statements]
        return prefix, (prefix + migration.body_for_transaction + "\n;\n"
                        + "RESET ALL;\n" + self._record_sql(migration, statements, "https") + ";\nCOMMIT;")

    def _request_migration(self, migration: Migration, again: bool = False) -> AppliedMigration | Diagnosis:
        if self._cancelled:
            raise Interrupted()
        if self._resend == migration.version:  # its request in a pack was lost: this is the second try
            again, self._resend = True, None
        statements = migration.executable_statements
        self._emit(MigrationStarted(migration.version, migration.name, len(statements), True))
        prefix, query = self._migration_sql(migration)
        self._prefix = prefix
        started = time.monotonic()
        try:
            self._requesting = True
            self.db.request(query, stoppable=True)
        except ApiSqlError as exc:
            error = exc.error
            if self._cancelled and error.sqlstate == "57014":
                raise Interrupted() from None
            if RUN_LOCK_HELD in error.message:
                raise self._lock_held() from None
            if ALREADY_APPLIED in error.message:
                raise _AppliedElsewhere() from None
            if error.sqlstate == "23505" and "schema_migrations_pkey" in error.message:
                # another run recorded this version between our reading of the history and our
                # commit: the primary key refused ours, and our transaction rolled back
                raise _AppliedElsewhere() from None
            return self._diagnose(migration, error)
        except ApiError as exc:
            if exc.kind == STOPPED:
                self.report.stop(migration, Outcome.NOT_APPLIED, "the run was stopped before its request was sent")
                raise _NotSent() from None
            if exc.sent:
                return self._settle(migration, exc, again)
            self.report.stop(migration, Outcome.NOT_APPLIED, f"its request did not reach the service: {exc.message}")
            raise
        finally:
            self._requesting = False
        for index in range(1, len(statements) + 1):
            self._emit(StatementDone(migration.version, index, len(statements)))
        return AppliedMigration(migration.version, migration.name, int((time.monotonic() - started) * 1000))

    def _diagnose(self, migration: Migration, error: ApiServerError) -> Diagnosis:
        """The failure located in the file: the server's LINE n of the request is the file's line."""
        line = error.line
        if line is not None and 1 <= line <= migration.text.count("\n") + 1:
            column = error.column
            start = len("\n".join(migration.text.split("\n")[: line - 1])) + (1 if line > 1 else 0)
            if line == 1:
                column = column - len(self._prefix) if column and column > len(self._prefix) else None
            offset = start + (column - 1 if column and column > 0 else 0)
            found = diagnose(migration, error, offset=offset)
            if not column:
                found = replace(found, line=line, column=None)
            return found
        statement: Statement | None = statement_naming(migration, error.message)
        return diagnose(migration, error, statement=statement)

    # -- an answer lost: settle before speaking ---------------------------------------------------

    def _settle(self, migration: Migration, exc: ApiError, again: bool) -> AppliedMigration | Diagnosis:
        """The request went out and no answer says what became of it: the migration may have
        committed. Stop its request if the server still runs it, read the history (retrying while
        the service cannot be reached), and tell the truth: applied, its reply lost; not applied,
        and applied once more (or, the second time, the run stops on the error); or unknown."""
        records = self._settle_unanswered(migration, exc)
        record = records.get(migration.version)
        if record is not None:
            self._emit(Notice(f"{migration.filename} was applied (its reply was lost)."))
            return AppliedMigration(migration.version, migration.name, record.duration_ms or 0, reply_lost=True)
        self._emit(Notice(f"{migration.filename} was not applied."))
        if again:
            self.report.stop(migration, Outcome.NOT_APPLIED, f"no answer twice; it was not applied: {exc.message}")
            raise exc
        self._emit(Notice(f"Applying {migration.filename} again, once."))
        return self._request_migration(migration, again=True)

    def _settle_unanswered(self, migration: Migration, error: Exception) -> dict[str, history.Record]:
        """The history once this run's request is no longer running; OutcomeUnknown when the
        service cannot be reached."""
        if not isinstance(error, ApiError) or not error.sent:
            raise error
        self._emit(Notice(f"No answer for {migration.filename} ({error.message}): reading the history before "
                          "anything else."))
        try:
            return settle.reach(self._read_settled, self._emit, self.settle_delays)
        except settle.Unreachable as unreachable:
            self.report.stop(migration, Outcome.UNKNOWN, "its answer was lost and the database cannot be reached")
            raise settle.OutcomeUnknown([migration], str(unreachable)) from None
        except BaseException:  # interrupted while reaching it: still unknown
            self.report.stop(migration, Outcome.UNKNOWN, "its answer was lost; the run stopped before it could read "
                             "the history")
            raise

    def _read_settled(self) -> dict[str, history.Record]:
        """The history, once no request of this run runs on the server any more."""
        try:
            if not self.db.settle_in_flight():
                raise settle.Unreachable("the lost request is still running on the server")
            return history.read(self.db)
        except ApiError as exc:
            raise settle.Unreachable(exc.message) from None


class _NotSent(Exception):
    """The run was stopped while the migration's request waited its turn: it never went out."""


class _AppliedElsewhere(Exception):
    """The migration's request found it in the history, once it held the run lock."""
