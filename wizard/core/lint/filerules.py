"""The rules read from the migration files alone: patterns of their parse trees.

Rules about a table's size (an index built without CONCURRENTLY, a constraint validated under an
exclusive lock) need to know which tables are big: ``big`` names them (schema-qualified, with their
row estimates), as a database tells; without one (offline) those rules stay silent.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from wizard.core.effects import DEFAULT_SCHEMA
from wizard.core.lint.model import LintFinding, rule
from wizard.core.sqlfile import Migration, Statement

Node = dict[str, Any]

# Functions whose value changes from row to row: a default calling one is worked out for each row,
# so ADD COLUMN with it rewrites the table (a constant or stable default does not).
VOLATILE_FUNCTIONS = frozenset({
    "random", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4", "uuidv4", "uuidv7",
    "clock_timestamp", "timeofday", "nextval", "txid_current", "random_normal", "gen_random_bytes",
})
# Target types a column changes to without a rewrite from the usual text types.
_NO_REWRITE_TYPES = frozenset({"text", "varchar", "citext"})


@dataclass(frozen=True)
class _At:
    """One statement of a migration, with what the rules need of its place in the folder."""

    migration: Migration
    statement: Statement
    created_here: frozenset[str]  # the tables this file created before the statement


def _table(rv: Node) -> str:
    return f"{rv.get('schemaname') or DEFAULT_SCHEMA}.{rv['relname']}"


def _walk(node: Any) -> Iterator[Node]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _calls(node: Any) -> set[str]:
    """The names (without schema) of the functions an expression calls."""
    names = set()
    for item in _walk(node):
        call = item.get("FuncCall")
        if isinstance(call, dict):
            parts = [p["String"]["sval"] for p in call.get("funcname", []) if "String" in p]
            if parts:
                names.add(parts[-1].lower())
    return names


def _commands(statement: Statement) -> list[Node]:
    if statement.kind != "AlterTableStmt" or statement.node.get("objtype", "OBJECT_TABLE") != "OBJECT_TABLE":
        return []
    return [c["AlterTableCmd"] for c in statement.node.get("cmds", []) if "AlterTableCmd" in c]


def _finding(rule_id: str, at: _At, obj: str, message: str) -> LintFinding:
    return LintFinding(rule(rule_id), obj, message, at.migration.filename, at.statement.line)


def _index_not_concurrently(at: _At, big: Mapping[str, int] | None) -> list[LintFinding]:
    node = at.statement.node
    if at.statement.kind != "IndexStmt" or node.get("concurrent") or big is None:
        return []
    table = _table(node["relation"])
    if table not in big or table in at.created_here:
        return []
    return [_finding("index_not_concurrently", at, f"table {table}",
                     f"CREATE INDEX blocks writes to {table} (about {big[table]:,} rows) until the index is built")]


def _volatile_default(at: _At, big: Mapping[str, int] | None) -> list[LintFinding]:
    out = []
    for cmd in _commands(at.statement):
        if cmd.get("subtype") != "AT_AddColumn":
            continue
        table = _table(at.statement.node["relation"])
        if table in at.created_here:
            continue
        column = cmd.get("def", {}).get("ColumnDef", {})
        for constraint in column.get("constraints", []):
            c = constraint.get("Constraint", {})
            volatile = sorted(_calls(c.get("raw_expr")) & VOLATILE_FUNCTIONS) if c.get("contype") == "CONSTR_DEFAULT" else []
            if volatile:
                out.append(_finding("volatile_default", at, f"column {table}.{column.get('colname')}",
                                    f"the default calls {volatile[0]}(), a value per row: adding the column rewrites "
                                    f"{table} under an exclusive lock"))
    return out


def _is_not_null_check(cmd: Node, column: str) -> bool:
    """ADD CONSTRAINT ... CHECK (<column> IS NOT NULL), validated (not NOT VALID)."""
    c = cmd.get("def", {}).get("Constraint", {})
    if cmd.get("subtype") != "AT_AddConstraint" or c.get("contype") != "CONSTR_CHECK":
        return False
    test = c.get("raw_expr", {}).get("NullTest", {})
    fields = test.get("arg", {}).get("ColumnRef", {}).get("fields", [])
    names = [f["String"]["sval"] for f in fields if "String" in f]
    return test.get("nulltesttype") == "IS_NOT_NULL" and names[-1:] == [column]


def _set_not_null(at: _At, big: Mapping[str, int] | None, checked: set[tuple[str, str]]) -> list[LintFinding]:
    out = []
    table = _table(at.statement.node["relation"]) if _commands(at.statement) else ""
    for cmd in _commands(at.statement):
        if cmd.get("subtype") != "AT_SetNotNull" or table in at.created_here:
            continue
        column = cmd.get("name", "")
        if (table, column) in checked or (big is not None and table not in big):
            continue
        out.append(_finding("set_not_null_without_check", at, f"column {table}.{column}",
                            f"SET NOT NULL reads every row of {table} under an exclusive lock, as no validated "
                            f"CHECK ({column} IS NOT NULL) exists"))
    return out


def _constraint_without_not_valid(at: _At, big: Mapping[str, int] | None) -> list[LintFinding]:
    if big is None:
        return []
    out = []
    for cmd in _commands(at.statement):
        c = cmd.get("def", {}).get("Constraint", {})
        if cmd.get("subtype") != "AT_AddConstraint" or c.get("contype") not in ("CONSTR_FOREIGN", "CONSTR_CHECK"):
            continue
        table = _table(at.statement.node["relation"])
        if c.get("skip_validation") or table not in big or table in at.created_here:
            continue
        what = "foreign key" if c["contype"] == "CONSTR_FOREIGN" else "check"
        out.append(_finding("constraint_without_not_valid", at, f"table {table}",
                            f"the {what} {c.get('conname') or ''} is checked against every row of {table} (about "
                            f"{big[table]:,}) while the table is locked".replace("  ", " ")))
    return out


def _column_type_rewrite(at: _At, big: Mapping[str, int] | None) -> list[LintFinding]:
    out = []
    for cmd in _commands(at.statement):
        if cmd.get("subtype") != "AT_AlterColumnType":
            continue
        table = _table(at.statement.node["relation"])
        if table in at.created_here or (big is not None and table not in big):
            continue
        column_def = cmd.get("def", {}).get("ColumnDef", {})
        type_name = column_def.get("typeName", {})
        names = [n["String"]["sval"] for n in type_name.get("names", []) if "String" in n]
        target = names[-1] if names else "?"
        if target in _NO_REWRITE_TYPES and not type_name.get("typmods") and not column_def.get("raw_default"):
            continue
        out.append(_finding("column_type_rewrite", at, f"column {table}.{cmd.get('name')}",
                            f"changing the type to {target} rewrites {table} and its indexes under an exclusive lock"))
    return out


def _drops(at: _At, big: Mapping[str, int] | None) -> list[LintFinding]:
    statement = at.statement
    out = []
    if statement.kind == "DropStmt" and statement.node.get("removeType") == "OBJECT_TABLE":
        for item in statement.node.get("objects", []):
            names = [n["String"]["sval"] for n in item.get("List", {}).get("items", []) if "String" in n]
            table = ".".join(names if len(names) > 1 else [DEFAULT_SCHEMA, *names])
            if table not in at.created_here:
                out.append(_finding("drop_table", at, f"table {table}", f"DROP TABLE {table} deletes its rows"))
    for cmd in _commands(statement):
        if cmd.get("subtype") == "AT_DropColumn":
            table = _table(statement.node["relation"])
            if table not in at.created_here:
                out.append(_finding("drop_column", at, f"column {table}.{cmd.get('name')}",
                                    f"DROP COLUMN {cmd.get('name')} deletes its values in every row of {table}"))
    return out


_RULES: list[Callable[[_At, Mapping[str, int] | None], list[LintFinding]]] = [
    _index_not_concurrently, _volatile_default, _constraint_without_not_valid, _column_type_rewrite, _drops,
]


def check(migrations: list[Migration], big: Mapping[str, int] | None = None,
          pending: Collection[str] | None = None) -> list[LintFinding]:
    """Every file rule's findings in the migrations, in file order. ``big``: the tables a database
    holds many rows of (None: not known, offline), for the migrations in ``pending`` (versions;
    None: all of them); the others are read as offline."""
    out: list[LintFinding] = []
    checked: set[tuple[str, str]] = set()  # (table, column) with a validated IS NOT NULL check
    not_valid: dict[tuple[str, str], str] = {}  # (table, constraint) NOT VALID: the column it checks
    for migration in migrations:
        created: set[str] = set()
        size = big if pending is None or migration.version in pending else None
        for statement in migration.statements:
            at = _At(migration, statement, frozenset(created))
            for each in _RULES:
                out.extend(each(at, size))
            out.extend(_set_not_null(at, size, checked))
            if statement.kind == "CreateStmt":
                created.add(_table(statement.node["relation"]))
            for cmd in _commands(statement):
                table = _table(statement.node["relation"])
                column = _checked_column(cmd)
                constraint = cmd.get("def", {}).get("Constraint", {})
                if column and constraint.get("skip_validation"):
                    not_valid[(table, constraint.get("conname", ""))] = column
                elif column:
                    checked.add((table, column))
                elif cmd.get("subtype") == "AT_ValidateConstraint" and (table, cmd.get("name", "")) in not_valid:
                    checked.add((table, not_valid[(table, cmd.get("name", ""))]))
    return out


def _checked_column(cmd: Node) -> str | None:
    c = cmd.get("def", {}).get("Constraint", {})
    if cmd.get("subtype") != "AT_AddConstraint" or c.get("contype") != "CONSTR_CHECK":
        return None
    fields = c.get("raw_expr", {}).get("NullTest", {}).get("arg", {}).get("ColumnRef", {}).get("fields", [])
    names = [f["String"]["sval"] for f in fields if "String" in f]
    return names[-1] if names and _is_not_null_check(cmd, names[-1]) else None
