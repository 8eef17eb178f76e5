"""Static checks of the migration files, before any SQL runs.

Findings have a severity: ``error`` (it will certainly fail, or it would break the wizard's
guarantees: nothing is applied while there is one), ``warning`` (it can hurt: read it before you go
on) or ``info``.
"""

from __future__ import annotations

from dataclasses import dataclass

from wizard.core.catalog import Catalog, Migration, Problem, Statement, location

ERROR = "error"
WARNING = "warning"
INFO = "info"


@dataclass(frozen=True)
class Finding:
    severity: str
    code: str
    file: str
    line: int | None
    message: str
    column: int | None = None

    def to_json(self) -> dict:
        return {
            "severity": self.severity,
            "code": self.code,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }

    def location(self) -> str:
        return location(self.file, self.line, self.column)


def _from_problem(problem: Problem, severity: str = ERROR) -> Finding:
    return Finding(severity, problem.code, problem.file, problem.line, problem.message, problem.column)


def _outside_transaction(statement: Statement) -> str | None:
    """What a statement is, when PostgreSQL refuses to run it inside a transaction block."""
    kind = statement.kind
    if kind not in _MAYBE_OUTSIDE_TRANSACTION:
        return None
    node = statement.node
    if kind == "IndexStmt" and node.get("concurrent"):
        return "CREATE INDEX CONCURRENTLY"
    if kind == "DropStmt" and node.get("concurrent"):
        return "DROP INDEX CONCURRENTLY"
    if kind == "ReindexStmt" and any(
        p.get("DefElem", {}).get("defname") == "concurrently" for p in node.get("params", [])
    ):
        return "REINDEX CONCURRENTLY"
    if kind == "VacuumStmt" and node.get("is_vacuumcmd"):
        return "VACUUM"
    if kind == "DiscardStmt" and node.get("target") == "DISCARD_ALL":
        return "DISCARD ALL"
    return _NEVER_IN_TRANSACTION.get(kind)


_NEVER_IN_TRANSACTION = {
    "CreatedbStmt": "CREATE DATABASE",
    "DropdbStmt": "DROP DATABASE",
    "AlterSystemStmt": "ALTER SYSTEM",
    "CreateTableSpaceStmt": "CREATE TABLESPACE",
    "DropTableSpaceStmt": "DROP TABLESPACE",
    "CreateSubscriptionStmt": "CREATE SUBSCRIPTION",
    "DropSubscriptionStmt": "DROP SUBSCRIPTION",
}
# Statement kinds worth a look at their parse tree (only those are decoded from the parse cache).
_MAYBE_OUTSIDE_TRANSACTION = {"IndexStmt", "DropStmt", "ReindexStmt", "VacuumStmt", "DiscardStmt", *_NEVER_IN_TRANSACTION}


def _destructive(statement: Statement) -> str | None:
    kind = statement.kind
    if kind not in ("DropStmt", "TruncateStmt", "AlterTableStmt"):
        return None
    node = statement.node
    if kind == "DropStmt" and node.get("removeType") in ("OBJECT_TABLE", "OBJECT_SCHEMA"):
        return "DROP " + node["removeType"].removeprefix("OBJECT_")
    if kind == "TruncateStmt":
        return "TRUNCATE"
    if kind == "AlterTableStmt":
        for cmd in node.get("cmds", []):
            if cmd.get("AlterTableCmd", {}).get("subtype") == "AT_DropColumn":
                return "DROP COLUMN"
    return None


def check_migration(migration: Migration) -> list[Finding]:
    findings = []
    name = migration.filename
    boundaries = [s for s in migration.statements if s.is_transaction_control]
    for statement in migration.statements:
        what = _outside_transaction(statement)
        if what and not migration.no_transaction:
            findings.append(
                Finding(
                    ERROR,
                    "needs-no-transaction",
                    name,
                    statement.line,
                    f"{what} cannot run inside a transaction: make the file's first line "
                    "'-- wizard:no-transaction' (it then runs statement by statement, without the "
                    "all-or-nothing guarantee), or move the statement to a file of its own",
                )
            )
        if statement.kind == "TransactionStmt" and not statement.is_transaction_control and not migration.no_transaction:
            kind = statement.node.get("kind", "")
            if kind in ("TRANS_STMT_ROLLBACK", "TRANS_STMT_PREPARE", "TRANS_STMT_COMMIT_PREPARED",
                        "TRANS_STMT_ROLLBACK_PREPARED"):
                findings.append(
                    Finding(
                        ERROR,
                        "transaction-control",
                        name,
                        statement.line,
                        "the file ends or discards its own transaction ("
                        + statement.text.split()[0].upper()
                        + "): the wizard runs each file in one transaction; remove the statement",
                    )
                )
        if statement.kind == "CopyStmt" and statement.node.get("is_from") and not statement.node.get("filename"):
            findings.append(
                Finding(
                    ERROR,
                    "copy-from-stdin",
                    name,
                    statement.line,
                    "COPY ... FROM STDIN needs psql to send the data; use INSERT statements instead",
                )
            )
        if statement.kind == "CopyStmt" and not statement.node.get("is_from") and not statement.node.get("filename"):
            findings.append(
                Finding(
                    ERROR,
                    "copy-to-stdout",
                    name,
                    statement.line,
                    "COPY ... TO STDOUT sends rows to psql's screen, and a migration has no screen: "
                    "remove the statement",
                )
            )
        destructive = _destructive(statement)
        if destructive:
            findings.append(
                Finding(
                    WARNING,
                    "destructive",
                    name,
                    statement.line,
                    f"{destructive} destroys data: check you have a backup before applying",
                )
            )
        if statement.kind == "AlterEnumStmt" and statement.node.get("newVal") and not migration.no_transaction:
            findings.append(
                Finding(
                    WARNING,
                    "enum-value-in-transaction",
                    name,
                    statement.line,
                    "a value added to an enum cannot be used in the same transaction: "
                    "use it in a later migration",
                )
            )
    if boundaries and not migration.no_transaction:
        findings.append(
            Finding(
                INFO,
                "own-transaction",
                name,
                boundaries[0].line,
                "the file's own BEGIN/COMMIT are left out: the wizard runs the whole file in one transaction",
            )
        )
    return findings


def check(catalog: Catalog, migrations: list[Migration] | None = None) -> list[Finding]:
    """Every finding for the folder: its problems first, then each (pending) migration's."""
    findings = [_from_problem(p) for p in catalog.problems]
    findings += [_from_problem(w, WARNING) for w in catalog.warnings]
    for migration in catalog.migrations if migrations is None else migrations:
        if migration.statements:
            findings += check_migration(migration)
    return findings


def blocking(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == ERROR]


# -- dependencies: what a statement needs that nothing before it creates -------------------------

_EXISTS_SQL = """
WITH wanted AS (
    SELECT * FROM unnest(%(kinds)s::text[], %(schemas)s::text[], %(names)s::text[], %(tables)s::text[])
        AS w(kind, schema, name, tbl)
)
SELECT w.kind, w.schema, w.name, w.tbl,
       CASE w.kind
         WHEN 'relation' THEN to_regclass(coalesce(quote_ident(w.schema) || '.', '') || quote_ident(w.name)) IS NOT NULL
         WHEN 'type' THEN to_regtype(coalesce(quote_ident(w.schema) || '.', '') || quote_ident(w.name)) IS NOT NULL
         WHEN 'function' THEN EXISTS (
             SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE p.proname = w.name
                AND (n.nspname = w.schema OR (w.schema IS NULL AND n.nspname = ANY (current_schemas(true)))))
         WHEN 'column' THEN EXISTS (
             SELECT 1 FROM pg_attribute a
              WHERE a.attrelid = to_regclass(w.tbl) AND a.attname = w.name AND a.attnum > 0 AND NOT a.attisdropped)
         WHEN 'schema' THEN to_regnamespace(quote_ident(w.name)) IS NOT NULL
       END
  FROM wanted w
"""

_RELATION_KINDS = frozenset(("table", "view", "sequence", "index"))


def _dependency_key(kind: str, schema: str | None, name: str, table: str | None) -> tuple:
    """How an object is looked up: relations of every kind share one name space."""
    if kind in _RELATION_KINDS:
        return ("relation", schema or "public", name, None)
    if kind == "column":
        return ("column", None, name, table)
    if kind == "function" or kind == "type":
        return (kind, schema, name, None)
    return (kind, schema, name, table)


def _compat_provides(compat_will_run) -> frozenset:
    """What the Supabase compatibility step gives the migrations, as dependency keys: everything its
    SQL creates (compat.manifest). ``compat_will_run`` is the step's state on the database
    (compat.inspect), or True when not known."""
    if not compat_will_run or not getattr(compat_will_run, "will_run", True):
        return frozenset()  # it will not run: what it made is in the database, or nothing is
    from wizard.core import compat

    return frozenset(_dependency_key(*obj) for obj in compat.manifest().provides)


def dependencies(
    catalog: Catalog, pending: list[Migration], conn, compat_will_run=False
) -> list[Finding]:
    """Uses of a table, column, function or type that neither an earlier statement of the pending
    migrations creates nor the database has. One finding per file and object. ``compat_will_run``:
    the compatibility step's state on this database (compat.inspect; True when not known, False or
    None when it will not run): what it creates counts as there."""
    from wizard.core.objects import Obj, effects_data

    provided = _compat_provides(compat_will_run)
    shaping = bool(compat_will_run) and not getattr(compat_will_run, "supabase", False)  # the step runs, or ran

    # Effects as plain tuples (see objects.effects_data): this runs before every apply, over
    # every statement of the folder.
    created_by: dict[tuple, Migration] = {}  # every creation in the folder, for "created later"
    for migration in catalog.migrations:
        for statement in migration.statements:
            for obj in effects_data(statement)[0]:
                created_by.setdefault(_dependency_key(*obj), migration)

    state: dict[tuple, bool] = {}  # what the pending statements so far created (True) or dropped (False)
    candidates: list[tuple[tuple, Migration, int, tuple, tuple | None]] = []
    for migration in pending:
        for statement in migration.statements:
            creates, drops, uses = effects_data(statement)
            for obj in creates:
                state[_dependency_key(*obj)] = True
            for kind, schema, name, table, offset in uses:
                key = _dependency_key(kind, schema, name, table)
                lookup = key
                if key[0] == "relation" and schema is None:
                    lookup = ("relation", None, name, None)  # the server resolves it by search_path
                if state.get(key) or (kind == "function" and state.get(("function", "public", name, None))):
                    continue
                if kind == "type" and state.get(("type", "public", name, None)):
                    continue
                if state.get(key) is None and key in provided:
                    continue
                parent = None
                if kind == "column":
                    parent_schema, _, parent_table = table.rpartition(".")
                    parent = ("relation", parent_schema or "public", parent_table, None)
                    if state.get(parent) is not None and not state.get(parent):
                        continue  # the table itself was dropped: its use is reported, not its columns
                    if state.get(parent):
                        parent = None
                line = migration.line_at_byte(offset) if offset else statement.line
                candidates.append((lookup, migration, line, (kind, schema, name, table), parent))
            for obj in drops:
                state[_dependency_key(*obj)] = False

    if not candidates:
        return []
    unique = list(dict.fromkeys([c[0] for c in candidates] + [c[4] for c in candidates if c[4]]))
    rows = conn.execute(
        _EXISTS_SQL,
        {
            "kinds": [k[0] for k in unique],
            "schemas": [k[1] for k in unique],
            "names": [k[2] for k in unique],
            "tables": [k[3] for k in unique],
        },
    ).fetchall()
    present = {(r[0], r[1], r[2], r[3]): bool(r[4]) for r in rows}

    extension_functions = None  # what the compatibility step's extensions hold, when a use needs it
    findings, seen = [], set()
    for lookup, migration, line, used, parent in candidates:
        if present.get(lookup) or (migration.filename, used) in seen:
            continue
        if used[0] == "function" and used[1] in (None, "extensions") and provided and getattr(
            compat_will_run, "extensions", None
        ):
            if extension_functions is None:
                from wizard.core import compat

                extension_functions = compat.extension_functions(conn, compat_will_run.extensions)
            if used[2] in extension_functions:
                continue  # the step installs the extension that has it, into a schema on the search_path
        if parent is not None and not present.get(parent):
            continue  # the column's table is missing: that is the finding
        seen.add((migration.filename, used))
        described = Obj(*used).describe()
        key = lookup if lookup[1] is not None or lookup[0] != "relation" else ("relation", "public", lookup[2], None)
        later = created_by.get(key)
        if later is not None and later.filename > migration.filename:
            findings.append(Finding(
                ERROR, "wrong-order", migration.filename, line,
                f"uses {described}, which {later.filename} creates later: the files are out of order "
                f"(give {later.filename} a version before {migration.version}, or move the statement)",
            ))
        elif lookup[:3] == ("relation", "auth", "users") or lookup[1] in ("auth", "storage", "extensions"):
            findings.append(Finding(
                ERROR, "supabase-only", migration.filename, line,
                f"uses {described}, which exists on Supabase but not on this database "
                + ("(the server has no extension that provides it, for the compatibility step to install)"
                   if shaping and lookup[1] == "extensions" else
                   "(the compatibility step makes Supabase's main auth and storage tables, not this)" if shaping else
                   "(plain PostgreSQL has no auth, storage or extensions schemas of Supabase's: "
                   "apply without --no-compat to have them made)"),
            ))
        else:
            findings.append(Finding(
                ERROR, "missing-dependency", migration.filename, line,
                f"uses {described}, which no earlier migration creates and the database does not have "
                "(is a migration missing, or was the object made by hand elsewhere?)",
            ))
    return findings


# -- long locks on big tables --------------------------------------------------------------------

BIG_TABLE_ROWS = 100_000

_LOCKING = {
    "AlterTableStmt": "ALTER TABLE locks the table against reads and writes",
    "IndexStmt": "CREATE INDEX (without CONCURRENTLY) blocks writes to the table",
    "CreateTrigStmt": "CREATE TRIGGER blocks writes to the table",
    "ClusterStmt": "CLUSTER locks the table against reads and writes",
    "TruncateStmt": "TRUNCATE locks the table against reads and writes",
}


def big_table_locks(pending: list[Migration], conn, rows: int = BIG_TABLE_ROWS) -> list[Finding]:
    """Statements that lock a table the database already holds many rows of: the lock lasts as long
    as the statement (a rewrite or an index build), and the application waits meanwhile."""
    (any_big,) = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_class WHERE relkind IN ('r', 'p', 'm') AND reltuples >= %s)", (rows,)
    ).fetchone()
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
    sizes = dict(conn.execute(
        """SELECT n, c.reltuples::bigint FROM unnest(%s::text[]) AS n
             JOIN pg_class c ON c.oid = to_regclass(n) WHERE c.reltuples >= %s""",
        (names, rows),
    ).fetchall())
    return [
        Finding(WARNING, "long-lock", migration.filename, statement.line,
                f"{reason} {name}, which holds about {sizes[name]:,} rows: the application waits while it "
                "runs; apply in a quiet moment")
        for migration, statement, name, reason in uses if name in sizes
    ]
