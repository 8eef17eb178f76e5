"""Packing migrations into requests over the Management API, which allows 60 requests a minute.

A pack is several migrations in one request, each keeping its own transaction: ``BEGIN``, the run
lock, the run's settings, the file, ``RESET ALL``, its history rows, ``COMMIT``; then the next
one. PostgreSQL runs a query string in order and stops at the first error, so the migrations of a
pack before a failing one have committed, the failing one rolled back, and those after it never
ran: the history says which is which. A pack holds up to a size budget of SQL
(``RunOptions.pack_kib``, 256 KiB by default; 0 packs nothing) and never a file that runs without a
transaction (it runs on its own, as always). Between two migrations of a pack the session's role
and authorization are reset, so that no file's ``SET ROLE`` reaches the next one (``RESET ALL``,
within each transaction, resets the other settings).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wizard.core import history
from wizard.core.catalog import Migration
from wizard.core.db.bound import literal
from wizard.core.db.protocol import LOCK_KEY

if TYPE_CHECKING:
    from wizard.core.db.apitext import ApiServerError

DEFAULT_KIB = 256

# What the run lock's SQL raises (``run_lock_sql``): the lock kept past the timeout by a
# run over a database connection; a version another run recorded meanwhile (the message names it).
RUN_LOCK_HELD = "migration-wizard: another run holds the migration lock"
ALREADY_APPLIED = "migration-wizard: applied by another run meanwhile"

# After each COMMIT of a pack but its last: what RESET ALL leaves as a file set it.
BETWEEN = "RESET SESSION AUTHORIZATION;\nRESET ROLE;\n"


def size(migration: Migration) -> int:
    """The bytes of SQL a migration adds to a request."""
    return len(migration.body_for_transaction.encode("utf-8"))


def next_pack(todo: Sequence[Migration], kib: int) -> list[Migration]:
    """The migrations at the head of ``todo`` that go in the next request: one when packing is off
    or the first runs without a transaction; else as many transactional ones as fit ``kib`` KiB
    (at least one, however big)."""
    if not todo:
        return []
    first = todo[0]
    if kib <= 0 or first.no_transaction:
        return [first]
    budget = kib * 1024
    pack, used = [first], size(first)
    for migration in todo[1:]:
        if migration.no_transaction or used + size(migration) > budget:
            break
        pack.append(migration)
        used += size(migration)
    return pack


def packs(todo: Sequence[Migration], kib: int) -> list[list[Migration]]:
    """Every request's migrations, in order, as a run sends them when nothing fails."""
    result, rest = [], list(todo)
    while rest:
        pack = next_pack(rest, kib)
        result.append(pack)
        rest = rest[len(pack):]
    return result


@dataclass(frozen=True)
class Budget:
    """How many requests a run's migrations take when nothing fails (a file without a transaction
    takes one per statement, and one for its history rows)."""

    requests: int
    migrations: int
    packed: int  # requests holding more than one migration

    def __str__(self) -> str:
        plural = "" if self.requests == 1 else "s"
        return f"{self.requests} request{plural} for {self.migrations} migration{'' if self.migrations == 1 else 's'}"

    def to_json(self) -> dict[str, int]:
        return {"requests": self.requests, "migrations": self.migrations, "packed": self.packed}


def budget(todo: Sequence[Migration], kib: int) -> Budget:
    planned = packs(todo, kib)
    requests = sum(len(p[0].statements) + 1 if p[0].no_transaction else 1 for p in planned)
    return Budget(requests, len(todo), sum(1 for p in planned if len(p) > 1))


def recorded_query(pack: Sequence[Migration]) -> str:
    """The last statement of a pack's request: the version and server-side duration of each of its
    migrations (the answer a request returns is the rows of its last statement)."""
    versions = ", ".join(literal(m.version) for m in pack)
    return (f"SELECT version, duration_ms FROM {history.META_TABLE} WHERE version IN ({versions})")


def committed_query(pack: Sequence[Migration]) -> str:
    """Which of a pack's migrations are in the history (read once its request ended)."""
    versions = ", ".join(literal(m.version) for m in pack)
    return (f"SELECT m.version, w.duration_ms FROM {history.TABLE} m LEFT JOIN {history.META_TABLE} w USING (version) "
            f"WHERE m.version IN ({versions})")


def recorded_elsewhere(error: ApiServerError) -> str | None:
    """The version another run recorded meanwhile, when that is what stopped a pack."""
    if ALREADY_APPLIED in error.message:
        found = re.search(r"\(version ([^)]+)\)", error.message)
        return found.group(1) if found else None
    if error.sqlstate == "23505" and "schema_migrations_pkey" in error.message:
        found = re.search(r"Key \(version\)=\(([^)]+)\)", error.detail or "")
        return found.group(1) if found else None
    return None


def run_lock_sql(lock_timeout: float, version: str | None = None) -> str:
    """One line of SQL that takes the run lock for the transaction, waiting for it up to the run's
    lock timeout (not the migration's table lock timeout, which it leaves as it was), then, for a
    migration, refuses one that another run recorded meanwhile."""
    wait = max(1, int(lock_timeout * 1000))
    applied = ""
    if version is not None:
        applied = (f" IF EXISTS (SELECT FROM {history.TABLE} WHERE version = {literal(version)}) THEN "
                   f"RAISE EXCEPTION '{ALREADY_APPLIED} (version %)', {literal(version)}; END IF;")
    return ("DO $wizard_lock$ DECLARE kept text := current_setting('lock_timeout'); BEGIN "
            f"IF NOT pg_try_advisory_xact_lock({LOCK_KEY}) THEN "
            f"PERFORM set_config('lock_timeout', '{wait}', true); "
            f"BEGIN PERFORM pg_advisory_xact_lock({LOCK_KEY}); EXCEPTION WHEN lock_not_available THEN "
            f"RAISE EXCEPTION '{RUN_LOCK_HELD}' USING ERRCODE = 'lock_not_available'; END; "
            "PERFORM set_config('lock_timeout', kept, true); END IF;"
            f"{applied} END $wizard_lock$;")
