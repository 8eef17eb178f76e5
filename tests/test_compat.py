"""A Supabase-shaped database: the compatibility step on plain PostgreSQL (the suite's server and a
PostgreSQL 15), and a folder written the way Supabase projects write theirs applying on it.

tests/folders/supabase_canonical: member rows on ``auth.users`` filled by a sign-up trigger
(SECURITY DEFINER, empty search_path), policies on ``auth.uid()`` and one reading ``auth.users``, a
storage bucket with owner-folder policies (``storage.foldername``), ``uuid-ossp`` and ``pgcrypto``
created in the ``extensions`` schema and called both qualified and not, a table added to the
``supabase_realtime`` publication.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid

import psycopg
import pytest
from psycopg import sql
from helpers import ROOT, migration_list, with_database

from wizard.core import compat
from wizard.core.local import LocalServer

CANONICAL = ROOT / "tests" / "folders" / "supabase_canonical"
DEBIAN_15 = "/usr/lib/postgresql/15/bin"

# Everything the step can change, with privileges and comments: equal before and after a second run.
_FINGERPRINT = """
SELECT array_agg(x ORDER BY x) FROM (
  SELECT 'relation ' || c.oid::regclass || ' ' || c.relkind::text || ' ' || coalesce(c.relacl::text, '') || ' ' || c.relrowsecurity
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('auth', 'storage', 'extensions', 'public')
  UNION ALL SELECT 'column ' || attrelid::regclass || '.' || attname || ' ' || format_type(atttypid, atttypmod)
    FROM pg_attribute WHERE attnum > 0 AND NOT attisdropped
     AND attrelid IN (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('auth', 'storage'))
  UNION ALL SELECT 'function ' || p.oid::regprocedure || ' ' || coalesce(p.proacl::text, '') || md5(p.prosrc)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname IN ('auth', 'storage', 'extensions', 'public')
  UNION ALL SELECT 'schema ' || nspname || ' ' || coalesce(nspacl::text, '') || ' ' || coalesce(obj_description(oid, 'pg_namespace'), '')
    FROM pg_namespace
  UNION ALL SELECT 'role ' || rolname || ' ' || rolinherit || rolcanlogin || rolbypassrls || ' ' || coalesce(shobj_description(oid, 'pg_authid'), '')
    FROM pg_roles
  UNION ALL SELECT 'member ' || roleid::regrole || ' ' || member::regrole FROM pg_auth_members
  UNION ALL SELECT 'default ' || defaclnamespace::regnamespace || ' ' || defaclobjtype::text || ' ' || defaclacl::text FROM pg_default_acl
  UNION ALL SELECT 'publication ' || p.pubname || ' ' || coalesce((SELECT string_agg(t.tablename, ',') FROM pg_publication_tables t WHERE t.pubname = p.pubname), '')
    FROM pg_publication p
  UNION ALL SELECT 'extension ' || extname || ' ' || extversion || ' ' || extnamespace::regnamespace FROM pg_extension
  UNION ALL SELECT 'setting ' || array_to_string(setconfig, ',') FROM pg_db_role_setting
   WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
) AS all_of_it(x)
"""


@pytest.fixture(scope="module", params=["embedded", "postgresql-15"])
def plain_server(request, server, tmp_path_factory):
    """A plain PostgreSQL's superuser URL: the suite's own server, and a PostgreSQL 15 when the
    machine has Debian's binaries (with contrib: uuid-ossp and pgcrypto are real there)."""
    if request.param == "embedded":
        yield server.admin_url
        return
    if not os.path.exists(os.path.join(DEBIAN_15, "initdb")):
        pytest.skip("no PostgreSQL 15 binaries on this machine")
    local = LocalServer(tmp_path_factory.mktemp("pg15-compat"), __import__("pathlib").Path(DEBIAN_15))
    yield local.start()
    local.stop()


@pytest.fixture
def plain_database(plain_server):
    name = "wizard_compat_" + uuid.uuid4().hex[:10]
    with psycopg.connect(plain_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield with_database(plain_server, name)
    with psycopg.connect(plain_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _project(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(CANONICAL, project / "supabase" / "migrations")
    return project


def test_the_canonical_supabase_folder_applies_on_plain_postgresql(plain_database, tmp_path, cli, supabase_cli):
    project = _project(tmp_path)
    with psycopg.connect(plain_database, autocommit=True) as conn:
        available = {r[0] for r in conn.execute(
            "SELECT name FROM pg_available_extensions WHERE name IN ('uuid-ossp', 'pgcrypto')")}
    assert available == {"uuid-ossp", "pgcrypto"}, "the server has neither uuid-ossp nor pgcrypto (or a stand-in)"

    plan = cli("plan", "--json", "--database-url", plain_database, cwd=project)
    assert plan.code == 0, plan.out + plan.err
    findings = plan.json()["findings"]
    assert [f["code"] for f in findings] == ["compat"], findings
    assert "auth.users" in findings[0]["message"] and "publication supabase_realtime" in findings[0]["message"]
    assert {"table auth.users", "table storage.objects", "publication supabase_realtime"} <= set(plan.json()["compat"])

    applied = cli("apply", "--yes", "--database-url", plain_database, cwd=project)
    assert applied.code == 0, applied.out + applied.err
    assert "Supabase compatibility step: created " in applied.err
    assert "auth.users, auth.identities, auth.sessions" in applied.err
    assert "storage.buckets, storage.objects" in applied.err
    assert "extensions uuid-ossp/pgcrypto" in applied.err and "publication supabase_realtime" in applied.err
    assert "Applied 5 migration(s)" in applied.err

    verified = cli("verify", "--database-url", plain_database, cwd=project)
    assert verified.code == 0, verified.out + verified.err

    rows = migration_list(supabase_cli, project, plain_database)
    versions = sorted(p.name.split("_")[0] for p in CANONICAL.glob("*.sql"))
    assert rows == {v: (v, v) for v in versions}

    again = cli("apply", "--json", "--database-url", plain_database, cwd=project)
    assert again.code == 0 and again.json()["applied"] == [] and "compat" not in again.json()
    assert "compat" not in cli("plan", "--json", "--database-url", plain_database, cwd=project).json()
    assert "compatibility step" not in again.err

    with psycopg.connect(plain_database, autocommit=True) as conn:
        _signup_fills_members(conn)
        _policies_work_as_on_supabase(conn)


def _signup_fills_members(conn):
    me = uuid.uuid4()
    conn.execute(
        "INSERT INTO auth.users (id, aud, role, email, raw_user_meta_data, created_at) "
        "VALUES (%s, 'authenticated', 'authenticated', 'ada@example.com', %s, now())",
        (me, json.dumps({"name": "Ada", "picture": "https://example.com/ada.png"})),
    )
    assert conn.execute("SELECT display_name, picture_url FROM public.members WHERE id = %s", (me,)).fetchone() == (
        "Ada", "https://example.com/ada.png")
    conn.execute("DELETE FROM auth.users WHERE id = %s", (me,))
    assert conn.execute("SELECT count(*) FROM public.members WHERE id = %s", (me,)).fetchone() == (0,)


def _policies_work_as_on_supabase(conn):
    me, other = uuid.uuid4(), uuid.uuid4()
    for user in (me, other):
        conn.execute("INSERT INTO auth.users (id, email, raw_user_meta_data) VALUES (%s, %s, '{}')",
                     (user, f"{user}@example.com"))
    claims = json.dumps({"sub": str(me), "role": "authenticated"})
    with conn.transaction():
        conn.execute("SET LOCAL ROLE authenticated")
        conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (claims,))
        # Default privileges gave the API roles the tables; the policies decide the rows.
        board = conn.execute("INSERT INTO public.boards (title) VALUES ('mine') RETURNING id, owner_id").fetchone()
        assert board[1] == me
        conn.execute("INSERT INTO public.cards (board_id, body) VALUES (%s, 'first')", (board[0],))
        conn.execute("INSERT INTO storage.objects (bucket_id, name, owner_id) VALUES ('pictures', %s, %s)",
                     (f"{me}/face.png", str(me)))
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("INSERT INTO storage.objects (bucket_id, name, owner_id) VALUES ('pictures', %s, %s)",
                          (f"{other}/face.png", str(me)))
        assert conn.execute("SELECT count(*) FROM storage.objects").fetchone() == (1,)
        assert conn.execute("SELECT path_tokens FROM storage.objects").fetchone() == ([str(me), "face.png"],)
        # As on Supabase, the API roles may not read auth.users: a policy that does fails for them.
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="table users"), conn.transaction():
            conn.execute("SELECT count(*) FROM public.invite_codes")
    (code,) = conn.execute("SELECT public.new_invite_code(%s, 'open sesame')", (board[0],)).fetchone()
    assert conn.execute("SELECT public.invite_code_matches(%s, 'open sesame'), public.invite_code_matches(%s, 'nope')",
                        (code, code)).fetchone() == (True, False)
    assert conn.execute(
        "SELECT tablename FROM pg_publication_tables WHERE pubname = 'supabase_realtime'").fetchall() == [("cards",)]
    assert conn.execute("SELECT id, public, file_size_limit FROM storage.buckets").fetchall() == [
        ("pictures", False, 5242880)]


def test_the_step_runs_once_and_a_second_run_changes_nothing(plain_database):
    with psycopg.connect(plain_database, autocommit=True) as conn:
        created = compat.ensure(conn)
        assert {"table auth.users", "table auth.identities", "table auth.sessions", "table storage.buckets",
                "table storage.objects", "function storage.foldername", "publication supabase_realtime",
                "schema extensions"} <= set(created)
        assert not compat.inspect(conn).will_run
        assert compat.ensure(conn) == []
        before = conn.execute(_FINGERPRINT).fetchone()[0]
        conn.execute(compat.script())  # run as is, as a superuser would by hand
    with psycopg.connect(plain_database, autocommit=True) as conn:
        assert conn.execute(_FINGERPRINT).fetchone()[0] == before
        assert conn.execute("SHOW search_path").fetchone()[0] == '"$user", public, extensions'
        assert conn.execute(
            "SELECT storage.foldername('team/2024/photo.final.png'), storage.filename('team/2024/photo.final.png'), "
            "storage.extension('team/2024/photo.final.png'), storage.extension('README')"
        ).fetchone() == (["team", "2024"], "photo.final.png", "png", "")
        roles = {r[0]: r[1:] for r in conn.execute(
            "SELECT rolname, rolcanlogin, rolinherit, rolbypassrls FROM pg_roles WHERE rolname IN "
            "('anon', 'authenticated', 'service_role', 'authenticator', 'supabase_admin', 'supabase_auth_admin', "
            "'supabase_storage_admin', 'dashboard_user')")}
        assert len(roles) == 8
        assert roles["service_role"][2] is True and roles["authenticator"][:2] == (True, False)
        assert conn.execute(
            "SELECT pg_has_role('authenticator', r, 'MEMBER') FROM unnest(ARRAY['anon', 'authenticated', 'service_role']) r"
        ).fetchall() == [(True,)] * 3
        assert conn.execute(
            "SELECT relrowsecurity FROM pg_class WHERE oid IN ('storage.objects'::regclass, 'storage.buckets'::regclass)"
        ).fetchall() == [(True,), (True,)]


def test_a_database_with_the_older_step_gets_the_rest(plain_database):
    with psycopg.connect(plain_database, autocommit=True) as conn:
        # What the step made before: the API roles, the auth schema and auth.uid().
        conn.execute("""
            DO $$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN CREATE ROLE anon NOLOGIN NOINHERIT; END IF;
            END $$;
            CREATE SCHEMA auth;
            CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE
              AS $$ SELECT (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')::uuid $$;
        """)
        state = compat.inspect(conn)
        assert state.will_run and not state.supabase
        assert "table auth.users" in state.missing and "function auth.uid" not in state.missing
        created = compat.ensure(conn)
        assert created == state.missing
        assert conn.execute("SELECT to_regclass('auth.users'), to_regclass('storage.objects')").fetchone() == (
            "auth.users", "storage.objects")


def test_a_database_the_step_shaped_is_not_taken_for_supabase(server, database, db):
    compat.ensure(db)
    with server.connect() as admin:
        name = "wizard_compat_other_" + uuid.uuid4().hex[:8]
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with server.connect(name) as other:
            state = compat.inspect(other)
            assert not state.supabase and state.will_run  # the roles are there (the server's), the rest is not
            assert not any(item.startswith("role ") for item in state.missing)
            assert compat.ensure(other)
    finally:
        with server.connect() as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_a_supabase_project_is_recognised_and_left_alone(server, db):
    """Supabase's own supabase_admin carries no mark of the step: nothing runs, and the script run
    by hand refuses."""
    compat.ensure(db)  # makes the roles, marked
    with server.connect() as admin:
        (mark,) = admin.execute("SELECT shobj_description('supabase_admin'::regrole, 'pg_authid')").fetchone()
        admin.execute("COMMENT ON ROLE supabase_admin IS NULL")
    try:
        with server.connect() as admin:
            name = "wizard_compat_supabase_" + uuid.uuid4().hex[:8]
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            with server.connect(name) as project:
                state = compat.inspect(project)
                assert state.supabase and not state.will_run
                assert compat.ensure(project) == []
                with pytest.raises(psycopg.errors.RaiseException, match="this is a Supabase project"):
                    project.execute(compat.script())
                assert project.execute("SELECT to_regnamespace('storage')").fetchone() == (None,)
        finally:
            with server.connect() as admin:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        with server.connect() as admin:
            admin.execute(sql.SQL("COMMENT ON ROLE supabase_admin IS {}").format(sql.Literal(mark)))


def test_what_the_step_provides_is_read_from_its_sql():
    found = compat._read(compat.script())
    assert ("table", "auth", "users") in found.objects and ("role", None, "dashboard_user") in found.objects
    assert ("publication", None, "supabase_realtime") in found.objects
    assert ("extension", None, "uuid-ossp") in found.objects
    columns = {(p[2], p[3]) for p in found.provides if p[0] == "column"}
    for column in ("id", "email", "raw_user_meta_data", "raw_app_meta_data", "is_anonymous", "is_sso_user",
                   "deleted_at", "banned_until", "phone", "encrypted_password"):
        assert (column, "auth.users") in columns
    for column in ("path_tokens", "owner_id", "user_metadata", "last_accessed_at", "version"):
        assert (column, "storage.objects") in columns
    assert found.mark.startswith("Supabase-shaped, made by migration-wizard")
    assert compat.manifest() == found  # and the cached answer is the same


def test_apply_json_says_what_the_step_created(folder, database, cli):
    folder.write("001_notes.sql", "CREATE TABLE notes (id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE);")
    first = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert first.code == 0, first.err
    assert {"table auth.users", "function auth.uid", "publication supabase_realtime"} <= set(first.json()["compat"])
    folder.write("002_more.sql", "CREATE TABLE more (id int);")
    second = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert [a["version"] for a in second.json()["applied"]] == ["002"] and "compat" not in second.json()


def test_runs_on_several_databases_of_a_new_server_at_once(tmp_path):
    """Roles belong to the server: four databases shaped at the same moment each end complete, none
    fails on a role another run created meanwhile."""
    import threading
    from pathlib import Path

    if not os.path.exists(os.path.join(DEBIAN_15, "initdb")):
        pytest.skip("no PostgreSQL 15 binaries on this machine: no server without the roles to try on")
    local = LocalServer(tmp_path / "pg15-race", Path(DEBIAN_15))
    url = local.start()
    try:
        names = [f"race_{i}" for i in range(4)]
        with psycopg.connect(url, autocommit=True) as admin:
            assert admin.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'anon'").fetchone() == (0,)
            for name in names:
                admin.execute(f'CREATE DATABASE "{name}"')
        start, errors, created = threading.Barrier(len(names)), [], {}

        def shape(name):
            try:
                with psycopg.connect(with_database(url, name), autocommit=True) as conn:
                    compat.manifest()
                    start.wait()
                    created[name] = compat.ensure(conn)
                    assert not compat.inspect(conn).will_run
            except Exception as exc:  # reported below, with the others
                errors.append(f"{name}: {exc!r}")

        threads = [threading.Thread(target=shape, args=(name,)) for name in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert all("table auth.users" in made for made in created.values())
        with psycopg.connect(url, autocommit=True) as admin:
            assert admin.execute(
                "SELECT count(*) FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role', 'authenticator', "
                "'supabase_admin', 'supabase_auth_admin', 'supabase_storage_admin', 'dashboard_user')").fetchone() == (8,)
    finally:
        local.stop()


def test_the_step_makes_nothing_a_fresh_supabase_project_lacks():
    """Two descriptions of Supabase written apart agree: every table, column, function, type and
    schema the step makes is in pre-flight's baseline of a fresh Supabase project, and so are its
    roles, extensions and publication."""
    from wizard.core import baseline, preflight

    known = baseline.load()
    made = compat.manifest()
    outside = [p for p in made.provides if p[0] in ("schema", "table", "column", "function", "type")
               and not known.has(*preflight._dependency_key(*p))]
    assert outside == []
    assert {o[2] for o in made.objects if o[0] == "role"} <= set(baseline.ROLES)
    assert {o[2] for o in made.objects if o[0] == "extension"} <= set(baseline.EXTENSIONS)
    assert {o[2] for o in made.objects if o[0] == "publication"} <= set(baseline.PUBLICATIONS)


def test_extensions_stay_on_the_path_after_a_file_resets_the_session(folder, database, cli):
    """The step puts ``extensions`` on the database's search_path during the run: a file that sets
    its own path (as pg_dump's do) is followed by a reset, and the files and seeds after it still
    call uuid-ossp's functions unqualified, as on a Supabase project."""
    folder.write("001_dump_style.sql", "SET search_path = '';\nCREATE TABLE public.notes (id int);\n")
    folder.write("002_unqualified.sql",
                 "CREATE TABLE things (id uuid PRIMARY KEY DEFAULT uuid_generate_v4());\n"
                 "INSERT INTO things DEFAULT VALUES;\n")
    result = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert result.code == 0, result.output
    assert [a["version"] for a in result.json()["applied"]] == ["001", "002"]
