"""The command line run inside the test process (fast enough for hundreds of generated cases), and a
watch over everything a run shows or writes, that fails on any secret the test used.

``run_in_process(*args, cwd=..., env=...)`` runs ``wizard.cli.main`` as the console script would: in
``cwd``, with the process environment of ``helpers.cli_env`` (no database settings of the
machine's own) plus ``env``, stdin not a terminal, stdout and stderr captured. It returns the same
``Result`` as ``helpers.run_cli``.

``SecretWatch`` collects each run's stdout and stderr (JSON documents included) and the folders a
run may write into (the project's, the local database's, the parse cache), and ``check()`` fails
naming every place that holds one of the secrets, in any of the forms a secret travels in (as is,
percent-encoded, base64 of a key's parts...).
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus

from helpers import Result, cli_env

from wizard import cli


@contextlib.contextmanager
def _process(cwd: Path, env: dict[str, str]) -> Iterator[None]:
    """The working directory and the environment of a run, restored afterwards."""
    saved_env, saved_cwd, saved_stdin = dict(os.environ), os.getcwd(), sys.stdin
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    sys.stdin = io.StringIO("")  # not a terminal: nothing is ever asked
    try:
        yield
    finally:
        sys.stdin = saved_stdin
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


def run_in_process(*args: object, cwd: Path | None = None, env: dict[str, str] | None = None,
                   watch: SecretWatch | None = None) -> Result:
    """One command, run by ``wizard.cli.main`` in this process; its exit code and output."""
    out, err = io.StringIO(), io.StringIO()
    argv = [str(a) for a in args]
    environment = cli_env(env)
    environment.pop("WIZARD_DEBUG", None)
    with _process(cwd or Path.cwd(), environment), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # the argument parser's own exit (a bad flag: 2)
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
            if exc.code not in (None, 0) and not isinstance(exc.code, int):
                print(exc.code, file=sys.stderr)
        finally:
            gc.enable()  # a headless command turns the cyclic collector off for its short life
    result = Result(int(code), out.getvalue(), err.getvalue())
    if watch is not None:
        watch.record(" ".join(argv), result)
    return result


def forms(secret: str) -> set[str]:
    """The ways a secret can show up in text: as is, percent-encoded (both ways), and each piece
    between the characters a URL splits on, when long enough to be telling."""
    import re

    found = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
    found |= {piece for piece in re.split(r"[@#/?:&=%\s]", secret) if len(piece) >= 6}
    return {f for f in found if f}


@dataclass
class SecretWatch:
    """Everything the runs of a test showed or wrote, checked for the test's secrets."""

    secrets: dict[str, str] = field(default_factory=dict)  # label -> secret
    outputs: list[tuple[str, str]] = field(default_factory=list)  # (where, text)
    folders: list[Path] = field(default_factory=list)
    allowed: set[Path] = field(default_factory=set)  # files that hold secrets on purpose (the inputs)
    runs: int = 0
    checked: bool = False

    def secret(self, label: str, value: str) -> str:
        """Watch for this secret (a password, a token, a key); returns it."""
        assert len(value) >= 8, "a watched secret must be distinctive"
        self.secrets[label] = value
        return value

    def folder(self, path: Path) -> Path:
        """Watch a folder a run may write into: every file under it is read at check time."""
        self.folders.append(Path(path))
        return path

    def allow(self, path: Path) -> Path:
        """A file that holds secrets on purpose (an .env file the test wrote, the .env.local that
        ``doctor --save`` writes): not checked."""
        self.allowed.add(Path(path).resolve())
        return path

    def record(self, command: str, result: Result) -> None:
        self.runs += 1
        self.outputs.append((f"stdout of `{command}`", result.out))
        self.outputs.append((f"stderr of `{command}`", result.err))

    def text(self, where: str, text: str) -> None:
        """Any other text to check (a log read from a server, a document)."""
        self.outputs.append((where, text))

    def files(self) -> list[Path]:
        found = []
        for folder in self.folders:
            if folder.is_file():
                found.append(folder)
                continue
            for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
                if path.is_file() and not path.is_symlink() and path.resolve() not in self.allowed:
                    found.append(path)
        return found

    def leaks(self) -> list[str]:
        """Each place that holds a secret: where, and which secret (by its label, never the value)."""
        found = []
        wanted = {label: forms(value) for label, value in self.secrets.items()}
        for where, text in self.outputs:
            for label, variants in wanted.items():
                if any(v in text for v in variants):
                    found.append(f"{where}: {label}")
        for path in self.files():
            try:
                data = path.read_bytes()
            except OSError:
                continue
            for label, variants in wanted.items():
                if any(v.encode() in data for v in variants):
                    found.append(f"{path}: {label}")
        return found

    def check(self) -> None:
        self.checked = True
        assert self.secrets, "nothing was watched"
        leaks = self.leaks()
        assert not leaks, "secrets shown or written:\n  " + "\n  ".join(leaks)
