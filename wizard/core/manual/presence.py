"""One migration run by hand: what it creates, and what a check found of it in the database
(through its catalog, with a connection; else through the REST API).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wizard.core.catalog import Catalog, Migration
from wizard.core.manual.rest import EXISTS_WITHOUT_GRANTS, MISSING, RestApi
from wizard.core.objects import Obj, final_objects

if TYPE_CHECKING:
    from wizard.core.db import Connectable


def tables(catalog: Catalog, migrations: list[Migration] | None = None) -> list[str]:
    """The tables of the public schema that the migrations leave (what PostgREST can show)."""
    return [obj.name for obj, _, _ in final_objects(migrations if migrations is not None else catalog.migrations)
            if obj.kind == "table" and obj.schema == "public"]


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


def check(migration: Migration, catalog: Catalog, conn: Connectable | None = None,
          rest: RestApi | None = None) -> Presence:
    """What the database holds of a migration: every object and seeded row, through a connection;
    else its tables, through the REST API (raises RestError when that fails)."""
    if conn is not None:
        return _through_catalog(migration, conn)
    if rest is None:
        raise ValueError("a check needs a connection or the REST API")
    return _through_rest(migration, catalog, rest)


def _through_catalog(migration: Migration, conn: Connectable) -> Presence:
    """Every object and seeded row of the migration, looked up through a connection."""
    from wizard.core import verify

    found, absent = verify.migration_presence(conn, migration)
    present, missing = [o.describe() for o in found], [o.describe() for o in absent]
    for seeds in verify.seed_checks(conn, [migration]):
        (present if seeds.ok else missing).append(f"{seeds.name}: {seeds.detail}")
    unseen = [t for t in _seeded(migration) if not any(t in line for line in present + missing)]
    unchecked = f"rows in {', '.join(unseen)} (not keyed by ON CONFLICT)" if unseen else ""
    return Presence("the database's catalog", tuple(present), tuple(missing), unchecked)


def _through_rest(migration: Migration, catalog: Catalog, rest: RestApi) -> Presence:
    """The migration's tables, the columns it adds to earlier tables and (with the service role's
    key) its seeded rows, through the REST API."""
    from wizard.core import verify

    present: list[str] = []
    missing: list[str] = []
    names = tables(catalog, [migration])
    for name in names:
        state = rest.state(name)
        if state == MISSING:
            missing.append(f"table {name}")
        elif state == EXISTS_WITHOUT_GRANTS:
            present.append(f"table {name} (this key's role has no grant on it)")
        else:
            present.append(f"table {name}")
    objs = _objects(migration)
    # columns added to tables that an earlier migration created: the REST API knows columns too
    added: dict[str, list[str]] = {}
    for obj in objs:
        schema, _, table = (obj.table or "").partition(".")
        if obj.kind == "column" and schema == "public" and table not in names:
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
