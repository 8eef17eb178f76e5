"""Static checks of the migration files, before any SQL runs.

Findings have a severity: ``error`` (it will certainly fail, or it would break the wizard's
guarantees: nothing is applied while there is one), ``warning`` (it can hurt: read it before you go
on) or ``info``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wizard.core.catalog import Catalog, Migration, Problem, Statement, location

ERROR = "error"
WARNING = "warning"
INFO = "info"


@dataclass(frozen=True)
class Finding:
    severity: str
    code: str
    file: str
    line: int | None
    message: str
    column: int | None = None

    def to_json(self) -> dict:
        return {
            "severity": self.severity,
            "code": self.code,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }

    def location(self) -> str:
        return location(self.file, self.line, self.column)


def _from_problem(problem: Problem, severity: str = ERROR) -> Finding:
    return Finding(severity, problem.code, problem.file, problem.line, problem.message, problem.column)


def _destructive(statement: Statement) -> str | None:
    kind = statement.kind
    if kind not in ("DropStmt", "TruncateStmt", "AlterTableStmt"):
        return None
    node = statement.node
    if kind == "DropStmt" and node.get("removeType") in ("OBJECT_TABLE", "OBJECT_SCHEMA"):
        return "DROP " + node["removeType"].removeprefix("OBJECT_")
    if kind == "TruncateStmt":
        return "TRUNCATE"
    if kind == "AlterTableStmt":
        for cmd in node.get("cmds", []):
            if cmd.get("AlterTableCmd", {}).get("subtype") == "AT_DropColumn":
                return "DROP COLUMN"
    return None


def check_migration(migration: Migration) -> list[Finding]:
    findings = []
    name = migration.filename
    boundaries = [s for s in migration.statements if s.is_transaction_control]
    marker = migration.transaction_marker
    txmode = migration.unknown_txmode
    if txmode is not None:
        findings.append(Finding(
            WARNING, "unknown-txmode", name, txmode[0],
            f"'atlas:txmode {txmode[1]}' is not one of Atlas's modes (none, file, all): the file runs in "
            "one transaction, as without it",
        ))
    alone = marker is None and migration.only_outside_transaction
    if marker is not None:
        findings.append(Finding(
            INFO, "no-transaction", name, 1,
            f"runs without a transaction, statement by statement, as its header says ({marker})",
        ))
    elif alone:
        what = [f"{s.outside_transaction or 'ALTER TYPE ... ADD VALUE'} at line {s.line}"
                for s in migration.statements if s.kind != "VariableSetStmt"]
        findings.append(Finding(
            WARNING, "runs-without-transaction", name, migration.statements[0].line,
            "the file holds only statements that run outside a transaction (" + ", ".join(what[:6])
            + (f" and {len(what) - 6} more" if len(what) > 6 else "") + "): it runs without one, statement by "
            "statement; a failure half-way leaves the statements before it applied",
        ))
    if migration.down_section is not None:
        findings.append(Finding(
            INFO, "dbmate-down", name, migration.line_col(migration.down_section)[0],
            "a dbmate file: only its migrate:up section runs; the migrate:down section from here on is left out",
        ))
    ordinary = None
    if not migration.no_transaction:
        others = [s for s in migration.statements if s.outside_transaction is None
                  and not s.is_transaction_control and s.kind != "VariableSetStmt"]
        ordinary = next((s for s in others if s.kind != "AlterEnumStmt"), others[0] if others else None)
    for statement in migration.statements:
        what = statement.outside_transaction
        if what and not migration.no_transaction:
            others = (f", and the file also holds other statements ({_short(ordinary)} at line "
                      f"{ordinary.line}), which run in the file's transaction" if ordinary is not None else "")
            findings.append(
                Finding(
                    ERROR,
                    "needs-no-transaction",
                    name,
                    statement.line,
                    f"{what} cannot run inside a transaction{others}: move it to a file of its own (a file "
                    "of such statements alone runs without a transaction), or make the file's first line "
                    "'-- wizard:no-transaction' (it then runs statement by statement, without the "
                    "all-or-nothing guarantee)",
                )
            )
        if statement.kind == "TransactionStmt" and not statement.is_transaction_control and not migration.no_transaction:
            kind = statement.node.get("kind", "")
            if kind in ("TRANS_STMT_ROLLBACK", "TRANS_STMT_PREPARE", "TRANS_STMT_COMMIT_PREPARED",
                        "TRANS_STMT_ROLLBACK_PREPARED"):
                findings.append(
                    Finding(
                        ERROR,
                        "transaction-control",
                        name,
                        statement.line,
                        "the file ends or discards its own transaction ("
                        + statement.text.split()[0].upper()
                        + "): the wizard runs each file in one transaction; remove the statement",
                    )
                )
        if statement.kind == "CopyStmt" and statement.node.get("is_from") and not statement.node.get("filename"):
            findings.append(
                Finding(
                    ERROR,
                    "copy-from-stdin",
                    name,
                    statement.line,
                    "COPY ... FROM STDIN needs psql to send the data; use INSERT statements instead",
                )
            )
        if statement.kind == "CopyStmt" and not statement.node.get("is_from") and not statement.node.get("filename"):
            findings.append(
                Finding(
                    ERROR,
                    "copy-to-stdout",
                    name,
                    statement.line,
                    "COPY ... TO STDOUT sends rows to psql's screen, and a migration has no screen: "
                    "remove the statement",
                )
            )
        if statement.kind in ("DoStmt", "CreateFunctionStmt"):
            findings += _unchecked(migration, statement)
        destructive = _destructive(statement)
        if destructive:
            findings.append(
                Finding(
                    WARNING,
                    "destructive",
                    name,
                    statement.line,
                    f"{destructive} destroys data: check you have a backup before applying",
                )
            )
        if statement.kind == "AlterEnumStmt" and statement.node.get("newVal") and not migration.no_transaction:
            findings.append(
                Finding(
                    WARNING,
                    "enum-value-in-transaction",
                    name,
                    statement.line,
                    "a value added to an enum cannot be used in the same transaction: "
                    "use it in a later migration",
                )
            )
    if boundaries and not migration.no_transaction:
        findings.append(
            Finding(
                INFO,
                "own-transaction",
                name,
                boundaries[0].line,
                "the file's own BEGIN/COMMIT are left out: the wizard runs the whole file in one transaction",
            )
        )
    return findings


def _short(statement: Statement) -> str:
    first = statement.text.split("\n", 1)[0].strip()
    return first if len(first) <= 40 else first[:37] + "..."


def _unchecked(migration: Migration, statement: Statement) -> list[Finding]:
    """Dynamic SQL of a DO block or PL/pgSQL function that pre-flight could not read."""
    from wizard.core.objects import effects_data

    more = effects_data(statement)[3]
    if more is None or not more[3]:
        return []
    lines = sorted({migration.line_at_byte(offset) if offset else statement.line for offset in more[3]})
    return [
        Finding(INFO, "dynamic-sql", migration.filename, line,
                f"not checked: dynamic SQL at {migration.filename}:{line} (EXECUTE of a string built "
                "at run time): pre-flight cannot tell what it creates or uses")
        for line in lines
    ]


def check(catalog: Catalog, migrations: list[Migration] | None = None) -> list[Finding]:
    """Every finding for the folder: its problems first, then each (pending) migration's."""
    findings = [_from_problem(p) for p in catalog.problems]
    findings += [_from_problem(w, WARNING) for w in catalog.warnings]
    for migration in catalog.migrations if migrations is None else migrations:
        if migration.statements:
            compact = [(s, s.tree) for s in migration.statements if isinstance(s.tree, bytes)]
            findings += check_migration(migration)
            for statement, tree in compact:
                statement.tree = tree  # the trees decoded for the checks go: a run needs few of them again
    return findings


def blocking(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == ERROR]


# -- dependencies: what a statement needs that nothing before it creates -------------------------

_EXISTS_SQL = """
WITH wanted AS (
    SELECT * FROM unnest(%(kinds)s::text[], %(schemas)s::text[], %(names)s::text[], %(tables)s::text[])
        AS w(kind, schema, name, tbl)
)
SELECT w.kind, w.schema, w.name, w.tbl,
       CASE w.kind
         WHEN 'relation' THEN to_regclass(coalesce(quote_ident(w.schema) || '.', '') || quote_ident(w.name)) IS NOT NULL
         WHEN 'type' THEN to_regtype(coalesce(quote_ident(w.schema) || '.', '') || quote_ident(w.name)) IS NOT NULL
         WHEN 'function' THEN EXISTS (
             SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE p.proname = w.name
                AND (n.nspname = w.schema OR (w.schema IS NULL AND n.nspname = ANY (current_schemas(true)))))
         WHEN 'column' THEN EXISTS (
             SELECT 1 FROM pg_attribute a
              WHERE a.attrelid = to_regclass(w.tbl) AND a.attname = w.name AND a.attnum > 0 AND NOT a.attisdropped)
         WHEN 'schema' THEN to_regnamespace(quote_ident(w.name)) IS NOT NULL
       END
  FROM wanted w
"""

# Codes of the dependency findings: what is missing before a statement, as far as pre-flight can see.
DEPENDENCY_CODES = frozenset(("missing-dependency", "wrong-order", "supabase-only"))

_SUPABASE_SCHEMAS = frozenset(("auth", "storage", "extensions", "realtime", "vault", "graphql", "graphql_public"))

_RELATION_KINDS = frozenset(("table", "view", "sequence", "index"))


def _dependency_key(kind: str, schema: str | None, name: str, table: str | None) -> tuple:
    """How an object is looked up: relations of every kind share one name space."""
    if kind in _RELATION_KINDS:
        return ("relation", schema or "public", name, None)
    if kind == "column":
        return ("column", None, name, table)
    if kind == "function" or kind == "type":
        return (kind, schema, name, None)
    return (kind, schema, name, table)


def _compat_provides(compat_will_run) -> frozenset:
    """What the Supabase compatibility step gives the migrations, as dependency keys: everything its
    SQL creates (compat.manifest). ``compat_will_run`` is the step's state on the database
    (compat.inspect), or True when not known."""
    if not compat_will_run or not getattr(compat_will_run, "will_run", True):
        return frozenset()  # it will not run: what it made is in the database, or nothing is
    from wizard.core import compat

    return frozenset(_dependency_key(*obj) for obj in compat.manifest().provides)


_IF_NOT_EXISTS = re.compile(r"create\s+(?:(?:global|local)\s+)?(?:temp|temporary|unlogged)?\s*table\s+if\s+not\s+exists\b",
                            re.IGNORECASE)


def _columns_follow_their_table(statement, state: dict) -> None:
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
    catalog: Catalog, pending: list[Migration], conn=None, compat_will_run=False, baseline=None
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
    shaping = bool(compat_will_run) and not getattr(compat_will_run, "supabase", False)  # the step runs, or ran

    # Effects as plain tuples (see objects.effects_data): this runs before every apply, over
    # every statement of the folder.
    created_by: dict[tuple, Migration] = {}  # every creation in the folder, for "created later"
    bodies: dict[tuple, tuple] = {}  # function -> (migration, name, body effects, line), last one read
    defined: list[tuple] = []  # the bodies the pending migrations define
    triggers: dict[str, dict[str, tuple]] = {}  # table -> trigger -> (function, events)
    waiting = set(map(id, pending))
    for migration in catalog.migrations:
        applied = id(migration) not in waiting
        for statement in migration.statements:
            data = effects_data(statement)
            for obj in data[0]:
                created_by.setdefault(_dependency_key(*obj), migration)
            if applied and data[3] is not None:
                _learn(data, migration, statement.line, bodies, triggers)

    walk = _Walk(bodies, triggers, provided)
    state, candidates = walk.state, walk.candidates
    made_at: dict[tuple, tuple[Migration, int]] = {}  # tables the pending files create, where
    twice: list[Finding] = []
    must_be_new: list[tuple[tuple, Migration, int, str]] = []  # plain CREATE TABLEs of tables nothing made
    if provided:  # the step installs these where the server has them: their schemas (vault, graphql) come too
        for name in getattr(compat_will_run, "extensions", None) or ():
            if name in _EXTENSION_SCHEMAS:
                walk.from_extensions.add({"extname": name})
    elsewhere: set[tuple] = set()  # tables made without a schema after the file set its search_path
    for migration in pending:
        path_set = False  # the file set its own search_path: where an unqualified name goes is not known
        for statement in migration.statements:
            creates, drops, uses, more = effects_data(statement)
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
    in_bodies = {_dependency_key(*obj) for _, _, body, _ in bodies.values() for obj in body[0]} if defined else ()
    unresolved = []
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
    if baseline is not None:
        present = {key: baseline.has(*key) for key in unique}
    else:
        rows = conn.execute(
            _EXISTS_SQL,
            {
                "kinds": [k[0] for k in unique],
                "schemas": [k[1] for k in unique],
                "names": [k[2] for k in unique],
                "tables": [k[3] for k in unique],
            },
        ).fetchall()
        present = {(r[0], r[1], r[2], r[3]): bool(r[4]) for r in rows}

    extension_functions = None  # what the compatibility step's extensions hold, when a use needs it
    findings, seen = list(twice), set()
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
        if used[0] == "function" and used[1] in (None, "extensions") and provided and getattr(
            compat_will_run, "extensions", None
        ):
            if extension_functions is None:
                from wizard.core import compat

                extension_functions = compat.extension_functions(conn, compat_will_run.extensions)
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


# What well-known extensions create: the schemas of their own, and the names of their functions and
# types (in the schema they are installed into). A use of one of them after the migration's CREATE
# EXTENSION is no missing dependency; the extension's availability is checked on its own
# (missing_extensions).
_EXTENSION_SCHEMAS = {
    "pg_cron": ("cron",), "pg_net": ("net",), "supabase_vault": ("vault",), "pgsodium": ("pgsodium",),
    "pg_graphql": ("graphql", "graphql_public"), "pgmq": ("pgmq",),
}
_FIXED_SCHEMA = {"supabase_vault": "vault", "pgsodium": "pgsodium", "pgmq": "pgmq"}
_EXTENSION_NAMES = {
    "uuid-ossp": ("uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v3", "uuid_generate_v4",
                  "uuid_generate_v5", "uuid_nil", "uuid_ns_dns", "uuid_ns_url", "uuid_ns_oid", "uuid_ns_x500"),
    "pgcrypto": ("digest", "hmac", "crypt", "gen_salt", "gen_random_bytes", "gen_random_uuid", "pgp_sym_encrypt",
                 "pgp_sym_decrypt", "pgp_sym_encrypt_bytea", "pgp_sym_decrypt_bytea", "pgp_pub_encrypt",
                 "pgp_pub_decrypt", "pgp_pub_encrypt_bytea", "pgp_pub_decrypt_bytea", "pgp_key_id", "armor",
                 "dearmor", "pgp_armor_headers", "encrypt", "decrypt", "encrypt_iv", "decrypt_iv"),
    "http": ("http", "http_get", "http_post", "http_put", "http_patch", "http_delete", "http_head",
             "http_header", "urlencode", "http_set_curlopt", "http_reset_curlopt", "http_list_curlopt",
             "http_method", "http_response", "http_request", "content_type"),
    "pg_trgm": ("similarity", "word_similarity", "strict_word_similarity", "show_trgm", "show_limit", "set_limit"),
    "vector": ("vector", "halfvec", "sparsevec", "cosine_distance", "l2_distance", "l1_distance",
               "inner_product", "vector_dims", "vector_norm", "l2_normalize"),
    "citext": ("citext",),
    "hstore": ("hstore", "akeys", "avals", "skeys", "svals", "each", "exist", "defined", "delete", "slice"),
    "ltree": ("ltree", "lquery", "ltxtquery", "nlevel", "subltree", "subpath", "index", "text2ltree",
              "ltree2text", "lca"),
    "moddatetime": ("moddatetime",),
    "unaccent": ("unaccent",),
    "fuzzystrmatch": ("levenshtein", "levenshtein_less_equal", "soundex", "difference", "metaphone",
                      "dmetaphone", "dmetaphone_alt", "daitch_mokotoff"),
    "pgjwt": ("sign", "verify", "url_encode", "url_decode", "algorithm_sign", "try_cast_double"),
    "pg_jsonschema": ("json_matches_schema", "jsonb_matches_schema", "jsonschema_is_valid",
                      "jsonschema_validation_errors"),
    "pg_hashids": ("id_encode", "id_decode", "id_decode_once"),
    "cube": ("cube",),
    "earthdistance": ("earth", "earth_distance", "ll_to_earth", "earth_box", "latitude", "longitude"),
    "postgis": ("geometry", "geography", "box2d", "box3d"),
}


class _ExtensionObjects:
    """What the CREATE EXTENSION statements seen so far provide."""

    def __init__(self) -> None:
        self.schemas: set[str] = set()
        self.names: set[tuple[str | None, str]] = set()  # (schema or None for "any", name)
        self.prefixes: set[str] = set()

    def add(self, node: dict) -> None:
        name = node.get("extname") or ""
        schema = _FIXED_SCHEMA.get(name)
        for option in node.get("options", []):
            element = option.get("DefElem", {})
            if element.get("defname") == "schema":
                schema = element.get("arg", {}).get("String", {}).get("sval")
        self.schemas.update(_EXTENSION_SCHEMAS.get(name, ()))
        for function in _EXTENSION_NAMES.get(name, ()):
            self.names.add((None, function))
        if name == "postgis":
            self.prefixes.add("st_")
        if name not in _EXTENSION_NAMES and name not in _EXTENSION_SCHEMAS and schema and schema != "public":
            self.schemas.add(schema)  # an extension the wizard does not know, in a schema named for it

    def provides(self, kind: str, schema: str | None, name: str) -> bool:
        if not (self.schemas or self.names or self.prefixes):
            return False
        if kind == "schema":
            return name in self.schemas
        if schema is not None and schema in self.schemas:
            return True
        if kind in ("function", "type"):
            return (None, name) in self.names or any(name.startswith(p) for p in self.prefixes)
        return False


def offline(catalog: Catalog, seeds: list[Migration] = ()) -> list[Finding]:
    """Every finding for the folder alone, without a database: every file counts as pending, and
    what exists before the first one is what a fresh Supabase project has (``wizard.core.baseline``).
    The dependencies are only followed through a folder whose files all parse; the seed files, run
    after the migrations, are followed too (see ``seed_findings``)."""
    from wizard.core import baseline

    findings = check(catalog, catalog.migrations)
    if catalog.ok:
        found = dependencies(catalog, list(catalog.migrations) + list(seeds), baseline=baseline.load())
        findings += seed_findings(found, seeds)
        findings += unknown_extensions(catalog.migrations)
    return findings


def unknown_extensions(migrations: list[Migration]) -> list[Finding]:
    """Offline, no server says which extensions it has: a ``CREATE EXTENSION`` of one that is not
    among those a Supabase project offers is a warning (a misspelt name, or a server of its own)."""
    findings = []
    for migration in migrations:
        for statement in migration.statements:
            if statement.kind != "CreateExtensionStmt":
                continue
            name = statement.node.get("extname")
            if name and name not in SUPABASE_EXTENSIONS:
                findings.append(Finding(
                    WARNING, "unknown-extension", migration.filename, statement.line,
                    f"creates the extension {name}, which is not among the extensions a Supabase project "
                    "offers: check its name (a project cannot install one of its own)",
                ))
    return findings


def seed_findings(found: list[Finding], seeds: list[Migration]) -> list[Finding]:
    """Dependency findings of a walk that went on through the seed files: a seed's are warnings
    (a seed runs on the local database, elsewhere only when asked), saying so."""
    if not seeds:
        return found
    names = {seed.filename for seed in seeds}
    return [
        Finding(WARNING, f.code, f.file, f.line, f"{f.message} (a seed file: it fails when it runs, after the "
                "migrations)", f.column) if f.file in names and f.severity == ERROR else f
        for f in found
    ]


class _Walk:
    """The state of the walk over the pending statements: what exists so far, and the uses that
    nothing before them created (a class, not closures: the wizard runs without the cyclic garbage
    collector, and a recursive closure would keep all of it alive)."""

    def __init__(self, bodies: dict, triggers: dict, provided: frozenset):
        self.bodies, self.triggers, self.provided = bodies, triggers, provided
        self.state: dict[tuple, bool] = {}  # what the pending statements so far created (True) or dropped (False)
        self.candidates: list[tuple] = []
        self.from_extensions = _ExtensionObjects()  # what the pending CREATE EXTENSIONs so far provide

    def consider(self, uses: tuple, where: Migration, default_line: int, site: Migration, called: str | None) -> None:
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
            parent = None
            if kind == "column":
                parent_schema, _, parent_table = table.rpartition(".")
                parent = ("relation", parent_schema or "public", parent_table, None)
                if state.get(parent) is not None and not state.get(parent):
                    continue  # the table itself was dropped: its use is reported, not its columns
                if state.get(parent):
                    parent = None
            line = where.line_at_byte(offset) if offset else default_line
            self.candidates.append((lookup, where, line, (kind, schema, name, table), parent, site, called))

    def run(self, functions: list, site: Migration, site_line: int, running: frozenset) -> None:
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


def _learn(data: tuple, migration: Migration, line: int, bodies: dict, triggers: dict) -> list[tuple]:
    """Remember the function bodies and the triggers a statement creates; the functions."""
    more = data[3]
    functions = []
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


def _runs(more: tuple, triggers: dict) -> list:
    """The functions a statement runs: those it calls, and the triggers its writes fire."""
    functions = [(schema, name, "called at") for schema, name, _ in more[2]]
    for table, event in more[1]:
        for (schema, name), events in triggers.get(table, {}).values():
            if events & event:
                functions.append((schema, name, f"a trigger on {table} fired by"))
    return functions


def _supabase_owner(lookup: tuple) -> str | None:
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


# -- long locks on big tables --------------------------------------------------------------------

BIG_TABLE_ROWS = 100_000

_LOCKING = {
    "AlterTableStmt": "ALTER TABLE locks the table against reads and writes",
    "IndexStmt": "CREATE INDEX (without CONCURRENTLY) blocks writes to the table",
    "CreateTrigStmt": "CREATE TRIGGER blocks writes to the table",
    "ClusterStmt": "CLUSTER locks the table against reads and writes",
    "TruncateStmt": "TRUNCATE locks the table against reads and writes",
}


def big_table_locks(pending: list[Migration], conn, rows: int = BIG_TABLE_ROWS) -> list[Finding]:
    """Statements that lock a table the database already holds many rows of: the lock lasts as long
    as the statement (a rewrite or an index build), and the application waits meanwhile."""
    (any_big,) = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_class WHERE relkind IN ('r', 'p', 'm') AND reltuples >= %s)", (rows,)
    ).fetchone()
    if not any_big:
        return []  # a new or small database: no statement needs a look
    uses = []
    for migration in pending:
        for statement in migration.statements:
            reason = _LOCKING.get(statement.kind)
            if reason is None or (statement.kind == "IndexStmt" and statement.node.get("concurrent")):
                continue
            rel = statement.node.get("relation") or next(
                iter(r.get("RangeVar", {}) for r in statement.node.get("relations", [])), None
            )
            if rel and rel.get("relname"):
                name = f"{rel.get('schemaname') or 'public'}.{rel['relname']}"
                uses.append((migration, statement, name, reason))
    if not uses:
        return []
    names = sorted({u[2] for u in uses})
    sizes = dict(conn.execute(
        """SELECT n, c.reltuples::bigint FROM unnest(%s::text[]) AS n
             JOIN pg_class c ON c.oid = to_regclass(n) WHERE c.reltuples >= %s""",
        (names, rows),
    ).fetchall())
    return [
        Finding(WARNING, "long-lock", migration.filename, statement.line,
                f"{reason} {name}, which holds about {sizes[name]:,} rows: the application waits while it "
                "runs; apply in a quiet moment")
        for migration, statement, name, reason in uses if name in sizes
    ]


# -- extensions the server does not have ---------------------------------------------------------

# The extensions a Supabase project offers (its dashboard's list; several are installed on every
# project). A migration creating one of these was most likely written for Supabase.
SUPABASE_EXTENSIONS = frozenset((
    "address_standardizer", "address_standardizer_data_us", "amcheck", "autoinc", "bloom", "btree_gin",
    "btree_gist", "citext", "cube", "dblink", "dict_int", "dict_xsyn", "earthdistance", "fuzzystrmatch",
    "hstore", "http", "hypopg", "index_advisor", "insert_username", "intarray", "isn", "lo", "ltree",
    "moddatetime", "pg_buffercache", "pg_cron", "pg_graphql", "pg_hashids", "pg_jsonschema", "pg_net",
    "pg_prewarm", "pg_repack", "pg_stat_monitor", "pg_stat_statements", "pg_surgery", "pg_tle", "pg_trgm",
    "pg_walinspect", "pgaudit", "pgcrypto", "pgjwt", "pgmq", "pgroonga", "pgroonga_database", "pgrouting",
    "pgrowlocks", "pgsodium", "pgstattuple", "pgtap", "plpgsql", "plpgsql_check", "plv8", "postgis",
    "postgis_raster", "postgis_sfcgal", "postgis_tiger_geocoder", "postgis_topology", "postgres_fdw",
    "refint", "rum", "seg", "sslinfo", "supabase_vault", "tablefunc", "tcn", "timescaledb",
    "tsm_system_rows", "tsm_system_time", "unaccent", "uuid-ossp", "vector", "wrappers",
))

# Debian/Ubuntu (apt.postgresql.org) packages of extensions that are not part of the server's own.
_PACKAGES = {
    "pg_cron": "postgresql-{major}-cron", "vector": "postgresql-{major}-pgvector",
    "http": "postgresql-{major}-http", "postgis": "postgresql-{major}-postgis-3",
    "pgrouting": "postgresql-{major}-pgrouting", "hypopg": "postgresql-{major}-hypopg",
    "pgtap": "postgresql-{major}-pgtap", "plpgsql_check": "postgresql-{major}-plpgsql-check",
    "pg_repack": "postgresql-{major}-repack", "pgaudit": "postgresql-{major}-pgaudit",
    "rum": "postgresql-{major}-rum", "timescaledb": "timescaledb-2-postgresql-{major}",
    "pg_hashids": "postgresql-{major}-pg-hashids", "plv8": "postgresql-{major}-plv8",
}
_CONTRIB = frozenset((
    "amcheck", "autoinc", "bloom", "btree_gin", "btree_gist", "citext", "cube", "dblink", "dict_int",
    "dict_xsyn", "earthdistance", "fuzzystrmatch", "hstore", "insert_username", "intarray", "isn", "lo",
    "ltree", "moddatetime", "pg_buffercache", "pg_prewarm", "pg_stat_statements", "pg_surgery", "pg_trgm",
    "pg_walinspect", "pgcrypto", "pgrowlocks", "pgstattuple", "postgres_fdw", "refint", "seg", "sslinfo",
    "tablefunc", "tcn", "tsm_system_rows", "tsm_system_time", "unaccent", "uuid-ossp",
))

_EXTENSIONS_SQL = """
SELECT n,
       EXISTS (SELECT 1 FROM pg_available_extensions a WHERE a.name = n),
       EXISTS (SELECT 1 FROM pg_extension e WHERE e.extname = n),
       EXISTS (SELECT 1 FROM pg_available_extensions a WHERE a.comment LIKE 'migration-wizard stand-in%%'),
       current_setting('server_version_num')::int / 10000
  FROM unnest(%s::text[]) AS n
"""


def missing_extensions(pending: list[Migration], conn) -> list[Finding]:
    """``CREATE EXTENSION`` of an extension this server neither has installed nor can install: an
    error at the statement's file and line, before any SQL runs. One query, and only when a pending
    migration creates an extension."""
    from wizard.core.standins import NAMES as STANDINS

    wanted = [
        (migration, statement, statement.node.get("extname"))
        for migration in pending for statement in migration.statements
        if statement.kind == "CreateExtensionStmt"
    ]
    if not wanted:
        return []
    names = sorted({name for _, _, name in wanted if name})
    rows = conn.execute(_EXTENSIONS_SQL, (names,)).fetchall()
    lacking = {row[0] for row in rows if not row[1] and not row[2]}
    if not lacking:
        return []
    local, major = bool(rows[0][3]), rows[0][4]
    findings, seen = [], set()
    for migration, statement, name in wanted:
        if name not in lacking or (migration.filename, name) in seen:
            continue
        seen.add((migration.filename, name))
        findings.append(Finding(ERROR, "missing-extension", migration.filename, statement.line,
                                _missing_extension_message(name, major, local, name in STANDINS)))
    return findings


def _missing_extension_message(name: str, major: int, local: bool, has_standin: bool) -> str:
    where = "the local database" if local else f"this server (PostgreSQL {major})"
    if name in SUPABASE_EXTENSIONS:
        said = f"CREATE EXTENSION {name}: Supabase has the extension {name}, {where} does not"
    else:
        said = (f"CREATE EXTENSION {name}: {where} does not have the extension {name} "
                "(pg_available_extensions does not list it)")
    fixes = []
    if not local:
        if name in _PACKAGES:
            package = _PACKAGES[name].format(major=major)
            fixes.append(f"install it on the server (Debian/Ubuntu: the package {package}), then run again")
        elif name in _CONTRIB:
            fixes.append("install the server's contrib extensions "
                         f"(Debian/Ubuntu: postgresql-contrib for PostgreSQL {major})")
        else:
            fixes.append("install the extension on the server")
        if has_standin:
            fixes.append("use the local database (--local), which has a stand-in for it")
    else:
        fixes.append("use a PostgreSQL server that has it (--database-url)")
    if name in SUPABASE_EXTENSIONS:
        fixes.append("apply to a Supabase project")
    if name not in SUPABASE_EXTENSIONS:
        fixes.append("remove the statement if the migrations do not need it")
    return said + ": " + "; or ".join(fixes)
