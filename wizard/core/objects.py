"""What each statement creates, drops and uses, read from its parse tree.

Pre-flight uses it to find a statement that needs a table, column, function or type that nothing
before it creates; verification uses it to know every object the migrations should have left in
the database. Only what can be known from the SQL text is covered: bodies of functions and DO
blocks are strings, and stay opaque.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wizard.core.catalog import Migration, Statement

DEFAULT_SCHEMA = "public"

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


def _effects(statement: Statement) -> Effects:
    kind, node = statement.kind, statement.node
    out = Effects()
    targets: set[int] = set()  # ids of RangeVar dicts that the statement creates, not uses
    ctes: set[str] = set()

    if kind == "CreateStmt":
        rel = node["relation"]
        targets.add(id(rel))
        table = _relation(rel)
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
        out.creates.append(_relation(rel, "view" if node.get("objtype") == "OBJECT_MATVIEW" else "table"))
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
    elif kind == "CreatePolicyStmt":
        rel = node["table"]
        out.creates.append(Obj("policy", rel.get("schemaname"), node["policy_name"], _qualified_table(rel)))
    elif kind == "CreateFunctionStmt":
        schema, name = _split(_names(node["funcname"]))
        out.creates.append(Obj("function", schema, name))
    elif kind == "CreateSchemaStmt":
        out.creates.append(Obj("schema", None, node["schemaname"]))
    elif kind in ("CreateEnumStmt", "CompositeTypeStmt", "CreateDomainStmt", "CreateRangeStmt"):
        names = node.get("typeName") or (node.get("typevar") and [node["typevar"]]) or node.get("domainname")
        if kind == "CompositeTypeStmt":
            targets.add(id(node["typevar"]))
            schema, name = node["typevar"].get("schemaname"), node["typevar"]["relname"]
        else:
            schema, name = _split(_names(names))
        out.creates.append(Obj("type", schema, name))
    elif kind == "CreateExtensionStmt":
        out.creates.append(Obj("extension", None, node["extname"]))
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
        for item in types:
            schema, name = _split(_names(item["names"]))
            if name not in _PSEUDO_TYPES and not (schema is None and name in ("trigger", "void", "record")):
                out.uses.append(Use(Obj("type", schema, name), item.get("location", 0)))
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
    (last) created it: what a database with all of them applied should contain."""
    alive: dict[tuple, tuple[Obj, Migration, Statement]] = {}
    for migration in migrations:
        for statement in migration.statements:
            result = effects(statement)
            for obj in result.drops:
                obj = normalize(obj)
                alive.pop(_key(obj), None)
                if obj.kind == "table":
                    qualified = obj.qualified
                    for k in [k for k, v in alive.items() if v[0].table == qualified]:
                        del alive[k]
            for obj in result.creates:
                obj = normalize(obj)
                alive[_key(obj)] = (obj, migration, statement)
    return list(alive.values())


def _key(obj: Obj) -> tuple:
    kind = "relation" if obj.kind in ("table", "view", "sequence", "index") else obj.kind
    return (kind, obj.schema, obj.name, obj.table)


def to_data(found: Effects) -> tuple:
    """Effects as plain tuples (for the parse cache)."""
    return (
        tuple((o.kind, o.schema, o.name, o.table) for o in found.creates),
        tuple((o.kind, o.schema, o.name, o.table) for o in found.drops),
        tuple((u.obj.kind, u.obj.schema, u.obj.name, u.obj.table, u.offset) for u in found.uses),
    )


def from_data(data: tuple) -> Effects:
    creates, drops, uses = data
    return Effects(
        [Obj(*o) for o in creates],
        [Obj(*o) for o in drops],
        [Use(Obj(k, s, n, t), offset) for k, s, n, t, offset in uses],
    )


def remember(statement: Statement, found: Effects) -> None:
    object.__setattr__(statement, "_effects", found)


def effects_data(statement: Statement) -> tuple:
    """What ``to_data`` makes of a statement's effects: (creates, drops, uses) as plain tuples,
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
