"""Stand-in extensions on the local database: they load, under their real names, and their
functions give the real extensions' results where the stand-ins promise them."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from pathlib import Path

import psycopg
import pytest

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


def _setting_eventually(local: LocalServer, ready) -> str:
    import time

    for _ in range(50):
        with psycopg.connect(local.url(), autocommit=True) as conn:
            value = conn.execute("SHOW extension_control_path").fetchone()[0]
        if ready(value):
            return value
        time.sleep(0.1)
    return value
