"""The dependency walk: what a statement needs that nothing before it creates."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import TYPE_CHECKING, TypeAlias

from wizard.core.catalog import Catalog, Migration, Statement
from wizard.core.db import Connectable
from wizard.core.preflight.exists import existing
from wizard.core.preflight.extensions import _EXTENSION_SCHEMAS, _ExtensionObjects
from wizard.core.preflight.findings import ERROR, WARNING, EffectsData, Finding, FunctionName, MoreData, ObjectData, UseData

if TYPE_CHECKING:
    from wizard.core.baseline import Baseline
    from wizard.core.compat import State

Key: TypeAlias = ObjectData  # how the walk looks an object up (_dependency_key)
Defined: TypeAlias = tuple[Migration, str, EffectsData, int]  # a body: where, its name, what it does, line
Triggers: TypeAlias = dict[str, dict[str, tuple[FunctionName, int]]]  # table -> trigger -> (function, events)
Run: TypeAlias = tuple["str | None", str, str]  # a function a statement runs: schema, name, how
# A use nothing before created: lookup, where, line, the object, its table when not known to exist,
# the migration whose statement made the use, how a body came to run.
Candidate: TypeAlias = tuple[Key, Migration, int, ObjectData, "Key | None", Migration, "str | None"]

# Codes of the dependency findings: what is missing before a statement, as far as pre-flight can see.
DEPENDENCY_CODES = frozenset(("missing-dependency", "wrong-order", "supabase-only"))

_SUPABASE_SCHEMAS = frozenset(("auth", "storage", "extensions", "realtime", "vault", "graphql", "graphql_public"))

_RELATION_KINDS = frozenset(("table", "view", "sequence", "index"))


def _dependency_key(kind: str, schema: str | None, name: str, table: str | None) -> Key:
    """How an object is looked up: relations of every kind share one name space."""
    if kind in _RELATION_KINDS:
        return ("relation", schema or "public", name, None)
    if kind == "column":
        return ("column", None, name, table)
    if kind == "function" or kind == "type":
        return (kind, schema, name, None)
    return (kind, schema, name, table)


def _compat_provides(compat_will_run: State | bool | None) -> frozenset[Key]:
    """What the Supabase compatibility step gives the migrations, as dependency keys: everything its
    SQL creates (compat.manifest). ``compat_will_run`` is the step's state on the database
    (compat.inspect), or True when not known."""
    if not compat_will_run:
        return frozenset()
    from wizard.core import compat

    if isinstance(compat_will_run, compat.State) and not compat_will_run.will_run:
        return frozenset()  # it will not run: what it made is in the database, or nothing is

    return frozenset(_dependency_key(*obj) for obj in compat.manifest().provides)


_IF_NOT_EXISTS = re.compile(r"create\s+(?:(?:global|local)\s+)?(?:temp|temporary|unlogged)?\s*table\s+if\s+not\s+exists\b",
                            re.IGNORECASE)


def _columns_follow_their_table(statement: Statement, state: dict[Key, bool]) -> None:
    """A table renamed or moved to another schema keeps its columns: what the walk knows of them
    is known under the new name too."""
    node = statement.node
    if not isinstance(node, dict) or not isinstance(node.get("relation"), dict):
        return
    if statement.kind == "RenameStmt" and node.get("renameType") == "OBJECT_TABLE":
        schema, name = node["relation"].get("schemaname") or "public", node["newname"]
    elif statement.kind == "AlterObjectSchemaStmt" and node.get("objectType") == "OBJECT_TABLE":
        schema, name = node["newschema"], node["relation"]["relname"]
    else:
        return
    old = f"{node['relation'].get('schemaname') or 'public'}.{node['relation']['relname']}"
    for key in [k for k, known in state.items() if known and k[0] == "column" and k[3] == old]:
        state[("column", None, key[2], f"{schema}.{name}")] = True


def dependencies(
    catalog: Catalog, pending: list[Migration], conn: Connectable | None = None,
    compat_will_run: State | bool | None = False, baseline: Baseline | None = None,
) -> list[Finding]:
    """Uses of a table, column, function or type that neither an earlier statement of the pending
    migrations creates nor the database has. One finding per file and object. What exists is asked
    of the database (``conn``), or, without one, of a baseline (``wizard.core.baseline``: what a
    fresh Supabase project has).

    What a DO block runs counts as its statement's own (see ``objects``). A PL/pgSQL function's
    body runs when it is called, not when it is created: its uses are checked where a pending
    statement (or DO block) calls it, where a function it calls does, or where a statement
    inserts, updates, deletes or truncates rows of a table with a trigger that runs it; they are
    reported at the body's line, with the line of the call. Uses of a body that nothing in the
    folder creates and the database does not have are a warning at the body's line, called or not:
    the function will fail when it is.

    ``compat_will_run``: the compatibility step's state on this database (compat.inspect; True when
    not known, False or None when it will not run): what it creates counts as there."""
    from wizard.core.objects import Obj, effects_data

    provided = _compat_provides(compat_will_run)
    state_known = None if isinstance(compat_will_run, bool) or compat_will_run is None else compat_will_run
    shaping = bool(compat_will_run) and not (state_known is not None and state_known.supabase)  # the step runs, or ran

    # Effects as plain tuples (see objects.effects_data): this runs before every apply, over
    # every statement of the folder.
    created_by: dict[Key, Migration] = {}  # every creation in the folder, for "created later"
    bodies: dict[tuple[str, str], Defined] = {}  # function -> (migration, name, body effects, line), last one read
    defined: list[Defined] = []  # the bodies the pending migrations define
    triggers: Triggers = {}  # table -> trigger -> (function, events)
    waiting = set(map(id, pending))
    for migration in catalog.migrations:
        applied = id(migration) not in waiting
        for statement in migration.statements:
            data: EffectsData = effects_data(statement)
            for obj in data[0]:
                created_by.setdefault(_dependency_key(*obj), migration)
            if applied and data[3] is not None:
                _learn(data, migration, statement.line, bodies, triggers)

    walk = _Walk(bodies, triggers, provided)
    state, candidates = walk.state, walk.candidates
    made_at: dict[Key, tuple[Migration, int]] = {}  # tables the pending files create, where
    twice: list[Finding] = []
    must_be_new: list[tuple[Key, Migration, int, str]] = []  # plain CREATE TABLEs of tables nothing made
    if provided:  # the step installs these where the server has them: their schemas (vault, graphql) come too
        for name in state_known.extensions if state_known is not None else ():
            if name in _EXTENSION_SCHEMAS:
                walk.from_extensions.add({"extname": name})
    elsewhere: set[Key] = set()  # tables made without a schema after the file set its search_path
    for migration in pending:
        path_set = False  # the file set its own search_path: where an unqualified name goes is not known
        for statement in migration.statements:
            effects: EffectsData = effects_data(statement)
            creates, drops, uses, more = effects
            plain_create = statement.kind == "CreateStmt" and not _IF_NOT_EXISTS.match(statement.text)
            if statement.kind == "VariableSetStmt" and "search_path" in statement.text.lower():
                path_set = True
            if plain_create and path_set and any(o[0] == "table" and o[1] is None for o in creates):
                elsewhere.update(_dependency_key(*o) for o in creates if o[0] == "table")
                plain_create = False
            if statement.kind in ("RenameStmt", "AlterObjectSchemaStmt"):  # the tree is decoded for these alone
                _columns_follow_their_table(statement, state)
            for obj in creates:
                key = _dependency_key(*obj)
                if obj[0] == "table" and key[1] != "pg_temp":
                    first = made_at.get(key)
                    if plain_create and state.get(key) and first is not None and key not in elsewhere:
                        twice.append(Finding(
                            ERROR, "created-twice", migration.filename, statement.line,
                            f"creates table {key[1]}.{key[2]}, which {first[0].filename}:{first[1]} already "
                            "creates: this CREATE TABLE fails (relation already exists). Remove one of the two, "
                            "or make this one CREATE TABLE IF NOT EXISTS",
                        ))
                    elif plain_create and state.get(key) is None:
                        lookup = ("relation", None, key[2], None) if obj[1] is None else key
                        must_be_new.append((lookup, migration, statement.line, f"{key[1]}.{key[2]}"))
                    if not state.get(key):
                        made_at[key] = (migration, statement.line)
                state[key] = True
            walk.consider(uses, migration, statement.line, migration, None)
            if statement.kind == "CreateExtensionStmt":  # after its own uses: WITH SCHEMA needs the schema
                walk.from_extensions.add(statement.node)
            if more is not None:
                for function in _learn((creates, drops, uses, more), migration, statement.line, bodies, triggers):
                    defined.append(bodies[function])
                walk.run(_runs(more, triggers), migration, statement.line, frozenset())
            for obj in drops:
                state[_dependency_key(*obj)] = False
                if obj[0] == "schema":  # its tables go with it (CASCADE; without, the DROP fails)
                    for key in [k for k in state if k[0] == "relation" and k[1] == obj[2]]:
                        state[key] = False
                if obj[0] == "trigger" and obj[3]:
                    triggers.get(obj[3] if "." in obj[3] else f"public.{obj[3]}", {}).pop(obj[2], None)

    # Bodies of the pending files: what nothing creates (and the database lacks) fails when called.
    in_bodies: Collection[Key] = (
        {_dependency_key(*obj) for _, _, body, _ in bodies.values() for obj in body[0]} if defined else ())
    unresolved: list[tuple[Key, Migration, int, ObjectData, str]] = []
    for where, label, body, _ in defined:
        for kind, schema, name, table, offset in body[2]:
            key = _dependency_key(kind, schema, name, table)
            if kind == "column" or key in created_by or key in in_bodies:
                continue  # a column's table is what matters
            if walk.from_extensions.provides(kind, schema, name):
                continue
            if key in provided:
                continue
            lookup = ("relation", None, name, None) if key[0] == "relation" and schema is None else key
            unresolved.append((lookup, where, offset, (kind, schema, name, table), label))

    if not candidates and not unresolved and not must_be_new:
        return twice
    unique = list(dict.fromkeys([c[0] for c in candidates] + [c[4] for c in candidates if c[4]]
                                + [u[0] for u in unresolved] + [n[0] for n in must_be_new]))
    present = existing(unique, conn, baseline)

    extension_functions: set[str] | None = None  # what the compatibility step's extensions hold, when a use needs it
    findings = list(twice)
    seen: set[tuple[str, ObjectData]] = set()
    if baseline is None:  # a database to ask: a plain CREATE TABLE of a table it already has fails
        for lookup, migration, line, name in must_be_new:
            if present.get(lookup):
                findings.append(Finding(
                    ERROR, "already-exists", migration.filename, line,
                    f"creates table {name}, which the database already has: this CREATE TABLE fails "
                    "(relation already exists). Was the migration run by hand? 'migration-wizard status' tells; "
                    "'migration-wizard adopt' records it once everything it creates is there",
                ))
    for lookup, migration, line, used, parent, site, called in candidates:
        if present.get(lookup) or (migration.filename, used) in seen:
            continue
        if (used[0] == "function" and used[1] in (None, "extensions") and provided and conn is not None
                and state_known is not None and state_known.extensions):
            if extension_functions is None:
                from wizard.core import compat

                extension_functions = compat.extension_functions(conn, state_known.extensions)
            if used[2] in extension_functions:
                continue  # the step installs the extension that has it, into a schema on the search_path
        if parent is not None and not present.get(parent):
            continue  # the column's table is missing: that is the finding
        seen.add((migration.filename, used))
        described = Obj(*used).describe()
        when = f" ({called})" if called else ""
        key = lookup if lookup[1] is not None or lookup[0] != "relation" else ("relation", "public", lookup[2], None)
        later = created_by.get(key)
        owner = _supabase_owner(lookup)
        if later is not None and later.filename > site.filename:
            findings.append(Finding(
                ERROR, "wrong-order", migration.filename, line,
                f"uses {described}{when}, which {later.filename} creates later: the files are out of order "
                f"(give {later.filename} a version before {site.version}, or move the statement)",
            ))
        elif baseline is not None:
            owned = lookup[1] in _SUPABASE_SCHEMAS or (lookup[0] == "column" and
                                                       (lookup[3] or "").partition(".")[0] in _SUPABASE_SCHEMAS)
            findings.append(Finding(
                ERROR, "missing-dependency", migration.filename, line,
                f"uses {described}{when}, which no earlier migration creates and "
                + ("a fresh Supabase project does not have either (is the name right?)" if owned else
                   "a fresh Supabase project does not have (is a migration missing, or was the object made by "
                   "hand in the dashboard? Offline, the wizard cannot see what the database holds)"),
            ))
        elif owner is not None:
            if shaping and lookup[1] == "extensions":
                owner += " (the server has no extension that provides it, for the compatibility step to install)"
            elif shaping:
                owner += " (the compatibility step makes Supabase's main auth and storage tables, not this)"
            findings.append(Finding(ERROR, "supabase-only", migration.filename, line,
                                    f"uses {described}{when}, {owner}"))
        else:
            findings.append(Finding(
                ERROR, "missing-dependency", migration.filename, line,
                f"uses {described}{when}, which no earlier migration creates and the database does not have "
                "(is a migration missing, or was the object made by hand elsewhere?)",
            ))
    # An unqualified name may resolve elsewhere than public (a function's own search_path): any
    # schema's object of that name in the folder will do.
    unresolved = [u for u in unresolved if not present.get(u[0]) and (u[1].filename, u[3]) not in seen]
    names = {(k[0], k[2]) for k in (*created_by, *in_bodies)} if unresolved else set()
    for lookup, migration, offset, used, label in unresolved:
        kind, schema, name, _ = used
        if (migration.filename, used) in seen or (
                (schema is None or kind in ("function", "type")) and (lookup[0], name) in names):
            continue
        seen.add((migration.filename, used))
        line = migration.line_at_byte(offset)
        described = Obj(*used).describe()
        owner = _supabase_owner(lookup)
        why = owner if owner is not None else "which no migration creates and the database does not have"
        findings.append(Finding(
            WARNING, "fails-when-called", migration.filename, line,
            f"function {label}() uses {described}, {why}: the function will fail when it is called",
        ))
    return findings


class _Walk:
    """The state of the walk over the pending statements: what exists so far, and the uses that
    nothing before them created (a class, not closures: the wizard runs without the cyclic garbage
    collector, and a recursive closure would keep all of it alive)."""

    def __init__(self, bodies: dict[tuple[str, str], Defined], triggers: Triggers, provided: frozenset[Key]) -> None:
        self.bodies, self.triggers, self.provided = bodies, triggers, provided
        self.state: dict[Key, bool] = {}  # what the pending statements so far created (True) or dropped (False)
        self.candidates: list[Candidate] = []
        self.from_extensions = _ExtensionObjects()  # what the pending CREATE EXTENSIONs so far provide

    def consider(self, uses: tuple[UseData, ...], where: Migration, default_line: int, site: Migration, called: str | None) -> None:
        state = self.state
        for kind, schema, name, table, offset in uses:
            if self.from_extensions.provides(kind, schema, name):
                continue
            key = _dependency_key(kind, schema, name, table)
            lookup = key
            if key[0] == "relation" and schema is None:
                lookup = ("relation", None, name, None)  # the server resolves it by search_path
                if state.get(("relation", "pg_temp", name, None)):
                    continue  # a temporary table made earlier in the session
            if state.get(key) or (kind == "function" and state.get(("function", "public", name, None))):
                continue
            if kind == "type" and state.get(("type", "public", name, None)):
                continue
            if kind in ("function", "type") and schema == "public" and state.get((kind, None, name, None)):
                continue  # created without a schema (in public, the first on the path), used with it
            if state.get(key) is None and key in self.provided:
                continue
            parent: Key | None = None
            if kind == "column" and table is not None:  # a column's use names its table
                parent_schema, _, parent_table = table.rpartition(".")
                parent = ("relation", parent_schema or "public", parent_table, None)
                if state.get(parent) is not None and not state.get(parent):
                    continue  # the table itself was dropped: its use is reported, not its columns
                if state.get(parent):
                    parent = None
            line = where.line_at_byte(offset) if offset else default_line
            self.candidates.append((lookup, where, line, (kind, schema, name, table), parent, site, called))

    def run(self, functions: list[Run], site: Migration, site_line: int, running: frozenset[tuple[str, str]]) -> None:
        """What calling these functions does, at a statement of ``site``."""
        for schema, name, how in functions:
            key = (schema or "public", name)
            function = self.bodies.get(key)
            if function is None or key in running:
                continue
            where, label, body, line = function
            creates, drops, uses, more = body
            for obj in creates:
                self.state[_dependency_key(*obj)] = True
            called = f"when {label}() runs, {how} {site.filename}:{site_line}"
            self.consider(uses, where, line, site, called)
            if more is not None:
                self.run(_runs(more, self.triggers), site, site_line, running | {key})
            for obj in drops:
                self.state[_dependency_key(*obj)] = False


def _learn(data: EffectsData, migration: Migration, line: int, bodies: dict[tuple[str, str], Defined],
           triggers: Triggers) -> list[tuple[str, str]]:
    """Remember the function bodies and the triggers a statement creates; the functions."""
    more = data[3]
    functions: list[tuple[str, str]] = []
    if more is None:  # callers pass a statement that defines a body or a trigger
        return functions
    for (schema, name), body in more[0]:
        functions.append((schema or "public", name))
        bodies[functions[-1]] = (migration, f"{schema}.{name}" if schema else name, body, line)
    trigger = more[4]
    if trigger is not None:
        table, schema, name, events = trigger
        created = next((o for o in data[0] if o[0] == "trigger"), None)
        if created is not None:
            triggers.setdefault(table, {})[created[2]] = ((schema, name), events)
    return functions


def _runs(more: MoreData, triggers: Triggers) -> list[Run]:
    """The functions a statement runs: those it calls, and the triggers its writes fire."""
    functions = [(schema, name, "called at") for schema, name, _ in more[2]]
    for table, event in more[1]:
        for (schema, name), events in triggers.get(table, {}).values():
            if events & event:
                functions.append((schema, name, f"a trigger on {table} fired by"))
    return functions


def _supabase_owner(lookup: Key) -> str | None:
    """For an object of a schema Supabase manages, what to say of it (else None)."""
    schema = lookup[1]
    if lookup[0] == "schema":
        schema = lookup[2]
    elif lookup[0] == "column":
        schema = (lookup[3] or "").partition(".")[0]
    from wizard.core.advice import supabase_schema

    owner = supabase_schema(schema)
    if owner is None:
        return None
    return (f"which {owner} provides on Supabase projects and this database lacks (no migration is "
            "expected to create it): apply with the compatibility step (without --no-compat) or on the "
            "local database, or to a Supabase project")
