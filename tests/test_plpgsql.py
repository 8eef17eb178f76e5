"""Pre-flight reads PL/pgSQL: DO blocks, function bodies, triggers and dynamic SQL, against a real server."""

import json

import pytest
from helpers import MIGRATIONS, assert_clean, history, tables

from wizard.core import catalog, objects, parsecache


def plan(cli, folder, database, *options):
    result = cli("plan", "--json", *options, "--migrations", folder.path, "--database-url", database)
    assert_clean(result)
    return result, result.json()["findings"]


def located(findings, severity=None):
    return {(f["file"], f["line"], f["code"]) for f in findings if severity is None or f["severity"] == severity}


def test_a_do_block_using_a_missing_table_is_named_at_its_line_before_anything_runs(folder, database, db, cli):
    folder.write("001_things.sql", "CREATE TABLE public.things (id int PRIMARY KEY);")
    folder.write("002_seed.sql", """
        -- seed, when the table is empty
        DO $$
        BEGIN
          IF NOT EXISTS (SELECT 1 FROM public.things) THEN
            INSERT INTO public.things VALUES (1);
            INSERT INTO public.thing_tags (thing_id, tag)
              VALUES (1, 'first');
          END IF;
        END $$;
    """)
    result, findings = plan(cli, folder, database)
    assert result.code == 2, result.output
    assert located(findings, "error") == {("002_seed.sql", 6, "missing-dependency")}
    assert "table public.thing_tags" in findings[0]["message"] or any(
        "table public.thing_tags" in f["message"] for f in findings)
    assert tables(db) == set() and history(db) == []

    applied = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    report = applied.json()
    assert report["failed"]["version"] == "002" and report["failed"]["sqlstate"] == "42P01"
    assert report["failed"]["line"] == 6, report["failed"]  # the server's error, placed where pre-flight said


def test_supabase_objects_inside_a_do_block(folder, database, cli):
    folder.write("001_profiles.sql", """
        CREATE TABLE public.profiles (id uuid PRIMARY KEY, email text);
        DO $$
        BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE policyname = 'profiles are read by their user') THEN
            CREATE POLICY "profiles are read by their user" ON public.profiles
              FOR SELECT
              USING (email = (SELECT u.email FROM auth.users AS u WHERE u.id = auth.uid()));
          END IF;
        END
        $$;
    """)
    result, findings = plan(cli, folder, database)  # the compatibility step makes auth.users
    assert result.code == 0 and not [f for f in findings if f["severity"] == "error"], findings
    result, findings = plan(cli, folder, database, "--no-compat")
    assert result.code == 2
    (finding,) = [f for f in findings if f["severity"] == "error" and "auth.users" in f["message"]]
    assert (finding["line"], finding["code"]) == (7, "supabase-only"), finding
    assert "auth.users" in finding["message"] and "Supabase Auth" in finding["message"]
    assert "migration missing" not in finding["message"]


def test_what_a_do_block_creates_counts_for_later_statements_and_for_verify(folder, database, db, cli):
    folder.write("001_guarded.sql", """
        DO $$
        BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = 'settings') THEN
            CREATE TABLE public.settings (key text PRIMARY KEY, value text);
          END IF;
          IF to_regclass('public.legacy_settings') IS NOT NULL THEN
            INSERT INTO public.settings SELECT key, value FROM public.legacy_settings;
          END IF;
          BEGIN
            CREATE TYPE public.mood AS ENUM ('ok', 'not ok');
          EXCEPTION WHEN duplicate_object THEN NULL;
          END;
          CREATE TEMP TABLE scratch (n int) ON COMMIT DROP;
          INSERT INTO scratch VALUES (1);
        END $$;
        INSERT INTO public.settings VALUES ('mood', 'ok'::public.mood::text);
    """)
    result, findings = plan(cli, folder, database)
    assert result.code == 0 and located(findings) == {(str(folder.path), None, "compat")}, findings
    applied = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert applied.code == 0, applied.output
    checked = cli("verify", "--json", "--migrations", folder.path, "--database-url", database)
    assert checked.code == 0, checked.output
    names = {c["name"]: c["detail"] for c in checked.json()["checks"]}
    assert names["tables created by the migrations"] == "all 1 present"  # settings, not the temporary one
    assert names["types created by the migrations"] == "all 1 present"


TRIGGER_FOLDER = {
    "001_things.sql": """
        CREATE TABLE public.things (id int PRIMARY KEY, name text);

        CREATE FUNCTION public.things_audit()
        RETURNS trigger
        LANGUAGE plpgsql
        AS $$
        BEGIN
          INSERT INTO public.things_log (thing_id, op) VALUES (NEW.id, TG_OP);
          RETURN NEW;
        END;
        $$;

        CREATE TRIGGER trg_things_audit AFTER INSERT ON public.things
          FOR EACH ROW EXECUTE FUNCTION public.things_audit();
    """,
    "002_count.sql": """
        CREATE FUNCTION public.count_things() RETURNS bigint LANGUAGE plpgsql AS $body$
        DECLARE
          n bigint;
        BEGIN
          SELECT count(*) INTO n
            FROM public.things t
            JOIN public.thing_owners o ON o.thing_id = t.id;
          RETURN n;
        END $body$;
    """,
    "003_seed.sql": """
        INSERT INTO public.things VALUES (1, 'one');
        SELECT public.count_things();
    """,
}


def test_a_function_body_is_checked_where_it_runs(folder, database, db, cli):
    for name, sql in TRIGGER_FOLDER.items():
        folder.write(name, sql)
    result, findings = plan(cli, folder, database)
    errors = {(f["file"], f["line"]): f["message"] for f in findings if f["severity"] == "error"}
    assert set(errors) == {("001_things.sql", 8), ("002_count.sql", 7)}, findings
    assert "table public.things_log" in errors[("001_things.sql", 8)]
    assert "a trigger on public.things fired by 003_seed.sql:1" in errors[("001_things.sql", 8)]
    assert "public.count_things() runs, called at 003_seed.sql:2" in errors[("002_count.sql", 7)]
    assert "table public.thing_owners" in errors[("002_count.sql", 7)]
    # nothing creates them anywhere: a warning too where the bodies are, even before any call
    warnings = located(findings, "warning")
    assert warnings <= {("001_things.sql", 8, "fails-when-called"), ("002_count.sql", 7, "fails-when-called")}

    # the same folder without the call: the bodies only get the warning
    (folder.path / "003_seed.sql").unlink()
    result, findings = plan(cli, folder, database)
    assert result.code == 0, findings
    assert located(findings, "warning") == {("001_things.sql", 8, "fails-when-called"),
                                            ("002_count.sql", 7, "fails-when-called")}
    assert all("will fail when it is called" in f["message"] for f in findings if f["severity"] == "warning")
    applied = cli("apply", "--yes", "--migrations", folder.path, "--database-url", database)
    assert applied.code == 0, applied.output
    assert "warning: 001_things.sql:8: function public.things_audit() uses table public.things_log" in applied.err
    assert "the run will stop there" not in applied.err


def test_a_body_is_checked_against_what_exists_when_it_is_called(folder, database, cli):
    folder.write("001_functions.sql", """
        CREATE FUNCTION public.archive(p_id int) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO public.archive_rows (id) VALUES (p_id);
        END $$;
        CREATE PROCEDURE public.archive_all() LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM public.archive(1);
        END $$;
    """)
    folder.write("002_too_early.sql", "CALL public.archive_all();")
    folder.write("003_archive_rows.sql", "CREATE TABLE public.archive_rows (id int);")
    result, findings = plan(cli, folder, database)
    (finding,) = [f for f in findings if f["severity"] == "error"]
    assert (finding["file"], finding["line"], finding["code"]) == ("001_functions.sql", 3, "wrong-order"), finding
    assert "called at 002_too_early.sql:1" in finding["message"]
    assert "003_archive_rows.sql creates later" in finding["message"]
    assert located(findings, "warning") == set()  # the folder does create it

    (folder.path / "002_too_early.sql").unlink()
    folder.write("004_archive.sql", "CALL public.archive_all();")
    result, findings = plan(cli, folder, database)
    assert result.code == 0 and located(findings, "error") == set(), findings


# Bodies that use variables, records, temporary tables, loops, RETURN QUERY, NEW/OLD, %ROWTYPE,
# cursors, exception blocks and dynamic SQL of known shape: valid PL/pgSQL that runs, and that
# pre-flight must not flag.
VARIED = {
    "001_tables.sql": """
        CREATE TABLE public.accounts (id int PRIMARY KEY, owner text, balance numeric NOT NULL DEFAULT 0,
                                      updated_at timestamptz);
        CREATE TABLE public.ledger (id bigint GENERATED ALWAYS AS IDENTITY, account_id int, amount numeric);
        CREATE TYPE public.summary AS (owner text, total numeric);
    """,
    "002_functions.sql": """
        CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'UPDATE' AND NEW.balance IS DISTINCT FROM OLD.balance THEN
            INSERT INTO public.ledger (account_id, amount) VALUES (NEW.id, NEW.balance - OLD.balance);
          END IF;
          NEW.updated_at := now();
          RETURN NEW;
        END $$;
        CREATE TRIGGER trg_accounts_touch BEFORE INSERT OR UPDATE ON public.accounts
          FOR EACH ROW EXECUTE FUNCTION public.touch();

        CREATE FUNCTION public.summaries(p_min numeric DEFAULT 0)
        RETURNS SETOF public.summary
        LANGUAGE plpgsql STABLE AS $fn$
        DECLARE
          acc public.accounts%ROWTYPE;
          rec record;
          total numeric := 0;
          cur CURSOR FOR SELECT a.id FROM public.accounts a;
        BEGIN
          FOR rec IN SELECT owner, sum(balance) AS s FROM public.accounts GROUP BY owner LOOP
            total := total + rec.s;
          END LOOP;
          SELECT * INTO acc FROM public.accounts ORDER BY id LIMIT 1;
          IF acc.id IS NOT NULL THEN
            RAISE NOTICE 'first account % of %', acc.id, (SELECT count(*) FROM public.accounts);
          END IF;
          FOR i IN 1..2 LOOP
            total := total + i;
          END LOOP;
          OPEN cur;
          CLOSE cur;
          RETURN QUERY SELECT owner, sum(balance) FROM public.accounts GROUP BY owner HAVING sum(balance) >= p_min;
        END $fn$;

        CREATE FUNCTION public.rebuild(p_table text) RETURNS int LANGUAGE plpgsql AS $$
        DECLARE
          n int;
        BEGIN
          CREATE TEMP TABLE IF NOT EXISTS rebuild_ids (id int) ON COMMIT DROP;
          INSERT INTO rebuild_ids SELECT id FROM public.accounts;
          SELECT count(*) INTO n FROM rebuild_ids;
          EXECUTE format('ANALYZE %I', p_table);
          EXECUTE format('UPDATE public.%I SET balance = balance WHERE id = $1', p_table) USING 1;
          BEGIN
            INSERT INTO public.optional_audit VALUES (n);
          EXCEPTION WHEN undefined_table THEN
            RAISE NOTICE 'no audit table';
          END;
          RETURN n;
        END $$;
    """,
    "003_use.sql": """
        INSERT INTO public.accounts (id, owner, balance) VALUES (1, 'ann', 10), (2, 'bob', 5);
        UPDATE public.accounts SET balance = balance + 1 WHERE id = 1;
        SELECT * FROM public.summaries(1);
        SELECT public.rebuild('accounts');
        DO $$
        DECLARE
          r record;
        BEGIN
          FOR r IN SELECT * FROM public.summaries() LOOP
            PERFORM r.owner;
          END LOOP;
          EXECUTE 'INSERT INTO public.ledger (account_id, amount) VALUES (2, 0)';
        END $$;
    """,
}


# Supabase-style bodies: SECURITY DEFINER with an empty search_path, RETURNS TABLE with bound
# cursors and RETURN NEXT, an exception handler with its own block, EXECUTE ... INTO ... USING, a
# variable named like a table, RLS enabled over every table by dynamic SQL, a guarded publication.
TASKS = {
    "001_schema.sql": """
        CREATE TYPE public.task_status AS ENUM ('todo', 'doing', 'done');
        CREATE TABLE public.profiles (id uuid PRIMARY KEY, full_name text, meta jsonb DEFAULT '{}'::jsonb);
        CREATE TABLE public.tasks (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          owner uuid REFERENCES public.profiles (id),
          status public.task_status NOT NULL DEFAULT 'todo',
          title text NOT NULL,
          done_at timestamptz
        );

        CREATE OR REPLACE FUNCTION public.tasks_stamp()
        RETURNS trigger
        LANGUAGE plpgsql
        SECURITY DEFINER
        SET search_path = ''
        AS $$
        DECLARE
          v_count integer;
        BEGIN
          IF NEW.status = 'done'::public.task_status AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status) THEN
            NEW.done_at := now();
          END IF;
          SELECT count(*) INTO STRICT v_count FROM public.tasks t WHERE t.owner = NEW.owner;
          IF NOT FOUND THEN
            RAISE EXCEPTION 'unreachable';
          END IF;
          PERFORM pg_notify('tasks', json_build_object('id', NEW.id, 'status', NEW.status)::text);
          RETURN NEW;
        END;
        $$;

        CREATE TRIGGER trg_tasks_stamp BEFORE INSERT OR UPDATE ON public.tasks
          FOR EACH ROW EXECUTE FUNCTION public.tasks_stamp();

        CREATE OR REPLACE FUNCTION public.tasks_of(p_owner uuid)
        RETURNS TABLE (task_id bigint, task_title text, n integer)
        LANGUAGE plpgsql STABLE
        AS $fn$
        DECLARE
          r record;
          c CURSOR (o uuid) FOR SELECT * FROM public.tasks WHERE owner = o;
          i integer := 0;
        BEGIN
          FOR r IN c(p_owner) LOOP
            i := i + 1;
            task_id := r.id;
            task_title := r.title;
            n := i;
            RETURN NEXT;
          END LOOP;
          FOR r IN SELECT g.x FROM generate_series(1, 2) AS g(x) LOOP
            ASSERT r.x > 0, 'positive';
          END LOOP;
          RETURN QUERY SELECT t.id, t.title, 0 FROM public.tasks t WHERE t.owner = p_owner AND t.status <> 'done';
        EXCEPTION WHEN others THEN
          DECLARE
            msg text;
          BEGIN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
            RAISE NOTICE 'failed: %', msg;
          END;
        END;
        $fn$;

        CREATE OR REPLACE FUNCTION public.add_task(p_owner uuid, p_title text)
        RETURNS bigint
        LANGUAGE plpgsql
        AS $$
        DECLARE
          v_id bigint;
          v_n integer;
        BEGIN
          SELECT count(*) INTO v_n FROM public.profiles WHERE id = p_owner;
          IF v_n = 0 THEN
            INSERT INTO public.profiles (id) VALUES (p_owner);
          END IF;
          INSERT INTO public.tasks (owner, title) VALUES (p_owner, p_title) RETURNING id INTO v_id;
          EXECUTE 'SELECT count(*) FROM public.tasks WHERE owner = $1' INTO v_n USING p_owner;
          UPDATE public.profiles SET meta = jsonb_set(meta, '{tasks}', to_jsonb(v_n)) WHERE id = p_owner;
          RETURN v_id;
        END;
        $$;
    """,
    "002_rls.sql": """
        DO $$
        DECLARE
          t record;
        BEGIN
          FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
            EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t.tablename);
          END LOOP;
          IF EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'supabase_realtime') THEN
            ALTER PUBLICATION supabase_realtime ADD TABLE public.tasks;
          END IF;
          IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'tasks' AND policyname = 'own tasks') THEN
            EXECUTE 'CREATE POLICY "own tasks" ON public.tasks USING (owner = auth.uid())';
          END IF;
          CREATE EXTENSION IF NOT EXISTS pg_trgm;
        END $$;
        SELECT public.add_task('00000000-0000-0000-0000-000000000001', 'first');
        SELECT * FROM public.tasks_of('00000000-0000-0000-0000-000000000001');
        UPDATE public.tasks SET status = 'done';
    """,
}


@pytest.mark.parametrize("files", [VARIED, TASKS], ids=["varied", "tasks"])
def test_varied_bodies_give_no_false_findings_and_really_run(folder, database, db, cli, files):
    for name, sql in files.items():
        folder.write(name, sql)
    result, findings = plan(cli, folder, database)
    assert result.code == 0, result.output
    assert located(findings) == {(str(folder.path), None, "compat")}, findings
    applied = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert applied.code == 0, applied.output
    if files is VARIED:
        assert db.execute("SELECT count(*) FROM public.ledger").fetchone()[0] == 2
    checked = cli("verify", "--json", "--migrations", folder.path, "--database-url", database)
    assert checked.code == 0, checked.output


def test_dynamic_sql_is_read_as_far_as_it_can_be(folder, database, cli):
    folder.write("001_dynamic.sql", """
        CREATE TABLE public.notes (id int);
        DO $$
        DECLARE
          t text := 'notes';
          stmt text := 'SELECT 1';
        BEGIN
          EXECUTE 'INSERT INTO public.note_tags VALUES (1)';
          EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);
          EXECUTE format('INSERT INTO public.note_events (note, kind) VALUES (%L, %L)', t, 'created');
          EXECUTE stmt;
          EXECUTE 'SELECT count(*) FROM public.' || quote_ident(t);
        END $$;
    """)
    result, findings = plan(cli, folder, database)
    assert located(findings, "error") == {("001_dynamic.sql", 7, "missing-dependency"),
                                          ("001_dynamic.sql", 9, "missing-dependency")}, findings
    messages = {f["line"]: f["message"] for f in findings}
    assert "public.note_tags" in messages[7] and "public.note_events" in messages[9]
    assert located(findings, "info") >= {("001_dynamic.sql", 10, "dynamic-sql"), ("001_dynamic.sql", 11, "dynamic-sql")}
    assert "not checked: dynamic SQL at 001_dynamic.sql:10" in messages[10]
    assert 8 not in messages  # a placeholder names the table: no guess


def test_our_migrations_give_the_same_findings_as_before(database, cli):
    result = cli("plan", "--json", "--migrations", MIGRATIONS, "--database-url", database)
    assert result.code == 0
    assert [(f["severity"], f["code"]) for f in result.json()["findings"]] == [("info", "compat")]


def test_bodies_are_read_once_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fresh = catalog.load(MIGRATIONS)
    cached = catalog.load(MIGRATIONS)
    for first, again in zip(fresh.migrations, cached.migrations):
        for a, b in zip(first.statements, again.statements):
            assert objects.effects_data(a) == b.effects_data
    functions = [s for m in fresh.migrations for s in m.statements if s.kind == "CreateFunctionStmt"]
    plpgsql = [s for s in functions if "plpgsql" in s.text.lower()]
    assert plpgsql and [s for s in functions if objects.effects(s).bodies] == plpgsql
    assert parsecache.directory().name.startswith("v4-")


def test_a_failure_inside_a_called_function_names_the_body_line(folder, database, cli):
    folder.write("001_functions.sql", """
        CREATE FUNCTION public.strict_div(a int, b int) RETURNS int LANGUAGE plpgsql AS $$
        BEGIN
          IF b = 0 THEN
            RAISE EXCEPTION 'division by zero refused';
          END IF;
          RETURN a / b;
        END $$;
    """)
    folder.write("002_use.sql", """
        CREATE TABLE public.ratios (r int);
        DO $$
        BEGIN
          INSERT INTO public.ratios VALUES (public.strict_div(4, 2));
          INSERT INTO public.ratios VALUES (public.strict_div(1, 0));
        END $$;
    """)
    result = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    report = result.json()
    assert report["failed"]["file"].endswith("002_use.sql") and report["failed"]["line"] == 5, report["failed"]
    notes = report["advice"]["notes"]
    assert any("strict_div() (line 4 of its body: 001_functions.sql:4)" in n for n in notes), notes


@pytest.mark.parametrize("header", ["CREATE FUNCTION f(t text DEFAULT $d$x$d$) RETURNS void LANGUAGE plpgsql AS $f$",
                                    "CREATE FUNCTION f(t text DEFAULT 'x') RETURNS void LANGUAGE plpgsql AS\n$f$"])
def test_body_lines_are_counted_from_the_body_delimiter(folder, database, cli, header):
    folder.write("001_f.sql", "-- one\n" + header + "\nBEGIN\n  INSERT INTO nowhere VALUES (1);\nEND $f$;\nSELECT f();\n")
    result, findings = plan(cli, folder, database)
    (finding,) = [f for f in findings if f["severity"] == "error"]
    line = 1 + header.count("\n") + 3
    assert (finding["file"], finding["line"]) == ("001_f.sql", line), (finding, json.dumps(header))


def test_an_exception_handler_hides_only_what_it_catches(folder, database, cli):
    folder.write("001_policies.sql", """
        DO $$ BEGIN
          CREATE POLICY "read own" ON public.profiles FOR SELECT USING (true);
        EXCEPTION WHEN duplicate_object THEN NULL; END $$;
        DO $$ BEGIN
          INSERT INTO public.optional_log VALUES (1);
        EXCEPTION WHEN undefined_table THEN NULL; END $$;
    """)
    result, findings = plan(cli, folder, database)
    (finding,) = [f for f in findings if f["severity"] == "error"]
    assert (finding["line"], finding["code"]) == (2, "missing-dependency") and "public.profiles" in finding["message"]


def test_types_of_other_schemas_do_not_stop_the_reading(folder, database, cli):
    folder.write("001_app.sql", """
        CREATE SCHEMA app;
        CREATE TYPE app.role AS ENUM ('owner', 'member');
        CREATE TABLE app.members (id int, role app.role);
        CREATE FUNCTION app.promote(p_id int, p_role app.role) RETURNS app.role LANGUAGE plpgsql AS $$
        DECLARE
          v_old app.role;
          declare v_row app.members;
        BEGIN
          SELECT m.* INTO v_row FROM app.members m WHERE id = p_id;
          v_old := v_row.role;
          UPDATE app.member_roles SET role = p_role WHERE id = p_id;
          RETURN v_old;
        END $$;
    """)
    result, findings = plan(cli, folder, database)
    assert located(findings, "warning") == {("001_app.sql", 11, "fails-when-called")}, findings
    assert "app.member_roles" in [f for f in findings if f["severity"] == "warning"][0]["message"]


def test_verify_expects_what_a_called_function_creates_not_what_an_uncalled_one_would(folder, database, cli):
    folder.write("001_setup.sql", """
        CREATE FUNCTION public.make_archive() RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
          CREATE TABLE IF NOT EXISTS public.archive (id int);
        END $$;
        CREATE FUNCTION public.make_scratch() RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
          CREATE TABLE IF NOT EXISTS public.scratch (id int);
        END $$;
        SELECT public.make_archive();
        INSERT INTO public.archive VALUES (1);
    """)
    result, findings = plan(cli, folder, database)
    assert located(findings, "error") == set(), findings  # archive exists once make_archive() ran
    assert cli("apply", "--migrations", folder.path, "--database-url", database).code == 0
    checked = cli("verify", "--json", "--migrations", folder.path, "--database-url", database)
    assert checked.code == 0, checked.output
    names = {c["name"]: c["detail"] for c in checked.json()["checks"]}
    assert names["tables created by the migrations"] == "all 1 present"
