"""The engine's databases: one protocol (``protocol.Database``), two executors as siblings:
``direct`` (psycopg; its libpq pipeline in ``wire``) and ``https`` (the Management API).

Importing this package loads neither executor nor psycopg: the folder's own checks (``plan
--offline``, the manual export) name these types without connecting to anything."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from wizard.core.db.protocol import Database, Params, Query, Row

if TYPE_CHECKING:
    import psycopg

# What the engine's functions accept: a Database, or a psycopg connection (made a DirectDatabase).
Connectable: TypeAlias = "Database | psycopg.Connection[Any]"

__all__ = ["Connectable", "Database", "Params", "Query", "Row", "database"]


def database(conn: Connectable) -> Database:
    """The Database for a connection: a psycopg connection is wrapped, a Database is itself."""
    import psycopg

    if isinstance(conn, psycopg.Connection):
        from wizard.core.db.direct import DirectDatabase

        return DirectDatabase(conn)
    return conn
