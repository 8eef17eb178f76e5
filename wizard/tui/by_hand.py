"""A migration run by hand in the dashboard's SQL editor, as the manual step sees it: what it
creates, what a check found of it afterwards (through the database's catalog when there is a
connection, else through the REST API), and where an error the editor showed belongs in the file.
No Textual here: the step's screen renders these."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wizard.core.catalog import Catalog, Migration
    from wizard.core.diagnosis import Diagnosis
    from wizard.core.manual import Part
    from wizard.core.objects import Obj
    from wizard.tui.target import RestApi

_PLURAL = {"index": "indexes", "policy": "policies", "schema": "schemas"}
_ORDER = ("view", "sequence", "column", "index", "trigger", "function", "policy", "type", "schema", "extension")


def _count(kind: str, number: int) -> str:
    return f"{number} {kind if number == 1 else _PLURAL.get(kind, kind + 's')}"


def _others(objs: list[Obj]) -> list[str]:
    """Every object but the tables, counted by kind: 17 columns, 7 indexes, row level security on 1 table."""
    kinds = Counter(o.kind for o in objs)
    counted = [_count(kind, kinds[kind]) for kind in _ORDER if kinds[kind]]
    counted += [_count(kind, n) for kind, n in kinds.items() if kind not in _ORDER + ("table", "rls")]
    if kinds["rls"]:
        counted.append(f"row level security on {_count('table', kinds['rls'])}")
    return counted


def _objects(migration: Migration) -> list[Obj]:
    from wizard.core.objects import final_objects

    return [obj for obj, _, _ in final_objects([migration])]


def _seeded(migration: Migration) -> list[str]:
    """The tables a migration inserts rows into."""
    names = []
    for statement in migration.statements:
        relation = statement.node.get("relation") if statement.kind == "InsertStmt" else None
        if relation and relation.get("relname") not in names:
            names.append(relation["relname"])
    return names


def creates(migration: Migration) -> str:
    """What running the migration leaves in the database, in one line."""
    objs = _objects(migration)
    tables = [o.name for o in objs if o.kind == "table"]
    said = []
    if len(tables) == 1:
        said.append(f"table {tables[0]}")
    elif tables:
        more = f" and {len(tables) - 3} more" if len(tables) > 4 else ""
        said.append(f"{len(tables)} tables ({', '.join(tables[:3] if more else tables)}{more})")
    said += _others(objs)
    seeded = _seeded(migration)
    if seeded:
        said.append("rows in " + ", ".join(seeded))
    return ", ".join(said) if said else "nothing that the wizard can name"


@dataclass(frozen=True)
class Presence:
    """What a check found of one migration after the person ran it."""

    how: str  # "the database's catalog" or "the REST API"
    present: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    unchecked: str = ""  # what this way cannot see

    @property
    def checked(self) -> bool:
        """Something could be looked up at all."""
        return bool(self.present or self.missing)

    @property
    def ok(self) -> bool:
        return self.checked and not self.missing

    @property
    def things(self) -> str:
        """What it looks at: the REST API sees tables; the catalog, objects and seeded rows."""
        return "tables" if self.how == "the REST API" else "objects"


def check(migration: Migration, catalog: Catalog, conn=None, rest: RestApi | None = None) -> Presence:
    """What the database holds of a migration: every object and seeded row, through a connection;
    else its tables, through the REST API (raises manual.RestError when that fails)."""
    if conn is not None:
        from wizard.core import verify

        found, absent = verify.migration_presence(conn, migration)
        present, missing = [o.describe() for o in found], [o.describe() for o in absent]
        for seeds in verify.seed_checks(conn, [migration]):
            (present if seeds.ok else missing).append(f"{seeds.name}: {seeds.detail}")
        unseen = [t for t in _seeded(migration) if not any(t in line for line in present + missing)]
        unchecked = f"rows in {', '.join(unseen)} (not keyed by ON CONFLICT)" if unseen else ""
        return Presence("the database's catalog", tuple(present), tuple(missing), unchecked)

    from wizard.core import manual, verify

    present, missing = [], []
    tables = manual.tables(catalog, [migration])
    for name in tables:
        state = rest.state(name)
        if state == manual.MISSING:
            missing.append(f"table {name}")
        elif state == manual.EXISTS_WITHOUT_GRANTS:
            present.append(f"table {name} (this key's role has no grant on it)")
        else:
            present.append(f"table {name}")
    objs = _objects(migration)
    # columns added to tables that an earlier migration created: the REST API knows columns too
    added: dict[str, list[str]] = {}
    for obj in objs:
        schema, _, table = (obj.table or "").partition(".")
        if obj.kind == "column" and schema == "public" and table not in tables:
            added.setdefault(table, []).append(obj.name)
    for table, columns in added.items():
        absent = set(rest.missing_columns(table, columns))
        for column in columns:
            (missing if column in absent else present).append(f"column {table}.{column}")
    # seeded rows, by their ON CONFLICT key: visible to the service role's key only
    seeds = verify.seed_rows([migration]) if rest.sees_all_rows else {}
    for (qualified, column), rows in seeds.items():
        table = qualified.partition(".")[2]
        found = rest.rows_found(table, column, [value for value, _, _ in rows])
        lacking = [value for value, _, _ in rows if value not in found]
        if lacking:
            missing.append(f"rows of {table} ({column} {', '.join(lacking[:5])}{'…' if len(lacking) > 5 else ''})")
        else:
            present.append(f"{len(rows)} rows of {table}")
    unseen = _others([o for o in objs if o.kind != "column" or (o.table or "").partition(".")[2] not in added])
    seeded = [t for t in _seeded(migration) if f"public.{t}" not in {q for q, _ in seeds}]
    if seeded:
        unseen.append("the rows in " + ", ".join(seeded))
    return Presence("the REST API", tuple(present), tuple(missing), ", ".join(unseen))


# -- an error the SQL editor showed ----------------------------------------------------------------

def read_error(text: str, migration: Migration, part: Part) -> Diagnosis | None:
    """The error pasted from the editor, placed in the file: at its "LINE n:" when it has one
    (a line of the paste, that is of ``part``), else at the statement that names its object.
    None when the text is not an error of PostgreSQL's."""
    from wizard.core.diagnosis import diagnose
    from wizard.core.https import statement_naming, parse_error

    error = parse_error(text.strip())
    if error.sqlstate is None and "ERROR" not in text:
        return None
    offset = _file_offset(migration, part, error.line, error.column) if error.line else None
    if offset is not None:
        found = diagnose(migration, error, offset=offset)
        if not error.column:  # the line is known, not the column
            found = replace(found, column=None)
        return found
    statements = migration.statements[part.first_statement - 1 : part.last_statement]
    statement = statement_naming(replace(migration, statements=statements), error.message)
    statement = statement or statement_naming(migration, error.message)
    return diagnose(migration, error, statement=statement)


def _file_offset(migration: Migration, part: Part, line: int, column: int | None) -> int | None:
    """Where in the file a line and column of the pasted part are; None when it has no such line."""
    lines = part.sql.split("\n")
    if not 1 <= line <= len(lines):
        return None
    offset = sum(len(text) + 1 for text in lines[: line - 1]) + max(0, (column or 1) - 1)
    if part.sql == migration.text:
        return offset
    # A part is the file's statements joined anew: find the statement the offset falls in.
    spans, cursor = [], 0
    for statement in migration.statements[part.first_statement - 1 : part.last_statement]:
        start = part.sql.find(statement.text, cursor)
        if start < 0:
            return None
        spans.append((start, statement))
        cursor = start + len(statement.text)
    before = [(start, s) for start, s in spans if start <= offset]
    if not before:
        return spans[0][1].start if spans else None
    start, statement = before[-1]
    return statement.start + min(offset - start, len(statement.text))
