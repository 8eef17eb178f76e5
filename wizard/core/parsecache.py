"""A cache of parsed migration files, keyed by their sha256.

Parsing a file and working out what each statement creates and uses is the wizard's main cost
besides the server's own work; a file that has not changed gives the same answer every time. The
cache lives in the user's cache directory (``$XDG_CACHE_HOME/migration-wizard``), one file per
migration content, written atomically; a cache that cannot be read or written is ignored.
``MIGRATION_WIZARD_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import tempfile
from pathlib import Path
from typing import Any

import importlib.util

from wizard import __version__


def _stamp() -> str:
    """What identifies the code whose answers are cached, without importing it (the cache is there
    to spare the parser's import too): the size and time of the parser's module file and of the
    modules that split statements and work out their effects (PL/pgSQL bodies included)."""
    spec = importlib.util.find_spec("pglast")
    here = Path(__file__).parent
    parts = []
    modules = ("catalog.py", "sqlfile.py", "objects.py", "nodes.py", "effects.py", "plpgsql.py")
    for path in (spec.origin if spec is not None else None, *(here / name for name in modules)):
        if path is None:
            return "unknown"
        try:
            info = os.stat(path)
        except OSError:
            return "unknown"
        parts.append(f"{info.st_size:x}{info.st_mtime_ns:x}")
    return hashlib.sha1("-".join(parts).encode()).hexdigest()[:16]


_FORMAT = f"v4-{__version__}-{_stamp()}"


def directory() -> Path | None:
    if os.environ.get("MIGRATION_WIZARD_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "migration-wizard" / "parse" / _FORMAT


def load(checksum: str, folder: Path | None = None) -> list[Any] | None:
    """What ``store`` wrote for this checksum, or None: whatever marshal writes, each caller reads
    back what it stored. For a migration file, its statements: tuples (index, kind, parse tree as
    marshal bytes, start, end, line, effects as plain tuples). ``folder`` is ``directory()``, when
    the caller already has it."""
    folder = folder or directory()
    if folder is None:
        return None
    try:
        with open(os.path.join(folder, checksum), "rb") as handle:
            cached: list[Any] = marshal.loads(handle.read())
            return cached
    except (OSError, EOFError, ValueError, TypeError):
        return None


def store(checksum: str, statements: list[Any]) -> None:
    folder = directory()
    if folder is None:
        return
    try:
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            _prune(folder.parent, keep=folder.name)
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            marshal.dump(statements, handle)
        os.replace(temporary, folder / checksum)
    except (OSError, ValueError):
        pass


STALE_DAYS = 30


def _prune(parent: Path, keep: str) -> None:
    """Remove the caches of other versions (or code) of the wizard that no run has written to for
    ``STALE_DAYS`` days: each keeps the facts of every file it parsed."""
    import shutil
    import time

    cutoff = time.time() - STALE_DAYS * 86400
    try:
        entries = list(parent.iterdir())
    except OSError:
        return
    for entry in entries:
        try:
            if entry.name != keep and entry.is_dir() and entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            pass
