"""No password, token or key the wizard is given ever comes out of it: not on stdout or stderr, not
in a --json document, not in a file it writes (the project's folder, an export, the parse cache,
the local database's folder and its server log). Each test runs a representative set of commands
with distinctive secrets, on the good path and the error paths, and lets ``secret_watch`` look
everywhere."""

import base64
import json
from urllib.parse import quote

import psycopg
import pytest
from api_server import ApiServer
from helpers import PASSWORD_USER
from inprocess import run_in_process
from postgrest import PostgrestStandIn

REF = "zyxwvutsrqponmlkjihg"
PASSWORD = "Pw-DISTINCT#4u@x/y%z:Q9"  # every character a URL breaks on
WRONG = "Pw-WRONGONE#7k@x/y%z:R2"
TOKEN = "sbp_d15t1nct0123456789abcdef0123456789abcd"
OTHER_TOKEN = "sbp_0th3rt0ken9876543210fedcba9876543210fe"


def jwt(role: str) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {"iss": "supabase", "ref": REF, "role": role, "iat": 1700000000, "exp": 2000000000}
    signature = base64.urlsafe_b64encode(f"signature of the {role} key, distinct".encode()).decode().rstrip("=")
    return part({"alg": "HS256", "typ": "JWT"}) + "." + part(claims) + "." + signature


ANON = jwt("anon")
SERVICE = jwt("service_role")


@pytest.fixture
def project(tmp_path, secret_watch):
    """A backend's folder with one migration, the parse cache and local data inside it: all watched."""
    root = tmp_path / "project"
    (root / "migrations").mkdir(parents=True)
    (root / "migrations" / "001_notes.sql").write_text("CREATE TABLE notes (id int PRIMARY KEY, body text);\n")
    secret_watch.folder(root)
    return root


@pytest.fixture
def run(project, secret_watch):
    """Run a command in the project, its output recorded by the watch."""
    env = {"XDG_CACHE_HOME": str(project / ".cache"), "XDG_DATA_HOME": str(project / ".data")}

    def run(*args):
        result = run_in_process(*args, cwd=project, env=env, watch=secret_watch)
        assert "Traceback" not in result.output, result.output
        return result

    return run


def write_env(watch, path, **values) -> None:
    """An env file the test writes: it holds the secrets on purpose."""
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    watch.allow(path)


@pytest.fixture
def server_log(server, secret_watch):
    """What the test server logs while the test runs, watched too."""
    if server.embedded is None:
        yield
        return
    log = server.embedded.log
    start = log.stat().st_size if log.exists() else 0
    yield
    if log.exists():
        with open(log, "rb") as handle:
            handle.seek(start)
            secret_watch.text(f"{log} (the test server's log)", handle.read().decode("utf-8", "replace"))
        secret_watch.check()


@pytest.fixture
def password_url(server, database):
    """The test database, reached as a role that logs in with PASSWORD (percent-encoded in the URL)."""
    with server.connect() as admin:
        admin.execute(f"DROP ROLE IF EXISTS {PASSWORD_USER}")
        admin.execute(f"CREATE ROLE {PASSWORD_USER} LOGIN SUPERUSER PASSWORD '{PASSWORD}'")
    host = database.split("@", 1)[1]
    url = f"postgresql://{PASSWORD_USER}:{quote(PASSWORD, safe='')}@{host}"
    try:
        psycopg.connect(url.replace(quote(PASSWORD, safe=""), "not-the-password"), connect_timeout=5).close()
        trusted = True
    except psycopg.OperationalError:
        trusted = False
    if trusted:
        pytest.skip("the test server lets this role in without its password")
    yield url
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {PASSWORD_USER}")
    with server.connect() as admin:
        admin.execute(f"DROP ROLE IF EXISTS {PASSWORD_USER}")


def test_a_database_password_is_never_shown_or_written(project, run, password_url, secret_watch, server_log, db):
    watch = secret_watch
    watch.secret("the database password", PASSWORD)
    watch.secret("the wrong password", WRONG)
    wrong_url = password_url.replace(quote(PASSWORD, safe=""), quote(WRONG, safe=""))
    raw_url = password_url.replace(quote(PASSWORD, safe=""), PASSWORD)

    assert run("plan", "--json", "--database-url", password_url).code == 0
    assert run("apply", "--yes", "--json", "--database-url", password_url).code == 0
    assert run("status", "--json", "--database-url", password_url).code == 0
    assert run("verify", "--json", "--database-url", password_url).code == 0
    assert run("doctor", "--json", "--database-url", password_url).code == 0
    assert run("adopt", "--json", "--database-url", password_url).code == 0

    # the error paths: a wrong password, the password pasted raw into a URL
    wrong = run("apply", "--yes", "--json", "--database-url", wrong_url)
    assert wrong.code == 3 and wrong.json()["error"]["kind"] == "wrong-password"
    assert run("status", "--database-url", wrong_url).code == 3
    assert run("status", "--database-url", raw_url).code == 2
    assert run("doctor", "--json", "--database-url", wrong_url).code == 3

    # the same from the project's env files: the URL kept apart from the password, a raw URL fixed
    # by doctor --save (which writes .env.local, the one file meant to hold it)
    host = password_url.split("@", 1)[1]
    write_env(watch, project / ".env", DATABASE_URL=f"postgresql://{PASSWORD_USER}@{host}", SUPABASE_DB_PASSWORD=PASSWORD)
    assert run("status", "--json").code == 0
    assert run("doctor", "--json").code == 0
    write_env(watch, project / ".env", DATABASE_URL=raw_url)
    assert run("apply", "--yes", "--json").code == 2
    watch.allow(project / ".env.local")
    assert run("doctor", "--save").code == 0
    assert run("status", "--json").code == 0
    write_env(watch, project / ".env", DATABASE_URL=wrong_url)
    (project / ".env.local").unlink()
    assert run("verify", "--json").code == 3
    assert watch.runs == 16
    watch.check()


@pytest.fixture
def api(database):
    with ApiServer(database, REF, TOKEN) as server:
        yield server


def test_an_access_token_is_never_shown_or_written(project, run, api, secret_watch, server_log):
    watch = secret_watch
    watch.secret("the access token", TOKEN)
    watch.secret("another access token", OTHER_TOKEN)
    write_env(watch, project / ".env.local", SUPABASE_URL=f"https://{REF}.supabase.co", SUPABASE_ACCESS_TOKEN=TOKEN)
    https = ("--api-url", api.url)

    assert run("plan", "--json", *https).code == 0
    applied = run("apply", "--yes", "--json", *https)
    assert applied.code == 0 and [a["version"] for a in applied.json()["applied"]] == ["001"]
    assert run("status", "--json", *https).code == 0
    assert run("verify", "--json", *https).code == 0
    assert run("adopt", "--json", *https).code == 0
    assert run("doctor", "--json", *https).code == 0
    assert run("manual", "--export", project / "export", *https).code == 0

    for mode in ("401", "500"):
        api.mode = mode
        assert run("apply", "--yes", "--json", *https).code == 3
        assert run("doctor", "--json", *https).code == 3
    api.mode = "ok"
    write_env(watch, project / ".env.local", SUPABASE_URL=f"https://{REF}.supabase.co",
              SUPABASE_ACCESS_TOKEN=OTHER_TOKEN)
    refused = run("status", "--json", *https)
    assert refused.code == 3 and refused.json()["error"]["kind"] == "https-unauthorized"
    assert run("status", "--json", "--api-url", "http://127.0.0.1:1").code == 3
    # a token in the wrong variable's shape: an API key given as the access token
    write_env(watch, project / ".env.local", SUPABASE_URL=f"https://{REF}.supabase.co", SUPABASE_ACCESS_TOKEN=SERVICE)
    watch.secret("the service role key", SERVICE)
    assert run("doctor", "--json", *https).code in (2, 3)
    assert run("status", *https).code == 3
    watch.check()


@pytest.fixture
def rest(database):
    stand_in = PostgrestStandIn(database, SERVICE)
    yield stand_in
    stand_in.close()


def test_api_keys_are_never_shown_or_written(project, run, rest, secret_watch, server_log, tmp_path):
    watch = secret_watch
    watch.secret("the anon key", ANON)
    watch.secret("the service role key", SERVICE)
    watch.secret("the access token", TOKEN)
    write_env(watch, project / ".env.local", SUPABASE_URL=rest.url, SUPABASE_ANON_KEY=ANON,
              SUPABASE_SERVICE_ROLE_KEY=SERVICE)

    missing = run("check-remote", "--json")
    assert missing.code == 1 and missing.json()["tables"] == [{"name": "notes", "state": "missing"}]
    assert run("check-remote").code == 1
    assert run("doctor", "--json").code in (2, 3)
    assert run("plan", "--json").code == 0  # offline: no way to the database
    assert run("manual", "--export", project / "export").code == 0

    # the keys swapped, a key cut short, a key that is refused
    write_env(watch, project / ".env.local", SUPABASE_URL=f"https://{REF}.supabase.co", SUPABASE_ANON_KEY=SERVICE,
              SUPABASE_SERVICE_ROLE_KEY=ANON, SUPABASE_ACCESS_TOKEN=TOKEN[:-9])
    assert run("doctor", "--json", "--connect-timeout", "2", "--api-url", "http://127.0.0.1:1").code in (2, 3)
    write_env(watch, project / ".env.local", SUPABASE_URL=rest.url, SUPABASE_ANON_KEY=ANON[:-12])
    assert run("check-remote", "--json").code == 3
    assert run("doctor", "--json").code in (2, 3)
    # an env file named on the command line, in another folder
    extra = tmp_path / "secrets.env"
    write_env(watch, extra, SUPABASE_URL=rest.url, SUPABASE_SERVICE_ROLE_KEY=SERVICE)
    (project / ".env.local").unlink()
    assert run("check-remote", "--json", "--env-file", extra).code == 1
    watch.check()


def test_the_local_database_shows_and_writes_no_secret_of_the_environment(project, run, secret_watch):
    """With every kind of secret in the project's .env, the local database's commands, its folder
    and its server log hold none of them."""
    watch = secret_watch
    for label, value in (("password", PASSWORD), ("token", TOKEN), ("anon key", ANON), ("service key", SERVICE)):
        watch.secret(label, value)
    write_env(watch, project / ".env", SUPABASE_URL=f"https://{REF}.supabase.co", SUPABASE_DB_PASSWORD=PASSWORD,
              SUPABASE_ACCESS_TOKEN=TOKEN, SUPABASE_ANON_KEY=ANON, SUPABASE_SERVICE_ROLE_KEY=SERVICE)
    local = ("--local", "--local-dir", project / "local")
    try:
        applied = run("apply", "--yes", "--json", *local)
        assert applied.code == 0, applied.err
        assert run("status", "--json", *local).code == 0
        assert run("verify", "--json", *local).code == 0
        assert run("plan", "--json", *local).code == 0
        assert run("local", "url", "--local-dir", project / "local").code == 0
    finally:
        run("local", "stop", "--local-dir", project / "local")
    assert (project / "local" / "server.log").exists()
    watch.check()


def test_the_watch_finds_a_secret_in_any_output_or_file_in_any_form(tmp_path):
    """The watch itself: a secret as is, percent-encoded or a telling piece of it, on stdout, on
    stderr or in a written file, is found and named by its label (never by its value)."""
    from helpers import Result
    from inprocess import SecretWatch

    for out, err, written in (
        (f"url: postgresql://u:{quote(PASSWORD, safe='')}@h/db", "", ""),
        ("", "password Pw-DISTINCT was refused", ""),
        ("", "", f"SUPABASE_ACCESS_TOKEN={TOKEN}"),
    ):
        watch = SecretWatch()
        watch.secret("the password", PASSWORD)
        watch.secret("the token", TOKEN)
        folder = watch.folder(tmp_path / f"case{len(out)}{len(err)}{len(written)}")
        folder.mkdir()
        (folder / "nested").mkdir()
        (folder / "nested" / "log.txt").write_text(written)
        watch.record("status", Result(3, out, err))
        leaks = watch.leaks()
        assert len(leaks) == 1 and PASSWORD not in leaks[0] and TOKEN not in leaks[0], leaks
        with pytest.raises(AssertionError):
            watch.check()
    quiet = SecretWatch()
    quiet.secret("the token", TOKEN)
    quiet.record("status", Result(0, "sbp_****** (44 characters)", ""))
    quiet.check()
