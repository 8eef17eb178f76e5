"""What exists before the pending migrations, for the dependency walk: asked of the database in one
query, or, without one, of a baseline (what a fresh Supabase project has)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wizard.core.db import Connectable, database
from wizard.core.effects import ObjectData

if TYPE_CHECKING:
    from wizard.core.baseline import Baseline

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


def existing(keys: list[ObjectData], conn: Connectable | None, baseline: Baseline | None) -> dict[ObjectData, bool]:
    """Whether each object the walk looks up (kind, schema, name, table) exists: in the baseline when
    there is one, else in the database behind ``conn``."""
    if baseline is not None:
        return {key: baseline.has(*key) for key in keys}
    assert conn is not None, "a database or a baseline to look in"
    rows = database(conn).query(
        _EXISTS_SQL,
        {
            "kinds": [k[0] for k in keys],
            "schemas": [k[1] for k in keys],
            "names": [k[2] for k in keys],
            "tables": [k[3] for k in keys],
        },
    )
    return {(r[0], r[1], r[2], r[3]): bool(r[4]) for r in rows}
