"""What the tests share: running the command as a user would, migration folders, catalog reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "migrations"
PASSWORD_USER = "wizard_pw_user"
PASSWORD = "S3cret#Pass@word/1"
DEBIAN_15 = Path("/usr/lib/postgresql/15/bin")  # Debian's PostgreSQL 15, for the tests that run on it too


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


@contextmanager
def new_database(admin_url: str, prefix: str = "wizard_test_"):
    """A fresh database on the server behind ``admin_url``, dropped afterwards: its URL."""
    name = prefix + uuid.uuid4().hex[:12]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class MigrationFolder:
    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)

    def write(self, name: str, sql: str | bytes) -> Path:
        target = self.path / name
        if isinstance(sql, bytes):
            target.write_bytes(sql)
        else:
            target.write_text(textwrap.dedent(sql).lstrip("\n"), encoding="utf-8")
        return target


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)

    @property
    def output(self) -> str:
        return self.out + self.err


def cli_env(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "SUPABASE", "POSTGRES_URL"))}
    env.pop("DIRECT_URL", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra or {})
    return env


def run_cli(*args, cwd: Path | None = None, env: dict | None = None, timeout: float = 120) -> Result:
    """Run the command as a user would, in a process of its own."""
    completed = subprocess.run(
        [sys.executable, "-m", "wizard", *map(str, args)],
        cwd=cwd or ROOT,
        env=cli_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def assert_clean(result: Result) -> None:
    """No traceback reaches the user."""
    assert "Traceback" not in result.output, result.output


def tables(conn: psycopg.Connection, schema: str = "public") -> set[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
    ).fetchall()
    return {r[0] for r in rows}


def history(conn: psycopg.Connection) -> list[str]:
    if conn.execute("SELECT to_regclass('supabase_migrations.schema_migrations')").fetchone()[0] is None:
        return []
    return [r[0] for r in conn.execute("SELECT version FROM supabase_migrations.schema_migrations ORDER BY 1")]


def migration_list(cli: str, project, url: str) -> dict[str, tuple[str, str]]:
    result = subprocess.run(
        [cli, "migration", "list", "--db-url", url], cwd=project, capture_output=True, text=True, timeout=120,
        env={**os.environ, "DO_NOT_TRACK": "1", "SUPABASE_TELEMETRY_DISABLED": "1"},
    )
    assert result.returncode == 0, result.stderr
    rows = {}
    for line in result.stdout.splitlines():
        cells = [c.strip().strip("`").strip() for c in line.split("|")]
        if len(cells) == 3 and cells[0] != "Local" and not set(cells[0]) <= {"-"}:
            local, remote = cells[0], cells[1]
            rows[local or remote] = (local, remote)
    return rows
