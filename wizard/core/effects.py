"""Database objects, and what a statement does to them: the objects it creates and drops, the ones
it uses, and more (``Effects``), as objects and as the plain tuples the parse cache keeps.

Worked out from parse trees by ``objects``; a statement keeps its own (``Statement.effects``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

DEFAULT_SCHEMA = "public"
TEMP_SCHEMA = "pg_temp"  # where a temporary table is: unqualified uses find it first

Node: TypeAlias = dict[str, Any]  # a parse tree, or a node of one, in pglast's JSON form

# Trigger event bits, as CREATE TRIGGER's parse tree has them (TRIGGER_TYPE_INSERT...).
INSERT, DELETE, UPDATE, TRUNCATE = 4, 8, 16, 32


@dataclass(frozen=True)
class Obj:
    """A database object: kind is table, view, sequence, index, trigger, function, policy, rls,
    type, schema, extension or column. ``table`` names the table of a trigger, policy, column or
    rls (schema-qualified)."""

    kind: str
    schema: str | None
    name: str
    table: str | None = None

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    def describe(self) -> str:
        if self.kind == "rls":
            return f"row level security on {self.table}"
        if self.kind in ("trigger", "policy"):
            return f"{self.kind} {self.name} on {self.table}"
        if self.kind == "column":
            return f"column {self.table}.{self.name}"
        if self.kind == "function":
            return f"function {self.qualified}()"
        return f"{self.kind} {self.qualified}"


@dataclass(frozen=True)
class Use:
    """A statement's use of an object that must exist when it runs."""

    obj: Obj
    offset: int  # byte offset in the file


# A CREATE TRIGGER's (schema.table, function schema, function name, event bits).
TriggerData: TypeAlias = tuple[str, str | None, str, int]
FunctionName: TypeAlias = tuple[str | None, str]  # (schema, name)


@dataclass
class Effects:
    creates: list[Obj] = field(default_factory=list)
    drops: list[Obj] = field(default_factory=list)
    uses: list[Use] = field(default_factory=list)
    # What a PL/pgSQL function does when called: ((schema, name), Effects) of each function the
    # statement creates with a body that was read.
    bodies: list[tuple[FunctionName, Effects]] = field(default_factory=list)
    writes: list[tuple[str, int]] = field(default_factory=list)  # (schema.table, trigger event bit)
    calls: list[Use] = field(default_factory=list)  # functions the statement runs (not only names)
    unchecked: list[int] = field(default_factory=list)  # byte offsets of dynamic SQL not read
    trigger: TriggerData | None = None  # a CREATE TRIGGER's table, function and events


def normalize(obj: Obj) -> Obj:
    """The object with its schema filled in (unqualified names live in public)."""
    if obj.kind in ("schema", "extension") or obj.schema:
        return obj
    return Obj(obj.kind, DEFAULT_SCHEMA, obj.name, obj.table)


# Effects as plain tuples (what the parse cache keeps, and what pre-flight reads without making
# objects of them): (creates, drops, uses, more).
ObjectData: TypeAlias = tuple[str, str | None, str, str | None]  # (kind, schema, name, table)
UseData: TypeAlias = tuple[str, str | None, str, str | None, int]  # (kind, schema, name, table, offset)
CallData: TypeAlias = tuple[str | None, str, int]  # a function called: (schema, name, offset)
MoreData: TypeAlias = tuple[
    tuple[tuple[FunctionName, "EffectsData"], ...],  # bodies
    tuple[tuple[str, int], ...],  # writes
    tuple[CallData, ...],  # calls
    tuple[int, ...],  # unchecked
    "TriggerData | None",  # trigger
]
EffectsData: TypeAlias = tuple[tuple[ObjectData, ...], tuple[ObjectData, ...], tuple[UseData, ...], "MoreData | None"]


def to_data(found: Effects) -> EffectsData:
    """Effects as plain tuples (for the parse cache): (creates, drops, uses, more), where more is
    None, or (bodies, writes, calls, unchecked, trigger) when any of them is known."""
    more: MoreData | None = None
    if found.bodies or found.writes or found.calls or found.unchecked or found.trigger:
        more = (
            tuple((function, to_data(body)) for function, body in found.bodies),
            tuple(found.writes),
            tuple((u.obj.schema, u.obj.name, u.offset) for u in found.calls),
            tuple(found.unchecked),
            found.trigger,
        )
    return (
        tuple((o.kind, o.schema, o.name, o.table) for o in found.creates),
        tuple((o.kind, o.schema, o.name, o.table) for o in found.drops),
        tuple((u.obj.kind, u.obj.schema, u.obj.name, u.obj.table, u.offset) for u in found.uses),
        more,
    )


def from_data(data: EffectsData) -> Effects:
    creates, drops, uses, more = data
    found = Effects(
        [Obj(*o) for o in creates],
        [Obj(*o) for o in drops],
        [Use(Obj(k, s, n, t), offset) for k, s, n, t, offset in uses],
    )
    if more is not None:
        bodies, writes, calls, unchecked, trigger = more
        found.bodies = [((function[0], function[1]), from_data(body)) for function, body in bodies]
        found.writes = [(w[0], w[1]) for w in writes]
        found.calls = [Use(Obj("function", s, n), offset) for s, n, offset in calls]
        found.unchecked = list(unchecked)
        found.trigger = trigger
    return found
