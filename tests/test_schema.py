"""The platform's migrations: coherent, re-runnable, and what the backend needs."""

import json
import os
import subprocess

import psycopg
import pytest
from helpers import MIGRATIONS, with_database

from wizard.core import catalog, checks, compat
from wizard.core.local import _bin_dir
from wizard.core.runner import Runner

EXPECTED_FILES = [
    "001_create_schema.sql",
    "002_expand_assessments_schema.sql",
    "003_expand_assessment_questions.sql",
    "004_expand_assessment_answers.sql",
    "005_create_assessment_competencies.sql",
    "006_create_assessment_drafts.sql",
    "007_seed_assessment_questions.sql",
    "008_create_qualiopi_indicators.sql",
    "009_create_organization_qualiopi_status.sql",
    "010_create_qualiopi_evidence.sql",
    "011_create_satisfaction_surveys.sql",
    "012_create_document_archive.sql",
    "013_create_qualiopi_audit_log.sql",
    "014_create_availability_slots.sql",
    "015_create_session_bookings.sql",
    "016_create_session_reminders.sql",
    "017_create_session_analytics.sql",
    "018_fix_database_advisor_findings.sql",
]
NAMED_TABLES = {
    "users", "organizations", "bilans", "competencies", "recommendations", "documents", "messages",
    "sessions", "audit_logs", "assessment_questions", "assessment_answers", "assessment_competencies",
    "assessment_drafts", "qualiopi_indicators", "organization_qualiopi_status", "qualiopi_evidence",
    "satisfaction_surveys", "survey_responses", "document_archive", "document_access_log",
    "qualiopi_audit_log", "availability_slots", "session_bookings", "session_reminders", "session_analytics",
}


@pytest.fixture(scope="module")
def migrated(server):
    """One database with all the migrations applied by the wizard."""
    name = "wizard_schema_" + os.urandom(4).hex()
    with server.connect() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server.admin_url, name)
    with psycopg.connect(url, autocommit=True) as conn:
        finished = Runner(conn, catalog.load(MIGRATIONS)).run()
        assert finished.ok, finished.failed
        assert len(finished.applied) == len(EXPECTED_FILES)
        yield conn
    with server.connect() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_folder_holds_exactly_the_expected_files_and_parses():
    loaded = catalog.load(MIGRATIONS)
    assert loaded.ok, loaded.problems
    assert [m.filename for m in loaded.migrations] == EXPECTED_FILES
    for migration in loaded.migrations:
        assert migration.text.startswith("--"), f"{migration.filename} has no header comment"


def test_apply_on_a_new_local_directory(tmp_path, cli):
    directory = tmp_path / "local"
    try:
        result = cli("apply", "--local", "--local-dir", directory, "--yes", "--json")
        assert result.code == 0, result.err
        assert [a["version"] for a in result.json()["applied"]] == [f"{i:03d}" for i in range(1, len(EXPECTED_FILES) + 1)]
        status = cli("status", "--local", "--local-dir", directory, "--json")
        assert [m["state"] for m in status.json()["migrations"]] == ["applied"] * len(EXPECTED_FILES)
    finally:
        cli("local", "stop", "--local-dir", directory)


def test_every_named_table_exists(migrated):
    found = {r[0] for r in migrated.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert NAMED_TABLES <= found


def test_indexes_triggers_rls_and_policies(migrated):
    (indexes,) = migrated.execute(
        """SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
            WHERE c.relnamespace = 'public'::regnamespace AND NOT i.indisprimary"""
    ).fetchone()
    assert indexes >= 13
    (triggers,) = migrated.execute(
        """SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal"""
    ).fetchone()
    assert triggers >= 10
    without_rls = migrated.execute(
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' "
        "AND NOT relrowsecurity"
    ).fetchall()
    assert without_rls == []
    without_policy = migrated.execute(
        """SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
              AND NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)"""
    ).fetchall()
    assert without_policy == []
    with_updated_at_but_no_trigger = migrated.execute(
        """SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'updated_at'
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
              AND NOT EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                               WHERE t.tgrelid = c.oid AND p.proname = 'set_updated_at')"""
    ).fetchall()
    assert with_updated_at_but_no_trigger == []


def test_seeds(migrated):
    assert migrated.execute("SELECT count(*) FROM assessment_questions WHERE assessment_id IS NULL").fetchone() == (16,)
    assert migrated.execute("SELECT count(*) FROM qualiopi_indicators").fetchone() == (32,)


def test_the_checks_file_passes(migrated):
    loaded = checks.load(MIGRATIONS)
    assert len(loaded) >= 8
    results = checks.run(migrated, loaded)
    assert [r for r in results if not r.ok] == []
    names = " ".join(r.name for r in results).lower()
    for word in ("table", "users", "index", "trigger", "question", "indicator"):
        assert word in names


def test_registration_and_row_level_security(migrated):
    conn = migrated
    with conn.transaction(force_rollback=True):
        me = conn.execute(
            """INSERT INTO users (email, password_hash, full_name, role)
               VALUES ('camille.martin@example.fr', '$2b$10$abcdefghijklmnopqrstuv', 'Camille Martin', 'beneficiary')
               RETURNING id::text"""
        ).fetchone()[0]
        other = conn.execute(
            """INSERT INTO users (email, password_hash, full_name, role)
               VALUES ('louis.bernard@example.fr', '$2b$10$abcdefghijklmnopqrstuv', 'Louis Bernard', 'beneficiary')
               RETURNING id::text"""
        ).fetchone()[0]
        row = conn.execute(
            "SELECT email, email_verified, created_at IS NOT NULL FROM users WHERE id = %s", (me,)
        ).fetchone()
        assert row == ("camille.martin@example.fr", False, True)

        conn.execute("SET LOCAL ROLE authenticated")
        claims = json.dumps({"sub": me, "role": "authenticated"})
        conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (claims,))
        assert conn.execute("SELECT email FROM users WHERE id = %s", (me,)).fetchall() == [("camille.martin@example.fr",)]
        assert conn.execute("SELECT email FROM users WHERE id = %s", (other,)).fetchall() == []

        claims = json.dumps({"sub": other, "role": "authenticated"})
        conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (claims,))
        assert conn.execute("SELECT email FROM users WHERE id = %s", (me,)).fetchall() == []


def _psql() -> str:
    return str(_bin_dir() / "psql")


@pytest.fixture(params=["embedded", "postgresql-15"])
def bare_server(request, server):
    """Servers to run the files on with psql: the suite's own, and a PostgreSQL 15 when the
    machine has Debian's binaries (Supabase's older projects run 15)."""
    if request.param == "embedded":
        return server.admin_url
    return request.getfixturevalue("postgres15")


def test_every_file_runs_twice_with_psql(bare_server):
    name = "wizard_rerun_" + os.urandom(4).hex()
    with psycopg.connect(bare_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(bare_server, name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(compat.script())
        for filename in EXPECTED_FILES:
            for attempt in (1, 2):
                result = subprocess.run(
                    [_psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(MIGRATIONS / filename)],
                    capture_output=True, text=True,
                )
                assert result.returncode == 0, f"{filename} (run {attempt}): {result.stderr}"
                assert "already exists" not in result.stderr, f"{filename} (run {attempt}): {result.stderr}"
        with psycopg.connect(url) as conn:
            assert conn.execute(
                "SELECT count(*) FROM assessment_questions WHERE assessment_id IS NULL"
            ).fetchone() == (16,)
            assert conn.execute("SELECT count(*) FROM qualiopi_indicators").fetchone() == (32,)
    finally:
        with psycopg.connect(bare_server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_api_roles_cannot_read_password_hashes(migrated):
    with migrated.transaction(force_rollback=True):
        migrated.execute("SET LOCAL ROLE authenticated")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            migrated.execute("SELECT password_hash FROM users")
