"""What each statement creates, drops and uses, read from its parse tree.

Pre-flight uses it to find a statement that needs a table, column, function or type that nothing
before it creates; verification uses it to know every object the migrations should have left in
the database. Only what can be known from the SQL text is covered.

DO blocks and ``LANGUAGE plpgsql`` function bodies are read with PL/pgSQL's parser (see
``plpgsql``): a DO block runs when its statement does, so what the SQL inside it creates, drops and
uses counts as the statement's own, at the line inside the block; a function body runs only when
the function is called, so what it does is kept apart (``Effects.bodies``), for pre-flight to check
where a pending migration calls the function (or fires it as a trigger). Bodies of other languages
stay opaque.

The objects and a statement's effects on them are in ``effects``; the reading of one parse tree is
in ``nodes``; each statement keeps its own effects once worked out (``Statement.effects``).
"""

from __future__ import annotations

from wizard.core.effects import (
    DEFAULT_SCHEMA,
    DELETE,
    INSERT,
    TEMP_SCHEMA,
    TRUNCATE,
    UPDATE,
    Effects,
    EffectsData,
    Obj,
    Use,
    from_data,
    normalize,
    to_data,
)
from wizard.core.nodes import node_effects, split_name, string_names
from wizard.core.sqlfile import Migration, Statement

__all__ = [
    "DEFAULT_SCHEMA", "DELETE", "INSERT", "TEMP_SCHEMA", "TRUNCATE", "UPDATE", "Effects", "EffectsData", "Obj",
    "Use", "effects", "effects_data", "final_objects", "from_data", "normalize", "to_data",
]


def effects(statement: Statement) -> Effects:
    """What one statement creates, drops and needs (worked out once per statement)."""
    found = statement.effects
    if found is None:
        data = statement.effects_data
        found = statement.effects = _effects(statement) if data is None else from_data(data)
    return found


def effects_data(statement: Statement) -> EffectsData:
    """What ``to_data`` makes of a statement's effects: (creates, drops, uses, more) as plain tuples,
    (kind, schema, name, table) for an object and (kind, schema, name, table, offset) for a use.
    Read as is from the parse cache, without making objects of them."""
    data = statement.effects_data
    if data is None:
        data = statement.effects_data = to_data(effects(statement))
    return data


def _effects(statement: Statement) -> Effects:
    out = node_effects(statement.kind, statement.node)
    if statement.kind in ("DoStmt", "CreateFunctionStmt"):
        _read_body(statement, out)
    return out


def _read_body(statement: Statement, out: Effects) -> None:
    """Add what a DO block does (or keep what a PL/pgSQL function does when called)."""
    from wizard.core import plpgsql

    kind, node, text = statement.kind, statement.node, statement.text
    body = plpgsql.read(kind, node, text)
    if body is None:
        return
    option = plpgsql.body_option(kind, node)
    anchor = option[1] if option is not None else None  # bytes in the file, of the opening delimiter
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    def offset(line: int) -> int:
        """A byte offset of the file on a 0-based line of the statement's text (0: unknown)."""
        if anchor is None or anchor < 0:
            return 0
        start = max(starts[min(line, len(starts) - 1)], body.quote)
        return anchor + len(text[body.quote:start].encode("utf-8"))

    found = Effects()
    for inner in body.statements:
        got = node_effects(inner.kind, inner.node)
        unknown = _unknown if inner.dynamic else _never
        found.creates += [o for o in got.creates if not unknown(o)]
        found.drops += [o for o in got.drops if not unknown(o)]
        if "*" not in inner.guarded:
            found.uses += [Use(u.obj, offset(inner.line_at(u.offset))) for u in got.uses
                           if not unknown(u.obj) and not _guarded(u.obj, inner.guarded)]
        found.calls += [Use(u.obj, offset(inner.line_at(u.offset))) for u in got.calls if not unknown(u.obj)]
        found.writes += [w for w in got.writes if plpgsql.MARKER not in w[0]]
    found.unchecked = [offset(line) for line in body.dynamic]
    if kind == "DoStmt":
        out.creates += found.creates
        out.drops += found.drops
        out.uses += found.uses
        out.uses.sort(key=lambda use: use.offset)
        out.calls += found.calls
        out.writes += found.writes
    else:
        out.bodies.append((split_name(string_names(node["funcname"])), found))
    out.unchecked += found.unchecked


def _never(obj: Obj) -> bool:
    return False


def _unknown(obj: Obj) -> bool:
    """Whether an object read from dynamic SQL is named by a placeholder (not known)."""
    from wizard.core.plpgsql import MARKER

    return any(MARKER in (part or "") for part in (obj.schema, obj.name, obj.table))


def _guarded(obj: Obj, guarded: frozenset[str]) -> bool:
    if not guarded:
        return False
    table = (obj.table or "").rsplit(".", 1)[-1]
    return obj.name in guarded or obj.qualified in guarded or (obj.kind == "column" and table in guarded)



_Key = tuple[str, str | None, str, str | None]  # what one object of the database is known by


def final_objects(migrations: list[Migration]) -> list[tuple[Obj, Migration, Statement]]:
    """Every object the migrations leave behind, in creation order, with the statement that
    (last) created it: what a database with all of them applied should contain. What a DO block
    creates counts (conditional or not); what a PL/pgSQL function creates counts where a later
    statement calls it, never where the function is only created."""
    alive: dict[_Key, tuple[Obj, Migration, Statement]] = {}
    bodies: dict[tuple[str, str], Effects] = {}
    for migration in migrations:
        for statement in migration.statements:
            _leave(effects(statement), migration, statement, alive, bodies, frozenset())
    return list(alive.values())


def _leave(result: Effects, migration: Migration, statement: Statement,
           alive: dict[_Key, tuple[Obj, Migration, Statement]], bodies: dict[tuple[str, str], Effects],
           running: frozenset[tuple[str, str]]) -> None:
    """What one statement (or a function it calls) leaves behind, into ``alive``."""
    for obj in result.drops:
        obj = normalize(obj)
        alive.pop(_key(obj), None)
        if obj.kind == "table":
            qualified = obj.qualified
            for k in [k for k, v in alive.items() if v[0].table == qualified]:
                del alive[k]
    for obj in result.creates:
        if obj.schema == TEMP_SCHEMA:
            continue  # gone with the session that made it
        obj = normalize(obj)
        alive[_key(obj)] = (obj, migration, statement)
    for (schema, name), body in result.bodies:
        bodies[(schema or DEFAULT_SCHEMA, name)] = body
    for call in result.calls:
        key = (call.obj.schema or DEFAULT_SCHEMA, call.obj.name)
        if key in bodies and key not in running:
            _leave(bodies[key], migration, statement, alive, bodies, running | {key})


def _key(obj: Obj) -> _Key:
    kind = "relation" if obj.kind in ("table", "view", "sequence", "index") else obj.kind
    return (kind, obj.schema, obj.name, obj.table)
