"""Stand-in extensions on the local database: they load, under their real names, and their
functions give the real extensions' results where the stand-ins promise them."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import psycopg
import pytest
from helpers import assert_clean, history, new_database, tables
from tui_pilot import press, settle, shown, wizard_app

from wizard.core import standins
from wizard.core.local import LocalServer


@pytest.fixture
def local_db(server, db):
    if server.embedded is None:
        pytest.skip("the stand-ins load on the wizard's own local server only")
    return db


def test_uuid_ossp_relocatable_into_extensions(local_db):
    local_db.execute("CREATE SCHEMA extensions")
    local_db.execute('CREATE EXTENSION "uuid-ossp" WITH SCHEMA extensions')
    for name in ("www.example.com", "", "héllo wörld " * 20):
        v3, v5 = local_db.execute(
            "SELECT extensions.uuid_generate_v3(extensions.uuid_ns_url(), %s),"
            "       extensions.uuid_generate_v5(extensions.uuid_ns_dns(), %s)", (name, name)
        ).fetchone()
        assert v3 == uuid.uuid3(uuid.NAMESPACE_URL, name)
        assert v5 == uuid.uuid5(uuid.NAMESPACE_DNS, name)
    namespaces = local_db.execute(
        "SELECT extensions.uuid_ns_dns(), extensions.uuid_ns_url(), extensions.uuid_ns_oid(),"
        " extensions.uuid_ns_x500(), extensions.uuid_nil()"
    ).fetchone()
    assert namespaces == (uuid.NAMESPACE_DNS, uuid.NAMESPACE_URL, uuid.NAMESPACE_OID, uuid.NAMESPACE_X500,
                          uuid.UUID(int=0))
    v1, v1mc, v4 = local_db.execute(
        "SELECT extensions.uuid_generate_v1(), extensions.uuid_generate_v1mc(), extensions.uuid_generate_v4()"
    ).fetchone()
    assert (v1.version, v1mc.version, v4.version) == (1, 1, 4)
    assert v1.variant == uuid.RFC_4122
    assert v1.node & (1 << 40)  # the multicast bit: a random node, never a MAC address
    assert abs(uuid.UUID(int=v1.int).time - uuid.uuid1().time) < 10 * 10**7  # within ten seconds
    # a table default written the Supabase way
    local_db.execute("CREATE TABLE t (id uuid PRIMARY KEY DEFAULT extensions.uuid_generate_v4())")
    local_db.execute("INSERT INTO t DEFAULT VALUES")
    assert standins.installed(local_db) == ["uuid-ossp"]


def test_pgcrypto_digest_and_hmac_match_hashlib(local_db):
    local_db.execute("CREATE EXTENSION pgcrypto")
    for size in (0, 3, 55, 56, 64, 65, 300):
        data = bytes(range(256)) * 2
        data = data[:size]
        for algorithm in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512"):
            got = local_db.execute("SELECT digest(%s::bytea, %s)", (data, algorithm.upper())).fetchone()[0]
            assert got == hashlib.new(algorithm, data).digest(), (size, algorithm)
            for key in (b"k", b"x" * 100, b"y" * 200):
                got = local_db.execute("SELECT hmac(%s::bytea, %s::bytea, %s)", (data, key, algorithm)).fetchone()[0]
                assert got == hmac.new(key, data, algorithm).digest(), (size, algorithm, len(key))
    text_digest = local_db.execute("SELECT encode(digest('héllo', 'sha1'), 'hex')").fetchone()[0]
    assert text_digest == hashlib.sha1("héllo".encode()).hexdigest()
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="No such hash algorithm"):
        local_db.execute("SELECT digest('a', 'sha3')")


def test_pgcrypto_crypt_verifies_and_says_what_it_is_not(local_db):
    local_db.execute("CREATE SCHEMA extensions")
    local_db.execute("CREATE EXTENSION pgcrypto WITH SCHEMA extensions")
    local_db.execute("SET search_path = public, extensions")
    stored = local_db.execute("SELECT crypt('correct horse', gen_salt('bf'))").fetchone()[0]
    assert stored.startswith("$wizard-standin-bf$")
    assert local_db.execute("SELECT crypt('correct horse', %s) = %s", (stored, stored)).fetchone()[0]
    assert not local_db.execute("SELECT crypt('wrong horse', %s) = %s", (stored, stored)).fetchone()[0]
    other = local_db.execute("SELECT crypt('correct horse', gen_salt('bf', 8))").fetchone()[0]
    assert other != stored  # salted
    with pytest.raises(psycopg.errors.FeatureNotSupported, match="stand-in"):
        local_db.execute("SELECT crypt('pw', '$2a$06$abcdefghijklmnopqrstuv')")
    with pytest.raises(psycopg.errors.FeatureNotSupported, match="stand-in"):
        local_db.execute("SELECT pgp_sym_encrypt('secret', 'key')")
    random = local_db.execute("SELECT gen_random_bytes(40), gen_random_bytes(40)").fetchone()
    assert len(random[0]) == 40 and random[0] != random[1]
    assert local_db.execute("SELECT extensions.gen_random_uuid()").fetchone()[0].version == 4
    # a function calling the unavailable parts still creates: only calling it fails
    local_db.execute(
        "CREATE FUNCTION seal(t text) RETURNS bytea LANGUAGE sql AS $$ SELECT extensions.pgp_sym_encrypt(t, 'k') $$"
    )
    comment = local_db.execute(
        "SELECT obj_description(oid, 'pg_extension') FROM pg_extension WHERE extname = 'pgcrypto'"
    ).fetchone()[0]
    assert comment.startswith("migration-wizard stand-in: not the real pgcrypto")
    # relocatable, as the real one is
    local_db.execute("ALTER EXTENSION pgcrypto SET SCHEMA public")
    assert local_db.execute("SELECT crypt('correct horse', %s) = %s", (stored, stored)).fetchone()[0]


def test_an_older_directory_gets_the_stand_ins_on_its_next_start(tmp_path):
    """A local directory made before the stand-ins existed: the next start copies them and sets
    the path, and a server that kept running picks the setting up without a restart."""
    local = LocalServer(tmp_path / "local")
    local.start()
    try:
        conf = local.data / "postgresql.conf"
        conf.write_text("".join(ln for ln in conf.read_text().splitlines(keepends=True)
                                if "extension_control_path" not in ln))
        for path in (local.extensions / "extension").iterdir():
            path.unlink()
        with psycopg.connect(local.url(), autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")
        assert "$system" == _setting_eventually(local, lambda v: v == "$system")
        (local.extensions / "extension" / "pgcrypto.control").write_text("# an older copy\n")
        local.start()  # already running: copies, configures, reloads
        assert _setting_eventually(local, lambda v: v != "$system").endswith(str(local.extensions))
        shipped = {p.name: p.read_bytes() for p in standins.source_files()}
        copied = {p.name: p.read_bytes() for p in (local.extensions / "extension").iterdir()}
        assert copied == shipped
        with psycopg.connect(local.url(), autocommit=True) as conn:
            conn.execute('CREATE EXTENSION "uuid-ossp"')
            conn.execute("CREATE EXTENSION pgcrypto")
    finally:
        local.stop()


def test_every_stand_in_creates_and_says_it_is_one(local_db):
    local_db.execute("CREATE SCHEMA extensions")
    for statement in (
        'CREATE EXTENSION "uuid-ossp" WITH SCHEMA extensions', "CREATE EXTENSION pgcrypto WITH SCHEMA extensions",
        "CREATE EXTENSION pg_cron WITH SCHEMA pg_catalog", "CREATE EXTENSION pg_net WITH SCHEMA extensions",
        "CREATE EXTENSION http WITH SCHEMA extensions", "CREATE EXTENSION supabase_vault",
        "CREATE EXTENSION pgsodium", "CREATE EXTENSION pg_graphql", "CREATE EXTENSION pgjwt WITH SCHEMA extensions",
    ):
        local_db.execute(statement)
    assert standins.installed(local_db) == sorted(standins.NAMES)
    comments = local_db.execute(
        "SELECT extname, obj_description(oid, 'pg_extension') FROM pg_extension WHERE extname <> 'plpgsql'"
    ).fetchall()
    for name, comment in comments:
        assert comment.startswith(f"migration-wizard stand-in: not the real {name}"), (name, comment)
    schemas = {r[0] for r in local_db.execute("SELECT nspname FROM pg_namespace")}
    assert {"cron", "net", "vault", "graphql", "graphql_public", "pgsodium"} <= schemas
    # dropping them drops the schemas their scripts made (those named in the control file stay, as
    # PostgreSQL leaves them)
    for name in sorted(standins.NAMES, key=lambda n: n != "pgjwt"):  # pgjwt needs pgcrypto
        local_db.execute(f'DROP EXTENSION "{name}"')
    schemas = {r[0] for r in local_db.execute("SELECT nspname FROM pg_namespace")}
    assert not {"cron", "net", "graphql", "graphql_public"} & schemas
    assert standins.installed(local_db) == []


def test_supabase_dumps_extension_lines_apply_where_the_schemas_exist(local_db):
    """Supabase's dumps name each extension's schema; on Supabase those schemas exist already."""
    local_db.execute("CREATE SCHEMA extensions; CREATE SCHEMA graphql; CREATE SCHEMA vault; CREATE SCHEMA pgsodium")
    for name, schema in (("pg_graphql", "graphql"), ("supabase_vault", "vault"), ("pgsodium", "pgsodium"),
                         ("pg_cron", "pg_catalog"), ("pg_net", "extensions"), ("http", "extensions"),
                         ("pgcrypto", "extensions"), ("pgjwt", "extensions"), ("uuid-ossp", "extensions")):
        local_db.execute(f'CREATE EXTENSION IF NOT EXISTS "{name}" WITH SCHEMA "{schema}"')
    assert len(standins.installed(local_db)) == len(standins.NAMES)


def test_pgjwt_signs_tokens_that_others_verify(local_db):
    import base64
    import json
    import time

    local_db.execute("CREATE SCHEMA extensions")
    local_db.execute("CREATE EXTENSION pgjwt WITH SCHEMA extensions CASCADE")  # with pgcrypto, as the real one
    claims = {"sub": "8c1f", "role": "authenticated", "exp": int(time.time()) + 3600}
    for algorithm, digest in (("HS256", "sha256"), ("HS384", "sha384"), ("HS512", "sha512")):
        token = local_db.execute(
            "SELECT extensions.sign(%s::json, 'jwt-secret', %s)", (json.dumps(claims), algorithm)
        ).fetchone()[0]
        header, payload, signature = token.split(".")
        expected = hmac.new(b"jwt-secret", f"{header}.{payload}".encode(), digest).digest()
        assert base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)) == expected
        assert json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))) == {
            "alg": algorithm, "typ": "JWT"}
        got = local_db.execute("SELECT payload, valid FROM extensions.verify(%s, 'jwt-secret', %s)",
                               (token, algorithm)).fetchone()
        assert got == (claims, True)
        assert local_db.execute("SELECT valid FROM extensions.verify(%s, 'other', %s)",
                                (token, algorithm)).fetchone() == (False,)
    expired = local_db.execute("SELECT extensions.sign('{\"exp\": 1}'::json, 'jwt-secret')").fetchone()[0]
    assert local_db.execute("SELECT valid FROM extensions.verify(%s, 'jwt-secret')", (expired,)).fetchone() == (False,)


def test_cron_records_jobs_that_never_run(local_db):
    local_db.execute("CREATE EXTENSION pg_cron")
    first = local_db.execute("SELECT cron.schedule('nightly-purge', '0 3 * * *', 'DELETE FROM t')").fetchone()[0]
    again = local_db.execute("SELECT cron.schedule('nightly-purge', '0 4 * * *', 'DELETE FROM t')").fetchone()[0]
    anonymous = local_db.execute("SELECT cron.schedule('*/5 * * * *', 'SELECT 1')").fetchone()[0]
    assert first == again != anonymous
    jobs = local_db.execute("SELECT jobid, jobname, schedule, command, active FROM cron.job ORDER BY jobid").fetchall()
    assert jobs == [(first, "nightly-purge", "0 4 * * *", "DELETE FROM t", True),
                    (anonymous, None, "*/5 * * * *", "SELECT 1", True)]
    local_db.execute("SELECT cron.alter_job(%s, active => false)", (anonymous,))
    assert local_db.execute("SELECT cron.unschedule('nightly-purge')").fetchone() == (True,)
    assert local_db.execute("SELECT cron.unschedule(%s)", (anonymous,)).fetchone() == (True,)
    assert local_db.execute("SELECT count(*) FROM cron.job").fetchone() == (0,)
    assert local_db.execute("SELECT count(*) FROM cron.job_run_details").fetchone() == (0,)
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="invalid schedule"):
        local_db.execute("SELECT cron.schedule('not a schedule', 'SELECT 1')")
    with pytest.raises(psycopg.errors.RaiseException, match="could not find valid entry"):
        local_db.execute("SELECT cron.unschedule('nothing-by-that-name')")


def test_net_and_http_record_requests_and_send_nothing(local_db):
    local_db.execute("CREATE SCHEMA extensions")
    local_db.execute("CREATE EXTENSION pg_net WITH SCHEMA extensions")
    local_db.execute("CREATE EXTENSION http WITH SCHEMA extensions")
    # the way Supabase folders use them: inside trigger functions
    local_db.execute("""
        CREATE TABLE orders (id int PRIMARY KEY);
        CREATE FUNCTION notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM net.http_post('https://hooks.example.com/order', jsonb_build_object('id', NEW.id));
            PERFORM extensions.http_get('https://api.example.com/ping');
            RETURN NEW;
        END $$;
        CREATE TRIGGER notify AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION notify();
        INSERT INTO orders VALUES (7);
    """)
    queued = local_db.execute("SELECT method, url, body FROM net.http_request_queue").fetchall()
    assert queued == [("POST", "https://hooks.example.com/order", b'{"id": 7}')]
    request_id = local_db.execute(
        "SELECT net.http_get('https://api.example.com/search', params => '{\"q\": \"a b\"}')"
    ).fetchone()[0]
    assert local_db.execute("SELECT url FROM net.http_request_queue WHERE id = %s", (request_id,)).fetchone() == (
        "https://api.example.com/search?q=a%20b",)
    assert local_db.execute("SELECT count(*) FROM net._http_response").fetchone() == (0,)
    status, content = local_db.execute(
        "SELECT status, content FROM extensions.http_post('https://api.example.com/x', 'body', 'text/plain')"
    ).fetchone()
    assert status == 501 and "stand-in" in content
    recorded = local_db.execute("SELECT method, uri FROM extensions.http_standin_requests ORDER BY id").fetchall()
    assert recorded == [("GET", "https://api.example.com/ping"), ("POST", "https://api.example.com/x")]


def test_vault_stores_secrets_unencrypted_and_reads_them_back(local_db):
    local_db.execute("CREATE EXTENSION supabase_vault")
    secret_id = local_db.execute("SELECT vault.create_secret('s3cret', 'stripe_key', 'the test key')").fetchone()[0]
    local_db.execute("SELECT vault.update_secret(%s, 'n3w')", (secret_id,))
    assert local_db.execute(
        "SELECT name, description, decrypted_secret FROM vault.decrypted_secrets"
    ).fetchone() == ("stripe_key", "the test key", "n3w")
    comment = local_db.execute("SELECT obj_description('vault.secrets'::regclass)").fetchone()[0]
    assert "UNENCRYPTED" in comment
    local_db.execute("CREATE EXTENSION pg_graphql")
    answer = local_db.execute("SELECT graphql_public.graphql(query => '{ books { id } }')").fetchone()[0]
    assert "stand-in" in answer["errors"][0]["message"]


# -- the command line and the wizard -------------------------------------------------------------

CRON_FOLDER = {
    "001_extensions.sql": """
        create schema if not exists extensions;
        create extension if not exists "uuid-ossp" with schema extensions;
        create extension if not exists pg_cron;
    """,
    "002_jobs.sql": """
        create table public.events (
            id uuid primary key default extensions.uuid_generate_v4(),
            at timestamptz not null default now()
        );
        select cron.schedule('purge-events', '0 3 * * *',
                             $$delete from public.events where at < now() - interval '30 days'$$);
    """,
}


@pytest.fixture
def cron_folder(folder):
    for name, sql in CRON_FOLDER.items():
        folder.write(name, sql)
    return folder


@pytest.fixture
def own_local(tmp_path):
    """A local database of its own (the folder's objects stay out of the suite's server)."""
    local = LocalServer(tmp_path / "local")
    yield local
    local.stop()


def test_apply_on_the_local_database_says_which_stand_ins_it_used(cron_folder, own_local, cli):
    result = cli("plan", "--local", "--local-dir", own_local.directory, "--migrations", cron_folder.path)
    assert result.code == 0, result.output
    assert "error" not in result.out
    result = cli("apply", "--local", "--local-dir", own_local.directory, "--migrations", cron_folder.path, "--yes")
    assert_clean(result)
    assert result.code == 0, result.output
    # pgcrypto, pg_graphql and supabase_vault too: the compatibility step installs them, as every
    # Supabase project has them; and pgsodium, as projects before its deprecation had it
    assert ("stand-in extensions in this database (local only, not the real ones): pg_cron, pg_graphql, pgcrypto, pgsodium, supabase_vault, "
            "uuid-ossp") in result.err
    result = cli("apply", "--local", "--local-dir", own_local.directory, "--migrations", cron_folder.path,
                 "--yes", "--json")
    assert result.code == 0, result.output
    assert result.json()["standins"] == ["pg_cron", "pg_graphql", "pgcrypto", "pgsodium", "supabase_vault", "uuid-ossp"]
    with psycopg.connect(own_local.url()) as conn:
        assert conn.execute("SELECT jobname FROM cron.job").fetchall() == [("purge-events",)]


async def test_the_wizard_says_which_stand_ins_it_used(tmp_path, cron_folder, own_local):
    from wizard.tui.screens.apply import ApplyScreen

    app = wizard_app(tmp_path, cron_folder.path, local=True, local_dir=own_local.directory)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await press(pilot, "enter", "enter", "enter")
        assert isinstance(app.screen, ApplyScreen), shown(app)
        assert "All 2 migrations are applied" in shown(app)
        assert ("Stand-in extensions in this database (local only, not the real ones): pg_cron, pg_graphql, pgcrypto, pgsodium, "
                "supabase_vault, uuid-ossp") in " ".join(shown(app).split())


# -- a server without the extension -----------------------------------------------------------------

@pytest.fixture
def database15(postgres15):
    with new_database(postgres15, "wizard_ext_") as url:
        yield url


def test_a_server_without_the_extension_is_told_before_anything_runs(cron_folder, database15, cli):
    result = cli("plan", "--database-url", database15, "--migrations", cron_folder.path)
    assert_clean(result)
    assert result.code == 2, result.output
    line = next(ln for ln in result.out.splitlines() if "001_extensions.sql:3" in ln)
    assert "Supabase has the extension pg_cron, this server (PostgreSQL 15) does not" in line
    assert "postgresql-15-cron" in line and "--local" in line and "Supabase project" in line
    assert "extension uuid-ossp" not in result.out  # PostgreSQL 15 has it
    result = cli("plan", "--database-url", database15, "--migrations", cron_folder.path, "--json")
    assert [(f["code"], f["file"], f["line"]) for f in result.json()["findings"] if f["severity"] == "error"] == [
        ("missing-extension", "001_extensions.sql", 3)]

    result = cli("apply", "--database-url", database15, "--migrations", cron_folder.path, "--yes")
    assert_clean(result)
    assert result.code == 2, result.output
    assert "001_extensions.sql:3" in result.err and "nothing was applied" in result.err
    with psycopg.connect(database15) as conn:
        assert history(conn) == []
        assert tables(conn) == set()
        assert conn.execute("SELECT to_regnamespace('extensions')").fetchone() == (None,)


async def test_the_wizard_names_the_missing_extension_on_the_path_step(tmp_path, cron_folder, database15):
    from wizard.tui.screens.path import PathScreen

    app = wizard_app(tmp_path, cron_folder.path, database15)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await press(pilot, "enter", "enter")
        assert isinstance(app.screen, PathScreen), shown(app)
        text = " ".join(shown(app).split())
        assert "001_extensions.sql:3" in text and "Supabase has the extension pg_cron" in text
        assert "1 problem(s) keep the run from starting" in text
    with psycopg.connect(database15) as conn:
        assert history(conn) == []


def test_an_extension_the_server_has_passes(folder, database15, cli):
    folder.write("001_ext.sql", 'create extension if not exists pgcrypto;\ncreate extension "uuid-ossp";\n')
    result = cli("plan", "--database-url", database15, "--migrations", folder.path)
    assert result.code == 0, result.output
    assert "missing-extension" not in result.out and "does not have" not in result.out


def _setting_eventually(local: LocalServer, ready) -> str:
    import time

    for _ in range(50):
        with psycopg.connect(local.url(), autocommit=True) as conn:
            value = conn.execute("SHOW extension_control_path").fetchone()[0]
        if ready(value):
            return value
        time.sleep(0.1)
    return value
