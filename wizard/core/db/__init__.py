"""The engine's databases: one protocol (``protocol.Database``), two executors as siblings:
``direct`` (psycopg; its libpq pipeline in ``wire``) and ``https`` (the Management API)."""

from __future__ import annotations

from typing import Any, TypeAlias

import psycopg

from wizard.core.db.direct import DirectDatabase
from wizard.core.db.protocol import Database, Params, Query, Row

# What the engine's functions accept: a Database, or a psycopg connection (made a DirectDatabase).
Connectable: TypeAlias = "Database | psycopg.Connection[Any]"

__all__ = ["Connectable", "Database", "DirectDatabase", "Params", "Query", "Row", "database"]


def database(conn: Connectable) -> Database:
    """The Database for a connection: a psycopg connection is wrapped, a Database is itself."""
    if isinstance(conn, psycopg.Connection):
        return DirectDatabase(conn)
    return conn
