"""Verification: does the database hold what the migrations should have produced?

Three sources of checks: the objects the migration files create (every table, view, index,
trigger, function, policy, column and enabled row level security, read from the files with the
parser), the checks file beside the migrations (``checks.toml``), and a registration smoke test
(a user inserted the way a backend registers one, read back, rolled back).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg

from wizard.core import checks as checks_file
from wizard.core.catalog import Catalog, Migration
from wizard.core.checks import CheckResult
from wizard.core.db import Connectable, Params, batch, database
from wizard.core.effects import Node
from wizard.core.objects import Obj, final_objects

# One query per kind: which of the given objects exist. Arrays in, one boolean per object out.
_PRESENCE = {
    "relation": "SELECT to_regclass(format('%%I.%%I', s, n)) IS NOT NULL FROM unnest(%(s)s::text[], %(n)s::text[]) AS x(s, n)",
    "function": """SELECT EXISTS (SELECT 1 FROM pg_proc p WHERE p.proname = n AND p.pronamespace = to_regnamespace(quote_ident(s)))
                     FROM unnest(%(s)s::text[], %(n)s::text[]) AS x(s, n)""",
    "type": "SELECT to_regtype(format('%%I.%%I', s, n)) IS NOT NULL FROM unnest(%(s)s::text[], %(n)s::text[]) AS x(s, n)",
    "schema": "SELECT to_regnamespace(quote_ident(n)) IS NOT NULL FROM unnest(%(s)s::text[], %(n)s::text[]) AS x(s, n)",
    "extension": "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = n) FROM unnest(%(s)s::text[], %(n)s::text[]) AS x(s, n)",
    "trigger": """SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(format('%%I.%%I', ts, tn))
                                AND tgname = n AND NOT tgisinternal)
                    FROM unnest(%(ts)s::text[], %(tn)s::text[], %(n)s::text[]) AS x(ts, tn, n)""",
    "policy": """SELECT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = to_regclass(format('%%I.%%I', ts, tn))
                                AND polname = n)
                   FROM unnest(%(ts)s::text[], %(tn)s::text[], %(n)s::text[]) AS x(ts, tn, n)""",
    "column": """SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(format('%%I.%%I', ts, tn))
                                AND attname = n AND attnum > 0 AND NOT attisdropped)
                   FROM unnest(%(ts)s::text[], %(tn)s::text[], %(n)s::text[]) AS x(ts, tn, n)""",
    "rls": """SELECT coalesce((SELECT relrowsecurity FROM pg_class
                               WHERE oid = to_regclass(format('%%I.%%I', ts, tn))), false)
                FROM unnest(%(ts)s::text[], %(tn)s::text[], %(n)s::text[]) AS x(ts, tn, n)""",
}
_GROUPS = (
    ("tables", ("table",)), ("views", ("view",)), ("sequences", ("sequence",)), ("columns", ("column",)),
    ("indexes", ("index",)), ("triggers", ("trigger",)), ("functions", ("function",)),
    ("policies", ("policy",)), ("row level security", ("rls",)), ("types", ("type",)),
    ("schemas", ("schema",)), ("extensions", ("extension",)),
)
_LOOKUP = {"table": "relation", "view": "relation", "sequence": "relation", "index": "relation"}


def _presence_reads(objs: list[Obj]) -> list[tuple[str, list[int], dict[str, list[str | None]]]]:
    """The reads of ``presence``: for each kind of lookup, the objects' indexes and the parameters."""
    by_lookup: dict[str, list[int]] = {}
    for i, obj in enumerate(objs):
        by_lookup.setdefault(_LOOKUP.get(obj.kind, obj.kind), []).append(i)
    asked = []
    for lookup, indexes in by_lookup.items():
        # the table of a trigger, policy, column or rls, as "schema.name": each part quoted on its own
        # (a name may need quotes: spaces, capitals, a dot)
        tables = [(objs[i].table or "").partition(".") for i in indexes]
        params: dict[str, list[str | None]] = {
            "s": [objs[i].schema for i in indexes],
            "n": [objs[i].name for i in indexes],
            "ts": [schema for schema, _, _ in tables],
            "tn": [name for _, _, name in tables],
        }
        asked.append((lookup, indexes, params))
    return asked


def presence(conn: Connectable, objs: list[Obj]) -> list[bool]:
    """For each object, whether the database has it."""
    db = database(conn)
    found = [False] * len(objs)
    asked = _presence_reads(objs)
    batch.prefetch(db, [(_PRESENCE[lookup], params) for lookup, _, params in asked])  # one request over HTTPS
    for lookup, indexes, params in asked:
        rows = db.query(_PRESENCE[lookup], params)
        for i, row in zip(indexes, rows):
            found[i] = bool(row[0])
    return found


def object_checks(conn: Connectable, migrations: list[Migration]) -> list[CheckResult]:
    """One check per kind of object: all that the files create must be there."""
    expected = final_objects(migrations)
    objs = [e[0] for e in expected]
    found = presence(conn, objs) if objs else []
    results = []
    for label, kinds in _GROUPS:
        members = [(e, ok) for e, ok in zip(expected, found) if e[0].kind in kinds]
        if not members:
            continue
        missing = [e for e, ok in members if not ok]
        if missing:
            names = "; ".join(f"{obj.describe()} ({m.filename}:{s.line})" for obj, m, s in missing[:20])
            more = f" and {len(missing) - 20} more" if len(missing) > 20 else ""
            detail = f"{len(members)} expected, {len(members) - len(missing)} found; missing: {names}{more}"
        else:
            detail = f"all {len(members)} present"
        results.append(CheckResult(f"{label} created by the migrations", not missing, detail))
    return results


_USERS_COLUMNS = """
SELECT attname, format_type(atttypid, atttypmod), attnotnull, atthasdef
  FROM pg_attribute WHERE attrelid = to_regclass('public.users') AND attnum > 0 AND NOT attisdropped
"""


def registration_check(conn: Connectable) -> CheckResult | None:
    """Insert a user the way a backend's registration does, read it back, roll back. None when
    there is no users table with an email column."""
    db = database(conn)
    columns = {row[0]: row for row in db.query(_USERS_COLUMNS)}
    if "email" not in columns:
        return None
    values: dict[str, object] = {"email": "wizard.registration.check@example.com"}
    samples = {
        "password_hash": "$2b$10$wizardregistrationcheckhashvalue000000000000000000000",
        "password": "$2b$10$wizardregistrationcheckhashvalue000000000000000000000",
        "full_name": "Registration Check", "name": "Registration Check",
        "first_name": "Registration", "last_name": "Check",
    }
    for name, sample in samples.items():
        if name in columns:
            values[name] = sample
    required = [c for c, (_, _, notnull, hasdef) in columns.items() if notnull and not hasdef and c not in values]
    if required:
        return CheckResult("registration", False,
                           "a user cannot be inserted with email, password hash and name: these columns "
                           f"are required and have no default: {', '.join(required)}")
    names = list(values)
    # One statement that inserts, reads back and always rolls back (by raising), so that it behaves
    # the same over a connection and over HTTPS, where a request is a transaction of its own.
    from psycopg import sql

    block = sql.SQL(
        "DO $check$ DECLARE found integer; BEGIN "
        "INSERT INTO public.users ({columns}) VALUES ({values}); "
        "SELECT count(*) INTO found FROM public.users WHERE email = {email}; "
        "RAISE EXCEPTION 'migration-wizard registration check: %', found; END $check$"
    ).format(
        columns=sql.SQL(", ").join(sql.Identifier(n) for n in names),
        values=sql.SQL(", ").join(sql.Literal(v) for v in values.values()),
        email=sql.Literal(values["email"]),
    )
    try:
        db.query(block.as_string(None))
    except psycopg.Error as exc:
        text = str(exc).strip()
        marker = "migration-wizard registration check: "
        if marker in text:
            read = int(text.split(marker, 1)[1].split()[0])
        else:
            sqlstate = getattr(exc, "sqlstate", None) or ""
            return CheckResult("registration", False,
                               f"inserting a user the way registration does failed: {sqlstate} {text}")
    else:
        read = 0
    ok = read == 1
    return CheckResult("registration", ok,
                       "a user with " + ", ".join(names) + " was inserted, read back and rolled back"
                       if ok else "the inserted user could not be read back")


def run(
    conn: Connectable, catalog: Catalog, on_result: Callable[[CheckResult], None] | None = None
) -> list[CheckResult]:
    """Every check, in order; each result is also handed to ``on_result`` as it comes."""
    results = []
    for result in _all(conn, catalog):
        results.append(result)
        if on_result:
            on_result(result)
    return results


def _constant(node: Node) -> str | None:
    const = node.get("A_Const")
    if not const or const.get("isnull"):
        return None
    for kind, key in (("sval", "sval"), ("ival", "ival"), ("fval", "fval"), ("boolval", "boolval")):
        if kind in const:
            value = const[kind].get(key, 0 if kind == "ival" else False if kind == "boolval" else "")
            return str(value).lower() if kind == "boolval" else str(value)
    return None


def seed_rows(migrations: list[Migration]) -> dict[tuple[str, str], list[tuple[str, str, int]]]:
    """Rows the files seed with INSERT ... VALUES ... ON CONFLICT (key): by (table, key column), the
    key values with the file and line that seed them."""
    seeds: dict[tuple[str, str], list[tuple[str, str, int]]] = {}
    for migration in migrations:
        for statement in migration.statements:
            if statement.kind != "InsertStmt":
                continue
            node = statement.node
            infer = (node.get("onConflictClause") or {}).get("infer") or {}
            keys = [e.get("IndexElem", {}).get("name") for e in infer.get("indexElems", [])]
            values = (node.get("selectStmt") or {}).get("SelectStmt", {}).get("valuesLists")
            if statement.kind != "InsertStmt" or len(keys) != 1 or not keys[0] or not values:
                continue
            columns = [c["ResTarget"]["name"] for c in node.get("cols", [])]
            if keys[0] not in columns:
                continue
            position = columns.index(keys[0])
            rel = node["relation"]
            table = f"{rel.get('schemaname') or 'public'}.{rel['relname']}"
            for row in values:
                items = row["List"]["items"]
                value = _constant(items[position]) if position < len(items) else None
                if value is not None:
                    location = items[position]["A_Const"].get("location", 0)
                    seeds.setdefault((table, keys[0]), []).append(
                        (value, migration.filename, migration.line_at_byte(location))
                    )
    return seeds


def seed_checks(conn: Connectable, migrations: list[Migration]) -> list[CheckResult]:
    """One check per seeded table: every row the files seed is there, found by its key."""
    from psycopg import sql

    results = []
    for (table, column), rows in seed_rows(migrations).items():
        schema, name = table.split(".", 1)
        query = sql.SQL(
            "SELECT k FROM unnest(%s::text[]) AS k WHERE NOT EXISTS "
            "(SELECT 1 FROM {table} AS t WHERE t.{column}::text = k)"
        ).format(table=sql.Identifier(schema, name), column=sql.Identifier(column))
        try:
            missing = {r[0] for r in database(conn).rolled_back(query, ([r[0] for r in rows],))}
        except psycopg.Error as exc:
            results.append(CheckResult(f"seed rows in {name}", False, f"cannot read {table}: {str(exc).strip()}"))
            continue
        absent = [r for r in rows if r[0] in missing]
        if absent:
            listed = "; ".join(f"{column}={v} ({f}:{line})" for v, f, line in absent[:20])
            detail = f"{len(rows)} expected, {len(rows) - len(absent)} found; missing: {listed}"
        else:
            detail = f"all {len(rows)} present"
        results.append(CheckResult(f"seed rows in {name}", not absent, detail))
    return results


def catalog_reads(catalog: Catalog) -> list[tuple[str, Params]]:
    """The checks' reads of the catalog that need no earlier answer: every kind of object the files
    create, the users table's columns (to ask ahead in one request: ``db.batch``)."""
    objs = [e[0] for e in final_objects(catalog.migrations)]
    reads: list[tuple[str, Params]] = [(_PRESENCE[lookup], params) for lookup, _, params in _presence_reads(objs)]
    return reads + [(_USERS_COLUMNS, None)]


def _all(conn: Connectable, catalog: Catalog) -> Iterator[CheckResult]:
    batch.prefetch(conn, catalog_reads(catalog))  # one request over HTTPS for the catalog's answers
    yield from object_checks(conn, catalog.migrations)
    yield from seed_checks(conn, catalog.migrations)
    try:
        loaded = checks_file.load(catalog.directory)
    except checks_file.ChecksFileError as exc:
        yield CheckResult("checks file", False, str(exc))
        loaded = []
    yield from checks_file.run(conn, loaded)
    registration = registration_check(conn)
    if registration is not None:
        yield registration


def migration_presence(conn: Connectable, migration: Migration) -> tuple[list[Obj], list[Obj]]:
    """(present, missing): the objects one migration creates, split by whether the database has
    them. Both empty when the migration creates nothing that can be looked up."""
    objs = [e[0] for e in final_objects([migration])]
    found = presence(conn, objs) if objs else []
    return [o for o, ok in zip(objs, found) if ok], [o for o, ok in zip(objs, found) if not ok]
