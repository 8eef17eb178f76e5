"""What one statement's parse tree creates, drops and uses (its ``Effects``), read in one pass.

``objects`` adds what a DO block or a PL/pgSQL function body does, read with PL/pgSQL's parser.
"""

from __future__ import annotations

from typing import Any

from wizard.core.effects import DEFAULT_SCHEMA, DELETE, INSERT, TEMP_SCHEMA, TRUNCATE, UPDATE, Effects, Node, Obj, Use

# Type names the parser accepts that are not rows of pg_type.
_PSEUDO_TYPES = {"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"}

# ALTER VIEW / MATERIALIZED VIEW / SEQUENCE / INDEX / FOREIGN TABLE ... RENAME TO, as objects' kinds.
_RENAMED_RELATIONS = {"OBJECT_VIEW": "view", "OBJECT_MATVIEW": "view", "OBJECT_SEQUENCE": "sequence",
                      "OBJECT_INDEX": "index", "OBJECT_FOREIGN_TABLE": "table"}


def string_names(items: list[Node]) -> list[str]:
    """The strings of a list of name nodes (the parts of a qualified name)."""
    return [i["String"]["sval"] for i in items if "String" in i]


def split_name(names: list[str]) -> tuple[str | None, str]:
    """(schema, name) of a qualified name's parts: no schema when it is unqualified."""
    if len(names) >= 2:
        return names[-2], names[-1]
    return None, names[-1]


def _relation(rv: Node, kind: str = "table") -> Obj:
    return Obj(kind, rv.get("schemaname"), rv["relname"])


def _qualified_table(rv: Node) -> str:
    return f"{rv.get('schemaname') or DEFAULT_SCHEMA}.{rv['relname']}"


_WRITES = {"InsertStmt": INSERT, "UpdateStmt": UPDATE, "DeleteStmt": DELETE, "MergeStmt": INSERT | UPDATE | DELETE}
# Statements that run the functions they name (a policy, view, default or trigger only refers to them).
_CALLING = {"SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt", "CallStmt", "CreateTableAsStmt"}


def node_effects(kind: str, node: Node) -> Effects:
    """What a statement of this kind and parse tree creates, drops and uses (the body of a DO
    block or of a function aside: see ``objects``)."""
    out = Effects()
    targets: set[int] = set()  # ids of RangeVar dicts that the statement creates, not uses
    ctes: set[str] = set()

    if kind == "CreateForeignTableStmt":  # a table whose rows live elsewhere: created as any table
        kind, node = "CreateStmt", node["base"]
    if kind == "CreateStmt":
        rel = node["relation"]
        targets.add(id(rel))
        created = _relation(rel)
        if rel.get("relpersistence") == "t":  # a temporary table: gone at the end of the session
            created = Obj("table", TEMP_SCHEMA, rel["relname"])
        out.creates.append(created)
        for element in node.get("tableElts", []):
            column = element.get("ColumnDef")
            if column:
                out.creates.append(Obj("column", created.schema, column["colname"], _qualified_table(rel)))
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
        schema, name = split_name(string_names(node["funcname"]))
        out.uses.append(Use(Obj("function", schema, name), rel.get("location", 0)))
        out.trigger = (_qualified_table(rel), schema, name, node.get("events", 0))
    elif kind == "CreatePolicyStmt":
        rel = node["table"]
        out.creates.append(Obj("policy", rel.get("schemaname"), node["policy_name"], _qualified_table(rel)))
    elif kind == "CreateFunctionStmt":
        schema, name = split_name(string_names(node["funcname"]))
        out.creates.append(Obj("function", schema, name))
    elif kind == "DefineStmt" and node.get("kind") == "OBJECT_AGGREGATE":  # called as a function is
        schema, name = split_name(string_names(node.get("defnames", [])))
        out.creates.append(Obj("function", schema, name))
    elif kind == "CreateSchemaStmt":
        out.creates.append(Obj("schema", None, node["schemaname"]))
    elif kind in ("CreateEnumStmt", "CompositeTypeStmt", "CreateDomainStmt", "CreateRangeStmt"):
        if kind == "CompositeTypeStmt":
            targets.add(id(node["typevar"]))
            schema, name = node["typevar"].get("schemaname"), node["typevar"]["relname"]
        else:
            # CREATE DOMAIN's typeName is its base type: the domain's own name is domainname
            names = node["domainname"] if kind == "CreateDomainStmt" else node["typeName"]
            schema, name = split_name(string_names(names))
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
        names = string_names(target["List"]["items"]) if "List" in target else string_names(
            target.get("ObjectWithArgs", {}).get("objname", []))
        if names:
            mapped = "type" if node["renameType"] in ("OBJECT_TYPE", "OBJECT_DOMAIN") else "function"
            schema, name = split_name(names)
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
        names = string_names(node["object"]["List"]["items"])
        if len(names) >= 2:
            table = ".".join(names[:-1]) if len(names) > 2 else f"{DEFAULT_SCHEMA}.{names[0]}"
            out.uses.append(Use(Obj("column", None, names[-1], table), 0))

    if kind not in _NO_USES:
        relations, functions, types = _scan(node, ctes)
        for item in relations:
            if id(item) not in targets and not (not item.get("schemaname") and item["relname"] in ctes):
                out.uses.append(Use(_relation(item), item.get("location", 0)))
        for item in functions:
            schema, name = split_name(string_names(item["funcname"]))
            out.uses.append(Use(Obj("function", schema, name), item.get("location", 0)))
            if kind in _CALLING and all(c.obj != out.uses[-1].obj for c in out.calls):
                out.calls.append(out.uses[-1])
        if kind == "DefineStmt":  # CREATE AGGREGATE, OPERATOR, COLLATION...: most options name no type
            types = [t for t in types if id(t) not in _non_type_options(node)]
        for item in types:
            schema, name = split_name(string_names(item["names"]))
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
                if not pktable:
                    continue
                for column in string_names(constraint.get("pk_attrs", [])):
                    out.uses.append(Use(Obj("column", None, column, _qualified_table(pktable)), pktable.get("location", 0)))
    out.uses.sort(key=lambda use: use.offset)
    return out


_NO_USES = {"DropStmt", "DoStmt", "CreateFunctionStmt", "GrantStmt", "CommentStmt", "RenameStmt"}


def _scan(node: Node, ctes: set[str]) -> tuple[list[Node], list[Node], list[Node]]:
    """One pass over a parse tree: the relations, function calls and type names it mentions, and
    the names of its CTEs (added to ``ctes``)."""
    relations: list[Node] = []
    functions: list[Node] = []
    types: list[Node] = []
    stack: list[Node | list[Any]] = [node]
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


def _non_type_options(node: Node) -> set[int]:
    """The ids of the type names a DefineStmt's options hold that are no type."""
    skipped: set[int] = set()
    for element in node.get("definition", []):
        option = element.get("DefElem", {}) if type(element) is dict else {}
        value = option.get("arg")
        if type(value) is dict and "TypeName" in value and option.get("defname", "").lower() not in _TYPE_OPTIONS:
            skipped.add(id(value["TypeName"]))
    return skipped


def _constraints(element: Node) -> list[Node]:
    if "Constraint" in element:
        return [element["Constraint"]]
    column = element.get("ColumnDef", {})
    return [c["Constraint"] for c in column.get("constraints", []) if "Constraint" in c]


def _dropped(node: Node) -> list[Obj]:
    kind = node.get("removeType")
    out: list[Obj] = []
    for item in node.get("objects", []):
        names = string_names(item["List"]["items"]) if "List" in item else string_names([item]) if "String" in item else []
        if not names:
            continue
        if kind in ("OBJECT_TRIGGER", "OBJECT_POLICY"):
            table_names, name = names[:-1], names[-1]
            table = ".".join(table_names) if len(table_names) > 1 else f"{DEFAULT_SCHEMA}.{table_names[0]}"
            out.append(Obj(kind.removeprefix("OBJECT_").lower(), None, name, table))
        elif kind in ("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_INDEX", "OBJECT_SEQUENCE", "OBJECT_TYPE",
                      "OBJECT_SCHEMA", "OBJECT_EXTENSION", "OBJECT_MATVIEW"):
            schema, name = split_name(names)
            mapped = {"OBJECT_MATVIEW": "view"}.get(kind, kind.removeprefix("OBJECT_").lower())
            out.append(Obj(mapped, schema, name))
    if kind == "OBJECT_FUNCTION":
        for item in node.get("objects", []):
            func = item.get("ObjectWithArgs")
            if func:
                schema, name = split_name(string_names(func["objname"]))
                out.append(Obj("function", schema, name))
    return out
