"""The package as users get it: an sdist built from the checkout's files, a wheel built from that
sdist (what `python -m build` does), installed (not editable) into a fresh virtual environment, and
run from a folder that is not the checkout, with PYTHONPATH unset: whatever the package forgot to
ship, the checkout cannot stand in for it.

One build and one environment for the whole module; the dependencies come from the package index
(pip's own cache makes the runs after the first quick)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import MIGRATIONS, ROOT, cli_env
from test_tui_terminal import Terminal

# pip's cache, read before the suite points XDG_CACHE_HOME at a temporary folder of its own
PIP_CACHE = os.environ.get("PIP_CACHE_DIR") or str(
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pip"
)
LEAKS = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")


def _env(extra: dict | None = None) -> dict:
    env = cli_env({"PIP_CACHE_DIR": PIP_CACHE, **(extra or {})})
    for name in LEAKS:
        env.pop(name, None)
    return env


def _run(command: list, cwd: Path, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(list(map(str, command)), cwd=cwd, env=env or _env(), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def _must(command: list, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    done = _run(command, cwd, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout}\n{done.stderr}"
    return done


def _checkout_files(*paths: str) -> list[str] | None:
    """The files a clone holds, plus files not committed yet (not the ignored ones); None outside git."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", *paths],
                                cwd=ROOT, capture_output=True, text=True, timeout=60)
    except OSError:
        return None
    if listed.returncode != 0 or not listed.stdout:
        return None
    return [name for name in listed.stdout.split("\0") if name and (ROOT / name).is_file()]


def _package_files() -> list[str]:
    """Every file of the package in the checkout (code and data, in any subfolder), relative to it."""
    names = _checkout_files("wizard")
    if names is None:
        names = [str(p.relative_to(ROOT)) for p in (ROOT / "wizard").rglob("*") if p.is_file()]
    return sorted(n for n in names if "__pycache__" not in n and not n.endswith((".pyc", ".pyo")))


def _copy_source(target: Path) -> Path:
    """The checkout's files, elsewhere: the build leaves the checkout alone."""
    names = _checkout_files()
    if names is None:
        shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".tools", ".local-postgres"))
        return target
    for name in names:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    return target


@dataclass
class Installed:
    venv: Path
    sdist: Path
    wheel: Path
    project: Path  # a project folder elsewhere, holding a copy of migrations/
    local_dir: Path

    def command(self, name: str = "migration-wizard") -> Path:
        return self.venv / "bin" / name

    def run(self, *args, timeout: float = 180) -> subprocess.CompletedProcess:
        return _run([self.command(), *args], self.project, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    try:
        import build  # noqa: F401
    except ImportError:
        pytest.fail("the `build` package is missing: install the test extras (pip install -e '.[test]')")
    work = tmp_path_factory.mktemp("install")
    source = _copy_source(work / "source")
    dist = work / "dist"
    _must([sys.executable, "-m", "build", "--outdir", dist, source], work, timeout=600)
    [sdist], [wheel] = list(dist.glob("*.tar.gz")), list(dist.glob("*.whl"))
    venv = work / "venv"
    _must([sys.executable, "-m", "venv", venv], work)
    _must([venv / "bin" / "python", "-m", "pip", "install", "-q", wheel], work, timeout=900)
    project = work / "project"
    shutil.copytree(MIGRATIONS, project / "migrations")
    local_dir = work / "local-postgres"
    found = Installed(venv, sdist, wheel, project, local_dir)
    yield found
    if local_dir.exists():
        found.run("local", "stop", "--local-dir", local_dir)


def test_the_sdist_and_the_wheel_hold_every_file_of_the_package(installed):
    files = _package_files()
    assert "wizard/tui/wizard.tcss" in files and "wizard/core/compat.sql" in files
    with tarfile.open(installed.sdist) as sdist:
        top = sdist.getnames()[0].split("/")[0]
        in_sdist = {name.removeprefix(top + "/") for name in sdist.getnames()}
    with zipfile.ZipFile(installed.wheel) as wheel:
        in_wheel = set(wheel.namelist())
    assert [f for f in files if f not in in_sdist] == []
    assert [f for f in files if f not in in_wheel] == []
    assert not [n for n in in_wheel if "__pycache__" in n or n.endswith(".pyc")]


def test_the_installed_copy_is_the_one_that_runs(installed):
    done = _must([installed.command("python"), "-c",
                  "import wizard, wizard.tui.app; from importlib import resources; "
                  "print(wizard.__file__); print(resources.files('wizard.tui').joinpath('wizard.tcss').is_file())"],
                 installed.project)
    location, stylesheet = done.stdout.split()
    site_packages = installed.venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    assert Path(location) == site_packages / "wizard" / "__init__.py"
    assert not Path(location).resolve().is_relative_to(ROOT)
    assert stylesheet == "True"
    editable = [p.name for p in site_packages.iterdir() if p.suffix == ".pth" and "wizard" in p.name.lower()]
    assert editable == []


def test_the_installed_command_applies_and_verifies_on_the_local_database(installed):
    helped = installed.run("--help")
    assert helped.returncode == 0, helped.stderr
    assert "apply" in helped.stdout and "verify" in helped.stdout

    applied = installed.run("apply", "--local", "--yes", "--local-dir", installed.local_dir, "--json")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Traceback" not in applied.stdout + applied.stderr
    report = json.loads(applied.stdout)
    assert report["ok"] and report["failed"] is None
    assert [m["version"] for m in report["applied"]] == [f"{n:03}" for n in range(1, 19)]

    verified = installed.run("verify", "--local", "--local-dir", installed.local_dir)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "Traceback" not in verified.stdout + verified.stderr


def test_the_installed_fleet_applies_and_reads_a_targets_file(installed):
    targets = installed.project.parent / "fleet.toml"  # beside the project: its wizard sees no fleet
    targets.write_text(f'migrations = "{installed.project.name}/migrations"\n[targets.dev]\nlocal = true\n')
    applied = installed.run("fleet", "apply", "--targets", targets, "--yes", "--json", "--local-dir",
                            installed.local_dir)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert [(t["name"], t["outcome"]) for t in json.loads(applied.stdout)["targets"]] == [("dev", "done")]
    status = installed.run("fleet", "status", "--targets", targets, "--json", "--local-dir", installed.local_dir)
    assert status.returncode == 0, status.stdout + status.stderr
    [dev] = json.loads(status.stdout)["targets"]
    assert dev["counts"]["applied"] == 18 and "Traceback" not in status.stderr


def test_the_installed_terminal_wizard_opens_and_quits(installed):
    if shutil.which("tmux") is None:
        pytest.fail("tmux is needed to run the installed terminal wizard in a terminal: install it (apt-get install tmux)")
    unset = " ".join(f"-u {name}" for name in LEAKS)
    command = (f"env {unset} {shlex.quote(str(installed.command()))} --local --local-dir "
               f"{shlex.quote(str(installed.local_dir))}; echo wizard exited with $?; sleep 60")
    wizard = Terminal([command], installed.project)
    try:
        screen = wizard.wait_for("18 migrations (001 to 018)")
        assert "This wizard applies the SQL migrations of a folder" in screen
        assert "the local database (embedded PostgreSQL)" in screen
        wizard.keys("C-q")
        screen = wizard.wait_for("wizard exited with", timeout=20)
        assert "wizard exited with 0" in screen, screen
        assert "Traceback" not in screen and "Error" not in screen, screen
    finally:
        wizard.close()


def test_the_installed_command_serves_the_wizard_behind_its_token(installed):
    import signal
    import urllib.error
    import urllib.request

    def status(url: str) -> int:
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as refused:
            return refused.code

    server = subprocess.Popen([str(installed.command()), "serve", "--port", "0"], cwd=installed.project, env=_env(),
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), server.stderr.read()
        assert status(url) == 200 and status(url + "static/js/textual.js") == 200
        assert status(url.rsplit("/", 2)[0] + "/") == 403
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0
        output = server.stdout.read() + server.stderr.read()
        server.stdout.close()
        server.stderr.close()
    assert "Traceback" not in output
