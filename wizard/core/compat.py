"""Supabase compatibility for a plain PostgreSQL: a Supabase-shaped database.

Migrations written for Supabase reference what every Supabase project has: ``auth.users`` and the
auth tables (a data dump's seed fills them all, naming every column), ``auth.uid()/role()/jwt()/
email()``, ``storage.buckets`` and ``storage.objects``, the ``extensions`` schema with ``uuid-ossp``
and ``pgcrypto``, ``pg_graphql`` (schema ``graphql``) and ``supabase_vault`` (schema ``vault``), the
webhooks' ``supabase_functions.http_request()``, ``realtime.messages`` with ``realtime.send()`` and
``broadcast_changes()``, the ``supabase_realtime`` publication, the roles ``anon``,
``authenticated``, ``service_role`` and Supabase's others, and Supabase's grants. On a plain
PostgreSQL that lacks them, the wizard creates them first (``compat.sql``, guarded and idempotent, in
one transaction). It never touches a Supabase project.

Extensions are installed only where the server has them (the local database has stand-ins): a
server without ``pg_graphql`` gets no empty ``graphql`` schema, so a folder's own ``CREATE
EXTENSION pg_graphql WITH SCHEMA graphql`` is pre-flight's error at its line (missing_extensions),
before anything runs. What stands in for a service says so in its comment (``migration-wizard
stand-in``): the webhook function records each request in ``supabase_functions.stand_in_requests``,
a table of the step's own, and sends none; broadcasts are stored, never sent.

What the step makes is read from ``compat.sql`` itself (its statements, and those inside its DO
blocks): the objects checked before a run, the list of what a run created, and what pre-flight may
count on when the step will run. The answer is kept in the parse cache, so a run whose files are
all cached does not load the parser for it.

A database shaped by the step carries its mark (a comment on the schema ``auth``, and on the roles
``supabase_admin`` and ``supabase_auth_admin``, which the step creates): a server is a Supabase
project when it has those roles without the mark. The mark on ``auth`` names the step's version:
a database with the current mark needs nothing (one small query per run tells); any other plain
PostgreSQL gets the step, which creates only what is missing, so a database made by an older
wizard (the API roles and ``auth.uid()`` alone) gets the rest. What was missing is what the run
reports as created (``ensure``; ``apply --json``'s ``compat``; the runner's notice).

The extensions schema goes on the database's search_path (``ALTER DATABASE``, not ``ALTER ROLE``:
roles are shared by every database of the server) for the sessions to come, and on the current
session's, so that the migrations of the same run resolve an unqualified ``uuid_generate_v4()``.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
from wizard.core.errors import ExitCode, WizardError

from wizard.core.db import Connectable, Params, Query, database
from wizard.core.effects import Node, ObjectData

ROLE_MARK = "Made by migration-wizard"  # how the step's comment on its administrative roles begins

SUPABASE = f"""
EXISTS (SELECT 1 FROM pg_roles r
          LEFT JOIN pg_shdescription d ON d.objoid = r.oid AND d.classoid = 'pg_authid'::regclass
         WHERE r.rolname IN ('supabase_admin', 'supabase_auth_admin')
           AND NOT starts_with(coalesce(d.description, ''), '{ROLE_MARK}'))
"""

_MARKED = """
EXISTS (SELECT 1 FROM pg_namespace n
          JOIN pg_description d ON d.objoid = n.oid AND d.classoid = 'pg_namespace'::regclass AND d.objsubid = 0
         WHERE n.nspname = 'auth' AND d.description = %(mark)s)
"""

# Every run asks this first: a Supabase project, or a database with the mark of the step as it is
# now, needs nothing more (the step runs in one transaction).
_QUICK = f"SELECT {SUPABASE} AS supabase, {_MARKED} AS marked"

# Then, when the step will run: what it will create. Read from the catalogs directly: they need no
# privilege on the schemas, to_regclass and to_regprocedure do.
_STATE = """
WITH wanted AS (SELECT * FROM unnest(%(kinds)s::text[], %(schemas)s::text[], %(names)s::text[]) AS w(kind, schema, name)),
     -- read (a directory scan) only for an extension that is not installed
     available AS MATERIALIZED (SELECT name FROM pg_available_extensions)
SELECT ARRAY(
         SELECT w.kind || ' ' || coalesce(w.schema || '.', '') || w.name FROM wanted w WHERE NOT CASE w.kind
           WHEN 'role' THEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = w.name)
           WHEN 'schema' THEN EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = w.name)
           WHEN 'table' THEN EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                      WHERE n.nspname = w.schema AND c.relname = w.name)
           WHEN 'function' THEN EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                                         WHERE n.nspname = w.schema AND p.proname = w.name)
           WHEN 'type' THEN EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                                     WHERE n.nspname = w.schema AND t.typname = w.name)
           WHEN 'publication' THEN EXISTS (SELECT 1 FROM pg_publication WHERE pubname = w.name)
           WHEN 'extension' THEN CASE WHEN EXISTS (SELECT 1 FROM pg_extension WHERE extname = w.name) THEN true
                                      ELSE NOT EXISTS (SELECT 1 FROM available a WHERE a.name = w.name) END
         END) AS missing,
       ARRAY(
         SELECT w.name FROM wanted w WHERE w.kind = 'extension'
            AND CASE WHEN EXISTS (SELECT 1 FROM pg_extension WHERE extname = w.name) THEN true
                     ELSE EXISTS (SELECT 1 FROM available a WHERE a.name = w.name) END) AS extensions
"""


@dataclass(frozen=True)
class Manifest:
    """What compat.sql makes, read from its statements."""

    objects: tuple[tuple[str, str | None, str], ...]  # (kind, schema, name): role, schema, table, function, type, extension, publication
    mark: str  # the comment the step leaves on the schema auth
    provides: tuple[ObjectData, ...] = ()  # the statements' creations, as objects.effects_data's (kind, schema, name, table)
    extension_schemas: tuple[tuple[str, str], ...] = ()  # (extension, the schema the step installs it into)


@dataclass(frozen=True)
class State:
    """What the step would do on one database."""

    supabase: bool  # a Supabase project: the step never runs
    missing: list[str] = field(default_factory=list)  # "kind [schema.]name" of every object the step would create
    marked: bool = True  # the database carries the mark of the step as it is now
    extensions: list[str] = field(default_factory=list)  # when it will run: the step's extensions this server has

    @property
    def will_run(self) -> bool:
        return not self.supabase and bool(self.missing or not self.marked)

    def summary(self) -> str:
        return summary(self.missing) if self.missing else _GRANTS


_GRANTS = "Supabase's grants and marks"  # what a run makes when every object was there already


def script() -> str:
    from importlib import resources

    return resources.files("wizard.core").joinpath("compat.sql").read_text(encoding="utf-8")


@functools.cache
def manifest() -> Manifest:
    """What compat.sql creates (from the parse cache when it holds the answer)."""
    from importlib import resources

    from wizard.core import parsecache

    text = script()
    try:
        code = resources.files("wizard.core").joinpath("compat.py").read_bytes()
    except OSError:  # an install without sources: the wizard's version tells the code apart
        from wizard import __version__

        code = __version__.encode()
    key = "compat-" + hashlib.sha256(text.encode("utf-8") + b"\0" + code).hexdigest()
    cached = parsecache.load(key)
    if cached is not None:
        try:
            objects, mark, provides, schemas = cached
            return Manifest(tuple(tuple(o) for o in objects), mark, tuple(tuple(p) for p in provides),
                            tuple(tuple(s) for s in schemas))
        except (TypeError, ValueError):
            pass
    found = _read(text)
    parsecache.store(key, [list(found.objects), found.mark, list(found.provides), list(found.extension_schemas)])
    return found


def _read(text: str) -> Manifest:
    """The objects the script's statements create, DO blocks included."""
    import json

    from pglast import parser

    from wizard.core import objects as effects
    from wizard.core.catalog import Statement

    def statements(sql: str) -> Iterator[tuple[str, Node]]:
        encoded = sql.encode("utf-8")
        for raw in json.loads(parser.parse_sql_json(sql)).get("stmts", []):
            ((kind, node),) = raw["stmt"].items()
            if kind == "DoStmt":
                begin, length = raw.get("stmt_location", 0), raw.get("stmt_len", 0)
                body = encoded[begin:begin + length if length else len(encoded)].decode("utf-8")
                for query in _plpgsql_queries(json.loads(parser.parse_plpgsql_json(body))):
                    yield from statements(query)
            else:
                yield kind, node

    found: list[tuple[str, str | None, str]] = []
    provides: list[ObjectData] = []
    schemas: list[tuple[str, str]] = []
    mark = ""
    for index, (kind, node) in enumerate(statements(text), start=1):
        if kind == "CreateRoleStmt":
            found.append(("role", None, node["role"]))
        elif kind == "CreatePublicationStmt":
            found.append(("publication", None, node["pubname"]))
        elif kind == "CreateExtensionStmt":
            for option in node.get("options", []):
                if option.get("DefElem", {}).get("defname") == "schema":
                    schemas.append((node["extname"], option["DefElem"]["arg"]["String"]["sval"]))
        elif kind == "CommentStmt" and node.get("objtype") == "OBJECT_SCHEMA" and node["object"]["String"]["sval"] == "auth":
            mark = node["comment"]
        created = effects.effects(Statement(index, kind, node, 0, 0, 1, ""))
        for obj in created.creates:
            provides.append((obj.kind, obj.schema, obj.name, obj.table))
            if obj.kind in ("schema", "table", "function", "type", "extension"):
                found.append((obj.kind, obj.schema, obj.name))
    return Manifest(tuple(dict.fromkeys(found)), mark, tuple(dict.fromkeys(provides)), tuple(dict.fromkeys(schemas)))


def _plpgsql_queries(tree: object) -> list[str]:
    """The SQL statements a PL/pgSQL body runs as written (not the dynamic ones), in order."""
    queries: list[str] = []
    stack: list[object] = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            statement = item.get("PLpgSQL_stmt_execsql")
            if statement is not None:
                queries.append(statement["sqlstmt"]["PLpgSQL_expr"]["query"])
                continue
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return queries


def reads() -> list[tuple[Query, Params]]:
    """The reads of ``inspect``, to ask ahead in one request with others (``db.batch``)."""
    wanted = manifest()
    return [(_QUICK, {"mark": wanted.mark}), (_STATE, {
        "kinds": [o[0] for o in wanted.objects],
        "schemas": [o[1] for o in wanted.objects],
        "names": [o[2] for o in wanted.objects],
    })]


def inspect(conn: Connectable) -> State:
    """What the step would create on this database: one small query when it has nothing to do."""
    db = database(conn)
    (quick, quick_params), (state, state_params) = reads()
    ((supabase, marked),) = db.query(quick, quick_params)
    if supabase or marked:
        return State(bool(supabase))
    ((missing, extensions),) = db.query(state, state_params)
    return State(False, list(missing), False, list(extensions))


_MEMBERS = """
SELECT p.proname FROM pg_depend d
  JOIN pg_extension e ON e.oid = d.refobjid
  JOIN pg_proc p ON p.oid = d.objid
 WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND e.extname = ANY (%s::text[]) AND p.pronamespace = 'extensions'::regnamespace
"""


def extension_functions(conn: Connectable, names: list[str]) -> set[str]:
    """The functions the step's extensions ``names`` (available on the server, installed or not)
    put in the schema ``extensions``, which is on the search_path: learnt by installing them where
    the step does, in a transaction that is rolled back, since a server tells an extension's
    functions only once it is installed. Empty when that is not possible."""
    db = database(conn)
    if not names or not db.session:  # no extension is installed for a look through the Management API
        return set()
    from psycopg import sql

    schemas = dict(manifest().extension_schemas)
    before: list[Query] = ["CREATE SCHEMA IF NOT EXISTS extensions"]
    for name in names:
        schema = sql.Identifier(schemas.get(name, "extensions"))
        before.append(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
        before.append(sql.SQL("CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}").format(sql.Identifier(name), schema))
    try:
        return {row[0] for row in db.rolled_back(_MEMBERS, (names,), before=before)}
    except psycopg.Error:
        return set()


def summary(created: list[str]) -> str:
    """What the step created, in one line: "auth.users, auth.identities, auth.sessions, 13 other auth
    tables, auth.uid()/role()/jwt()/email(), storage.buckets, ..., extensions uuid-ossp/pgcrypto,
    publication supabase_realtime, roles anon/...". Beyond four tables in a schema, the first three
    are named and the others counted; the stand-ins' own tables (``stand_in_...``) are not named;
    schemas and types are named only when nothing in them is."""
    by_kind: dict[str, list[str]] = {}
    for item in created:
        kind, _, name = item.partition(" ")
        by_kind.setdefault(kind, []).append(name)
    in_schema: dict[str, list[str]] = {}  # tables, then functions grouped, schema by schema
    functions: dict[str, list[str]] = {}
    for name in by_kind.get("table", []):
        if not name.partition(".")[2].startswith("stand_in_"):  # a stand-in's own record, not Supabase's
            in_schema.setdefault(name.partition(".")[0], []).append(name)
    for name in by_kind.get("function", []):
        schema, _, function = name.rpartition(".")
        in_schema.setdefault(schema, [])
        functions.setdefault(schema, []).append(function + "()")
    parts = []
    for schema, names in in_schema.items():
        parts += names if len(names) <= 4 else names[:3] + [f"{len(names) - 3} other {schema} tables"]
        if schema in functions:
            parts.append(f"{schema}.{'/'.join(functions[schema])}" if schema else "/".join(functions[schema]))
    shown = set(in_schema) | ({"extensions"} if by_kind.get("extension") else set())
    types = [n for n in by_kind.get("type", []) if n.partition(".")[0] not in shown]
    schemas = [n for n in by_kind.get("schema", []) if n not in shown]
    for label, listed in (("extensions", by_kind.get("extension")), ("publication", by_kind.get("publication")),
                          ("roles", by_kind.get("role")), ("types", types), ("schemas", schemas)):
        if listed:
            parts.append(f"{label} {'/'.join(listed)}")
    known = {"table", "function", "extension", "publication", "role", "type", "schema"}
    parts += [item for item in created if item.partition(" ")[0] not in known]
    return ", ".join(parts)


def ensure(conn: Connectable) -> list[str]:
    """Create what is missing, in one transaction; return what was created ("kind name" each:
    nothing on Supabase, nothing when all is there)."""
    db = database(conn)
    state = inspect(db)
    if not state.will_run:
        return []
    try:
        db.transaction(script())
    except psycopg.errors.InsufficientPrivilege as exc:
        raise CompatError(
            f"the Supabase compatibility step needs to create {summary(state.missing) or 'grants'}, "
            f"and this user may not ({exc.diag.message_primary}). Run wizard/core/compat.sql once as a superuser, "
            "or pass --no-compat if the migrations use nothing of Supabase's."
        ) from None
    return state.missing or [_GRANTS]


class CompatError(WizardError):
    """The compatibility objects are missing and this user cannot create them."""

    kind = "compat-failed"
    exit_code = ExitCode.USAGE
