"""A Supabase project's own conventions: ``supabase/config.toml`` and its seed files.

A project made with the Supabase CLI keeps ``supabase/config.toml`` beside ``supabase/migrations/``.
The wizard reads what concerns it: ``project_id``, ``[db] major_version`` (the PostgreSQL major
version the project runs on), and ``[db.seed]``: ``enabled`` (default true) and ``sql_paths``, globs
relative to ``supabase/`` (default ``['./seed.sql']``). A seed file is recorded the way the Supabase
CLI records it, in ``supabase_migrations.seed_files(path, hash)``: the path as the CLI writes it
(relative to the directory holding ``supabase/``, such as ``supabase/seed.sql``) and the sha256 of the
file's bytes in hex.

A config.toml that is not valid TOML, or whose values have the wrong type, is a ``ConfigError``
naming the file and line; nothing may run then.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from wizard.core.errors import ExitCode, WizardError

CONFIG = "config.toml"
DEFAULT_SEED_PATHS = ("./seed.sql",)


class ConfigError(WizardError):
    """supabase/config.toml cannot be read: the message names the file and line."""

    kind = "config"
    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class SeedFile:
    path: str  # as the Supabase CLI records it: supabase/seed.sql
    file: Path  # where it is on disk

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.file.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Project:
    """What ``supabase/config.toml`` says, as far as the wizard uses it."""

    supabase_dir: Path
    config: Path
    project_id: str | None = None
    major_version: int | None = None
    major_version_line: int | None = None
    seed_enabled: bool = True
    seed_paths: tuple[str, ...] = DEFAULT_SEED_PATHS
    warnings: list[str] = field(default_factory=list)

    @property
    def root(self) -> Path:
        """The directory holding supabase/: seed paths are recorded relative to it."""
        return self.supabase_dir.parent

    @property
    def migrations(self) -> Path:
        return self.supabase_dir / "migrations"

    def seeds(self) -> tuple[list[SeedFile], list[str]]:
        """The seed files in the order the CLI runs them (each pattern's matches sorted, the first
        match of a file kept), and what could not be matched."""
        if not self.seed_enabled:
            return [], []
        found: list[SeedFile] = []
        seen: set[Path] = set()
        warnings = []
        for pattern in self.seed_paths:
            full = pattern if os.path.isabs(pattern) else os.path.join(self.supabase_dir, pattern)
            matches = sorted(glob.glob(full, recursive=True))
            files: list[Path] = []
            for match in matches:
                path = Path(match)
                if path.is_dir():
                    files += sorted(p for p in path.rglob("*.sql") if p.is_file())
                elif path.is_file():
                    files.append(path)
            if not files:
                if tuple(self.seed_paths) != DEFAULT_SEED_PATHS:  # no seed.sql is the common case
                    warnings.append(f"no file matches the seed path {pattern!r} ([db.seed] sql_paths)")
                continue
            for path in files:
                resolved = path.resolve()
                if resolved in seen:
                    continue
                seen.add(resolved)
                found.append(SeedFile(self._recorded(path), path))
        return found, warnings

    def _recorded(self, path: Path) -> str:
        try:
            relative = os.path.relpath(os.path.normpath(path), os.path.normpath(self.root))
        except ValueError:
            return str(path)
        if relative.startswith(".."):
            return os.path.normpath(str(path))
        return Path(relative).as_posix()


def find(migrations: Path | None, cwd: Path | None = None) -> Project | None:
    """The project whose config.toml sits beside the migration folder (a folder named
    ``supabase/migrations``), or, without a folder given, ``./supabase/config.toml``."""
    cwd = cwd or Path.cwd()
    candidates = []
    if migrations is not None:
        folder = Path(os.path.abspath(migrations))
        if folder.name == "migrations" and folder.parent.name == "supabase":
            candidates.append(folder.parent)
    else:
        candidates.append(cwd / "supabase")
    for supabase_dir in candidates:
        config = supabase_dir / CONFIG
        if config.is_file():
            return read(config)
    return None


def read(config: Path) -> Project:
    import tomllib

    shown = _shown(config)
    try:
        text = config.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{shown}: cannot read the file ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = re.search(r"\(at line (\d+), column (\d+)\)", message)
        place = f"{shown}:{where.group(1)}:{where.group(2)}" if where else shown
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", message) if where else message
        raise ConfigError(f"{place}: the file is not valid TOML: {reason}") from None

    def wrong(key: str, expected: str) -> ConfigError:
        line = _line_of(text, key)
        return ConfigError(f"{shown}{f':{line}' if line else ''}: {key} must be {expected}")

    project_id = data.get("project_id")
    if project_id is not None and not isinstance(project_id, str):
        raise wrong("project_id", "a string")
    db = data.get("db", {})
    if not isinstance(db, dict):
        raise wrong("db", "a table ([db])")
    major = db.get("major_version")
    if major is not None and (isinstance(major, bool) or not isinstance(major, int)):
        raise wrong("db.major_version", "a number, such as 15 or 17")
    seed = db.get("seed", {})
    if not isinstance(seed, dict):
        raise wrong("db.seed", "a table ([db.seed])")
    enabled = seed.get("enabled", True)
    if not isinstance(enabled, bool):
        raise wrong("db.seed.enabled", "true or false")
    paths = seed.get("sql_paths", list(DEFAULT_SEED_PATHS))
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise wrong("db.seed.sql_paths", "a list of paths, such as ['./seed.sql']")
    return Project(
        supabase_dir=config.parent,
        config=config,
        project_id=project_id,
        major_version=major,
        major_version_line=_line_of(text, "db.major_version") if major is not None else None,
        seed_enabled=enabled,
        seed_paths=tuple(paths),
    )


def _line_of(text: str, key: str) -> int | None:
    """The line of a dotted key (``db.seed.enabled``): under its table's header (``[db.seed]``), or
    written dotted under a header above it (``seed.enabled`` under ``[db]``); None when not found so
    (an inline table), rather than the line of a key of the same name in another table."""
    table = ""
    for number, line in enumerate(text.split("\n"), start=1):
        header = re.match(r"^[ \t]*\[\[?([^\[\]]+)\]\]?[ \t]*(?:#.*)?$", line)
        if header:
            table = ".".join(part.strip().strip("\"'") for part in header.group(1).split("."))
            continue
        assigned = re.match(r"^[ \t]*([^=#\[]+?)[ \t]*=", line)
        if not assigned:
            continue
        name = ".".join(part.strip().strip("\"'") for part in assigned.group(1).split("."))
        if (f"{table}.{name}" if table else name) == key:
            return number
    return None


def _shown(path: Path) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


def shown(path: Path) -> str:
    """A path as the user would type it from here."""
    return _shown(path)


def major_version_warning(project: Project, server_version: int | None) -> str | None:
    """What to say when the server's PostgreSQL major version is not the project's."""
    if project.major_version is None or not server_version:
        return None
    major = server_version // 10000
    if major == project.major_version:
        return None
    return (f"the project runs PostgreSQL {project.major_version} ([db] major_version), this server "
            f"PostgreSQL {major}: what works here may behave differently there")
