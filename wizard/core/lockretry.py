"""Migrations that wait for a lock another session holds (an application's open transaction).

A run sets ``lock_timeout`` (``RunOptions.table_lock_timeout``): a statement that waits longer for a
lock fails with 55P03, its migration rolls back (so the application's queries no longer queue
behind it), and the run tries it again after a short pause, a few times (``lock_attempts``). While
an attempt runs, a watcher looks from the side for what it waits for (``pg_blocking_pids`` of its
backend: over a connection of its own, or a request of its own over HTTPS) and tells it as a
Notice; the failure that ends the last attempt carries it (``Diagnosis.lock_wait``), and its advice
names the sessions and how to end them. ``statement_timeout`` is never set here: a long statement
of the migration itself is not cut."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import psycopg

from wizard.core.catalog import Migration
from wizard.core.diagnosis import Diagnosis
from wizard.core.events import AppliedMigration, Event, Notice
from wizard.core.lockwait import BLOCKERS_QUERY, LockWait, from_rows
from wizard.core.runoptions import RunOptions

if TYPE_CHECKING:
    from wizard.core.db.https import ApiDatabase

LOCK_NOT_AVAILABLE = "55P03"
BACKOFF = 1.0  # seconds before the second attempt; doubled for each one after


class DirectProbe:
    """Finds what a backend waits for, over a second connection to the same database (opened the
    first time it looks, closed with ``close``)."""

    def __init__(self, conn: psycopg.Connection[Any]):
        # read here, in the run's thread: the run's connection is busy once the watcher looks
        self._dsn = conn.info.dsn
        self._password = conn.info.password
        self._pid = conn.info.backend_pid
        self._side: psycopg.Connection[Any] | None = None

    def __call__(self) -> LockWait | None:
        if self._side is None:
            self._side = psycopg.connect(self._dsn, password=self._password or None, autocommit=True,
                                         connect_timeout=5, application_name="migration-wizard (lock watch)")
        rows = self._side.execute(BLOCKERS_QUERY.format(waiting=f"VALUES ({int(self._pid)})")).fetchall()
        return from_rows(rows)

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None


class ApiProbe:
    """Finds what this run's migration request waits for, in a request of its own: its backend is
    the one running a query that carries the database's mark."""

    def __init__(self, db: ApiDatabase):
        self._db = db

    def __call__(self) -> LockWait | None:
        mark = self._db.mark.replace("'", "''")
        waiting = f"SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE '%{mark}%'"
        return from_rows(self._db.query(BLOCKERS_QUERY.format(waiting=waiting)))

    def close(self) -> None:
        """Nothing stays open between requests."""


Probe = DirectProbe | ApiProbe


class Watch:
    """A thread that looks for a lock wait while an attempt runs, once the attempt has made no
    progress for ``first`` seconds, then every ``every`` seconds; a new wait is told at once."""

    def __init__(self, probe: Probe, tell: Callable[[LockWait], None], first: float, every: float):
        self._probe = probe
        self._tell = tell
        self._first = first
        self._every = every
        self._stop = threading.Event()
        self._last_progress = time.monotonic()
        self._last_look = 0.0
        self.seen: LockWait | None = None
        self._told: set[tuple[str | None, tuple[int, ...]]] = set()
        self._thread = threading.Thread(target=self._run, name="lock-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def progressed(self) -> None:
        self._last_progress = time.monotonic()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            now = time.monotonic()
            if now - self._last_progress < self._first or now - self._last_look < self._every:
                continue
            self._last_look = now
            try:
                found = self._probe()
            except Exception:  # noqa: BLE001 - looking is a courtesy: the run goes on without it
                continue
            if found is None or self._stop.is_set():
                continue
            self.seen = found
            if found.key not in self._told:
                self._told.add(found.key)
                self._tell(found)


class LockRetry:
    """The attempts of one migration (or one pipeline of them) against locks held by others."""

    def __init__(self, options: RunOptions, emit: Callable[[Event], None], every: float = 1.0):
        self.timeout = options.table_lock_timeout
        self.attempts = max(1, options.lock_attempts) if self.timeout is not None else 1
        self.attempt = 1
        self._emit = emit
        self._every = every
        self._watch: Watch | None = None
        self._seen: LockWait | None = None
        self.again = False  # the last failure is to be tried again

    @contextmanager
    def watching(self, probe: Probe) -> Iterator[None]:
        """Look for a lock wait while the block runs (nothing to look for without a timeout)."""
        self.again = False
        if self.timeout is None:
            yield
            return
        watch = self._watch = Watch(probe, self._waiting, first=min(1.0, self.timeout / 2), every=self._every)
        watch.start()
        try:
            yield
        finally:
            watch.stop()
            self._seen = watch.seen or self._seen
            self._watch = None

    def progressed(self) -> None:
        if self._watch is not None:
            self._watch.progressed()

    def _waiting(self, wait: LockWait) -> None:
        limit = f" (up to {self.timeout:g} s, attempt {self.attempt} of {self.attempts})" if self.timeout else ""
        self._emit(Notice(f"Waiting for {wait.what()}{limit}."))

    def retry(self, migration: Migration, diagnosis: Diagnosis, stopping: bool) -> bool:
        """After a failure: True when it was a lock wait to try again (said, and ``again`` set)."""
        seen = (self._watch.seen if self._watch is not None else None) or self._seen
        self._seen = seen
        self.again = (diagnosis.sqlstate == LOCK_NOT_AVAILABLE and self.timeout is not None and not stopping
                      and self.attempt < self.attempts)
        if not self.again:
            return False
        pause = self.pause_seconds
        what = seen.what() if seen is not None else "a lock another session holds"
        self._emit(Notice(f"{migration.filename} waited {self.timeout:g} s for {what}; it was rolled back and "
                          f"runs again in {pause:g} s (attempt {self.attempt + 1} of {self.attempts})."))
        return True

    @property
    def pause_seconds(self) -> float:
        return float(BACKOFF * 2 ** (self.attempt - 1))

    def pause(self, stopping: Callable[[], bool]) -> bool:
        """Wait before the next attempt; False when the run was asked to stop meanwhile."""
        deadline = time.monotonic() + self.pause_seconds
        self.attempt += 1
        while time.monotonic() < deadline:
            if stopping():
                return False
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        return not stopping()

    def explain(self, diagnosis: Diagnosis) -> Diagnosis:
        """A failure that ends the attempts: a lock timeout carries what it waited for."""
        if diagnosis.sqlstate != LOCK_NOT_AVAILABLE or self.timeout is None:
            return diagnosis
        seen = self._seen or LockWait(None)
        return replace(diagnosis, lock_wait=replace(seen, timeout=self.timeout, attempts=self.attempt))


def watched_once(options: RunOptions, emit: Callable[[Event], None], probe: Probe,
                 apply: Callable[[], AppliedMigration | Diagnosis]) -> AppliedMigration | Diagnosis:
    """One attempt, watched, never tried again: a file that runs without a transaction (the
    statements before the one that gave up stay applied, and a ``CREATE INDEX CONCURRENTLY`` that
    gave up leaves an invalid index behind: the file is the author's to make safe to run again)."""
    once = LockRetry(replace(options, lock_attempts=1), emit)
    with once.watching(probe):
        outcome = apply()
    return once.explain(outcome) if isinstance(outcome, Diagnosis) else outcome
