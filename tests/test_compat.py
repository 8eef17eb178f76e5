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
import shutil
import uuid

import psycopg
import pytest
from psycopg import sql
from helpers import DEBIAN_15, ROOT, migration_list, new_database, with_database

from wizard.core import compat
from wizard.core.local import LocalServer

CANONICAL = ROOT / "tests" / "folders" / "supabase_canonical"

# Everything the step can change, with privileges and comments: equal before and after a second run.
_SCHEMAS = "'auth', 'storage', 'extensions', 'public', 'supabase_functions', 'realtime', 'graphql', 'graphql_public', 'vault'"
_FINGERPRINT = """
SELECT array_agg(x ORDER BY x) FROM (
  SELECT 'relation ' || c.oid::regclass || ' ' || c.relkind::text || ' ' || coalesce(c.relacl::text, '') || ' ' || c.relrowsecurity
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ({schemas})
  UNION ALL SELECT 'column ' || attrelid::regclass || '.' || attname || ' ' || format_type(atttypid, atttypmod)
    FROM pg_attribute WHERE attnum > 0 AND NOT attisdropped
     AND attrelid IN (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ({schemas}))
  UNION ALL SELECT 'function ' || p.oid::regprocedure || ' ' || coalesce(p.proacl::text, '') || md5(p.prosrc)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname IN ({schemas})
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
""".format(schemas=_SCHEMAS)


@pytest.fixture(params=["embedded", "postgresql-15"])
def plain_server(request, server):
    """A plain PostgreSQL's superuser URL: the suite's own server, and a PostgreSQL 15 when the
    machine has Debian's binaries (with contrib: uuid-ossp and pgcrypto are real there)."""
    if request.param == "embedded":
        return server.admin_url
    return request.getfixturevalue("postgres15")


@pytest.fixture
def plain_database(plain_server):
    with new_database(plain_server, "wizard_compat_") as url:
        yield url


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

    if not (DEBIAN_15 / "initdb").exists():
        pytest.skip("no PostgreSQL 15 binaries on this machine: no server without the roles to try on")
    local = LocalServer(tmp_path / "pg15-race", DEBIAN_15)
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
    # One table is the step's own, not Supabase's: the record of the webhook requests its stand-in
    # supabase_functions.http_request() never sends (its comment says so: see the webhook test).
    own = "supabase_functions.stand_in_requests"
    assert [p for p in outside if f"{p[1]}.{p[2]}" != own and p[3] != own] == []
    assert ("table", "supabase_functions", "stand_in_requests", None) in outside
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


# -- a project dumped from Supabase: preinstalled extensions, a webhook, auth's rows ----------------

DUMP = ROOT / "tests" / "folders" / "supabase_dump"
GRACE = "6f1c2a40-1b7e-4c55-9a0e-3d2f8b7c9e01"


def _dump_project(tmp_path, without_preinstalled=False):
    """tests/folders/supabase_dump as a project: ``supabase db dump`` style first file (pg_graphql
    in schema graphql, supabase_vault in vault), a Vault secret, a database webhook, a trigger
    broadcasting changes with realtime.broadcast_changes() and a policy on realtime.messages, and a
    seed inserting full rows into auth's tables with every column named. ``without_preinstalled``: the
    same without what only a server with pg_graphql and supabase_vault can run."""
    project = tmp_path / "order-desk"
    shutil.copytree(DUMP, project)
    if without_preinstalled:
        migrations = project / "supabase" / "migrations"
        dump = migrations / "20240105120000_remote_schema.sql"
        dump.write_text("".join(line for line in dump.read_text().splitlines(keepends=True)
                                if "pg_graphql" not in line and "supabase_vault" not in line))
        (migrations / "20240105120100_webhook_secret.sql").unlink()
    return project


def _the_webhook_records_and_the_seed_is_there(conn, secret=True):
    # the seed's rows, as Supabase's columns take them
    assert conn.execute("SELECT email FROM auth.identities WHERE user_id = %s", (GRACE,)).fetchone() == (
        "grace@example.com",)  # the generated column, lower-cased
    assert conn.execute("SELECT aal, ip, user_agent FROM auth.sessions").fetchone()[0] == "aal1"
    assert conn.execute("SELECT nextval('auth.refresh_tokens_id_seq')").fetchone() == (42,)
    for table in ("mfa_amr_claims", "mfa_factors", "mfa_challenges", "flow_state", "one_time_tokens", "sso_providers",
                  "sso_domains", "saml_providers", "saml_relay_states", "audit_log_entries"):
        assert conn.execute(sql.SQL("SELECT count(*) FROM auth.{}").format(sql.Identifier(table))).fetchone() == (1,)
    assert conn.execute("SELECT count(*) FROM auth.schema_migrations").fetchone() == (0,)
    assert conn.execute("SELECT to_regclass('supabase_migrations.schema_migrations') IS NOT NULL").fetchone() == (True,)
    # the seed ran with triggers off (session_replication_role = replica, as dumps set it): no hook
    assert conn.execute("SELECT count(*) FROM supabase_functions.hooks").fetchone() == (0,)
    if secret:
        assert conn.execute("SELECT public.order_events_url()").fetchone() == ("https://hooks.example.invalid/orders",)

    conn.execute("INSERT INTO public.orders (customer_id, total_cents) VALUES (%s, 1999)", (GRACE,))
    request = conn.execute(
        "SELECT id, hook_table_id::regclass::text, hook_name, method, url, headers, params, timeout_milliseconds, payload "
        "FROM supabase_functions.stand_in_requests").fetchall()
    assert len(request) == 1
    request_id, table, hook, method, url, headers, params, timeout, payload = request[0]
    assert (table, hook, method, url, timeout) == (
        "orders", "order-created", "POST", "https://project-ref.supabase.invalid/functions/v1/order-created", 2500)
    assert headers == {"Content-Type": "application/json", "Authorization": "Bearer not-a-real-key"}
    assert params == {"source": "database"}
    assert (payload["type"], payload["table"], payload["schema"], payload["old_record"]) == (
        "INSERT", "orders", "public", None)
    assert (payload["record"]["customer_id"], payload["record"]["total_cents"]) == (GRACE, 1999)
    assert conn.execute("SELECT hook_table_id = 'public.orders'::regclass::oid::int, hook_name, request_id "
                        "FROM supabase_functions.hooks").fetchall() == [(True, "order-created", request_id)]
    comments = conn.execute(
        "SELECT obj_description('supabase_functions.stand_in_requests'::regclass, 'pg_class'), "
        "obj_description('supabase_functions.http_request()'::regprocedure, 'pg_proc')").fetchone()
    assert all(c.startswith("migration-wizard stand-in") for c in comments), comments
    # the broadcast is stored, for the policies on realtime.messages to decide who hears it
    message = conn.execute("SELECT topic, event, extension, private, payload FROM realtime.messages").fetchall()
    assert [m[:4] for m in message] == [(f"orders:{GRACE}", "INSERT", "broadcast", True)]
    assert (message[0][4]["operation"], message[0][4]["table"], message[0][4]["record"]["total_cents"]) == (
        "INSERT", "orders", 1999)
    with conn.transaction():
        conn.execute("SET LOCAL ROLE authenticated")
        conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (json.dumps({"sub": GRACE}),))
        conn.execute("SELECT set_config('realtime.topic', %s, true)", (f"orders:{GRACE}",))
        assert conn.execute("SELECT count(*) FROM realtime.messages").fetchone() == (1,)
        conn.execute("SELECT set_config('realtime.topic', 'orders:someone-else', true)")
        assert conn.execute("SELECT count(*) FROM realtime.messages").fetchone() == (0,)
    # a method Supabase's webhooks do not have fails as there
    conn.execute("CREATE TRIGGER odd AFTER UPDATE ON public.orders FOR EACH ROW "
                 "EXECUTE FUNCTION supabase_functions.http_request('https://example.invalid', 'PUT')")
    with pytest.raises(psycopg.errors.RaiseException, match="method argument PUT is invalid"):
        conn.execute("UPDATE public.orders SET total_cents = 0")


def test_a_supabase_dump_with_webhooks_and_auth_rows_applies_on_the_local_database(server, database, tmp_path, cli):
    """The suite's own server is the wizard's local server, with its stand-in extensions: the step
    installs pg_graphql and supabase_vault where Supabase has them, so the dump's CREATE EXTENSION
    lines are no-ops, Vault keeps the secret, the webhook records its request, the seed's rows fit."""
    if server.embedded is None:
        pytest.skip("the stand-in extensions load on the wizard's own local server only")
    project = _dump_project(tmp_path)
    plan = cli("plan", "--json", "--database-url", database, cwd=project)
    assert plan.code == 0, plan.output
    assert [f["code"] for f in plan.json()["findings"]] == ["compat"], plan.json()["findings"]
    assert {"extension pg_graphql", "extension supabase_vault", "function supabase_functions.http_request",
            "table auth.mfa_amr_claims", "table auth.one_time_tokens", "table realtime.messages",
            "function realtime.broadcast_changes"} <= set(plan.json()["compat"])

    applied = cli("apply", "--yes", "--include-seed", "--database-url", database, cwd=project)
    assert applied.code == 0, applied.output
    assert "Applied 4 migration(s)" in applied.err
    assert "auth.users, auth.identities, auth.sessions, 13 other auth tables" in applied.err
    assert "extensions uuid-ossp/pgcrypto/pg_graphql/supabase_vault" in applied.err
    with psycopg.connect(database, autocommit=True) as conn:
        assert dict(conn.execute(
            "SELECT extname, extnamespace::regnamespace::text FROM pg_extension "
            "WHERE extname IN ('pg_graphql', 'supabase_vault')").fetchall()) == {"pg_graphql": "graphql",
                                                                                 "supabase_vault": "vault"}
        assert conn.execute("SELECT to_regnamespace('graphql_public') IS NOT NULL").fetchone() == (True,)
        _the_webhook_records_and_the_seed_is_there(conn)


def test_a_supabase_dump_applies_with_apply_local(tmp_path, cli):
    """The same project on the local default, in a directory of its own: the seed runs after the
    migrations, and a second run changes nothing."""
    project = _dump_project(tmp_path)
    local_dir = tmp_path / "local"
    try:
        result = cli("apply", "--local", "--local-dir", local_dir, "--yes", "--json", cwd=project)
        assert result.code == 0, result.output
        report = result.json()
        assert len(report["applied"]) == 4 and [s["outcome"] for s in report["seeds"]] == ["applied"]
        assert {"pg_graphql", "supabase_vault"} <= set(report["standins"])
        again = cli("apply", "--local", "--local-dir", local_dir, "--yes", "--json", cwd=project)
        assert again.code == 0 and again.json()["applied"] == [] and "compat" not in again.json()
        with psycopg.connect(LocalServer(local_dir).url(), autocommit=True) as conn:
            _the_webhook_records_and_the_seed_is_there(conn)
    finally:
        cli("local", "stop", "--local-dir", local_dir)


def test_without_pg_graphql_and_vault_the_dump_is_stopped_by_pre_flight_and_the_rest_applies(
        plain_server, plain_database, tmp_path, cli):
    """A server without pg_graphql and supabase_vault (Debian's PostgreSQL 15) gets no empty
    schemas graphql and vault: the dump's CREATE EXTENSION of them is a pre-flight error at its
    line, before anything runs. Without those lines and the Vault file, the folder applies."""
    with psycopg.connect(plain_database, autocommit=True) as conn:
        available = {r[0] for r in conn.execute(
            "SELECT name FROM pg_available_extensions WHERE name IN ('pg_graphql', 'supabase_vault')")}
    if available:
        pytest.skip("this server has pg_graphql or supabase_vault (the suite's local server has stand-ins)")
    project = _dump_project(tmp_path)
    plan = cli("plan", "--json", "--database-url", plain_database, cwd=project)
    assert plan.code == 2, plan.output
    errors = [(f["code"], f["file"], f["line"]) for f in plan.json()["findings"] if f["severity"] == "error"]
    assert ("missing-extension", "20240105120000_remote_schema.sql", 13) in errors
    assert ("missing-extension", "20240105120000_remote_schema.sql", 17) in errors
    applied = cli("apply", "--yes", "--database-url", plain_database, cwd=project)
    assert applied.code == 2 and "nothing was applied" in applied.err, applied.output
    assert "20240105120000_remote_schema.sql:13" in applied.err
    with psycopg.connect(plain_database, autocommit=True) as conn:
        assert conn.execute("SELECT to_regnamespace('graphql'), to_regnamespace('vault'), to_regnamespace('auth')"
                            ).fetchone() == (None, None, None)

    project = _dump_project(tmp_path / "without", without_preinstalled=True)
    applied = cli("apply", "--yes", "--include-seed", "--database-url", plain_database, cwd=project)
    assert applied.code == 0, applied.output
    assert "Applied 3 migration(s)" in applied.err
    with psycopg.connect(plain_database, autocommit=True) as conn:
        assert conn.execute("SELECT to_regnamespace('graphql'), to_regnamespace('vault')").fetchone() == (None, None)
        _the_webhook_records_and_the_seed_is_there(conn, secret=False)


def test_a_database_shaped_by_the_previous_version_gets_the_new_objects(plain_database):
    with psycopg.connect(plain_database, autocommit=True) as conn:
        compat.ensure(conn)
        # what the previous version left: its mark, and none of what this one adds
        conn.execute("""
            COMMENT ON SCHEMA auth IS 'Supabase-shaped, made by migration-wizard''s compatibility step (2): not a Supabase project';
            DROP SCHEMA supabase_functions CASCADE;
            DROP TABLE auth.mfa_amr_claims, auth.one_time_tokens;
            DROP TYPE auth.one_time_token_type;
            ALTER TABLE auth.sessions DROP COLUMN scopes;
        """)
        state = compat.inspect(conn)
        assert state.will_run
        assert set(state.missing) == {"schema supabase_functions", "table supabase_functions.hooks", "table supabase_functions.stand_in_requests",
                                      "function supabase_functions.http_request", "table auth.mfa_amr_claims",
                                      "table auth.one_time_tokens", "type auth.one_time_token_type"}
        assert compat.ensure(conn) == state.missing
        assert not compat.inspect(conn).will_run
        assert conn.execute("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'auth' "
                            "AND table_name = 'sessions' AND column_name = 'scopes'").fetchone() == (1,)


def test_a_data_dump_of_an_older_project_fills_pgsodium_keys_on_the_local_database(folder, database, cli):
    """Projects made before pgsodium's deprecation had it, and `supabase db dump --data-only`
    writes its key rows and sequence: on the local database (stand-ins) the step installs the
    pgsodium stand-in, so such a dump applies."""
    folder.write("001_data.sql", """
        SELECT pg_catalog.setval('"pgsodium"."key_key_id_seq"', 1, false);
        INSERT INTO pgsodium.key (id, status, key_type, key_id, key_context, name)
          VALUES ('7a0b7f4c-6f5d-4a43-9d1e-2f2b8c1d9e01', 'valid', 'aead-det', 1, '\\x7067736f6469756d', 'default');
    """)
    result = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert result.code == 0, result.output
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT name FROM pgsodium.key").fetchall() == [("default",)]
        (comment,) = conn.execute("SELECT comment FROM pg_extension e JOIN pg_available_extensions a "
                                  "ON a.name = e.extname WHERE e.extname = 'pgsodium'").fetchone()
        assert comment.startswith("migration-wizard stand-in")


def test_a_database_whose_search_path_is_empty_gets_extensions(folder, database, cli):
    """A database hardened with ``ALTER DATABASE ... SET search_path = ''`` (stored as ``""``): the
    step adds ``extensions`` to it instead of failing, and the migrations and seeds still run."""
    with psycopg.connect(database, autocommit=True) as conn:
        name = conn.execute("SELECT current_database()").fetchone()[0]
        conn.execute(sql.SQL("ALTER DATABASE {} SET search_path = ''").format(sql.Identifier(name)))
    folder.write("001_notes.sql", "CREATE TABLE public.notes (id uuid DEFAULT uuid_generate_v4());\n")
    result = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert result.code == 0, result.output
    assert [a["version"] for a in result.json()["applied"]] == ["001"]
    with psycopg.connect(database) as conn:
        assert conn.execute("SHOW search_path").fetchone()[0] == "extensions"
