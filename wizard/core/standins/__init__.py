"""Stand-in extensions for the local database.

The embedded PostgreSQL lacks extensions that every Supabase project has or offers. So that
migrations written for Supabase apply locally, the wizard ships stand-ins under the real names,
written in SQL and PL/pgSQL over PostgreSQL's built-ins (the ``*.control`` and ``*.sql`` files
beside this module). They are not the real extensions: each says so in its comment, which starts
with ``migration-wizard stand-in``, and in its functions' comments, which also say what does not
work (no HTTP request is ever sent, no cron job ever runs, vault secrets are stored unencrypted,
``crypt()`` hashes with a scheme of its own rather than bcrypt).

Only the local database loads them (``wizard.core.local`` names this directory in the server's
``extension_control_path``, after the server's own extensions); a remote target never sees them.
"""

from __future__ import annotations

from pathlib import Path

from wizard.core.db import Connectable, database

MARK = "migration-wizard stand-in"

# The extensions the stand-ins stand in for (their real names).
NAMES = ("http", "pg_cron", "pg_graphql", "pg_net", "pgcrypto", "pgjwt", "pgsodium", "supabase_vault", "uuid-ossp")

_INSTALLED_SQL = """
SELECT e.extname FROM pg_extension e
 WHERE obj_description(e.oid, 'pg_extension') LIKE %s ORDER BY e.extname
"""


def source_files() -> list[Path]:
    """The control and script files the local server's extension directory gets."""
    here = Path(__file__).parent
    return sorted(p for p in here.iterdir() if p.suffix in (".control", ".sql"))


def installed(conn: Connectable) -> list[str]:
    """The stand-in extensions installed in the connection's database, by name (one query)."""
    return [row[0] for row in database(conn).query(_INSTALLED_SQL, (MARK + "%",))]


def describe(names: list[str]) -> str:
    """The sentence the front ends show after an apply on a database with stand-ins (the
    migrations' own, and those the compatibility step installs as Supabase preinstalls them)."""
    return "stand-in extensions in this database (local only, not the real ones): " + ", ".join(names)
