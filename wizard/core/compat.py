"""Supabase compatibility for a plain PostgreSQL: a Supabase-shaped database.

Migrations written for Supabase reference what every Supabase project has: ``auth.users`` and the
auth tables, ``auth.uid()/role()/jwt()/email()``, ``storage.buckets`` and ``storage.objects``, the
``extensions`` schema with ``uuid-ossp`` and ``pgcrypto``, the ``supabase_realtime`` publication, the
roles ``anon``, ``authenticated``, ``service_role`` and Supabase's others, and Supabase's grants. On
a plain PostgreSQL that lacks them, the wizard creates them first (``compat.sql``, guarded and
idempotent, in one transaction). It never touches a Supabase project.

What the step makes is read from ``compat.sql`` itself (its statements, and those inside its DO
blocks): the objects checked before a run, the list of what a run created, and what pre-flight may
count on when the step will run. The answer is kept in the parse cache, so a run whose files are
all cached does not load the parser for it.

A database shaped by the step carries its mark (a comment on the schema ``auth``, and on the roles
``supabase_admin`` and ``supabase_auth_admin``, which the step creates): a server is a Supabase
project when it has those roles without the mark.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field

import psycopg

ROLE_MARK = "Made by migration-wizard"  # how the step's comment on its administrative roles begins

SUPABASE = f"""
EXISTS (SELECT 1 FROM pg_roles WHERE rolname IN ('supabase_admin', 'supabase_auth_admin')
         AND NOT starts_with(coalesce(shobj_description(oid, 'pg_authid'), ''), '{ROLE_MARK}'))
"""

# Read from the catalogs directly: they need no privilege on the schemas, to_regclass and
# to_regprocedure do.
_STATE = f"""
WITH wanted AS (SELECT * FROM unnest(%(kinds)s::text[], %(schemas)s::text[], %(names)s::text[]) AS w(kind, schema, name))
SELECT {SUPABASE} AS supabase,
       coalesce((SELECT obj_description(n.oid, 'pg_namespace') = %(mark)s FROM pg_namespace n WHERE n.nspname = 'auth'),
                false) AS marked,
       ARRAY(SELECT w.kind || ' ' || coalesce(w.schema || '.', '') || w.name FROM wanted w WHERE NOT CASE w.kind
         WHEN 'role' THEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = w.name)
         WHEN 'schema' THEN EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = w.name)
         WHEN 'table' THEN EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                    WHERE n.nspname = w.schema AND c.relname = w.name)
         WHEN 'function' THEN EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                                       WHERE n.nspname = w.schema AND p.proname = w.name)
         WHEN 'type' THEN EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                                   WHERE n.nspname = w.schema AND t.typname = w.name)
         WHEN 'publication' THEN EXISTS (SELECT 1 FROM pg_publication WHERE pubname = w.name)
         WHEN 'extension' THEN EXISTS (SELECT 1 FROM pg_extension WHERE extname = w.name)
                               OR NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = w.name)
       END) AS missing,
       ARRAY(SELECT w.name FROM wanted w WHERE w.kind = 'extension'
                AND (EXISTS (SELECT 1 FROM pg_extension WHERE extname = w.name)
                     OR EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = w.name))) AS extensions
"""


@dataclass(frozen=True)
class Manifest:
    """What compat.sql makes, read from its statements."""

    objects: tuple[tuple[str, str | None, str], ...]  # (kind, schema, name): role, schema, table, function, type, extension, publication
    mark: str  # the comment the step leaves on the schema auth
    provides: tuple[tuple, ...] = ()  # the statements' creations, as objects.effects_data's (kind, schema, name, table)


@dataclass(frozen=True)
class State:
    """What the step would do on one database."""

    supabase: bool  # a Supabase project: the step never runs
    missing: list[str] = field(default_factory=list)  # "kind [schema.]name" of every object the step would create
    marked: bool = True  # the database carries the mark of the step as it is now
    extensions: list[str] = field(default_factory=list)  # the step's extensions this server has (installed or available)

    @property
    def will_run(self) -> bool:
        return not self.supabase and bool(self.missing or not self.marked)

    def summary(self) -> str:
        return summary(self.missing) if self.missing else "Supabase's marks and grants"


def script() -> str:
    from importlib import resources

    return resources.files("wizard.core").joinpath("compat.sql").read_text(encoding="utf-8")


@functools.cache
def manifest() -> Manifest:
    """What compat.sql creates (from the parse cache when it holds the answer)."""
    from importlib import resources

    from wizard.core import parsecache

    text = script()
    code = resources.files("wizard.core").joinpath("compat.py").read_bytes()
    key = "compat-" + hashlib.sha256(text.encode("utf-8") + b"\0" + code).hexdigest()
    cached = parsecache.load(key)
    if cached is not None:
        try:
            objects, mark, provides = cached
            return Manifest(tuple(tuple(o) for o in objects), mark, tuple(tuple(p) for p in provides))
        except (TypeError, ValueError):
            pass
    found = _read(text)
    parsecache.store(key, [list(found.objects), found.mark, list(found.provides)])
    return found


def _read(text: str) -> Manifest:
    """The objects the script's statements create, DO blocks included."""
    import json

    from pglast import parser

    from wizard.core import objects as effects
    from wizard.core.catalog import Statement

    def statements(sql: str):
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
    provides: list[tuple] = []
    mark = ""
    for index, (kind, node) in enumerate(statements(text), start=1):
        if kind == "CreateRoleStmt":
            found.append(("role", None, node["role"]))
        elif kind == "CreatePublicationStmt":
            found.append(("publication", None, node["pubname"]))
        elif kind == "CommentStmt" and node.get("objtype") == "OBJECT_SCHEMA" and node["object"]["String"]["sval"] == "auth":
            mark = node["comment"]
        created = effects.effects(Statement(index, kind, node, 0, 0, 1, ""))
        for obj in created.creates:
            provides.append((obj.kind, obj.schema, obj.name, obj.table))
            if obj.kind in ("schema", "table", "function", "type", "extension"):
                found.append((obj.kind, obj.schema, obj.name))
    return Manifest(tuple(dict.fromkeys(found)), mark, tuple(dict.fromkeys(provides)))


def _plpgsql_queries(tree) -> list[str]:
    """The SQL statements a PL/pgSQL body runs as written (not the dynamic ones), in order."""
    queries, stack = [], [tree]
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


def inspect(conn: psycopg.Connection) -> State:
    """What the step would create on this database (one query)."""
    wanted = manifest()
    row = conn.execute(_STATE, {
        "kinds": [o[0] for o in wanted.objects],
        "schemas": [o[1] for o in wanted.objects],
        "names": [o[2] for o in wanted.objects],
        "mark": wanted.mark,
    }).fetchone()
    supabase, marked, missing, extensions = row
    if supabase:
        return State(True, [], True, list(extensions))
    return State(False, list(missing), bool(marked), list(extensions))


_MEMBERS = """
SELECT p.proname FROM pg_depend d
  JOIN pg_extension e ON e.oid = d.refobjid
  JOIN pg_proc p ON p.oid = d.objid
 WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND e.extname = ANY (%s::text[])
"""


def extension_functions(conn: psycopg.Connection, names: list[str]) -> set[str]:
    """The functions of the step's extensions ``names`` (available on the server, installed or
    not): learnt by installing them in a transaction that is rolled back, since a server tells an
    extension's functions only once it is installed. Empty when that is not possible."""
    if not names or not isinstance(conn, psycopg.Connection):
        return set()
    from psycopg import sql

    try:
        with conn.transaction(force_rollback=True):
            conn.execute("CREATE SCHEMA IF NOT EXISTS extensions")
            for name in names:
                conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA extensions").format(sql.Identifier(name)))
            return {row[0] for row in conn.execute(_MEMBERS, (names,))}
    except psycopg.Error:
        return set()


def summary(created: list[str]) -> str:
    """What the step created, in one line: "auth.users, auth.identities, ..., auth.uid()/role()/jwt()/
    email(), extensions uuid-ossp/pgcrypto, publication supabase_realtime, roles anon/...". Schemas
    and types are named only when nothing in them is."""
    by_kind: dict[str, list[str]] = {}
    for item in created:
        kind, _, name = item.partition(" ")
        by_kind.setdefault(kind, []).append(name)
    shown = {n.partition(".")[0] for n in by_kind.get("table", []) + by_kind.get("function", [])}
    parts = list(by_kind.get("table", []))
    functions: dict[str, list[str]] = {}
    for name in by_kind.get("function", []):
        schema, _, function = name.rpartition(".")
        functions.setdefault(schema, []).append(function + "()")
    parts += [f"{schema}.{'/'.join(names)}" if schema else "/".join(names) for schema, names in functions.items()]
    types = [n for n in by_kind.get("type", []) if n.partition(".")[0] not in shown]
    schemas = [n for n in by_kind.get("schema", []) if n not in shown]
    for kind, label, names in (("extension", "extensions", by_kind.get("extension")),
                               ("publication", "publication", by_kind.get("publication")),
                               ("role", "roles", by_kind.get("role")),
                               ("type", "types", types), ("schema", "schemas", schemas)):
        if names:
            parts.append(f"{label} {'/'.join(names)}")
    return ", ".join(parts)


def ensure(conn: psycopg.Connection) -> list[str]:
    """Create what is missing, in one transaction; return what was created ("kind name" each:
    nothing on Supabase, nothing when all is there)."""
    state = inspect(conn)
    if not state.will_run:
        return []
    try:
        with conn.transaction():
            conn.execute(script())
    except psycopg.errors.InsufficientPrivilege as exc:
        raise CompatError(
            f"the Supabase compatibility step needs to create {summary(state.missing) or 'grants'}, "
            f"and this user may not ({exc.diag.message_primary}). Run wizard/core/compat.sql once as a superuser, "
            "or pass --no-compat if the migrations use nothing of Supabase's."
        ) from None
    return state.missing or ["grants"]


class CompatError(Exception):
    """The compatibility objects are missing and this user cannot create them."""
