"""The rules asked of a database: each rule's SQL (in ``rules.toml``) over the catalog, all of them
in one read-only query that is rolled back, and each object found traced back to the statement of
the migration folder that made it, when there is one."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wizard.core.db import Database
from wizard.core.effects import DEFAULT_SCHEMA
from wizard.core.lint.model import LintFinding, Rule, Scope, rules
from wizard.core.sqlfile import Migration, Statement

# The schemas Supabase's Data API exposes by default.
EXPOSED_SCHEMAS = ("public",)
# The schemas Supabase (or PostgreSQL) manages: their objects are not the migrations' to fix.
MANAGED_SCHEMAS = (
    "auth", "storage", "extensions", "graphql", "graphql_public", "realtime", "supabase_functions",
    "supabase_migrations", "supabase_wizard", "vault", "pgsodium", "pgsodium_masks", "net", "cron", "pgbouncer",
    "pgtle", "_realtime", "_analytics", "information_schema", "pg_catalog", "topology", "tiger",
)
# What counts as a big table: as many rows (estimated: pg_class.reltuples) or pages (8 kB each).
BIG_TABLE_ROWS = 100_000
BIG_TABLE_PAGES = 12_800  # 100 MiB

_PER_ROW = {("auth", "uid"), ("auth", "jwt"), ("auth", "role"), ("auth", "email"), (None, "current_setting"),
            ("pg_catalog", "current_setting")}


@dataclass(frozen=True)
class Found:
    """One row of a database rule."""

    schema: str
    name: str
    kind: str
    table: str | None
    detail: str

    def describe(self) -> str:
        if self.kind == "policy" and ", " in self.name:
            return f"policies {self.name} on {self.table}"
        if self.kind in ("policy", "constraint", "index") and self.table:
            return f"{self.kind} {self.name} on {self.table}"
        if self.kind == "extension":
            return f"extension {self.name}"
        return f"{self.kind} {self.schema}.{self.name}"


def database_rules() -> list[Rule]:
    return [r for r in rules().values() if r.scope is Scope.DATABASE and r.sql]


def rules_read(exposed: Sequence[str] = EXPOSED_SCHEMAS,
               managed: Sequence[str] = MANAGED_SCHEMAS) -> tuple[str, dict[str, list[str]]]:
    """The one read of ``run``: every database rule's query, and their parameters."""
    sql = "\n UNION ALL \n".join(
        f"SELECT '{r.id}'::text, q.* FROM ({(r.sql or '').strip()}) AS q(schema, name, kind, tbl, detail)"
        for r in database_rules()
    )
    return sql, {"exposed": list(exposed), "managed": list(managed)}


def run(db: Database, exposed: Sequence[str] = EXPOSED_SCHEMAS,
        managed: Sequence[str] = MANAGED_SCHEMAS) -> list[tuple[Rule, Found]]:
    """Every database rule's rows, read in a read-only transaction that is rolled back."""
    by_id = {r.id: r for r in database_rules()}
    rows = db.rolled_back(*rules_read(exposed, managed), read_only=True)
    out = []
    for rule_id, schema, name, kind, table, detail in rows:
        found = Found(str(schema), str(name), str(kind), table, str(detail or ""))
        if rule_id == "auth_rls_initplan":
            calls = per_row_calls(found.detail)
            if not calls:
                continue
            found = Found(found.schema, found.name, found.kind, found.table,
                          f"the policy calls {', '.join(calls)} once per row, not once per statement")
        out.append((by_id[rule_id], found))
    return out


def big_tables_read(rows: int = BIG_TABLE_ROWS, pages: int = BIG_TABLE_PAGES) -> tuple[str, tuple[int, int]]:
    """The one read of ``big_tables``, and its parameters."""
    return ("""SELECT n.nspname || '.' || c.relname, greatest(c.reltuples, 0)::bigint
             FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'm') AND (greatest(c.reltuples, 0) >= %s OR c.relpages >= %s)
              AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'""", (rows, pages))


def big_tables(db: Database, rows: int = BIG_TABLE_ROWS, pages: int = BIG_TABLE_PAGES) -> dict[str, int]:
    """The tables a database holds many rows or pages of, schema-qualified, with their row estimate."""
    found = db.rolled_back(*big_tables_read(rows, pages), read_only=True)
    return {str(name): int(count) for name, count in found}


def per_row_calls(expression: str) -> list[str]:
    """The calls of auth.uid(), auth.jwt(), auth.role(), auth.email() or current_setting() in a
    policy's expression that are not inside a sub-select (so run once per row)."""
    from pglast import parser

    try:
        tree = json.loads(parser.parse_sql_json(f"SELECT {expression}"))
    except parser.ParseError:
        return []
    found: list[str] = []
    _per_row(tree, False, found)
    return sorted(set(found))


def _per_row(node: Any, in_select: bool, found: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _per_row(item, in_select, found)
        return
    if not isinstance(node, dict):
        return
    if "SubLink" in node:
        _per_row(node["SubLink"], True, found)
        return
    call = node.get("FuncCall")
    if isinstance(call, dict) and not in_select:
        parts = [p["String"]["sval"] for p in call.get("funcname", []) if "String" in p]
        key = (parts[-2] if len(parts) > 1 else None, parts[-1]) if parts else (None, "")
        if key in _PER_ROW:
            found.append(".".join(p for p in key if p) + "()")
    for value in node.values():
        _per_row(value, in_select, found)


_Made = dict[tuple[str, str, str, str | None], tuple[Migration, Statement]]


def made_by(migrations: list[Migration]) -> _Made:
    """Each object the migrations leave behind, with the statement that (last) made it."""
    from wizard.core.objects import final_objects

    made: _Made = {}
    for obj, migration, statement in final_objects(migrations):
        kind = "relation" if obj.kind in ("table", "view", "sequence", "index") else obj.kind
        table = obj.table if obj.table is None or "." in obj.table else f"{DEFAULT_SCHEMA}.{obj.table}"
        made[(kind, obj.schema or DEFAULT_SCHEMA, obj.name, table if kind == "policy" else None)] = (migration, statement)
    return made


def trace(found: Found, made: _Made, order: dict[str, int]) -> tuple[Migration, Statement] | None:
    """The statement of the folder that (last) made the object, or its table, when there is one."""
    if found.kind == "policy":
        places = [made.get(("policy", found.schema, name, found.table)) for name in found.name.split(", ")]
        known = [p for p in places if p is not None]
        if known:
            return max(known, key=lambda p: (order[p[0].filename], p[1].index))
    elif found.kind == "extension":
        place = made.get(("extension", DEFAULT_SCHEMA, found.name, None))
        if place:
            return place
    else:
        kind = "function" if found.kind == "function" else "relation"
        place = made.get((kind, found.schema, found.name, None))
        if place:
            return place
    if found.table:
        schema, _, name = found.table.partition(".")
        return made.get(("relation", schema, name, None))
    return None


def findings(db: Database, migrations: list[Migration], exposed: Sequence[str] = EXPOSED_SCHEMAS,
             managed: Sequence[str] = MANAGED_SCHEMAS) -> list[LintFinding]:
    out = []
    made = made_by(migrations)
    order = {m.filename: i for i, m in enumerate(migrations)}
    for rule, found in run(db, exposed, managed):
        place = trace(found, made, order)
        file, line = (place[0].filename, place[1].line) if place else (None, None)
        out.append(LintFinding(rule, found.describe(), found.detail, file, line))
    return out
