"""The options of a migration run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RunOptions:
    lock_timeout: float = 10.0  # seconds to wait for another run's lock
    statement_timeout: float | None = None  # seconds; the server's statement_timeout per statement
    # seconds a statement of a migration may wait for a lock another session holds (the server's
    # lock_timeout; None: as long as that session keeps it); past it the migration rolls back and
    # is tried again, ``lock_attempts`` times in all
    table_lock_timeout: float | None = 5.0
    lock_attempts: int = 3
    compat: bool = True  # make a plain PostgreSQL Supabase-shaped first (compat.sql)
    method: str = "automated"
    # over HTTPS, up to this many KiB of SQL go in one request, each migration in its own
    # transaction (0: one migration per request); see apipack
    pack_kib: int = 256
