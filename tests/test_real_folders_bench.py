"""bench/real_folders.py end to end on two folders of our own, in a git repository made here: it
takes each folder at its commit (not the working tree), applies it on a new local database, and
reports where it stops and whether plan saw it coming."""

import json
import shutil
import subprocess
import sys

import pytest
from helpers import ROOT, cli_env

FINE = {
    "20240101000000_profiles.sql": "create table public.profiles (\n  id uuid primary key default gen_random_uuid(),\n"
                                   "  name text not null\n);\n",
    "20240102000000_notes.sql": "create table public.notes (\n  id bigint generated always as identity primary key,\n"
                                "  profile_id uuid references public.profiles (id)\n);\n",
}
BROKEN = {
    "20240101000000_teams.sql": "create table public.teams (id bigint primary key);\n",
    "20240102000000_members.sql": "create table public.members (\n  id bigint primary key,\n"
                                  "  team_id bigint references public.groups (id)\n);\n",
}


def _git(repo, *args):
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                   check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="the script reads folders out of git")
def test_real_folders_reports_applied_and_stopped_folders(tmp_path):
    repo = tmp_path / "work"
    for folder, files in (("supabase/migrations", FINE), ("other/supabase/migrations", BROKEN)):
        (repo / folder).mkdir(parents=True)
        for name, sql in files.items():
            (repo / folder / name).write_text(sql)
    (repo / "supabase" / "config.toml").write_text('project_id = "fine"\n')
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "folders")
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    # a later commit changes the working tree: the script must measure the named commit
    (repo / "other/supabase/migrations/20240102000000_members.sql").write_text("select 1;\n")
    _git(repo, "commit", "-q", "-am", "later")
    mirrors = tmp_path / "mirrors"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(mirrors / "someone+fine" / "repo")], check=True)
    manifest = tmp_path / "folders.toml"
    manifest.write_text(
        f'[[folder]]\nname = "fine"\nrepo = "someone/fine"\ncommit = "{commit}"\npath = "supabase/migrations"\n\n'
        f'[[folder]]\nname = "broken"\nrepo = "someone/broken"\ncommit = "{commit}"\n'
        f'path = "other/supabase/migrations"\nmirror = "{mirrors / "someone+fine" / "repo"}"\n'
    )
    out = tmp_path / "results.json"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "real_folders.py"), "--manifest", str(manifest), "--mirrors", str(mirrors),
         "--json", str(out), "--uses"],
        cwd=tmp_path, env=cli_env({"TMPDIR": str(scratch)}), capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "1 of 2 folder(s) applied fully" in result.stdout
    results = {r["name"]: r for r in json.loads(out.read_text())["results"]}
    fine, broken = results["fine"], results["broken"]
    assert (fine["outcome"], fine["applied"], fine["total"], fine["files"]) == ("applied", 2, 2, 2)
    assert fine["uses"]["config_toml"] is True
    assert (broken["outcome"], broken["applied"], broken["total"]) == ("stopped", 1, 2)
    assert broken["stop"]["file"] == "20240102000000_members.sql"
    assert (broken["stop"]["line"], broken["stop"]["sqlstate"]) == (3, "42P01")
    assert broken["predicted"] == "yes: same line"
    assert "| broken (someone/broken) |" in result.stdout and "20240102000000:3 42P01" in result.stdout
    # the temporary directories and local servers are gone
    assert not list(scratch.iterdir())


def test_real_folders_says_what_is_missing_without_a_traceback(tmp_path):
    manifest = tmp_path / "folders.toml"
    manifest.write_text('[[folder]]\nname = "x"\nrepo = "a/b"\ncommit = "' + "0" * 40 + '"\npath = "m"\n')
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "real_folders.py"), "--manifest", str(manifest), "--mirrors",
         str(tmp_path), "--json", str(tmp_path / "r.json")],
        cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    assert "no mirror holds a/b@0000000" in result.stdout
    assert "Traceback" not in result.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[[folder]]\nname = "x"\nrepo = "a/b"\ncommit = "abc"\npath = "m"\n')
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "real_folders.py"), "--manifest", str(bad)],
                            cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "40 hex digits" in result.stderr
