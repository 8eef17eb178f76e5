"""Pre-flight on patterns seen in real Supabase folders: a table two files create (a hand-written
file given an earlier version than the generated one), a column renamed then dropped, a function
created without a schema and called with ``public.``, a table the database already has."""

from __future__ import annotations

from helpers import assert_clean, history


def plan(cli, folder, *target):
    result = cli("plan", "--json", "--migrations", folder.path, *target)
    assert_clean(result)
    return result, [f for f in result.json()["findings"] if f["severity"] == "error"]


def plans_clean_then_applies(cli, folder, database, db, versions):
    """plan finds no error, with the database and offline; then apply applies every file."""
    for target in (("--database-url", database), ("--offline",)):
        result, errors = plan(cli, folder, *target)
        assert (result.code, errors) == (0, []), (target, result.output)
    applied = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert applied.code == 0, applied.output
    assert history(db) == versions


def test_a_table_two_files_create_is_named_before_anything_runs(folder, database, db, cli):
    folder.write("20240101000000_profiles.sql", "CREATE TABLE IF NOT EXISTS profiles (id uuid PRIMARY KEY);\n")
    folder.write("20240102000000_notes.sql", "CREATE TABLE notes (id int);\n")
    folder.write("20251012093835_remote_schema.sql",
                 "-- generated\nCREATE TABLE notes2 (id int);\n\nCREATE TABLE profiles (\n  id uuid PRIMARY KEY\n);\n")
    for target in (("--database-url", database), ("--offline",)):
        result, errors = plan(cli, folder, *target)
        assert result.code == 2
        assert [(e["file"], e["line"], e["code"]) for e in errors] == [
            ("20251012093835_remote_schema.sql", 4, "created-twice")], errors
        assert "20240101000000_profiles.sql:1" in errors[0]["message"]

    applied = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert applied.code == 1 and applied.json()["failed"]["sqlstate"] == "42P07"
    assert applied.json()["failed"]["line"] == 4  # where pre-flight said
    assert history(db) == ["20240101000000", "20240102000000"]


def test_a_table_the_database_already_has(folder, database, db, cli):
    db.execute("CREATE TABLE settings (key text PRIMARY KEY)")
    folder.write("001_settings.sql", "CREATE TABLE settings (key text PRIMARY KEY);\n")
    folder.write("002_other.sql", "CREATE TABLE IF NOT EXISTS settings (key text PRIMARY KEY);\nCREATE TABLE other (id int);\n")
    result, errors = plan(cli, folder, "--database-url", database)
    assert result.code == 2
    assert [(e["file"], e["line"], e["code"]) for e in errors] == [("001_settings.sql", 1, "already-exists")]


def test_no_false_alarm_for_renamed_columns_and_public_functions(folder, database, cli):
    folder.write("001_credits.sql", "CREATE TABLE credits (id bigint PRIMARY KEY, amount int);\n")
    folder.write("002_new_ids.sql", """
        ALTER TABLE public.credits RENAME COLUMN id TO old_id;
        ALTER TABLE public.credits DROP CONSTRAINT IF EXISTS credits_pkey;
        ALTER TABLE public.credits ADD COLUMN id uuid DEFAULT gen_random_uuid() NOT NULL;
        ALTER TABLE public.credits ADD PRIMARY KEY (id);
        ALTER TABLE public.credits DROP COLUMN old_id;
        CREATE FUNCTION make_credit() RETURNS uuid LANGUAGE sql AS $$ SELECT gen_random_uuid() $$;
        CREATE TABLE grants (id uuid DEFAULT public.make_credit());
    """)
    for target in (("--database-url", database), ("--offline",)):
        result, errors = plan(cli, folder, *target)
        assert result.code == 0 and errors == [], errors
    assert cli("apply", "--migrations", folder.path, "--database-url", database).code == 0


def test_a_renamed_column_that_does_not_exist_is_named(folder, database, cli):
    folder.write("001_credits.sql", "CREATE TABLE credits (id bigint PRIMARY KEY);\n")
    folder.write("002_rename.sql", "-- the old name\nALTER TABLE credits RENAME COLUMN identifier TO old_id;\n")
    result, errors = plan(cli, folder, "--database-url", database)
    assert result.code == 2
    assert [(e["file"], e["line"]) for e in errors] == [("002_rename.sql", 2)]
    assert "credits.identifier" in errors[0]["message"]


def test_create_extension_with_schema_needs_the_schema(folder, database, cli):
    folder.write("001_extensions.sql", "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA extensions;\n"
                 "CREATE SCHEMA private;\nCREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA private;\n")
    folder.write("002_dump.sql", "-- from a dump\nCREATE EXTENSION IF NOT EXISTS hstore WITH SCHEMA missing_schema;\n")
    result, errors = plan(cli, folder, "--database-url", database)
    assert result.code == 2
    assert [(e["file"], e["line"]) for e in errors] == [("002_dump.sql", 2)], errors
    assert "missing_schema" in errors[0]["message"]
    applied = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert applied.json()["failed"]["sqlstate"] == "3F000" and applied.json()["failed"]["version"] == "002"


def test_a_table_moved_to_another_schema_or_dropped_with_its_schema_may_be_created_again(folder, database, db, cli):
    """ALTER TABLE ... SET SCHEMA moves the table out, DROP SCHEMA ... CASCADE drops the tables in
    it: a CREATE TABLE of the same name after either is no duplicate, and the folder applies."""
    folder.write("001_move.sql", "CREATE SCHEMA archive;\nCREATE TABLE events (id int);\n"
                 "ALTER TABLE events SET SCHEMA archive;\nCREATE TABLE events (id int);\n")
    folder.write("002_rebuild.sql", "CREATE TABLE archive.totals (n int);\nDROP SCHEMA archive CASCADE;\n"
                 "CREATE SCHEMA archive;\nCREATE TABLE archive.totals (n int);\n")
    plans_clean_then_applies(cli, folder, database, db, ["001", "002"])


def test_a_domain_is_a_type_pre_flight_reads(folder, database, db, cli):
    """CREATE DOMAIN (whose node also names its base type) is read as the type it creates, and a
    table using it applies: no unexpected error on the way."""
    folder.write("001_domain.sql", "CREATE DOMAIN public.email AS text CHECK (VALUE LIKE '%@%');\n"
                 "CREATE TABLE contacts (address email);\n")
    plans_clean_then_applies(cli, folder, database, db, ["001"])


def test_a_renamed_table_keeps_its_columns(folder, database, db, cli):
    """A table renamed (or moved to another schema) in one file, its columns altered in the next:
    no missing column, and the folder applies."""
    folder.write("001_orders.sql", "CREATE SCHEMA sales;\nCREATE TABLE orders (id int, total int);\n"
                 "ALTER TABLE orders RENAME TO purchases;\n")
    folder.write("002_types.sql", "ALTER TABLE purchases ALTER COLUMN total TYPE bigint;\n"
                 "COMMENT ON COLUMN purchases.total IS 'in cents';\nALTER TABLE purchases SET SCHEMA sales;\n"
                 "CREATE INDEX ON sales.purchases (total);\n")
    plans_clean_then_applies(cli, folder, database, db, ["001", "002"])


def test_a_foreign_table_is_a_table_the_next_files_may_use(folder, database, db, cli):
    """CREATE FOREIGN TABLE (as Supabase's wrappers have it) creates a table with its columns: a view
    over it in a later file is no missing table."""
    folder.write("001_wrapper.sql", "CREATE FOREIGN DATA WRAPPER files_fdw;\nCREATE SERVER files FOREIGN DATA WRAPPER files_fdw;\n"
                 "CREATE SCHEMA remote;\nCREATE FOREIGN TABLE remote.customers (id text, email text) SERVER files;\n")
    folder.write("002_view.sql", "CREATE VIEW customer_emails AS SELECT id, email FROM remote.customers;\n")
    plans_clean_then_applies(cli, folder, database, db, ["001", "002"])


def test_an_aggregate_names_its_state_function_not_a_type(folder, database, db, cli):
    """CREATE AGGREGATE's sfunc and CREATE OPERATOR's function name functions: no missing type."""
    folder.write("001_aggregate.sql", "CREATE AGGREGATE public.total(int) (sfunc = int4pl, stype = int);\n"
                 "CREATE OPERATOR public.=== (leftarg = int, rightarg = int, function = int4eq);\n"
                 "CREATE TABLE scores (n int);\nSELECT public.total(n) FROM scores;\n")
    for target in (("--database-url", database), ("--offline",)):
        result, errors = plan(cli, folder, *target)
        assert (result.code, errors) == (0, []), target
    applied = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert applied.code == 0, applied.output


def test_a_renamed_view_type_or_function_is_there_under_its_new_name(folder, database, db, cli):
    """ALTER VIEW / TYPE / FUNCTION ... RENAME TO: a later file using the new name finds it."""
    folder.write("001_first.sql", "CREATE TYPE mood AS ENUM ('calm');\nCREATE VIEW answer AS SELECT 42 AS n;\n"
                 "CREATE FUNCTION public.two() RETURNS int LANGUAGE sql AS 'SELECT 2';\n")
    folder.write("002_rename.sql", "ALTER TYPE mood RENAME TO feeling;\nALTER VIEW answer RENAME TO the_answer;\n"
                 "ALTER FUNCTION public.two() RENAME TO deux;\n")
    folder.write("003_use.sql", "CREATE TABLE days (f feeling);\nSELECT n, deux() FROM the_answer;\n")
    for target in (("--database-url", database), ("--offline",)):
        result, errors = plan(cli, folder, *target)
        assert (result.code, errors) == (0, []), target
    applied = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert applied.code == 0, applied.output


def test_a_table_made_under_a_file_s_own_search_path_is_no_duplicate(folder, database, db, cli):
    """A file that sets its search_path to another schema, then creates a table without a schema,
    creates it there: a table of the same name in public is no duplicate."""
    folder.write("001_public.sql", "CREATE TABLE events (id int);\n")
    folder.write("002_archive.sql", "CREATE SCHEMA archive;\nSET search_path = archive;\nCREATE TABLE events (id int);\n")
    for target in (("--database-url", database), ("--offline",)):
        result, errors = plan(cli, folder, *target)
        assert (result.code, errors) == (0, []), target
    applied = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert applied.code == 0, applied.output
    assert db.execute("SELECT to_regclass('archive.events') IS NOT NULL").fetchone() == (True,)


def test_altering_a_composite_type_uses_the_type_not_a_table(folder, database, db, cli):
    folder.write("001_type.sql", "CREATE TYPE public.address AS (street text);\n")
    folder.write("002_alter.sql", "ALTER TYPE public.address ADD ATTRIBUTE city text;\n")
    for target in (("--database-url", database), ("--offline",)):
        result, errors = plan(cli, folder, *target)
        assert (result.code, errors) == (0, []), target
    folder.write("003_wrong.sql", "ALTER TYPE public.nowhere ADD ATTRIBUTE city text;\n")
    result, errors = plan(cli, folder, "--offline")
    assert [(e["file"], e["code"]) for e in errors] == [("003_wrong.sql", "missing-dependency")]
    assert "type public.nowhere" in errors[0]["message"]


def test_the_advice_for_a_table_two_files_create_names_the_first(folder, database, cli):
    folder.write("001_profiles.sql", "CREATE TABLE IF NOT EXISTS profiles (id int);\n")
    folder.write("002_generated.sql", "CREATE TABLE profiles (id int);\n")
    applied = cli("apply", "--json", "--migrations", folder.path, "--database-url", database)
    assert applied.code == 1 and applied.json()["failed"]["sqlstate"] == "42P07"
    notes = applied.json()["advice"]["notes"]
    assert any("001_profiles.sql:1 already creates profiles" in note for note in notes), notes
