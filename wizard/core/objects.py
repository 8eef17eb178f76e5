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
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wizard.core.catalog import Migration, Statement

DEFAULT_SCHEMA = "public"
TEMP_SCHEMA = "pg_temp"  # where a temporary table is: unqualified uses find it first

# Type names the parser accepts that are not rows of pg_type.
_PSEUDO_TYPES = {"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"}


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


@dataclass
class Effects:
    creates: list[Obj] = field(default_factory=list)
    drops: list[Obj] = field(default_factory=list)
    uses: list[Use] = field(default_factory=list)
    # What a PL/pgSQL function does when called: ((schema, name), Effects) of each function the
    # statement creates with a body that was read.
    bodies: list[tuple[tuple[str | None, str], Effects]] = field(default_factory=list)
    writes: list[tuple[str, int]] = field(default_factory=list)  # (schema.table, trigger event bit)
    calls: list[Use] = field(default_factory=list)  # functions the statement runs (not only names)
    unchecked: list[int] = field(default_factory=list)  # byte offsets of dynamic SQL not read
    trigger: tuple | None = None  # a CREATE TRIGGER's (schema.table, function schema, name, events)


# ALTER VIEW / MATERIALIZED VIEW / SEQUENCE / INDEX / FOREIGN TABLE ... RENAME TO, as objects' kinds.
_RENAMED_RELATIONS = {"OBJECT_VIEW": "view", "OBJECT_MATVIEW": "view", "OBJECT_SEQUENCE": "sequence",
                      "OBJECT_INDEX": "index", "OBJECT_FOREIGN_TABLE": "table"}


def _names(items: list) -> list[str]:
    return [i["String"]["sval"] for i in items if "String" in i]


def _split(names: list[str]) -> tuple[str | None, str]:
    if len(names) >= 2:
        return names[-2], names[-1]
    return None, names[-1]


def _relation(rv: dict, kind: str = "table") -> Obj:
    return Obj(kind, rv.get("schemaname"), rv["relname"])


def _qualified_table(rv: dict) -> str:
    return f"{rv.get('schemaname') or DEFAULT_SCHEMA}.{rv['relname']}"


def effects(statement: Statement) -> Effects:
    """What one statement creates, drops and needs (worked out once per statement)."""
    cached = statement.__dict__.get("_effects")
    if cached is None:
        data = statement.__dict__.get("_effects_data")
        cached = _effects(statement) if data is None else from_data(data)
        remember(statement, cached)
    return cached


# Trigger event bits, as CREATE TRIGGER's parse tree has them (TRIGGER_TYPE_INSERT...).
INSERT, DELETE, UPDATE, TRUNCATE = 4, 8, 16, 32
_WRITES = {"InsertStmt": INSERT, "UpdateStmt": UPDATE, "DeleteStmt": DELETE, "MergeStmt": INSERT | UPDATE | DELETE}
# Statements that run the functions they name (a policy, view, default or trigger only refers to them).
_CALLING = {"SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt", "CallStmt", "CreateTableAsStmt"}


def _effects(statement: Statement) -> Effects:
    out = _node_effects(statement.kind, statement.node)
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
    anchor = plpgsql.body_option(kind, node)[1]  # bytes in the file, of the opening delimiter
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    def offset(line: int) -> int:
        """A byte offset of the file on a 0-based line of the statement's text (0: unknown)."""
        if anchor is None or anchor < 0:
            return 0
        start = max(starts[min(line, len(starts) - 1)], body.quote)
        return anchor + len(text[body.quote:start].encode("utf-8"))

    found = Effects()
    for inner in body.statements:
        got = _node_effects(inner.kind, inner.node)
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
        out.bodies.append((_split(_names(node["funcname"])), found))
    out.unchecked += found.unchecked


def _never(obj: Obj) -> bool:
    return False


def _unknown(obj: Obj) -> bool:
    """Whether an object read from dynamic SQL is named by a placeholder (not known)."""
    from wizard.core.plpgsql import MARKER

    return any(MARKER in (part or "") for part in (obj.schema, obj.name, obj.table))


def _guarded(obj: Obj, guarded: frozenset) -> bool:
    if not guarded:
        return False
    table = (obj.table or "").rsplit(".", 1)[-1]
    return obj.name in guarded or obj.qualified in guarded or (obj.kind == "column" and table in guarded)


def _node_effects(kind: str, node: dict) -> Effects:
    out = Effects()
    targets: set[int] = set()  # ids of RangeVar dicts that the statement creates, not uses
    ctes: set[str] = set()

    if kind == "CreateForeignTableStmt":  # a table whose rows live elsewhere: created as any table
        kind, node = "CreateStmt", node["base"]
    if kind == "CreateStmt":
        rel = node["relation"]
        targets.add(id(rel))
        table = _relation(rel)
        if rel.get("relpersistence") == "t":  # a temporary table: gone at the end of the session
            table = Obj("table", TEMP_SCHEMA, rel["relname"])
        out.creates.append(table)
        for element in node.get("tableElts", []):
            column = element.get("ColumnDef")
            if column:
                out.creates.append(Obj("column", table.schema, column["colname"], _qualified_table(rel)))
    elif kind == "ViewStmt":
        targets.add(id(node["view"]))
        out.creates.append(_relation(node["view"], "view"))
    elif kind == "CreateTableAsStmt":
        rel = node["into"]["rel"]
        targets.add(id(rel))
        created = _relation(rel, "view" if node.get("objtype") == "OBJECT_MATVIEW" else "table")
        if rel.get("relpersistence") == "t":
            created = Obj("table", TEMP_SCHEMA, rel["relname"])
        out.creates.append(created)
    elif kind == "CreateSeqStmt":
        targets.add(id(node["sequence"]))
        out.creates.append(_relation(node["sequence"], "sequence"))
    elif kind == "IndexStmt" and node.get("idxname"):
        rel = node["relation"]
        out.creates.append(Obj("index", rel.get("schemaname"), node["idxname"]))
        for param in node.get("indexParams", []):
            name = param.get("IndexElem", {}).get("name")
            if name:
                out.uses.append(Use(Obj("column", None, name, _qualified_table(rel)), rel.get("location", 0)))
    elif kind == "CreateTrigStmt":
        rel = node["relation"]
        out.creates.append(Obj("trigger", rel.get("schemaname"), node["trigname"], _qualified_table(rel)))
        schema, name = _split(_names(node["funcname"]))
        out.uses.append(Use(Obj("function", schema, name), rel.get("location", 0)))
        out.trigger = (_qualified_table(rel), schema, name, node.get("events", 0))
    elif kind == "CreatePolicyStmt":
        rel = node["table"]
        out.creates.append(Obj("policy", rel.get("schemaname"), node["policy_name"], _qualified_table(rel)))
    elif kind == "CreateFunctionStmt":
        schema, name = _split(_names(node["funcname"]))
        out.creates.append(Obj("function", schema, name))
    elif kind == "DefineStmt" and node.get("kind") == "OBJECT_AGGREGATE":  # called as a function is
        schema, name = _split(_names(node.get("defnames", [])))
        out.creates.append(Obj("function", schema, name))
    elif kind == "CreateSchemaStmt":
        out.creates.append(Obj("schema", None, node["schemaname"]))
    elif kind in ("CreateEnumStmt", "CompositeTypeStmt", "CreateDomainStmt", "CreateRangeStmt"):
        # CREATE DOMAIN's typeName is its base type: the domain's own name is domainname
        names = node.get("domainname") if kind == "CreateDomainStmt" else node.get("typeName")
        if kind == "CompositeTypeStmt":
            targets.add(id(node["typevar"]))
            schema, name = node["typevar"].get("schemaname"), node["typevar"]["relname"]
        else:
            schema, name = _split(_names(names))
        out.creates.append(Obj("type", schema, name))
    elif kind == "CreateExtensionStmt":
        out.creates.append(Obj("extension", None, node["extname"]))
        for option in node.get("options", []):
            element = option.get("DefElem", {})
            schema = element.get("arg", {}).get("String", {}).get("sval")
            if element.get("defname") == "schema" and schema:
                # WITH SCHEMA names a schema that must exist (PostgreSQL creates only the schema an
                # extension's own control file names, when none is given)
                out.uses.append(Use(Obj("schema", None, schema), element.get("location", 0)))
    elif kind == "AlterTableStmt" and node.get("objtype") == "OBJECT_TYPE" and node.get("relation"):
        rel = node["relation"]  # ALTER TYPE ... ADD/DROP/ALTER ATTRIBUTE: a composite type, no table
        targets.add(id(rel))
        out.uses.append(Use(Obj("type", rel.get("schemaname"), rel["relname"]), rel.get("location", 0)))
    elif kind == "AlterTableStmt" and node.get("objtype", "OBJECT_TABLE") == "OBJECT_TABLE":
        rel = node["relation"]
        table = _qualified_table(rel)
        for cmd in (c.get("AlterTableCmd", {}) for c in node.get("cmds", [])):
            subtype = cmd.get("subtype")
            if subtype == "AT_EnableRowSecurity":
                out.creates.append(Obj("rls", rel.get("schemaname"), rel["relname"], table))
            elif subtype == "AT_DisableRowSecurity":
                out.drops.append(Obj("rls", rel.get("schemaname"), rel["relname"], table))
            elif subtype == "AT_AddColumn":
                out.creates.append(Obj("column", rel.get("schemaname"), cmd["def"]["ColumnDef"]["colname"], table))
            elif subtype == "AT_DropColumn":
                column = Obj("column", rel.get("schemaname"), cmd["name"], table)
                out.drops.append(column)
                if not cmd.get("missing_ok"):
                    out.uses.append(Use(column, rel.get("location", 0)))
            elif subtype in ("AT_AlterColumnType", "AT_SetNotNull", "AT_DropNotNull", "AT_ColumnDefault"):
                if cmd.get("name"):
                    out.uses.append(Use(Obj("column", None, cmd["name"], table), rel.get("location", 0)))
        if node.get("missing_ok"):
            targets.add(id(rel))
    elif kind == "DropStmt":
        out.drops += _dropped(node)
    elif kind == "RenameStmt" and node.get("renameType") == "OBJECT_TABLE" and node.get("relation"):
        rel = node["relation"]
        out.drops.append(_relation(rel))
        out.creates.append(Obj("table", rel.get("schemaname"), node["newname"]))
    elif kind == "AlterObjectSchemaStmt" and node.get("objectType") == "OBJECT_TABLE" and node.get("relation"):
        rel = node["relation"]  # the table leaves its schema for another
        out.drops.append(_relation(rel))
        out.creates.append(Obj("table", node["newschema"], rel["relname"]))
    elif kind == "RenameStmt" and node.get("renameType") in _RENAMED_RELATIONS and node.get("relation"):
        rel = node["relation"]
        mapped = _RENAMED_RELATIONS[node["renameType"]]
        out.drops.append(_relation(rel, mapped))
        out.creates.append(Obj(mapped, rel.get("schemaname"), node["newname"]))
    elif kind == "RenameStmt" and node.get("renameType") in ("OBJECT_TYPE", "OBJECT_DOMAIN", "OBJECT_FUNCTION",
                                                              "OBJECT_PROCEDURE", "OBJECT_AGGREGATE"):
        target = node.get("object") or {}
        names = _names(target["List"]["items"]) if "List" in target else _names(
            target.get("ObjectWithArgs", {}).get("objname", []))
        if names:
            mapped = "type" if node["renameType"] in ("OBJECT_TYPE", "OBJECT_DOMAIN") else "function"
            schema, name = _split(names)
            out.drops.append(Obj(mapped, schema, name))
            out.creates.append(Obj(mapped, schema, node["newname"]))
    elif kind == "RenameStmt" and node.get("renameType") == "OBJECT_COLUMN" and node.get("relation"):
        rel = node["relation"]
        table = _qualified_table(rel)
        old = Obj("column", rel.get("schemaname"), node["subname"], table)
        out.uses.append(Use(old, rel.get("location", 0)))
        out.drops.append(old)
        out.creates.append(Obj("column", rel.get("schemaname"), node["newname"], table))
    elif kind == "CommentStmt" and node.get("objtype") == "OBJECT_COLUMN":
        names = _names(node["object"]["List"]["items"])
        if len(names) >= 2:
            table = ".".join(names[:-1]) if len(names) > 2 else f"{DEFAULT_SCHEMA}.{names[0]}"
            out.uses.append(Use(Obj("column", None, names[-1], table), 0))

    if kind not in _NO_USES:
        relations, functions, types = _scan(node, ctes)
        for item in relations:
            if id(item) not in targets and not (not item.get("schemaname") and item["relname"] in ctes):
                out.uses.append(Use(_relation(item), item.get("location", 0)))
        for item in functions:
            schema, name = _split(_names(item["funcname"]))
            out.uses.append(Use(Obj("function", schema, name), item.get("location", 0)))
            if kind in _CALLING and all(c.obj != out.uses[-1].obj for c in out.calls):
                out.calls.append(out.uses[-1])
        if kind == "DefineStmt":  # CREATE AGGREGATE, OPERATOR, COLLATION...: most options name no type
            types = [t for t in types if id(t) not in _non_type_options(node)]
        for item in types:
            schema, name = _split(_names(item["names"]))
            if name not in _PSEUDO_TYPES and not (schema is None and name in ("trigger", "void", "record")):
                out.uses.append(Use(Obj("type", schema, name), item.get("location", 0)))
    if kind in _WRITES and node.get("relation"):
        out.writes.append((_qualified_table(node["relation"]), _WRITES[kind]))
    elif kind == "TruncateStmt":
        out.writes += [(_qualified_table(r["RangeVar"]), TRUNCATE) for r in node.get("relations", []) if "RangeVar" in r]
    if kind == "CreateStmt":
        for element in node.get("tableElts", []):
            for constraint in _constraints(element):
                pktable = constraint.get("pktable")
                for column in _names(constraint.get("pk_attrs", [])) if pktable else []:
                    out.uses.append(Use(Obj("column", None, column, _qualified_table(pktable)), pktable.get("location", 0)))
    out.uses.sort(key=lambda use: use.offset)
    return out


_NO_USES = {"DropStmt", "DoStmt", "CreateFunctionStmt", "GrantStmt", "CommentStmt", "RenameStmt"}


def _scan(node: dict, ctes: set[str]) -> tuple[list[dict], list[dict], list[dict]]:
    """One pass over a parse tree: the relations, function calls and type names it mentions, and
    the names of its CTEs (added to ``ctes``)."""
    relations, functions, types = [], [], []
    stack = [node]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            if "A_Const" in item or "String" in item:
                continue  # constants and names: most of a tree's nodes, never a relation, call or type
            if "relname" in item and "relpersistence" in item:
                relations.append(item)
            elif "funcformat" in item and "funcname" in item:
                functions.append(item)
            elif "typemod" in item and "names" in item and not item.get("pct_type"):
                types.append(item)
            elif "ctename" in item:
                ctes.add(item["ctename"])
            stack.extend(v for v in item.values() if type(v) is dict or type(v) is list)
        else:
            stack.extend(v for v in item if type(v) is dict or type(v) is list)
    return relations, functions, types


# The options of CREATE AGGREGATE / OPERATOR / TYPE whose value is a type; the others (sfunc =
# int4pl, function = f, provider = icu, copy = english...) name a function or something else.
_TYPE_OPTIONS = frozenset(("stype", "mstype", "basetype", "leftarg", "rightarg", "subtype", "element", "like"))


def _non_type_options(node: dict) -> set[int]:
    """The ids of the type names a DefineStmt's options hold that are no type."""
    skipped = set()
    for element in node.get("definition", []):
        option = element.get("DefElem", {}) if type(element) is dict else {}
        value = option.get("arg")
        if type(value) is dict and "TypeName" in value and option.get("defname", "").lower() not in _TYPE_OPTIONS:
            skipped.add(id(value["TypeName"]))
    return skipped


def _constraints(element: dict) -> list[dict]:
    if "Constraint" in element:
        return [element["Constraint"]]
    column = element.get("ColumnDef", {})
    return [c["Constraint"] for c in column.get("constraints", []) if "Constraint" in c]


def _dropped(node: dict) -> list[Obj]:
    kind = node.get("removeType")
    out = []
    for item in node.get("objects", []):
        names = _names(item["List"]["items"]) if "List" in item else _names([item]) if "String" in item else []
        if not names:
            continue
        if kind in ("OBJECT_TRIGGER", "OBJECT_POLICY"):
            table_names, name = names[:-1], names[-1]
            table = ".".join(table_names) if len(table_names) > 1 else f"{DEFAULT_SCHEMA}.{table_names[0]}"
            out.append(Obj(kind.removeprefix("OBJECT_").lower(), None, name, table))
        elif kind in ("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_INDEX", "OBJECT_SEQUENCE", "OBJECT_TYPE",
                      "OBJECT_SCHEMA", "OBJECT_EXTENSION", "OBJECT_MATVIEW"):
            schema, name = _split(names)
            mapped = {"OBJECT_MATVIEW": "view"}.get(kind, kind.removeprefix("OBJECT_").lower())
            out.append(Obj(mapped, schema, name))
    if kind == "OBJECT_FUNCTION":
        for item in node.get("objects", []):
            func = item.get("ObjectWithArgs")
            if func:
                schema, name = _split(_names(func["objname"]))
                out.append(Obj("function", schema, name))
    return out


def normalize(obj: Obj) -> Obj:
    """The object with its schema filled in (unqualified names live in public)."""
    if obj.kind in ("schema", "extension") or obj.schema:
        return obj
    return Obj(obj.kind, DEFAULT_SCHEMA, obj.name, obj.table)


def final_objects(migrations: list[Migration]) -> list[tuple[Obj, Migration, Statement]]:
    """Every object the migrations leave behind, in creation order, with the statement that
    (last) created it: what a database with all of them applied should contain. What a DO block
    creates counts (conditional or not); what a PL/pgSQL function creates counts where a later
    statement calls it, never where the function is only created."""
    alive: dict[tuple, tuple[Obj, Migration, Statement]] = {}
    bodies: dict[tuple, Effects] = {}
    for migration in migrations:
        for statement in migration.statements:
            _leave(effects(statement), migration, statement, alive, bodies, frozenset())
    return list(alive.values())


def _leave(result: Effects, migration: Migration, statement: Statement, alive: dict, bodies: dict,
           running: frozenset) -> None:
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


def _key(obj: Obj) -> tuple:
    kind = "relation" if obj.kind in ("table", "view", "sequence", "index") else obj.kind
    return (kind, obj.schema, obj.name, obj.table)


def to_data(found: Effects) -> tuple:
    """Effects as plain tuples (for the parse cache): (creates, drops, uses, more), where more is
    None, or (bodies, writes, calls, unchecked, trigger) when any of them is known."""
    more = None
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


def from_data(data: tuple) -> Effects:
    creates, drops, uses, more = data
    found = Effects(
        [Obj(*o) for o in creates],
        [Obj(*o) for o in drops],
        [Use(Obj(k, s, n, t), offset) for k, s, n, t, offset in uses],
    )
    if more is not None:
        bodies, writes, calls, unchecked, trigger = more
        found.bodies = [(tuple(function), from_data(body)) for function, body in bodies]
        found.writes = [tuple(w) for w in writes]
        found.calls = [Use(Obj("function", s, n), offset) for s, n, offset in calls]
        found.unchecked = list(unchecked)
        found.trigger = trigger
    return found


def remember(statement: Statement, found: Effects) -> None:
    object.__setattr__(statement, "_effects", found)


def effects_data(statement: Statement) -> tuple:
    """What ``to_data`` makes of a statement's effects: (creates, drops, uses, more) as plain tuples,
    (kind, schema, name, table) for an object and (kind, schema, name, table, offset) for a use.
    Read as is from the parse cache, without making objects of them."""
    data = statement.__dict__.get("_effects_data")
    if data is None:
        data = to_data(effects(statement))
        object.__setattr__(statement, "_effects_data", data)
    return data


def remember_data(statement: Statement, data: tuple) -> None:
    """Effects read from the parse cache, turned into objects when first asked for."""
    object.__setattr__(statement, "_effects_data", data)
