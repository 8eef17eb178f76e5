"""Pre-flight without a database: `plan --offline` (taken by itself when no way to the database is
configured) and the manual export check the folder alone against what a fresh Supabase project
has, and connect to nothing."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from helpers import MIGRATIONS, MigrationFolder, assert_clean

from wizard.core import baseline, catalog, preflight

# Nothing listens there: a run that tried to connect would wait for its timeout, or say so.
UNREACHABLE = "postgresql://postgres:secret@10.255.255.1:5432/postgres?connect_timeout=30"
KEYS_ONLY = ("SUPABASE_URL=https://abcdefghijklmnopqrst.supabase.co\n"
             "SUPABASE_ANON_KEY=eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2lnbmF0dXJl\n")


def canonical(folder: MigrationFolder) -> None:
    """A folder in the style Supabase projects write: profiles on auth.users with a sign-up trigger,
    a storage bucket with an owner policy, uuid-ossp and pgcrypto in the extensions schema, realtime."""
    folder.write("001_profiles.sql", """
        create extension if not exists "uuid-ossp" with schema extensions;

        create table public.profiles (
          id uuid primary key references auth.users (id) on delete cascade,
          username text unique,
          updated_at timestamptz default now()
        );
        alter table public.profiles enable row level security;
        create policy "own profile" on public.profiles for update using ((select auth.uid()) = id);

        create function public.handle_new_user() returns trigger
        language plpgsql security definer set search_path = ''
        as $$
        begin
          insert into public.profiles (id, username) values (new.id, new.raw_user_meta_data ->> 'username');
          return new;
        end;
        $$;
        create trigger on_auth_user_created after insert on auth.users
          for each row execute procedure public.handle_new_user();
    """)
    folder.write("002_storage.sql", """
        insert into storage.buckets (id, name, public) values ('avatars', 'avatars', true);
        create policy "avatar owners upload" on storage.objects for insert to authenticated
          with check (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid())::text);
    """)
    folder.write("003_items.sql", """
        create table public.items (
          id uuid primary key default extensions.uuid_generate_v4(),
          owner uuid references auth.users (id) default auth.uid(),
          token bytea default extensions.gen_random_bytes(16),
          created_at timestamptz not null default now()
        );
        alter publication supabase_realtime add table public.items;
        create index items_owner on public.items (owner);
    """)


def test_a_table_no_file_creates_is_named_without_connecting(tmp_path, folder, cli):
    folder.write("001_a.sql", "CREATE TABLE a (id int);\n")
    folder.write("002_b.sql", "-- b\nINSERT INTO a VALUES (1);\nINSERT INTO nowhere VALUES (1);\n")
    started = time.monotonic()
    result = cli("plan", "--offline", "--migrations", folder.path, cwd=tmp_path,
                 env={"DATABASE_URL": UNREACHABLE, "XDG_DATA_HOME": str(tmp_path / "data")})
    assert_clean(result)
    assert result.code == 2, result.output
    assert time.monotonic() - started < 10  # no connection attempt: it would wait 30 s
    assert "002_b.sql:3: uses table nowhere" in result.out
    assert "Offline analysis" in result.out and "fresh Supabase project" in result.out
    assert "every file counts as pending" in result.out
    assert "Target" not in result.err and "connect" not in result.err.lower()
    assert not (tmp_path / "data").exists()  # nor was the local database started

    document = cli("plan", "--offline", "--json", "--migrations", folder.path, cwd=tmp_path,
                   env={"DATABASE_URL": UNREACHABLE}).json()
    assert document["offline"] is True and document["baseline"] == "a fresh Supabase project"
    assert [m["state"] for m in document["migrations"]] == ["pending", "pending"]
    (error,) = document["findings"]
    assert (error["file"], error["line"], error["severity"], error["code"]) == (
        "002_b.sql", 3, "error", "missing-dependency")


def test_with_only_the_project_url_and_keys_plan_goes_offline_by_itself(tmp_path, folder, cli):
    (tmp_path / ".env.local").write_text(KEYS_ONLY)
    folder.write("001_a.sql", "CREATE TABLE a (id int);\n")
    folder.write("002_b.sql", "INSERT INTO a VALUES (1);\nSELECT * FROM b;\n")
    folder.write("003_b.sql", "CREATE TABLE b (id int);\n")
    result = cli("plan", "--migrations", folder.path, cwd=tmp_path)
    assert_clean(result)
    assert result.code == 2, result.output
    assert "no way to reach its database" in result.err and "analysing the folder offline" in result.err
    assert "002_b.sql:2: uses table b, which 003_b.sql creates later" in result.out
    assert "eyJ" not in result.output


def test_a_canonical_supabase_folder_has_no_errors_offline(tmp_path, folder, cli):
    canonical(folder)
    result = cli("plan", "--offline", "--json", "--migrations", folder.path, cwd=tmp_path)
    assert result.code == 0, result.output
    assert [f for f in result.json()["findings"] if f["severity"] == "error"] == []


def test_a_missing_auth_table_is_an_error_offline(tmp_path, folder, cli):
    canonical(folder)
    folder.write("004_typo.sql", "create view public.emails as select email from auth.userz;\n")
    folder.write("005_column.sql", "create table public.logins (email text references auth.users (emial));\n")
    result = cli("plan", "--offline", "--json", "--migrations", folder.path, cwd=tmp_path)
    assert result.code == 2, result.output
    errors = {(f["file"], f["line"]): f["message"] for f in result.json()["findings"] if f["severity"] == "error"}
    assert list(errors) == [("004_typo.sql", 1), ("005_column.sql", 1)]
    assert "table auth.userz" in errors[("004_typo.sql", 1)] and "is the name right" in errors[("004_typo.sql", 1)]
    assert "column auth.users.emial" in errors[("005_column.sql", 1)]


def test_statement_errors_and_order_problems_are_found_offline(folder):
    folder.write("001_index.sql", "CREATE TABLE first (id int);\nCREATE INDEX CONCURRENTLY i ON later (id);\n")
    folder.write("002_later.sql", "CREATE TABLE later (id int);\nCOPY later FROM STDIN;\n")
    findings = preflight.offline(catalog.load(folder.path))
    codes = sorted((f.file, f.line, f.code) for f in preflight.blocking(findings))
    assert codes == [("001_index.sql", 2, "needs-no-transaction"), ("001_index.sql", 2, "wrong-order"),
                     ("002_later.sql", 2, "copy-from-stdin")]


def drivers_loaded(tmp_path, *argv: str) -> list[str]:
    """The database driver's modules a fresh interpreter holds after running the command line with
    ``argv`` (its exit code first)."""
    code = (
        "import contextlib, io, sys, wizard.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "    try:\n"
        f"        code = wizard.cli.main({list(argv)!r})\n"
        "    except SystemExit as exit:\n"
        "        code = exit.code\n"
        "print(code, *sorted(m for m in sys.modules if m.partition('.')[0] in ('psycopg', 'psycopg_binary', 'psycopg_c')))\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           cwd=tmp_path).stdout.split()


def test_the_offline_plan_loads_no_database_driver(tmp_path):
    assert drivers_loaded(tmp_path, "plan", "--offline", "--migrations", str(MIGRATIONS)) == ["0"]
    assert drivers_loaded(tmp_path, "plan", "--offline", "--json", "--migrations", str(MIGRATIONS)) == ["0"]


def test_the_manual_export_loads_no_database_driver(tmp_path):
    # the files to paste into the dashboard are written without a database
    assert drivers_loaded(tmp_path, "manual", "--export", str(tmp_path / "out"), "--migrations",
                          str(MIGRATIONS)) == ["0"]
    assert len(list((tmp_path / "out").glob("*.sql"))) == 18


def test_the_help_loads_no_database_driver(tmp_path):
    assert drivers_loaded(tmp_path, "--help") == ["0"]
    assert drivers_loaded(tmp_path, "plan", "--help") == ["0"]


def test_our_own_migrations_read_clean_offline():
    assert preflight.blocking(preflight.offline(catalog.load(MIGRATIONS))) == []


def test_the_baseline_knows_a_fresh_supabase_project():
    known = baseline.load()
    assert known.has("relation", "auth", "users") and not known.has("relation", "auth", "userz")
    assert known.has("column", None, "raw_user_meta_data", "auth.users")
    assert known.has("column", None, "allowed_mime_types", "storage.buckets")
    assert known.has("function", "storage", "foldername") and known.has("function", None, "uuid_generate_v4")
    assert known.has("function", "extensions", "crypt") and known.has("function", None, "jsonb_build_object")
    assert known.has("type", None, "timestamptz") and known.has("type", "auth", "aal_level")
    assert known.has("relation", "information_schema", "columns") and known.has("relation", None, "pg_class")
    assert not known.has("relation", None, "profiles")  # public is empty
    assert {"anon", "authenticated", "service_role"} <= known.roles
    assert [s.split(".")[0] for s in known.servers] == ["15", "18"]


def test_the_export_refuses_to_hide_errors(tmp_path, folder, cli):
    folder.write("001_a.sql", "CREATE TABLE a (id int);\n")
    folder.write("002_b.sql", "-- b\nINSERT INTO a VALUES (1);\nINSERT INTO nowhere VALUES (1);\n")
    (tmp_path / ".env.local").write_text(KEYS_ONLY)
    refused = cli("manual", "--export", tmp_path / "out", "--migrations", folder.path, cwd=tmp_path)
    assert_clean(refused)
    assert refused.code == 2
    assert "002_b.sql:3: uses table nowhere" in refused.err and "--despite-findings" in refused.err
    assert not (tmp_path / "out").exists()

    exported = cli("manual", "--export", tmp_path / "out", "--despite-findings", "--json", "--migrations",
                   folder.path, cwd=tmp_path)
    assert exported.code == 0, exported.output
    assert "002_b.sql:3: uses table nowhere" in exported.err
    assert [f["line"] for f in exported.json()["findings"]] == [3]
    index = (tmp_path / "out" / "INDEX.md").read_text()
    assert index.index("Read this first: pre-flight found 1 error") < index.index("1. 001_a.sql")
    assert "ERROR 002_b.sql:3: uses table nowhere" in index


@pytest.mark.parametrize("flag", ["--database-url", "--local"])
def test_offline_and_a_target_do_not_mix(tmp_path, folder, cli, flag):
    folder.write("001_a.sql", "CREATE TABLE a (id int);\n")
    args = [flag, UNREACHABLE] if flag == "--database-url" else [flag]
    result = cli("plan", "--offline", *args, "--migrations", folder.path, cwd=tmp_path)
    assert result.code == 2 and "--offline connects to nothing" in result.err


def test_an_extension_supabase_does_not_offer_is_a_warning_offline(folder, cli):
    folder.write("001_extensions.sql", 'CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA extensions;\n'
                 "CREATE EXTENSION IF NOT EXISTS pg_trgmm;\n")
    result = cli("plan", "--offline", "--json", "--migrations", folder.path)
    assert result.code == 0, result.output
    found = [(f["severity"], f["code"], f["line"]) for f in result.json()["findings"] if "extension" in f["code"]]
    assert found == [("warning", "unknown-extension", 2)]
