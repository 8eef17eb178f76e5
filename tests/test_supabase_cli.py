"""The history is the Supabase CLI's: `supabase migration list` and the wizard agree, both ways."""

import subprocess

from helpers import migration_list


def test_migration_list_agrees_with_the_wizard_both_ways(supabase_cli, tmp_path, database, cli):
    project = tmp_path / "project"
    folder = project / "supabase" / "migrations"
    folder.mkdir(parents=True)
    (folder / "001_users.sql").write_text("CREATE TABLE users (id int PRIMARY KEY);\n")
    (folder / "002_posts.sql").write_text("CREATE TABLE posts (id int PRIMARY KEY, author int REFERENCES users);\n")
    applied = cli("apply", "--yes", "--database-url", database, cwd=project)
    assert applied.code == 0, applied.err
    (folder / "003_tags.sql").write_text("CREATE TABLE tags (id int PRIMARY KEY);\n")

    rows = migration_list(supabase_cli, project, database)
    assert rows == {"001": ("001", "001"), "002": ("002", "002"), "003": ("003", "")}

    pushed = subprocess.run(
        [supabase_cli, "db", "push", "--db-url", database, "--yes"], cwd=project, capture_output=True, text=True,
        timeout=120,
    )
    assert pushed.returncode == 0, pushed.stderr
    status = cli("status", "--json", "--database-url", database, cwd=project)
    assert [(m["version"], m["state"]) for m in status.json()["migrations"]] == [
        ("001", "applied"), ("002", "applied"), ("003", "applied")
    ]
    again = cli("apply", "--json", "--database-url", database, cwd=project)
    assert again.json()["applied"] == []
