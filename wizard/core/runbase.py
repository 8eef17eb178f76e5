"""The migration rules every runner keeps, whatever the database: the run lock, the compatibility
step, the history, the order of the migrations, the files that run without a transaction, and the
events. How a transactional migration travels is the runner's own (``runner`` over a session,
``apirunner`` over the Management API)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable

import psycopg
from psycopg import sql

from wizard.core import compat, history, settle
from wizard.core.catalog import Catalog, Migration
from wizard.core.db import batch
from wizard.core.db.protocol import Database
from wizard.core.diagnosis import Diagnosis, ServerError, diagnose
from wizard.core.errors import ExitCode, WizardError
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
from wizard.core.report import INTERRUPTED, RunReport
from wizard.core.runoptions import RunOptions

RESET_SESSION = "RESET ALL;\nRESET SESSION AUTHORIZATION;\n"


class LockHeld(WizardError):
    """Another run holds the migration lock on this database."""

    kind = "lock-held"
    exit_code = ExitCode.LOCKED

    def __init__(self, waited: float, holder: str | None):
        super().__init__(f"another migration run holds the lock (waited {waited:g} s)")
        self.waited = waited
        self.holder = holder


class Interrupted(WizardError):
    """The run was cancelled; the migration in progress was rolled back."""

    kind = "interrupted"
    exit_code = ExitCode.INTERRUPTED

    def __init__(self, message: str = "the run was interrupted") -> None:
        super().__init__(message)


def settings_sql(options: RunOptions, server_version: int, local: bool = False) -> str:
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


def path_literals(stored: str) -> str:
    """A search_path as pg_db_role_setting stores it (``"$user", public``; an empty one is ``""``)
    as the string literals SET takes, so that an empty path or a quoted name stays what it was."""
    names = [n[1:-1].replace('""', '"') if n.startswith('"') else n
             for n in re.findall(r'"(?:[^"]|"")*"|[^,\s][^,]*?(?=\s*(?:,|$))', stored)]
    return ", ".join(sql.Literal(n).as_string(None) for n in names) or "''"


_DATABASE_SEARCH_PATH = (
    "SELECT substr(s, length('search_path=') + 1) FROM pg_db_role_setting d, unnest(d.setconfig) s "
    "WHERE d.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND d.setrole = 0 AND s LIKE 'search_path=%'"
)


class BaseRunner:
    """Applies the pending migrations of a catalog over one database."""

    def __init__(self, db: Database, catalog: Catalog, options: RunOptions | None = None,
                 on_event: Callable[[Event], None] | None = None):
        if not catalog.ok:
            raise ValueError("the migration folder has problems; nothing may be applied")
        self.db = db
        self.catalog = catalog
        self.options = options or RunOptions()
        self.report = RunReport()  # what this run did, however it ends
        self._on_event = on_event
        self._settings = ""
        self.settle_delays: tuple[float, ...] = settle.DELAYS  # between attempts to reach a lost database
        self._cancelled = False
        self.compat_created: list[str] = []  # what the compatibility step made in this run ("kind name")

    # -- the run ---------------------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        self.report.observe(event)
        if self._on_event is not None:
            self._on_event(event)

    def run(self, only: Iterable[str] | None = None) -> RunFinished:
        """Apply every pending migration in order (or only the given versions), stopping at the
        first failure. Raises LockHeld when another run keeps the lock past the timeout. However
        it ends, ``report`` tells what it applied, where it stopped and what it did not attempt."""
        try:
            return self._run(only)
        except BaseException as exc:
            self.report.ended(_reason(exc), self._outcome_in_flight())
            raise

    def _outcome_in_flight(self) -> Outcome:
        """What became of the migration in progress when the run ended on an error: not applied
        (its transaction rolled back) unless the runner knows its COMMIT may have gone through."""
        return Outcome.NOT_APPLIED

    def _run(self, only: Iterable[str] | None) -> RunFinished:
        self._prepare()
        self._session_setup()
        try:
            self._acquire_lock()
        except Interrupted:
            return self._finish(RunFinished([], interrupted=True))
        try:
            # where a request counts (over HTTPS), the first reads go in one
            batch.prefetch(self.db, (compat.reads() if self.options.compat else []) + [(history.PRESENT, None)])
            if self.options.compat:
                created = self.compat_created = compat.ensure(self.db)
                if created:
                    self._emit(Notice("Supabase compatibility step: created " + compat.summary(created)))
                    self._keep_database_search_path()
            history.ensure(self.db)
            todo = pending(self.catalog, history.read(self.db))
            if only is not None:
                wanted = set(only)
                todo = [m for m in todo if m.version in wanted]
            self.report.plan(todo)
            return self._finish(self._apply_all(todo))
        finally:
            self._release_lock()

    def _prepare(self) -> None:
        """Make the connection ready for a run (nothing to do unless the runner says so)."""

    def _apply_all(self, todo: list[Migration]) -> RunFinished:
        """The migrations one after the other, each on its own."""
        applied: list[AppliedMigration] = []
        for migration in todo:
            if self._cancelled:
                return RunFinished(applied, interrupted=True)
            stopped = self._apply_one(migration, applied)
            if stopped is not None:
                return stopped
        return RunFinished(applied)

    def _apply_one(self, migration: Migration, applied: list[AppliedMigration]) -> RunFinished | None:
        """Apply one migration on its own; the end of the run when it did not apply."""
        try:
            outcome = self._apply(migration)
        except (KeyboardInterrupt, Interrupted):
            self.db.rollback()
            self._emit(Notice(f"Interrupted: {migration.filename} was rolled back."))
            return RunFinished(applied, interrupted=True)
        if isinstance(outcome, Diagnosis):
            self._emit(MigrationFailed(migration.version, migration.name, outcome))
            return RunFinished(applied, failed=outcome)
        applied.append(outcome)
        self._emit(MigrationApplied(migration.version, migration.name, outcome.duration_ms, outcome.reply_lost))
        return None

    def _apply(self, migration: Migration) -> AppliedMigration | Diagnosis:
        """One migration; a no-transaction file here, a transactional one in the runner's way."""
        if migration.no_transaction:
            return self._apply_without_transaction(migration)
        return self._apply_in_transaction(migration)

    def _apply_in_transaction(self, migration: Migration) -> AppliedMigration | Diagnosis:
        raise NotImplementedError

    def adopt(self, migrations: list[Migration], method: str = "adopted") -> list[AppliedMigration]:
        """Record migrations as applied without running them (their objects are already there,
        made by hand, or a person just ran them in the dashboard: method "manual"): one
        transaction for all, under the run lock."""
        self._prepare()
        self._acquire_lock()
        try:
            history.ensure(self.db)
            recorded = history.read(self.db)
            todo = [m for m in migrations if m.version not in recorded]
            if not todo:
                return []
            query = "BEGIN;\n" + "".join(
                self._record_sql(m, [s.text for s in m.statements], method) + ";\n" for m in todo
            ) + "COMMIT;"
            error = self.db.execute(query)
            if error is not None:
                self.db.rollback()
                raise psycopg.DatabaseError(f"recording the migrations failed: {error.message}")
            return [AppliedMigration(m.version, m.name, 0) for m in todo]
        finally:
            self._release_lock()

    def _record_sql(self, migration: Migration, statements: list[str], method: str) -> str:
        return history.record_sql(migration, statements, method)

    def _session_setup(self) -> None:
        """The run's settings: for the session, or (where each request stands alone) as SET LOCAL
        on the first line of each migration's request, so the server's LINE n stays the file's."""
        if self.db.session:
            self._settings = settings_sql(self.options, self.db.server_version)
            if self._settings:
                self.db.query(self._settings)
        else:
            self._settings = settings_sql(self.options, self.db.server_version, local=True).replace("\n", " ")

    def _keep_database_search_path(self) -> None:
        """The compatibility step put ``extensions`` on the database's search_path, which sessions
        opened before it do not see once they reset their settings (RESET ALL goes back to the
        values of the session's start): the resets between files restore the database's path, as
        a new session would have it. Without a session, no request resets what another set up."""
        if not self.db.session:
            return
        rows = self.db.query(_DATABASE_SEARCH_PATH)
        if rows and rows[0][0]:
            self._settings += f"SET search_path = {path_literals(rows[0][0])};\n"

    def cancel(self) -> None:
        """Ask the run to stop (from another thread): the running migration is cancelled on the
        server and rolled back; nothing after it starts."""
        self._cancelled = True
        self.db.cancel()

    @property
    def stop_requested(self) -> bool:
        return self._cancelled

    def request_stop(self) -> None:
        """Ask the run to stop, from a signal handler: the run itself cancels the migration in
        progress within a tenth of a second."""
        self._cancelled = True

    def _finish(self, finished: RunFinished) -> RunFinished:
        if finished.interrupted:
            self.report.ended(INTERRUPTED)
        finished = self.report.finished(finished)
        self._emit(finished)
        return finished

    # -- the lock --------------------------------------------------------------------------------

    def _acquire_lock(self) -> None:
        started = time.monotonic()
        told = False
        while True:
            if self.db.try_lock():
                return
            if self._cancelled:
                raise Interrupted()
            waited = time.monotonic() - started
            if waited >= self.options.lock_timeout:
                raise LockHeld(round(self.options.lock_timeout, 1), self.db.lock_holder())
            if not told:
                self._emit(
                    Notice(
                        "Another migration run holds the lock on this database; "
                        f"waiting up to {self.options.lock_timeout:g} s."
                    )
                )
                told = True
            time.sleep(min(0.2, self.options.lock_timeout - waited))

    def _release_lock(self) -> None:
        self.db.unlock()

    # -- a file without a transaction ------------------------------------------------------------

    def _apply_without_transaction(self, migration: Migration) -> AppliedMigration | Diagnosis:
        statements = migration.statements
        self._emit(MigrationStarted(migration.version, migration.name, len(statements), False))
        started = time.monotonic()
        for statement in statements:
            if self._cancelled:
                raise Interrupted()
            error = self.db.execute(statement.text)
            if error is not None:
                self.db.rollback()
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
        query = "BEGIN;\n" + RESET_SESSION + self._settings + record + ";\nCOMMIT;"
        try:
            error = self.db.execute(query)
        except Exception as exc:  # noqa: BLE001 - a lost answer is the runner's to settle; anything else is raised
            records = self._settle_unanswered(migration, exc)
            if migration.version in records:
                self._emit(Notice(f"{migration.filename} was applied and recorded (the reply was lost)."))
                return AppliedMigration(migration.version, migration.name, 0, reply_lost=True)
            self._emit(Notice(f"{migration.filename} ran, and was not recorded: recording it now."))
            try:
                error = self.db.execute(query)
            except BaseException:
                self.report.stop(migration, Outcome.UNKNOWN, "its recording got no answer, twice")
                raise
        if error is not None:
            self.db.rollback()
            return self._history_failure(migration, error)
        return AppliedMigration(migration.version, migration.name, int((time.monotonic() - started) * 1000))

    def _settle_unanswered(self, migration: Migration, error: Exception) -> dict[str, history.Record]:
        """A migration's COMMIT (here: the request recording a file run without a transaction)
        got no answer: the history as it now stands, read once the database is reached again (the
        runner's own way), or OutcomeUnknown. Raises ``error`` again when it is no lost answer."""
        raise error

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


def _reason(error: BaseException) -> str:
    if isinstance(error, (KeyboardInterrupt, Interrupted)):
        return INTERRUPTED
    if isinstance(error, WizardError):
        return error.message
    return str(error).strip() or type(error).__name__


def pending(catalog: Catalog, records: dict[str, history.Record]) -> list[Migration]:
    return [m for m in catalog.migrations if m.version not in records]
