"""Seed files: the data a Supabase project loads after its migrations (``supabase/seed.sql``).

Each seed file runs in a transaction of its own, holding its statements and its record in the
Supabase CLI's table ``supabase_migrations.seed_files(path, hash)`` (created as the CLI creates it),
so a failure keeps nothing of that file. A seed whose recorded hash is the file's runs no more; a
seed whose content changed since runs again (``supabase db push --include-seed`` would only record
the new hash; the wizard runs it, as ``supabase db reset`` would on a fresh database).

A seed file is read and parsed like a migration (statements with their lines), and runs through the
migration runner, so its failure gets the same file:line diagnosis and advice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from wizard.core.catalog import Catalog, Migration, Problem
from wizard.core.db import Connectable, database
from wizard.core.db.direct import DirectDatabase
from wizard.core.db.wire import Command, Step
from wizard.core.diagnosis import Diagnosis
from wizard.core.events import AppliedMigration, Event
from wizard.core.project import SeedFile
from wizard.core.runner import Runner, RunOptions

TABLE = "supabase_migrations.seed_files"
SEED_VERSION = "seed"  # the version of a seed's Migration (seeds have no version of their own)

# As the Supabase CLI creates and writes it.
CREATE_SQL = (
    "CREATE SCHEMA IF NOT EXISTS supabase_migrations;\n"
    "CREATE TABLE IF NOT EXISTS supabase_migrations.seed_files (path text NOT NULL PRIMARY KEY, hash text NOT NULL)"
)
RECORD_QUERY = (
    b"INSERT INTO supabase_migrations.seed_files(path, hash) VALUES($1, $2) "
    b"ON CONFLICT (path) DO UPDATE SET hash = EXCLUDED.hash "
    b"RETURNING (extract(epoch FROM clock_timestamp() - now()) * 1000)::integer"
)

APPLIED = "applied"
UNCHANGED = "unchanged"
FAILED = "failed"


@dataclass(frozen=True)
class SeedResult:
    path: str
    outcome: str  # applied, unchanged or failed
    hash: str
    rerun: bool = False  # it had run before, with another content
    duration_ms: int | None = None
    diagnosis: Diagnosis | None = None

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"path": self.path, "outcome": self.outcome, "hash": self.hash}
        if self.rerun:
            data["rerun"] = True
        if self.duration_ms is not None:
            data["duration_ms"] = self.duration_ms
        return data


def load(files: list[SeedFile]) -> tuple[list[Migration], list[Problem]]:
    """Each seed file read and parsed as a migration whose name is its recorded path; problems
    (unreadable, not UTF-8, SQL that does not parse) are named by that path. An empty seed file is
    fine: it is recorded, and runs nothing."""
    from wizard.core import catalog, parsecache

    cache = parsecache.directory()
    seeds, problems = [], []
    for seed in files:
        migration, found = catalog.load_file(seed.file, SEED_VERSION, seed.path, cache, label=seed.path)
        problems += [p for p in found if p.code != "empty"]
        if migration is not None:
            seeds.append(migration)
    return seeds, problems


def recorded(conn: Connectable) -> dict[str, str]:
    """Path -> hash of every seed the database has recorded; empty without the table."""
    db = database(conn)
    ((exists,),) = db.query("SELECT to_regclass('supabase_migrations.seed_files') IS NOT NULL")
    if not exists:
        return {}
    return {path: hash_ for path, hash_ in db.query(f"SELECT path, hash FROM {TABLE}")}


class SeedRunner(Runner):
    """Runs seed files, each in its own transaction with its record, under the run lock."""

    def __init__(self, conn: DirectDatabase | psycopg.Connection[Any], seeds: list[Migration], options: RunOptions | None = None,
                 on_event: Callable[[Event], None] | None = None):
        directory = seeds[0].path.parent if seeds else Path.cwd()
        super().__init__(conn, Catalog(directory, seeds, [], []), options, on_event)
        self.seeds = seeds

    def run_seeds(self) -> list[SeedResult]:
        """Run every seed that is new or changed, in order, stopping at the first that fails."""
        self._prepare()
        self._session_setup()
        if self.options.compat:
            self._keep_database_search_path()
        self._acquire_lock()
        results: list[SeedResult] = []
        try:
            done = recorded(self.db)
            if any(done.get(s.name) != s.checksum for s in self.seeds):
                self.db.transaction(CREATE_SQL)
            for seed in self.seeds:
                if done.get(seed.name) == seed.checksum:
                    results.append(SeedResult(seed.name, UNCHANGED, seed.checksum))
                    continue
                applied: list[AppliedMigration] = []
                stopped = self._apply_pipelined([seed], applied)
                if stopped is not None and stopped.failed is None:
                    break  # stopped: the seed in progress was rolled back
                if stopped is not None:
                    results.append(SeedResult(seed.name, FAILED, seed.checksum, seed.name in done,
                                              diagnosis=stopped.failed))
                    break
                results.append(SeedResult(seed.name, APPLIED, seed.checksum, seed.name in done,
                                          applied[0].duration_ms))
        finally:
            self._release_lock()
        return results

    def _commands(self, migration: Migration, encoding: str) -> list[Command]:
        """A migration's commands, with the seed's record in place of the history row."""
        return [Command(Step.RECORD, RECORD_QUERY, (migration.name, migration.checksum))
                if command.step is Step.RECORD else command
                for command in super()._commands(migration, encoding)]
