"""Supabase compatibility for a plain PostgreSQL.

Migrations written for Supabase call ``auth.uid()``, ``auth.role()``, ``auth.jwt()``,
``auth.email()`` and grant to the roles ``anon``, ``authenticated`` and ``service_role``. On a plain
PostgreSQL that lacks them, the wizard creates them first (``compat.sql``, guarded and idempotent),
reading the request's JWT claims the way Supabase does. It never touches a Supabase project.
"""

from __future__ import annotations

import psycopg

_ROLES = ("anon", "authenticated", "service_role")
_FUNCTIONS = ("uid", "role", "jwt", "email")

# Read from the catalogs directly: they need no privilege on the auth schema, to_regprocedure does.
_STATE = """
SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname IN ('supabase_admin', 'supabase_auth_admin')) AS supabase,
       ARRAY(SELECT r FROM unnest(%(roles)s::text[]) r WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r))
         AS missing_roles,
       ARRAY(SELECT 'auth.' || f || '()' FROM unnest(%(functions)s::text[]) f
              WHERE NOT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                                 WHERE n.nspname = 'auth' AND p.proname = f AND p.pronargs = 0))
         AS missing_functions
"""


def missing(conn: psycopg.Connection) -> tuple[bool, list[str], list[str]]:
    """(is Supabase — it has Supabase's own administrative roles —, missing roles, missing functions)."""
    row = conn.execute(_STATE, {"roles": list(_ROLES), "functions": list(_FUNCTIONS)}).fetchone()
    return row[0], list(row[1]), list(row[2])


def script() -> str:
    from importlib import resources

    return resources.files("wizard.core").joinpath("compat.sql").read_text(encoding="utf-8")


def ensure(conn: psycopg.Connection) -> list[str]:
    """Create what is missing, in one transaction; return what was created (nothing on Supabase,
    nothing when all is there)."""
    supabase, roles, functions = missing(conn)
    if supabase or not (roles or functions):
        return []
    try:
        with conn.transaction():
            conn.execute(script())
    except psycopg.errors.InsufficientPrivilege as exc:
        raise CompatError(
            f"the Supabase compatibility step needs to create {', '.join([f'role {r}' for r in roles] + functions)}, "
            f"and this user may not ({exc.diag.message_primary}). Run wizard/core/compat.sql once as a superuser, "
            "or pass --no-compat if the migrations do not use auth.uid() or those roles."
        ) from None
    return [f"role {r}" for r in roles] + functions


class CompatError(Exception):
    """The compatibility objects are missing and this user cannot create them."""
