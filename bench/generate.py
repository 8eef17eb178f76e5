"""Write a folder of realistic, generated migrations for the benchmark.

Each file creates one table the way a Supabase project's migrations do: a uuid primary key with
``gen_random_uuid()``, a few typed columns with defaults and checks, timestamps, most of the time a
foreign key to the previous table, an index or two, row level security with a policy, grants,
comments, and about twenty seed rows. Some files also alter an earlier table or create a view, and
the first one creates the shared ``updated_at`` trigger function. The output is deterministic for a
given count and seed.

    .venv/bin/python bench/generate.py DIR [--count 200] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import sys
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

NOUNS = (
    "account", "address", "appointment", "article", "attachment", "audit_entry", "booking", "campaign",
    "category", "certificate", "comment", "contact", "contract", "course", "customer", "delivery",
    "department", "device", "document", "enrollment", "event", "expense", "feedback", "invoice",
    "lesson", "location", "membership", "message", "milestone", "note", "notification", "order",
    "organization", "payment", "plan", "product", "project", "question", "quote", "receipt",
    "reminder", "report", "request", "review", "schedule", "session", "shipment", "skill", "survey",
    "task", "team", "template", "ticket", "transaction", "upload", "vendor", "visit", "workshop",
)
STATUSES = ("draft", "pending", "active", "archived", "cancelled")
WORDS = (
    "alpha", "bilan", "compétence", "delta", "entretien", "formation", "qualité", "synthèse", "objectif",
    "projet", "atelier", "séance", "parcours", "évaluation", "suivi", "rapport", "plan", "étape",
)
BASE_TIME = datetime(2026, 1, 5, 9, 0, 0)


@dataclass
class Table:
    name: str
    noun: str
    archived: bool = False
    ids: list[str] = field(default_factory=list)


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _phrase(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _column_pool(rng: random.Random, noun: str) -> list[tuple[str, str, callable]]:
    """(column, definition, value maker) candidates; a table takes a few of them."""
    return [
        ("title", "text NOT NULL CHECK (btrim(title) <> '')", lambda i: f"{noun} {i} {_phrase(rng, 2)}"),
        ("description", "text", lambda i: _phrase(rng, rng.randint(3, 9)) if rng.random() < 0.8 else None),
        ("status", "text NOT NULL DEFAULT 'draft' CHECK (status IN ("
         + ", ".join(_literal(s) for s in STATUSES) + "))", lambda i: rng.choice(STATUSES)),
        ("position", "integer NOT NULL DEFAULT 0 CHECK (position >= 0)", lambda i: i),
        ("amount", "numeric(12, 2) NOT NULL DEFAULT 0", lambda i: round(rng.uniform(0, 5000), 2)),
        ("score", "smallint CHECK (score BETWEEN 1 AND 10)", lambda i: rng.randint(1, 10)),
        ("is_public", "boolean NOT NULL DEFAULT false", lambda i: rng.random() < 0.3),
        ("metadata", "jsonb NOT NULL DEFAULT '{}'::jsonb",
         lambda i: '{"source": "%s", "rank": %d}' % (rng.choice(WORDS), rng.randint(1, 99))),
        ("due_on", "date", lambda i: (date(2026, 1, 1) + timedelta(days=rng.randint(0, 365))).isoformat()),
        ("email", "text CHECK (email IS NULL OR email LIKE '%@%')", lambda i: f"{noun}.{i}@example.org"),
        ("tags", "text[] NOT NULL DEFAULT '{}'",
         lambda i: "{" + ",".join(sorted({rng.choice(STATUSES) for _ in range(rng.randint(0, 3))})) + "}"),
        ("duration_minutes", "integer CHECK (duration_minutes > 0)", lambda i: rng.choice((30, 45, 60, 90, 120))),
    ]


def _plural(noun: str) -> str:
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    if noun.endswith("s"):
        return noun + "es"
    return noun + "s"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _table_migration(rng: random.Random, index: int, tables: list[Table]) -> tuple[str, str]:
    noun = NOUNS[index % len(NOUNS)]
    name = f"{_plural(noun)}_{index:03d}"
    parent = tables[-1] if tables and rng.random() < 0.8 else None
    pool = _column_pool(rng, noun)
    columns = [pool[0]] + rng.sample(pool[1:], rng.randint(3, 6))
    table = Table(name, noun)

    lines = [
        f"-- Create {name}: {noun} records" + (f", each belonging to one row of {parent.name}" if parent else ""),
        "",
        f"CREATE TABLE public.{name} (",
        "  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),",
    ]
    if parent:
        lines.append(f"  {parent.noun}_id uuid NOT NULL REFERENCES public.{parent.name} (id) ON DELETE CASCADE,")
    lines.append("  owner_role text NOT NULL DEFAULT current_user,")
    for column, definition, _ in columns:
        lines.append(f"  {column} {definition},")
    lines.append("  created_at timestamptz NOT NULL DEFAULT now(),")
    lines.append("  updated_at timestamptz NOT NULL DEFAULT now()")
    lines.append(");")
    lines.append("")

    summary = f"{noun.capitalize()} records (generated benchmark table {index})."
    lines.append(f"COMMENT ON TABLE public.{name} IS {_literal(summary)};")
    lines.append(f"COMMENT ON COLUMN public.{name}.owner_role IS 'The database role that created the row.';")
    lines.append("")

    if parent:
        lines.append(f"CREATE INDEX idx_{name}_{parent.noun}_id ON public.{name} ({parent.noun}_id);")
    second = rng.choice([c for c, _, _ in columns])
    lines.append(f"CREATE INDEX idx_{name}_{second} ON public.{name} ({second});")
    if rng.random() < 0.4:
        lines.append(f"CREATE INDEX idx_{name}_created_at ON public.{name} (created_at DESC);")
    if rng.random() < 0.3:
        lines.append(f"CREATE UNIQUE INDEX idx_{name}_lower_title ON public.{name} (lower(title));")
    lines.append("")

    lines.append(f"CREATE TRIGGER trg_{name}_updated_at")
    lines.append(f"  BEFORE UPDATE ON public.{name}")
    lines.append("  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();")
    lines.append("")

    lines.append(f"ALTER TABLE public.{name} ENABLE ROW LEVEL SECURITY;")
    lines.append(f"CREATE POLICY {name}_read ON public.{name} FOR SELECT TO authenticated USING (true);")
    if rng.random() < 0.5:
        lines.append(
            f"CREATE POLICY {name}_owner_write ON public.{name} FOR ALL TO authenticated\n"
            "  USING (owner_role = current_user) WITH CHECK (owner_role = current_user);"
        )
    lines.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON public.{name} TO authenticated;")
    lines.append(f"GRANT ALL ON public.{name} TO service_role;")
    lines.append("")

    rows = rng.randint(16, 24)
    names = (["id"] + ([f"{parent.noun}_id"] if parent else []) + [c for c, _, _ in columns]
             + ["created_at"])
    values = []
    for i in range(1, rows + 1):
        row_id = _uuid(rng)
        table.ids.append(row_id)
        row = [row_id]
        if parent:
            row.append(rng.choice(parent.ids))
        row += [make(i) for _, _, make in columns]
        row.append((BASE_TIME + timedelta(minutes=index * 60 + i)).isoformat() + "+00")
        values.append("  (" + ", ".join(_literal(v) for v in row) + ")")
    lines.append(f"INSERT INTO public.{name} ({', '.join(names)}) VALUES")
    lines.append(",\n".join(values) + ";")

    unaltered = [t for t in tables if not t.archived]
    if unaltered and rng.random() < 0.15:
        earlier = rng.choice(unaltered)
        earlier.archived = True
        lines += [
            "",
            f"ALTER TABLE public.{earlier.name} ADD COLUMN IF NOT EXISTS archived_at timestamptz;",
            f"CREATE INDEX IF NOT EXISTS idx_{earlier.name}_archived_at ON public.{earlier.name} (archived_at)"
            " WHERE archived_at IS NULL;",
        ]
    if parent and rng.random() < 0.1:
        lines += [
            "",
            f"CREATE VIEW public.{name}_summary WITH (security_invoker = true) AS",
            f"  SELECT p.id AS {parent.noun}_id, count(c.id) AS {noun}_count, max(c.created_at) AS last_created_at",
            f"    FROM public.{parent.name} p LEFT JOIN public.{name} c ON c.{parent.noun}_id = p.id",
            "   GROUP BY p.id;",
            f"GRANT SELECT ON public.{name}_summary TO authenticated;",
        ]

    tables.append(table)
    return f"create_{name}", "\n".join(lines) + "\n"


PRELUDE = """\
-- Shared helpers used by every table that follows.

CREATE OR REPLACE FUNCTION public.set_updated_at() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

COMMENT ON FUNCTION public.set_updated_at() IS 'Keeps updated_at current on every UPDATE.';
"""


def generate(directory: Path, count: int, seed: int = 1) -> list[Path]:
    """Write ``count`` migration files into ``directory`` (created if needed); return their paths."""
    if count < 1:
        raise ValueError("count must be at least 1")
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    tables: list[Table] = []
    paths = []
    for index in range(count):
        version = (BASE_TIME + timedelta(minutes=index)).strftime("%Y%m%d%H%M%S")
        if index == 0:
            name, body = "shared_helpers", PRELUDE
            # The first file also creates the first table, so every file does real work.
            table_name, table_body = _table_migration(rng, index, tables)
            body += "\n" + table_body
        else:
            name, body = _table_migration(rng, index, tables)
        path = directory / f"{version}_{name}.sql"
        path.write_text(body, encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write generated migrations for the benchmark.")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    paths = generate(args.directory, args.count, args.seed)
    print(f"wrote {len(paths)} migrations to {args.directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
