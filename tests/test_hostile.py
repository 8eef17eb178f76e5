"""Hostile input, generated: whatever a migration folder, a URL, an env file, a token or a key holds,
each command ends with its documented exit code and one clear message (never a traceback, never
an "unexpected error"), applies nothing (the database's history and objects stay as they were)
and shows no secret it was given.

The generated cases run the command line in this process (``inprocess.run_in_process``) against
one real database that already holds a migration. The hypothesis profile of conftest.py makes them
the same cases on every run. The big cases (a 50 MB file, 10,000 files) and the cases that depend
on the machine (unreadable files, which root reads anyway) are single tests below.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import string
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from api_server import ApiServer
from helpers import history, new_database
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st
from inprocess import forms, run_in_process
from postgrest import PostgrestStandIn

REF = "hostileprojectrefabc"
TOKEN = "sbp_h0st1le0123456789abcdef0123456789abcdef"  # the stand-in API's one good token
SPECIALS = "@#/?:%&=+ !$'()*,;[]\\\"<>^`{|}~"
HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
          HealthCheck.large_base_example]


def generated(examples: int) -> settings:
    """The settings of a generated test: the loaded profile's, with this many cases."""
    return settings(max_examples=examples, suppress_health_check=HEALTH)
COMMANDS = [("plan", "--offline"), ("plan",), ("apply", "--yes"), ("status",), ("verify",)]
counter = itertools.count()


# -- the world the cases run in ----------------------------------------------------------------


@dataclass
class World:
    url: str  # the database, which holds one applied migration
    root: Path  # where each case gets a folder of its own
    api: ApiServer
    rest: PostgrestStandIn
    data_home: Path  # XDG_DATA_HOME: a local database started by mistake would live here
    before: tuple = ()  # the database's state before any case

    def case(self) -> Path:
        return Path(tempfile.mkdtemp(dir=self.root, prefix=f"case{next(counter)}-"))

    def env(self, **extra: str) -> dict[str, str]:
        return {"XDG_DATA_HOME": str(self.data_home), **extra}


def state(url: str) -> tuple:
    """What a run could have changed: the history and every relation outside the system schemas."""
    with psycopg.connect(url, autocommit=True) as conn:
        relations = conn.execute(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1, 2").fetchall()
        wizard_rows = conn.execute("SELECT count(*) FROM supabase_migrations.migration_wizard_history").fetchone()
        return history(conn), relations, wizard_rows


@pytest.fixture(scope="module")
def world(server, tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    with new_database(server.admin_url) as url:
        base = root / "base"
        base.mkdir()
        (base / "000_base.sql").write_text("CREATE TABLE base (id int PRIMARY KEY);\n")
        applied = run_in_process("apply", "--yes", "--no-compat", "--migrations", base, "--database-url", url, cwd=root)
        assert applied.code == 0, applied.err
        with ApiServer(url, REF, TOKEN) as api:
            rest = PostgrestStandIn(url, "the-one-key-the-stand-in-knows")
            try:
                world = World(url, root, api, rest, root / "xdg-data")
                world.before = state(url)
                yield world
            finally:
                rest.close()
    for path in root.rglob("*"):  # unreadable files and folders made by the cases
        if not path.is_symlink():
            path.chmod(0o700)
    assert not (root / "xdg-data").exists(), "a case started the local database"


def check(world: World, result, codes: set[int], secrets: tuple[str, ...] = (), json_out: bool = False,
          report: bool = False) -> None:
    """The documented exit code, one clear message on stderr, no traceback, nothing applied, no secret.
    ``report``: the command's answer is its report on stdout (doctor), which then says it."""
    last = result.err.strip().splitlines()[-1] if result.err.strip() else ""
    if currently_in_test_context():  # the statistics of a generated test: what its cases ended on
        event(f"exit {result.code}: {last.split(':')[1].strip()[:40] if last.startswith('migration-wizard:') else '-'}")
    assert result.code in codes, f"exit {result.code}, expected {sorted(codes)}\n{result.output}"
    assert "Traceback" not in result.output, result.output
    assert "unexpected error" not in result.err, result.err
    said = result.output if report else result.err
    assert said.strip(), f"exit {result.code} with nothing said\n{result.out}"
    if json_out:
        json.loads(result.out)  # exactly one document
    for secret in secrets:
        for form in forms(secret):
            assert form not in result.output, f"a secret was shown: {secret[:3]}...\n{result.output}"
    assert state(world.url) == world.before, "the run changed the database"


# -- hostile migration folders ---------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A directory entry to make: a file with these bytes, or a symbolic link to ``link``."""

    name: str
    data: bytes | None = None
    link: str | None = None
    folder: bool = False


GOOD_SQL = [
    "CREATE TABLE t1 (id int PRIMARY KEY, name text);",
    "CREATE TABLE \"caf\u00e9 \u4e2d\" (id int);\nCOMMENT ON TABLE \"caf\u00e9 \u4e2d\" IS '\u00e9t\u00e9 \U0001F600';",
    "CREATE TABLE t2 (id int);\nCREATE INDEX t2_id ON t2 (id);",
    "BEGIN;\nCREATE TABLE t3 (id int);\nCOMMIT;",
    "-- a comment\nCREATE VIEW v1 AS SELECT 1 AS one;",
]
# Statements of which every proper prefix fails to parse.
TRUNCATABLE = [
    "CREATE TABLE cut (id int PRIMARY KEY, name text NOT NULL)",
    "INSERT INTO base (id) VALUES ((1))",
    "CREATE INDEX cut_idx ON base (id)",
    "COMMENT ON TABLE base IS 'a comment that is cut'",
    "DO $$ BEGIN PERFORM 1; END $$",
    "ALTER TABLE base ADD CONSTRAINT c CHECK (id > 0)",
]
version = st.from_regex(r"\A[0-9]{1,4}\Z")
any_name = st.text(st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), min_size=1, max_size=12)
# a name the migration pattern always takes, that is fine to show (no control character)
taken_name = st.text(st.characters(blacklist_characters="/", blacklist_categories=("Cs", "Cc")), min_size=1,
                     max_size=12)
# a name with a control character: an escape sequence, a carriage return, a bell
control_name = st.tuples(any_name, st.sampled_from(["\x1b]52;c;aGk=\x07", "\x1b[2J", "\r", "\x07", "\x9b31m", "\x7f"]),
                         any_name).map("".join)


def test_every_cut_of_a_truncatable_statement_fails_to_parse():
    """The generator's own promise: SQL cut short anywhere in these statements does not parse."""
    from pglast import parser

    for statement in TRUNCATABLE:
        parser.parse_sql_json(statement)
        for cut in range(1, len(statement)):
            with pytest.raises(parser.ParseError):
                parser.parse_sql_json(GOOD_SQL[0] + "\n" + statement[:cut])


@st.composite
def truncated(draw) -> bytes:
    before = draw(st.lists(st.sampled_from(GOOD_SQL), max_size=2))
    statement = draw(st.sampled_from(TRUNCATABLE))
    cut = draw(st.integers(1, len(statement) - 1))
    return ("\n".join(before) + "\n" + statement[:cut]).encode()


@st.composite
def not_utf8(draw) -> bytes:
    head, tail = draw(st.binary(max_size=300)), draw(st.binary(max_size=300))
    return head + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"])) + tail


@st.composite
def with_nul(draw) -> bytes:
    sql = draw(st.sampled_from(GOOD_SQL)).encode()
    at = draw(st.integers(0, len(sql)))
    return sql[:at] + b"\x00" + sql[at:]


no_sql = st.one_of(
    st.sampled_from(["", "\n", " \t\n\n", ";", ";;\n;", "/* nothing */", "\ufeff", "\ufeff-- bom\n"]),
    st.text(st.characters(blacklist_characters="\n\r\x00", blacklist_categories=("Cs",)), max_size=80).map(
        lambda s: "-- " + s),
).map(str.encode)
broken = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200).map(
    lambda s: ("CREATE TABLE (" + s).encode())
meta_command = st.sampled_from(["\\i other.sql", "\\c other", "\\set x 1", "\\connect db", "  \\copy t from f"]).map(
    lambda m: (m + "\n" + GOOD_SQL[0]).encode())
bad_content = st.one_of(truncated(), not_utf8(), with_nul(), no_sql, broken, meta_command)


@st.composite
def bad_entries(draw) -> list[Entry]:
    """One to three entries, each of which surely makes the folder unusable."""
    entries = []
    for _ in range(draw(st.integers(1, 3))):
        name = f"{draw(version)}_{draw(taken_name)}.sql"
        kind = draw(st.sampled_from(["content", "content", "content", "duplicate", "dangling", "loop", "control"]))
        if kind == "control":
            entries.append(Entry(f"{draw(version)}_{draw(control_name)}.sql", draw(st.sampled_from(GOOD_SQL)).encode()))
        elif kind == "content":
            entries.append(Entry(name, draw(bad_content)))
        elif kind == "duplicate":
            other = f"{name.split('_', 1)[0]}_{draw(taken_name)}x.sql"
            entries += [Entry(name, GOOD_SQL[0].encode()), Entry(other, GOOD_SQL[2].encode())]
        elif kind == "dangling":
            entries.append(Entry(name, link=draw(st.sampled_from(["/nonexistent/x.sql", "gone.sql", "../nowhere"]))))
        else:
            entries.append(Entry(name, link=name))
    return entries


@st.composite
def good_entries(draw) -> list[Entry]:
    """Entries that are fine on their own: files with odd names (spaces, unicode, leading zeros),
    a link to a file outside the folder, a sub-folder, files that are not migrations."""
    entries = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["file", "file", "outside", "folder", "other"]))
        name = f"{draw(version)}_{draw(any_name)}.sql"
        if kind == "file":
            entries.append(Entry(name, draw(st.sampled_from(GOOD_SQL)).encode()))
        elif kind == "outside":
            entries.append(Entry(name, link="../outside.sql"))
        elif kind == "folder":
            entries.append(Entry(name, folder=True))
        else:
            entries.append(Entry(draw(st.sampled_from(["README.md", "x.sql", "001.sql", "_1.sql", "\u0661_a.sql",
                                                      "checks.toml.bak", ".hidden.sql"])), b"anything"))
    return entries


def make_folder(case: Path, entries: list[Entry], name: str = "migrations") -> Path:
    folder = case / name
    folder.mkdir()
    (case / "outside.sql").write_text(GOOD_SQL[2])
    for entry in entries:  # the bad ones come last: where names meet, theirs stays
        path = folder / entry.name
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
        if entry.link is not None:
            path.symlink_to(entry.link)
        elif entry.folder:
            path.mkdir()
        else:
            path.write_bytes(entry.data)
    return folder


def target_args(world: World, case: Path, command: tuple[str, ...], how: str) -> tuple[list[str], dict[str, str]]:
    """How the case names the database: --database-url, --env-file, or the project's .env."""
    if command == ("plan", "--offline"):
        return [], {}
    if how == "flag":
        return ["--database-url", world.url], {}
    if how == "env-file":
        named = case / "settings.env"
        named.write_text(f"DATABASE_URL={world.url}\n")
        return ["--env-file", str(named)], {}
    (case / ".env").write_text(f"DATABASE_URL={world.url}\n")
    return [], {}


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@generated(50)
@given(good=good_entries(), bad=bad_entries(), json_out=st.booleans(),
       named=st.one_of(st.none(), st.just("migrations"), any_name.filter(lambda n: n not in (".", ".."))),
       how=st.sampled_from(["flag", "env-file", "dotenv"]))
def test_a_hostile_folder_is_refused_whole(world, good, bad, command, json_out, named, how):
    """A folder with at least one unusable file (bytes that are not UTF-8, SQL cut short, a NUL byte,
    no SQL at all, a psql meta-command, two files of one version, a link that leads nowhere, a
    name with a control character),
    among files with odd names: exit 2, its problems said, nothing applied."""
    case = world.case()
    folder = make_folder(case, good + bad, named or "migrations")  # named: --migrations, odd names too
    target, env = target_args(world, case, command, how)
    args = [*command, *(["--json"] if json_out else []), *(["--migrations", str(folder)] if named else []), *target]
    result = run_in_process(*args, cwd=case, env=world.env(**env))
    check(world, result, {2}, json_out=json_out)
    shown = result.output.replace(str(folder), "")  # the folder's own name is the user's choice
    assert "\x1b" not in shown and "\x07" not in shown and "\r" not in shown, "a file name's control character was shown"


# -- hostile URLs ----------------------------------------------------------------------------


marker = st.text(string.ascii_letters + string.digits, min_size=10, max_size=10)
url_text = st.text(SPECIALS + string.ascii_letters + "\u00e9\u4e2d\x01", max_size=8)


@st.composite
def hostile_url(draw, real_host: str) -> tuple[str, tuple[str, ...]]:
    """A URL with special characters in the user, password, host and query; never one that logs
    in (the user is never postgres, the host is unreachable or the user unknown). Its secrets."""
    password = "Pw" + draw(marker) + draw(url_text)
    query_secret = "Qp" + draw(marker)
    user = "u" + draw(url_text)
    encode_user, encode_password = draw(st.booleans()), draw(st.booleans())
    userinfo = (quote(user, safe="") if encode_user else user) + ":" + (
        quote(password, safe="") if encode_password else password)
    host = draw(st.one_of(
        st.sampled_from(["127.0.0.1:1", "[::1]:1", real_host, "127.0.0.1:notaport", "127.0.0.1:99999",
                         "no-such-host.invalid", "[::1", "127.0.0.1:1,127.0.0.1:2", ""]),
        st.text(SPECIALS + string.ascii_lowercase + "\u00e9", min_size=1, max_size=10)))
    keys = ["sslmode", "connect_timeout", "application_name", "options", "foo", "target_session_attrs", "password"]
    params = draw(st.lists(st.tuples(st.sampled_from(keys), url_text), max_size=3))
    query = "&".join(f"{k}={query_secret if k == 'password' else v}" for k, v in params)
    scheme = draw(st.sampled_from(["postgresql://", "postgres://"]))
    database = draw(st.sampled_from(["/postgres", "/", "", "/db%20name", "/\u00e9"]))
    return f"{scheme}{userinfo}@{host}{database}{'?' + query if query else ''}", (password, query_secret)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@generated(40)
@given(data=st.data(), json_out=st.booleans(), how=st.sampled_from(["flag", "flag", "env-file", "dotenv"]))
def test_a_hostile_url_is_refused_and_its_password_never_shown(world, data, command, json_out, how):
    """Exit 2 (a URL that cannot be read, --offline with a URL) or 3 (nothing answers, the user is
    unknown), one message, the password and a password in the query never shown."""
    real_host = world.url.split("@", 1)[1].split("/", 1)[0]
    url, secrets = data.draw(hostile_url(real_host))
    case = world.case()
    folder = make_folder(case, [Entry("001_fine.sql", GOOD_SQL[0].encode())])
    env = {}
    if how == "flag" or command == ("plan", "--offline"):
        target = ["--database-url", url]
    else:  # the first URL variable of a file; the process environment has one more, unreachable, after it
        line = f"SUPABASE_DB_URL={url}\n".encode()
        path = case / ("settings.env" if how == "env-file" else ".env")
        path.write_bytes(line)
        target = ["--env-file", str(path)] if how == "env-file" else []
        env = {"POSTGRES_URL": "postgresql://postgres@127.0.0.1:1/none"}
    args = [*command, *(["--json"] if json_out else []), "--migrations", str(folder), "--connect-timeout", "2", *target]
    result = run_in_process(*args, cwd=case, env=world.env(**env))
    check(world, result, {2, 3}, secrets, json_out=json_out)


# -- garbage env files -----------------------------------------------------------------------


KNOWN = ["SUPABASE_URL", "SUPABASE_DB_URL", "DIRECT_URL", "DATABASE_URL", "SUPABASE_DB_PASSWORD",
         "SUPABASE_ACCESS_TOKEN", "SUPABASE_ANON_KEY", "SUPABASE_SERVICE_ROLE_KEY", "NEXT_PUBLIC_SUPABASE_URL"]
value_text = st.text(st.characters(blacklist_characters="=", blacklist_categories=("Cs",)), max_size=30)
garbage_line = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=60),
    st.tuples(st.sampled_from(KNOWN), value_text).map(lambda kv: f"{kv[0]}={kv[1]}"),
    st.tuples(st.sampled_from(KNOWN), value_text).map(lambda kv: f"export {kv[0]}=\"{kv[1]}"),
    st.tuples(st.sampled_from(KNOWN), value_text).map(lambda kv: f"  {kv[0]} = '{kv[1]}' # c"),
    st.sampled_from(["=novalue", "NOEQUALS", "#comment", "KEY='a'b'", "A=${A}", "B=${A:-${B}}", "C=\"\\",
                     "SUPABASE_URL=https://hostileprojectrefabc.supabase.co", "\ufeffX=1", "X=\x00y", "\x00"]),
)


@pytest.mark.parametrize("command", COMMANDS[1:], ids=" ".join)
@generated(30)
@given(lines=st.lists(garbage_line, max_size=8), broken_bytes=st.integers(0, 4).map(lambda n: n == 0), secret=marker,
       json_out=st.booleans(), where=st.sampled_from([".env", ".env.local", "--env-file"]))
def test_garbage_env_lines_end_in_a_message(world, lines, broken_bytes, secret, command, json_out, where):
    """Garbage .env lines (unclosed quotes, NUL bytes, bytes that are not UTF-8, known variables
    holding junk) with no working database anywhere: exit 2 or 3, one message, no secret shown.
    The secrets come first in the file, so that no garbage line can turn them into another value."""
    case = world.case()
    folder = make_folder(case, [Entry("001_fine.sql", GOOD_SQL[0].encode())])
    password, token = "Pw" + secret, "sbp_" + secret + "0123456789abcdef0123456789"
    text = f"SUPABASE_DB_PASSWORD={password}\nSUPABASE_ACCESS_TOKEN={token}\n" + "\n".join(lines) + "\n"
    data = text.encode("utf-8", "surrogatepass") + (b"BROKEN=\xff\xfe\n" if broken_bytes else b"")
    path = case / ("settings.env" if where == "--env-file" else where)
    path.write_bytes(data)
    args = [*command, *(["--json"] if json_out else []), "--migrations", str(folder), "--connect-timeout", "2",
            "--api-url", "http://127.0.0.1:1", *(["--env-file", str(path)] if where == "--env-file" else [])]
    # a database the env files cannot reach, from the process environment (which wins): never the local one
    result = run_in_process(*args, cwd=case, env=world.env(DATABASE_URL="postgresql://postgres@127.0.0.1:1/none"))
    check(world, result, {2, 3}, (password, token), json_out=json_out)


# -- tokens and keys of every wrong shape ----------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@st.composite
def wrong_shape(draw, secret: str) -> str:
    """A token or key that is not what it should be, holding ``secret`` where it holds anything."""
    junk = draw(st.text(st.characters(blacklist_characters="\x00\n\r", blacklist_categories=("Cs",)), max_size=12))
    payload = draw(st.sampled_from([b"not json", b"[1, 2]", b"null", b"42", b'{"role": 7, "ref": ["x"]}',
                                    b'{"role": "service_role", "ref": "otherprojectrefxxxxx"}', b"\xff\xfe",
                                    b"[" * 5000 + b"]" * 5000, b'{"role": "anon"}']))
    return draw(st.sampled_from([
        secret,
        "sbp_" + secret,
        "sbp_" + secret + junk,
        "sb_secret_" + secret,
        "sb_publishable_" + secret,
        f"eyJ{secret}.{junk}",
        f"{_b64(b'{}')}.{_b64(payload)}.{secret}",
        f"{_b64(b'{}')}.{_b64(payload)}{junk}.{secret}",
        "Bearer sbp_" + secret,
        secret + " " + junk,
        secret + "\u00e9\u4e2d",
        secret + "\t" + junk,
        secret * 500,
        f"'{secret}",
        f"\"{secret}\"",
    ]))


@pytest.mark.parametrize("project", ["ref", "rest", "junk"])
@pytest.mark.parametrize("command", ["status", "apply", "verify", "doctor", "check-remote"])
@generated(12)
@given(data=st.data(), secret=marker, json_out=st.booleans())
def test_tokens_and_keys_of_every_wrong_shape(world, data, secret, project, command, json_out):
    """An access token, anon key and service role key of a wrong shape (not a JWT, a JWT of junk,
    the wrong prefix, spaces, line breaks, non-ASCII, 5,000 nested brackets): the stand-in API
    and REST API refuse them, or they are refused before sending. Exit 2 or 3, one message, none
    of them shown."""
    token = data.draw(wrong_shape("Tk" + secret), "token")
    anon = data.draw(wrong_shape("An" + secret), "anon key")
    service = data.draw(wrong_shape("Sv" + secret), "service key")
    url = {"ref": f"https://{REF}.supabase.co", "rest": world.rest.url, "junk": "j" + data.draw(value_text, "url")}
    case = world.case()
    folder = make_folder(case, [Entry("001_fine.sql", GOOD_SQL[0].encode())])
    (case / ".env.local").write_text(
        f"SUPABASE_URL={url[project]}\nSUPABASE_ACCESS_TOKEN={token}\nSUPABASE_ANON_KEY={anon}\n"
        f"SUPABASE_SERVICE_ROLE_KEY={service}\n".replace("\t", "\\t"))
    args = [command, *(["--yes"] if command == "apply" else []), *(["--json"] if json_out else []),
            *([] if command == "doctor" else ["--migrations", str(folder)]), "--connect-timeout", "2",
            "--api-url", world.api.url]
    result = run_in_process(*args, cwd=case, env=world.env())
    secrets = tuple(s for s in ("Tk" + secret, "An" + secret, "Sv" + secret))
    check(world, result, {2, 3}, secrets, json_out=json_out, report=command == "doctor")


# -- single cases: what a folder path can be, the machine's permissions, the big ones ------------


def run_all(world: World, folder: Path, cwd: Path, *extra: str) -> list:
    """The five commands on one folder, each checked to apply nothing; their results."""
    results = []
    for command in COMMANDS:
        target = [] if command == ("plan", "--offline") else ["--database-url", world.url]
        results.append(run_in_process(*command, *extra, "--migrations", folder, *target, cwd=cwd, env=world.env()))
    return results


@pytest.mark.parametrize("shape, said", [
    ("missing", "does not exist"), ("file", "is a file, not a folder"),
    ("loop", "is a symbolic link that leads nowhere"), ("dangling", "is a symbolic link that leads nowhere"),
    ("device", "is not a folder"),
])
def test_a_migration_folder_that_is_no_folder(world, shape, said):
    case = world.case()
    folder = {"missing": case / "nowhere", "file": case / "afile", "loop": case / "loop",
              "dangling": case / "dangling", "device": Path("/dev/null")}[shape]
    if shape == "file":
        folder.write_text(GOOD_SQL[0])
    elif shape == "loop":
        folder.symlink_to("loop")
    elif shape == "dangling":
        folder.symlink_to(case / "gone")
    for result in run_all(world, folder, case):
        check(world, result, {2})
        assert f"the migration folder {folder} {said}" in result.err, result.err


@pytest.mark.parametrize("shape, said", [
    ("missing", "does not exist"), ("folder", "is not a file"), ("device", "is not a file"),
    ("fifo", "is not a file"), ("loop", "is a symbolic link that leads nowhere"),
])
def test_an_env_file_that_is_no_file(world, shape, said):
    """--env-file naming a folder, a device, a pipe (which would never end), a looping link."""
    case = world.case()
    folder = make_folder(case, [Entry("001_fine.sql", GOOD_SQL[0].encode())])
    path = {"device": Path("/dev/zero")}.get(shape, case / "settings.env")
    if shape == "folder":
        path.mkdir()
    elif shape == "fifo":
        os.mkfifo(path)
    elif shape == "loop":
        path.symlink_to("settings.env")
    for command in COMMANDS[1:]:
        result = run_in_process(*command, "--migrations", folder, "--env-file", path, cwd=case, env=world.env())
        check(world, result, {2})
        assert f"the env file {path} {said}" in result.err, result.err


def test_an_empty_folder_has_nothing_to_do(world):
    case = world.case()
    (case / "migrations").mkdir()
    (case / "migrations" / "README.md").write_text("no migrations yet\n")
    for command in (("plan", "--offline"), ("plan", "--no-compat"), ("status",), ("verify",)):
        target = [] if "--offline" in command else ["--database-url", world.url]
        result = run_in_process(*command, "--migrations", case / "migrations", *target, cwd=case, env=world.env())
        check(world, result, {0}, report=True)
    applied = run_in_process("apply", "--yes", "--no-compat", "--json", "--migrations", case / "migrations",
                             "--database-url", world.url, cwd=case, env=world.env())
    check(world, applied, {0}, json_out=True, report=True)
    assert applied.json()["applied"] == []


def test_a_folder_of_links_reads_through_them(world):
    """A folder that is a link to a folder elsewhere, holding a link to a file outside it and a link
    that loops: the loop is named, nothing is applied."""
    case = world.case()
    real = case / "real"
    real.mkdir()
    (case / "elsewhere.sql").write_text(GOOD_SQL[0])
    (real / "001_outside.sql").symlink_to(case / "elsewhere.sql")
    (real / "002_loop.sql").symlink_to("002_loop.sql")
    (case / "migrations").symlink_to(real)
    for result in run_all(world, case / "migrations", case):
        check(world, result, {2})
    plan = run_in_process("plan", "--offline", "--json", "--migrations", case / "migrations", cwd=case, env=world.env())
    problems = [f for f in plan.json()["findings"] if f["severity"] == "error"]
    assert [(f["file"], f["code"]) for f in problems] == [("002_loop.sql", "unreadable")]
    assert "leads nowhere" in problems[0]["message"]


ROOT_READS_EVERYTHING = os.geteuid() == 0


def _unreadable(case: Path) -> tuple[Path, Path]:
    """A folder with an unreadable file, and a folder that cannot be listed."""
    with_file = case / "with_file"
    with_file.mkdir()
    (with_file / "001_a.sql").write_text(GOOD_SQL[0])
    (with_file / "002_secret.sql").write_text(GOOD_SQL[2])
    (with_file / "002_secret.sql").chmod(0)
    closed = case / "closed"
    closed.mkdir()
    (closed / "001_a.sql").write_text(GOOD_SQL[0])
    closed.chmod(0)
    return with_file, closed


@pytest.mark.skipif(ROOT_READS_EVERYTHING, reason="running as root, which reads files and folders whatever their "
                    "mode: test_unreadable_files_as_another_user runs this case as an unprivileged user instead")
def test_unreadable_files_and_folders(world):
    case = world.case()
    with_file, closed = _unreadable(case)
    for result in run_all(world, with_file, case):
        check(world, result, {2})
        assert "002_secret.sql" in result.output and "cannot read the file" in result.output
    for result in run_all(world, closed, case):
        check(world, result, {2})
        assert f"cannot read the migration folder {closed}" in result.err


@pytest.mark.skipif(not ROOT_READS_EVERYTHING, reason="not root: test_unreadable_files_and_folders covers it")
def test_unreadable_files_as_another_user(world):
    """As root, the same case as an unprivileged user (setpriv), in a process of its own."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: no unprivileged user to read as")
    case = Path(tempfile.mkdtemp(prefix="wizard-unreadable-"))
    try:
        case.chmod(0o755)
        with_file, closed = _unreadable(case)
        env = {"HOME": str(case), "XDG_CACHE_HOME": str(case / "cache"), "XDG_DATA_HOME": str(world.data_home),
               "PATH": os.environ.get("PATH", "")}
        (case / "cache").mkdir(mode=0o777)
        (case / "cache").chmod(0o777)
        for folder, said in ((with_file, "002_secret.sql"), (closed, f"cannot read the migration folder {closed}")):
            for command in (["plan", "--offline"], ["apply", "--yes", "--database-url", world.url]):
                done = subprocess.run(
                    [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable, "-m", "wizard",
                     *command, "--migrations", str(folder)],
                    cwd=case, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
                if "Permission denied" in done.stderr and "wizard" not in done.stderr:
                    pytest.skip(f"the unprivileged user cannot run the wizard here: {done.stderr[-200:]}")
                assert done.returncode == 2, done.stdout + done.stderr
                assert "Traceback" not in done.stderr and "unexpected error" not in done.stderr, done.stderr
                assert said in done.stdout + done.stderr
                assert state(world.url) == world.before
    finally:
        for path in case.rglob("*"):
            if not path.is_symlink():
                path.chmod(0o700)
        shutil.rmtree(case)


def test_a_50_mb_file_cut_short(world):
    """50 MB of INSERT statements whose last one is cut short: exit 2 at its line, nothing applied,
    in bounded time; the same 50 MB inside a comment before one statement plans fine."""
    import time

    case = world.case()
    folder = case / "migrations"
    folder.mkdir()
    row = "INSERT INTO base (id) SELECT length('" + "x" * 10_000 + "');\n"
    count = 50 * 1024 * 1024 // len(row) + 1
    with open(folder / "001_big.sql", "w") as handle:
        for _ in range(count):
            handle.write(row)
        handle.write("INSERT INTO base (id) SELECT length('cut short")
    assert (folder / "001_big.sql").stat().st_size > 50 * 1024 * 1024
    started = time.monotonic()
    for command in (("plan", "--offline"), ("apply", "--yes")):
        target = [] if "--offline" in command else ["--database-url", world.url]
        result = run_in_process(*command, "--migrations", folder, *target, cwd=case, env=world.env())
        check(world, result, {2})
        assert f"001_big.sql:{count + 1}:" in result.output, result.output[-2000:]
    assert time.monotonic() - started < 120

    (folder / "001_big.sql").unlink()
    with open(folder / "001_commented.sql", "w") as handle:
        handle.write("/*\n" + ("x" * 1023 + "\n") * (50 * 1024) + "*/\nCREATE TABLE commented (id int);\n")
    plan = run_in_process("plan", "--offline", "--json", "--migrations", folder, cwd=case, env=world.env())
    assert plan.code == 0, plan.err
    assert plan.json()["pending"] == [{"version": "001", "name": "commented", "statements": 1}]


def test_ten_thousand_files_one_broken(world):
    """10,000 migration files, the 7,777th cut short: every command names it and exits 2, nothing is
    applied; status lists all 10,000."""
    case = world.case()
    folder = case / "migrations"
    folder.mkdir()
    for i in range(1, 10_001):
        sql = f"CREATE TABLE m{i} (id int PRIMARY KEY, note text);\n" if i != 7777 else "CREATE TABLE m7777 (id int"
        (folder / f"{i:05d}_m{i}.sql").write_text(sql)
    for result in run_all(world, folder, case, "--json"):
        check(world, result, {2}, json_out=True)
        assert "07777_m7777.sql" in result.output
    status = run_in_process("status", "--json", "--migrations", folder, "--database-url", world.url, cwd=case,
                            env=world.env())
    assert len(status.json()["migrations"]) == 10_000 + 1  # and 000_base, recorded but not in the folder


# -- odd but valid names are applied as they are -------------------------------------------------


@generated(25)
@given(names=st.lists(st.tuples(version, taken_name), min_size=1, max_size=6, unique_by=lambda vn: vn[0]),
       extras=good_entries())
def test_odd_names_apply_once_in_file_name_order(world, server, names, extras):
    """Files named with spaces, unicode, quotes, percent signs and leading zeros (one per version)
    beside files that are not migrations: applied in file-name order, recorded with their names,
    then nothing left to do."""
    case = world.case()
    entries = [e for e in extras if not e.name.endswith(".sql") or e.folder or e.data == b"anything"]
    files = {f"{v}_{n}.sql": ('CREATE TABLE "table {} {}" (id int);\n'.format(i, n.replace('"', '""'))).encode()
             for i, (v, n) in enumerate(names)}
    folder = make_folder(case, entries + [Entry(name, data) for name, data in files.items()])
    order = sorted(files)
    with new_database(server.admin_url) as url:
        applied = run_in_process("apply", "--yes", "--no-compat", "--json", "--migrations", folder,
                                 "--database-url", url, cwd=case, env=world.env())
        assert applied.code == 0, applied.output
        assert [(a["version"], a["name"]) for a in applied.json()["applied"]] == [
            tuple(name.removesuffix(".sql").split("_", 1)) for name in order]
        with psycopg.connect(url) as conn:
            recorded = conn.execute("SELECT version, name FROM supabase_migrations.schema_migrations").fetchall()
        assert sorted(recorded) == sorted(tuple(n.removesuffix(".sql").split("_", 1)) for n in order)
        status = run_in_process("status", "--json", "--migrations", folder, "--database-url", url, cwd=case,
                                env=world.env())
        assert status.code == 0 and {m["state"] for m in status.json()["migrations"]} == {"applied"}, status.output
        again = run_in_process("apply", "--yes", "--no-compat", "--json", "--migrations", folder,
                               "--database-url", url, cwd=case, env=world.env())
        assert again.code == 0 and again.json()["applied"] == [], again.output
        verify = run_in_process("verify", "--migrations", folder, "--database-url", url, cwd=case, env=world.env())
        assert verify.code == 0, verify.output


def test_names_that_need_quotes_are_verified_as_they_are(world, server):
    """Tables named with a space, capitals or a dot: their columns, triggers, policies and row level
    security are found by verify (they were reported missing, or verify failed on its own query)."""
    case = world.case()
    folder = case / "migrations"
    folder.mkdir()
    (folder / "001_odd.sql").write_text("""
        CREATE TABLE "Odd Table" (id int, "Some Column" text);
        CREATE TABLE "a.b" (id int);
        CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
        CREATE TRIGGER "On Insert" BEFORE INSERT ON "Odd Table" FOR EACH ROW EXECUTE FUNCTION touch();
        CREATE TRIGGER dotted BEFORE INSERT ON "a.b" FOR EACH ROW EXECUTE FUNCTION touch();
        ALTER TABLE "Odd Table" ENABLE ROW LEVEL SECURITY;
        ALTER TABLE "a.b" ENABLE ROW LEVEL SECURITY;
        CREATE POLICY "Read All" ON "Odd Table" FOR SELECT USING (true);
        CREATE POLICY p ON "a.b" FOR SELECT USING (true);
    """)
    with new_database(server.admin_url) as url:
        applied = run_in_process("apply", "--yes", "--no-compat", "--migrations", folder, "--database-url", url,
                                 cwd=case, env=world.env())
        assert applied.code == 0, applied.output
        verify = run_in_process("verify", "--json", "--migrations", folder, "--database-url", url, cwd=case,
                                env=world.env())
        assert verify.code == 0, [c for c in verify.json()["checks"] if not c["ok"]]
        names = {c["name"] for c in verify.json()["checks"]}
        assert {"columns created by the migrations", "triggers created by the migrations",
                "policies created by the migrations"} <= names, names
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute('DROP POLICY "Read All" ON "Odd Table"')
            conn.execute('ALTER TABLE "a.b" DROP COLUMN id')
        verify = run_in_process("verify", "--json", "--migrations", folder, "--database-url", url, cwd=case,
                                env=world.env())
        assert verify.code == 1
        failed = " ".join(c["detail"] for c in verify.json()["checks"] if not c["ok"])
        assert "Read All" in failed and "a.b.id" in failed, failed


# -- cases the generated tests found, kept as they were found ------------------------------------


@pytest.mark.parametrize("url, secret", [
    # the user's raw '?' made the driver read the password as a query parameter, and quote it
    ("postgresql://u?/:PwFound0000001&@127.0.0.1:1/postgres", "PwFound0000001"),
    # a percent-encoded host that is not UTF-8 ended as an unexpected error
    ("postgresql://u:PwFound0000002@%aa/postgres", "PwFound0000002"),
    ("postgresql://u:PwFound0000003@127.0.0.1:1/postgres?application_name=%ff", "PwFound0000003"),
])
def test_found_urls(world, url, secret):
    case = world.case()
    folder = make_folder(case, [Entry("001_fine.sql", GOOD_SQL[0].encode())])
    for command in (("status",), ("apply", "--yes"), ("doctor", "--json")):
        result = run_in_process(*command, "--migrations", folder, "--database-url", url, cwd=case, env=world.env())
        check(world, result, {2, 3}, (secret,), report=command[0] == "doctor")


@pytest.mark.parametrize("variable, value, command", [
    # sent in an HTTP header, these ended as unexpected errors, or quoted the token in the message
    ("SUPABASE_ACCESS_TOKEN", "sbp_TkFound0000001\u00e9\u4e2d", "status"),
    ("SUPABASE_ACCESS_TOKEN", "sbp_TkFound0000002\u00e9", "status"),
    ("SUPABASE_SERVICE_ROLE_KEY", "SvFound0000003\u4e2d", "check-remote"),
    # a JWT payload of 5,000 nested brackets ended as a RecursionError
    ("SUPABASE_SERVICE_ROLE_KEY", "e30." + _b64(b"[" * 5000 + b"]" * 5000) + ".SvFound0000004", "doctor"),
    ("SUPABASE_SERVICE_ROLE_KEY", "e30." + _b64(b"[" * 5000 + b"]" * 5000) + ".SvFound0000005", "check-remote"),
])
def test_found_tokens_and_keys(world, variable, value, command):
    case = world.case()
    folder = make_folder(case, [Entry("001_fine.sql", GOOD_SQL[0].encode())])
    (case / ".env.local").write_text(f"SUPABASE_URL=https://{REF}.supabase.co\n{variable}={value}\n")
    result = run_in_process(command, *([] if command == "doctor" else ["--migrations", folder]), "--connect-timeout",
                            "2", "--api-url", world.api.url, cwd=case, env=world.env())
    secret = "".join(c for c in value.split(".")[-1] if c.isascii())
    check(world, result, {2, 3}, (secret,), report=command == "doctor")


def test_found_not_an_http_url_for_the_rest_api(world):
    """check-remote with a SUPABASE_URL that is not an http(s) URL ended as an unexpected error."""
    case = world.case()
    folder = make_folder(case, [Entry("001_fine.sql", GOOD_SQL[0].encode())])
    (case / ".env.local").write_text("SUPABASE_URL=project.example\nSUPABASE_ANON_KEY=AnFound00000001\n")
    result = run_in_process("check-remote", "--migrations", folder, cwd=case, env=world.env())
    check(world, result, {3}, ("AnFound00000001",))
    assert "not an http(s) URL" in result.err


def test_found_a_nul_byte_cut_the_file_short(world):
    """A NUL byte: PostgreSQL read the file only up to it, and the rest never ran (yet the run said
    it was applied)."""
    case = world.case()
    folder = make_folder(case, [Entry("001_nul.sql", b"CREATE TABLE kept (id int);\x00\nDROP TABLE base;\n")])
    for result in run_all(world, folder, case):
        check(world, result, {2})
        assert "001_nul.sql:1" in result.output and "NUL byte" in result.output


# -- hostile flags ----------------------------------------------------------------------------


DURATION_FLAGS = {
    "plan": ["--connect-timeout", "--request-timeout"],
    "apply": ["--connect-timeout", "--request-timeout", "--lock-timeout", "--statement-timeout",
              "--table-lock-timeout"],
    "status": ["--connect-timeout", "--request-timeout"],
    "verify": ["--connect-timeout", "--request-timeout"],
    "adopt": ["--connect-timeout", "--lock-timeout"],
}
duration = st.one_of(
    st.sampled_from(["nan", "inf", "-inf", "-1", "0", "-0", "1e309", "1e-320", "0x10", "1_000", "\uff11", "1,5",
                     "", " ", "10s", "1e12", "9" * 400, "--json", "-"]),
    st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=8),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@pytest.mark.parametrize("command", sorted(DURATION_FLAGS))
@generated(16)
@given(data=st.data(), extra=st.lists(st.sampled_from(["--json", "--https", "--no-compat", "--yes", "--bogus",
                                                         "--api-url", "--migrations"]), max_size=3))
def test_hostile_flag_values(world, command, data, extra):
    """Durations that are no number of seconds (NaN, infinities, hex, fullwidth digits, 400 nines,
    text), stray and unknown flags, a flag without its value: exit 2 (a usage error) or 3 (the
    target, which is unreachable, could not be reached); never a traceback."""
    flags = data.draw(st.lists(st.tuples(st.sampled_from(DURATION_FLAGS[command]), duration), min_size=1,
                               max_size=3), "durations")
    case = world.case()
    folder = make_folder(case, [Entry("001_fine.sql", GOOD_SQL[0].encode())])
    args = [command, "--migrations", str(folder), "--database-url", "postgresql://postgres@127.0.0.1:1/none"]
    for flag, value in flags:
        args += [flag, value] if not value.startswith("-") else [f"{flag}={value}"]
    args += [e for e in extra if command == "apply" or e not in ("--yes", "--no-compat")]
    result = run_in_process(*args, cwd=case, env=world.env())
    check(world, result, {2, 3}, json_out=False)


def test_found_a_file_name_could_drive_the_terminal(world):
    """A file name holding an escape sequence (here OSC 52, which writes the clipboard) was printed
    as it is, so the terminal showing it ran it: such a migration file is a problem, shown escaped,
    and another file of that kind is listed as ignored, escaped."""
    case = world.case()
    folder = make_folder(case, [Entry("001_a\x1b]52;c;aGk=\x07.sql", GOOD_SQL[0].encode()),
                                Entry("README\x1b[2J", b"notes")])
    for result in run_all(world, folder, case):
        check(world, result, {2})
        assert "\x1b" not in result.output and "\x07" not in result.output, result.output
        assert "001_a\\x1b]52;c;aGk=\\x07.sql" in result.output, result.output
    plan = run_in_process("plan", "--offline", "--migrations", folder, cwd=case, env=world.env())
    assert "Ignored (not a migration file): README\\x1b[2J" in plan.err
