"""The history is the Supabase CLI's: `supabase migration list` and the wizard agree, both ways."""

import os
import shutil
import subprocess

import pytest
from helpers import ROOT

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


def migration_list(cli: str, project, url: str) -> dict[str, tuple[str, str]]:
    result = subprocess.run(
        [cli, "migration", "list", "--db-url", url], cwd=project, capture_output=True, text=True, timeout=120,
        env={**os.environ, "DO_NOT_TRACK": "1", "SUPABASE_TELEMETRY_DISABLED": "1"},
    )
    assert result.returncode == 0, result.stderr
    rows = {}
    for line in result.stdout.splitlines():
        cells = [c.strip().strip("`").strip() for c in line.split("|")]
        if len(cells) == 3 and cells[0] != "Local" and not set(cells[0]) <= {"-"}:
            local, remote = cells[0], cells[1]
            rows[local or remote] = (local, remote)
    return rows


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
