"""The runner over the Management API: the same rules, events, history and diagnosis as over a
session; one request per migration, holding ``BEGIN``, a transaction-level advisory lock (which
also keeps out a run over a database connection), the file's text, its history rows and ``COMMIT``.
The run lock is the database's lease; the history's primary key refuses a second application of a
version all the same."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import psycopg

from wizard.core import history
from wizard.core.catalog import Catalog, Migration, Statement
from wizard.core.db.direct import LOCK_KEY
from wizard.core.db.https import TIMEOUT, ApiDatabase, ApiError, ApiServerError, ApiSqlError, statement_naming
from wizard.core.diagnosis import Diagnosis, diagnose
from wizard.core.events import AppliedMigration, Event, MigrationStarted, Notice, StatementDone
from wizard.core.runbase import BaseRunner, Interrupted
from wizard.core.runoptions import RunOptions


class ApiRunner(BaseRunner):
    """Applies the pending migrations of a catalog through the Management API."""

    db: ApiDatabase

    def __init__(self, db: ApiDatabase, catalog: Catalog, options: RunOptions | None = None,
                 on_event: Callable[[Event], None] | None = None):
        super().__init__(db, catalog, options, on_event)
        self._prefix = ""

    def _record_sql(self, migration: Migration, statements: list[str], method: str) -> str:
        return history.record_sql(migration, statements, "https" if method == "automated" else method)

    def _apply_in_transaction(self, migration: Migration) -> AppliedMigration | Diagnosis:
        if self._cancelled:
            raise Interrupted()
        statements = migration.executable_statements
        self._emit(MigrationStarted(migration.version, migration.name, len(statements), True))
        # Everything before the file's text stays on its first line, so the server's LINE n is the file's.
        prefix = f"BEGIN; {self.db.mark} {self._settings}SELECT pg_advisory_xact_lock({LOCK_KEY}); "
        query = (prefix + migration.body_for_transaction + "\n;\n"
                 + "RESET ALL;\n" + self._record_sql(migration, [s.text for s in statements], "https") + ";\nCOMMIT;")
        self._prefix = prefix
        started = time.monotonic()
        try:
            self.db.request(query)
        except ApiSqlError as exc:
            error = exc.error
            if self._cancelled and error.sqlstate == "57014":
                raise Interrupted() from None
            if error.sqlstate == "23505" and "schema_migrations_pkey" in error.message:
                # another run recorded this version between our reading of the history and our
                # commit: the primary key refused ours, and our transaction rolled back
                self._emit(Notice(f"{migration.filename} was applied by another run meanwhile; nothing of this "
                                  "run's attempt was kept."))
                return AppliedMigration(migration.version, migration.name, 0)
            return self._diagnose(migration, error)
        except ApiError as exc:
            if exc.kind == TIMEOUT:
                return self._unknown_outcome(migration, exc)
            raise
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

    def _unknown_outcome(self, migration: Migration, exc: ApiError) -> AppliedMigration:
        """The request timed out: the migration may or may not have committed. Ask the history."""
        try:
            applied = migration.version in history.read(self.db)
        except (ApiError, psycopg.Error):
            applied = False  # the history cannot be read: the outcome stays unknown
        if applied:
            self._emit(Notice(f"{migration.filename}: the answer timed out, but the history shows it committed."))
            return AppliedMigration(migration.version, migration.name, 0)
        raise exc
