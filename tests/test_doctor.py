"""The environment, connection candidates and `doctor`: where the user stands, with no secret shown."""

import base64
import json
import os
import stat
import time
from urllib.parse import quote

import psycopg
import pytest
from helpers import PASSWORD_USER, assert_clean, history, with_database

from wizard.core import env

REF = "abcdefghijklmnopqrst"
SPECIAL = "Sp3c#al@pa/ss%w:rd"


def jwt(claims: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return part({"alg": "HS256", "typ": "JWT"}) + "." + part(claims) + ".c2lnbmF0dXJlLW9mLXRoZS10ZXN0LWtleQ"


ANON = jwt({"iss": "supabase", "ref": REF, "role": "anon", "iat": 1700000000, "exp": 2000000000})
SERVICE = jwt({"iss": "supabase", "ref": REF, "role": "service_role", "iat": 1700000000, "exp": 2000000000})
SECRETS = [ANON, SERVICE, SPECIAL, quote(SPECIAL, safe="")]


def no_secret_in(*results) -> None:
    for result in results:
        for secret in SECRETS:
            assert secret not in result.output, f"a secret leaked: {secret[:6]}..."
            assert secret[-24:] not in result.output


@pytest.fixture
def project(tmp_path):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001_a.sql").write_text("CREATE TABLE a (id int);\n")
    return tmp_path


@pytest.fixture
def password_role(server, database):
    """A role that logs in with a password full of URL-breaking characters."""
    with server.connect() as admin:
        admin.execute(f"DROP ROLE IF EXISTS {PASSWORD_USER}")
        admin.execute(f"CREATE ROLE {PASSWORD_USER} LOGIN SUPERUSER PASSWORD %s".replace("%s", "'" + SPECIAL.replace("'", "''") + "'"))
    host = database.split("@", 1)[1]
    yield f"postgresql://{PASSWORD_USER}@{host}"
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {PASSWORD_USER}")
    with server.connect() as admin:
        admin.execute(f"DROP ROLE IF EXISTS {PASSWORD_USER}")


def test_the_story_env_without_a_password(project, cli):
    (project / ".env.local").write_text(
        f"SUPABASE_URL=https://{REF}.supabase.co\nSUPABASE_ANON_KEY={ANON}\nSUPABASE_SERVICE_ROLE_KEY={SERVICE}\n"
    )
    text = cli("doctor", cwd=project)
    result = cli("doctor", "--json", cwd=project)
    assert_clean(result)
    no_secret_in(text, result)
    assert result.code == 3
    report = result.json()
    assert report["project_ref"] == REF
    assert report["found"]["SUPABASE_ANON_KEY"]["role"] == "anon"
    assert report["found"]["SUPABASE_SERVICE_ROLE_KEY"]["role"] == "service_role"
    assert report["found"]["SUPABASE_ANON_KEY"]["value"].startswith("eyJh****")
    assert report["paths"] == {"automated": False, "database": False, "https": False, "manual": True}
    assert report["candidates"] == []
    assert "SUPABASE_DB_PASSWORD" in report["missing"]
    assert report["problems"] == []
    assert f"https://supabase.com/dashboard/project/{REF}/database/settings" in text.out
    assert f"https://supabase.com/dashboard/project/{REF}?showConnect=true" in text.out
    assert f"https://supabase.com/dashboard/project/{REF}/sql/new" in text.out
    assert "needs the database password or a connection string" in text.out
    assert "manual, dashboard SQL editor:   possible" in text.out


def test_swapped_keys_another_project_and_a_malformed_url(project, cli):
    other = jwt({"iss": "supabase", "ref": "zyxwvutsrqponmlkjihg", "role": "anon"})
    (project / ".env.local").write_text(
        f"SUPABASE_URL=https://{REF}.supabase.co\nSUPABASE_ANON_KEY={SERVICE}\nSUPABASE_SERVICE_ROLE_KEY={ANON}\n"
        f"SUPABASE_PUBLISHABLE_KEY={other}\nSUPABASE_ACCESS_TOKEN=eyJnotatoken\n"
    )
    result = cli("doctor", "--json", cwd=project)
    no_secret_in(result)
    problems = " | ".join(result.json()["problems"])
    assert "SUPABASE_ANON_KEY holds the service_role key" in problems
    assert "SUPABASE_SERVICE_ROLE_KEY holds the anon key" in problems
    assert "SUPABASE_PUBLISHABLE_KEY belongs to project zyxwvutsrqponmlkjihg" in problems
    assert "SUPABASE_ACCESS_TOKEN does not start with sbp_" in problems
    assert result.code == 2

    (project / ".env.local").write_text("SUPABASE_URL=https://my-project.supabase.co\n")
    malformed = cli("doctor", "--json", cwd=project)
    assert malformed.code == 2
    assert "does not look like a Supabase project URL" in malformed.json()["problems"][0]


@pytest.mark.parametrize("kind", ["connection-refused", "wrong-password", "dns-failure"])
def test_failing_candidates_are_classified_in_time(kind, project, password_role, cli):
    url = {
        "connection-refused": "postgresql://postgres:nothere@127.0.0.1:1/postgres",
        "wrong-password": password_role.replace(f"{PASSWORD_USER}@", f"{PASSWORD_USER}:not-{quote(SPECIAL, safe='')}@"),
        "dns-failure": "postgresql://postgres:pw@no-such-host.invalid:5432/postgres",
    }[kind]
    started = time.monotonic()
    result = cli("doctor", "--json", "--connect-timeout", "5", "--database-url", url, cwd=project)
    elapsed = time.monotonic() - started
    assert_clean(result)
    no_secret_in(result)
    if kind == "wrong-password" and result.code == 0:
        pytest.skip("the test server does not ask this role for a password")
    assert result.code == 3
    (candidate,) = result.json()["candidates"]
    assert candidate["result"] == kind
    assert candidate["advice"]["fix"]
    assert elapsed < 15


def test_a_password_with_url_breaking_characters_through_supabase_db_password(project, password_role, database, db, cli):
    # the password kept apart from the URL, as .env files often do: joined and encoded by the wizard
    url = with_database(password_role, db.info.dbname)
    (project / ".env.local").write_text(f"DATABASE_URL={url}\nSUPABASE_DB_PASSWORD={SPECIAL}\n")
    result = cli("apply", "--yes", cwd=project)
    no_secret_in(result)
    assert result.code == 0, result.err
    assert history(db) == ["001"]
    # the direct host is built the same way
    built = env.direct_url(REF, SPECIAL)
    parsed = psycopg.conninfo.conninfo_to_dict(built)
    assert parsed["password"] == SPECIAL and parsed["host"] == f"db.{REF}.supabase.co" and parsed["sslmode"] == "require"


def test_a_raw_password_pasted_into_a_url_is_detected_and_fixed_with_consent(project, password_role, db, cli):
    raw = with_database(password_role, db.info.dbname).replace(f"{PASSWORD_USER}@", f"{PASSWORD_USER}:{SPECIAL}@")
    (project / ".env.local").write_text(f"# the team's settings\nDATABASE_URL={raw}\nOTHER=kept\n")
    refused = cli("apply", "--yes", cwd=project)
    assert refused.code == 2
    assert "percent-encoded" in refused.err and "doctor --save" in refused.err
    assert history(db) == []

    doctor = cli("doctor", "--json", cwd=project)
    (candidate,) = doctor.json()["candidates"]
    assert candidate["result"] == "ok" and "encoded" in candidate["reason"]
    assert doctor.code == 0

    saved = cli("doctor", "--save", cwd=project)
    assert saved.code == 0
    content = (project / ".env.local").read_text()
    assert "# the team's settings\n" in content and "OTHER=kept\n" in content and f"DATABASE_URL={raw}\n" in content
    assert "SUPABASE_DB_URL=" in content and quote(SPECIAL, safe="") in content
    assert stat.S_IMODE(os.stat(project / ".env.local").st_mode) == 0o600

    applied = cli("apply", "--yes", cwd=project)
    assert applied.code == 0, applied.err
    assert history(db) == ["001"]
    no_secret_in(refused, doctor, saved, applied)


def test_a_working_local_candidate_reports_what_the_automated_path_needs(project, database, cli):
    result = cli("doctor", "--json", "--database-url", database, cwd=project)
    assert result.code == 0
    (candidate,) = result.json()["candidates"]
    assert candidate["result"] == "ok" and candidate["compat_needed"] is True and candidate["supabase"] is False
    assert result.json()["paths"]["automated"] is True


def test_sslmode_is_required_for_remote_hosts_only():
    assert env.with_sslmode("postgresql://u:p@db.x.supabase.co:5432/postgres").endswith("?sslmode=require")
    assert env.with_sslmode("postgresql://u:p@127.0.0.1:5432/postgres") == "postgresql://u:p@127.0.0.1:5432/postgres"
    assert env.with_sslmode("postgresql://u:p@h/db?sslmode=disable").endswith("sslmode=disable")


def test_a_project_url_that_names_no_supabase_project_is_said_so(project, cli):
    (project / ".env").write_text("SUPABASE_URL=http://127.0.0.1:54321\n")
    result = cli("doctor", cwd=project)
    manual = next(line for line in result.out.splitlines() if "manual, dashboard SQL editor" in line)
    assert "SUPABASE_URL is set but names no project" in manual
    assert "needs the project URL" not in manual
