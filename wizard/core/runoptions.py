"""The options of a migration run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RunOptions:
    lock_timeout: float = 10.0  # seconds to wait for another run's lock
    statement_timeout: float | None = None  # seconds; the server's statement_timeout per statement
    table_lock_timeout: float | None = None  # seconds; the server's lock_timeout per statement
    compat: bool = True  # make a plain PostgreSQL Supabase-shaped first (compat.sql)
    method: str = "automated"
