"""Long locks on big tables."""

from __future__ import annotations

from wizard.core.catalog import Migration
from wizard.core.db import Connectable, database
from wizard.core.preflight.findings import WARNING, Finding

BIG_TABLE_ROWS = 100_000

_LOCKING = {
    "AlterTableStmt": "ALTER TABLE locks the table against reads and writes",
    "IndexStmt": "CREATE INDEX (without CONCURRENTLY) blocks writes to the table",
    "CreateTrigStmt": "CREATE TRIGGER blocks writes to the table",
    "ClusterStmt": "CLUSTER locks the table against reads and writes",
    "TruncateStmt": "TRUNCATE locks the table against reads and writes",
}


def any_big_table(rows: int = BIG_TABLE_ROWS) -> tuple[str, tuple[int]]:
    """The first read of ``big_table_locks`` (is any table that big?), to ask ahead (``db.batch``)."""
    return "SELECT EXISTS (SELECT 1 FROM pg_class WHERE relkind IN ('r', 'p', 'm') AND reltuples >= %s)", (rows,)


def big_table_locks(pending: list[Migration], conn: Connectable, rows: int = BIG_TABLE_ROWS) -> list[Finding]:
    """Statements that lock a table the database already holds many rows of: the lock lasts as long
    as the statement (a rewrite or an index build), and the application waits meanwhile."""
    db = database(conn)
    ((any_big,),) = db.query(*any_big_table(rows))
    if not any_big:
        return []  # a new or small database: no statement needs a look
    uses = []
    for migration in pending:
        for statement in migration.statements:
            reason = _LOCKING.get(statement.kind)
            if reason is None or (statement.kind == "IndexStmt" and statement.node.get("concurrent")):
                continue
            rel = statement.node.get("relation") or next(
                iter(r.get("RangeVar", {}) for r in statement.node.get("relations", [])), None
            )
            if rel and rel.get("relname"):
                name = f"{rel.get('schemaname') or 'public'}.{rel['relname']}"
                uses.append((migration, statement, name, reason))
    if not uses:
        return []
    names = sorted({u[2] for u in uses})
    sizes: dict[str, int] = dict(db.query(
        """SELECT n, c.reltuples::bigint FROM unnest(%s::text[]) AS n
             JOIN pg_class c ON c.oid = to_regclass(n) WHERE c.reltuples >= %s""",
        (names, rows),
    ))
    return [
        Finding(WARNING, "long-lock", migration.filename, statement.line,
                f"{reason} {name}, which holds about {sizes[name]:,} rows: the application waits while it "
                "runs; apply in a quiet moment")
        for migration, statement, name, reason in uses if name in sizes
    ]
