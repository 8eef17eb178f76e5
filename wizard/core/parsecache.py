"""A cache of parsed migration files, keyed by their sha256.

Parsing a file and working out what each statement creates and uses is the wizard's main cost
besides the server's own work; a file that has not changed gives the same answer every time. The
cache lives in the user's cache directory (``$XDG_CACHE_HOME/migration-wizard``), one file per
migration content, written atomically; a cache that cannot be read or written is ignored.
``MIGRATION_WIZARD_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import marshal
import os
import tempfile
from pathlib import Path

import importlib.util

from wizard import __version__


def _parser_stamp() -> str:
    """What identifies the installed parser, without importing it (the cache is there to spare
    that import too): its module file's size and time."""
    spec = importlib.util.find_spec("pglast")
    try:
        info = os.stat(spec.origin)
    except (AttributeError, TypeError, OSError):
        return "unknown"
    return f"{info.st_size}-{info.st_mtime_ns}"


_FORMAT = f"v2-{__version__}-pglast-{_parser_stamp()}"


def directory() -> Path | None:
    if os.environ.get("MIGRATION_WIZARD_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "migration-wizard" / "parse" / _FORMAT


def load(checksum: str) -> list | None:
    """The cached statements of a file: tuples (index, kind, node, start, end, line, text,
    effects), or None."""
    folder = directory()
    if folder is None:
        return None
    try:
        with open(folder / checksum, "rb") as handle:
            return marshal.loads(handle.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None


def store(checksum: str, statements: list) -> None:
    folder = directory()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            marshal.dump(statements, handle)
        os.replace(temporary, folder / checksum)
    except (OSError, ValueError):
        pass
