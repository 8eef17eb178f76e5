"""The targets file, ``migration-wizard.toml``: the databases of a fleet, by name.

Each target is a connection URL held in an environment variable (``url_env``), a Supabase project
over the Management API (``project_ref``, with the access token's variable ``token_env``), or the
local database (``local = true``); ``group`` labels it. A top-level ``groups`` list orders the
groups of a rollout (each group finishes before the next starts). Secrets are named by variable,
never written in the file, so it is safe to commit::

    migrations = "supabase/migrations"      # optional: the folder, beside this file
    groups = ["staging", "production"]      # optional: the order of the rollout

    [targets.staging]
    url_env = "STAGING_DATABASE_URL"
    group = "staging"

    [targets.acme]
    project_ref = "abcdefghijklmnopqrst"
    token_env = "SUPABASE_ACCESS_TOKEN"     # the default
    group = "production"

A malformed file is a :class:`TargetsError` (exit 2) naming its line. Reading it connects to
nothing and reads no variable.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wizard.core.errors import ExitCode, WizardError

FILENAME = "migration-wizard.toml"
DEFAULT_TOKEN_ENV = "SUPABASE_ACCESS_TOKEN"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_REF = re.compile(r"^[a-z]{20}$")
_TOP_KEYS = {"migrations", "groups", "api_url", "targets"}
_TARGET_KEYS = {"url_env", "project_ref", "token_env", "local", "group", "api_url"}
# Keys people write when they mean a variable: each would put a secret in a file meant to be committed.
_SECRET_KEYS = {"url": "url_env", "database_url": "url_env", "db_url": "url_env", "dsn": "url_env",
                "password": "url_env", "token": "token_env", "access_token": "token_env"}


class TargetsError(WizardError):
    """The targets file is missing or malformed."""

    kind = "targets-file"
    exit_code = ExitCode.USAGE

    def __init__(self, message: str, path: Path | None = None, line: int | None = None) -> None:
        where = f"{path}:{line}: " if path is not None and line is not None else f"{path}: " if path else ""
        super().__init__(where + message)
        self.path, self.line = path, line


@dataclass(frozen=True)
class Target:
    """One database of the fleet, as the file names it: no secret, only where to find it."""

    name: str
    url_env: str | None = None  # the variable holding a PostgreSQL URL
    project_ref: str | None = None  # a Supabase project, over the Management API
    token_env: str = DEFAULT_TOKEN_ENV  # the variable holding its personal access token
    local: bool = False  # the local embedded database
    group: str | None = None
    api_url: str | None = None  # the Management API's address, when not the default
    line: int | None = None  # where the file names it

    @property
    def kind(self) -> str:
        return "local" if self.local else "https" if self.project_ref else "url"

    @property
    def described(self) -> str:
        """How the target is reached, without any secret: ``$STAGING_DATABASE_URL``, ``project
        abc... over HTTPS ($SUPABASE_ACCESS_TOKEN)``, ``local database``."""
        if self.local:
            return "local database"
        if self.project_ref:
            return f"project {self.project_ref} over HTTPS (${self.token_env})"
        return f"${self.url_env}"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "group": self.group,
                **({"url_env": self.url_env} if self.url_env else {}),
                **({"project_ref": self.project_ref, "token_env": self.token_env} if self.project_ref else {})}


@dataclass(frozen=True)
class Fleet:
    """The targets of a file, in its order, and the order of its groups."""

    path: Path
    targets: tuple[Target, ...]
    groups: tuple[str, ...] = ()  # the rollout's order; empty: one wave
    migrations: Path | None = None  # the folder the file names, resolved beside it

    def named(self, names: list[str]) -> list[Target]:
        """The targets of these names, in the file's order; a name the file lacks is a TargetsError."""
        known = {t.name for t in self.targets}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise TargetsError(f"no target named {', '.join(unknown)} (the file names "
                               f"{', '.join(sorted(known)) or 'none'})", self.path)
        return [t for t in self.targets if t.name in names]

    def in_groups(self, groups: list[str]) -> list[Target]:
        known = {t.group for t in self.targets if t.group}
        unknown = [g for g in groups if g not in known]
        if unknown:
            raise TargetsError(f"no target is in group {', '.join(unknown)} (groups: "
                               f"{', '.join(sorted(known)) or 'none'})", self.path)
        return [t for t in self.targets if t.group in groups]

    def waves(self, targets: list[Target]) -> list[list[Target]]:
        """The rollout's waves: one per group in ``groups`` order, or all the targets at once."""
        if not self.groups:
            return [list(targets)] if targets else []
        waves = [[t for t in targets if t.group == g] for g in self.groups]
        return [w for w in waves if w]


def find(path: Path | None = None, cwd: Path | None = None) -> Path:
    """The targets file: ``path``, or migration-wizard.toml in the working directory."""
    if path is not None:
        if not path.is_file():
            raise TargetsError(f"the targets file {path} {'is not a file' if path.exists() else 'does not exist'}")
        return path
    found = (cwd / FILENAME) if cwd is not None else Path(FILENAME)
    if not found.is_file():
        raise TargetsError(f"no {FILENAME} here: write one naming the fleet's databases (see the README's "
                           "'Many databases'), or pass --targets FILE")
    return found


def load(path: Path | None = None, cwd: Path | None = None) -> Fleet:
    """Read and check the targets file."""
    found = find(path, cwd)
    try:
        text = found.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetsError(f"cannot read it: {getattr(exc, 'strerror', None) or exc}", found) from None
    return parse(text, found)


def parse(text: str, path: Path) -> Fleet:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_in_message(str(exc))
        message = getattr(exc, "msg", None) or re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise TargetsError(f"not valid TOML: {message}", path, line) from None
    lines = _Lines(text)
    for key in document:
        if key not in _TOP_KEYS:
            raise TargetsError(_unknown(key, _TOP_KEYS), path, lines.key(None, key))
    groups = _groups(document.get("groups", []), path, lines)
    table = document.get("targets")
    if not isinstance(table, dict) or not table:
        raise TargetsError("it names no target: add a [targets.NAME] table for each database", path,
                           lines.key(None, "targets"))
    default_api = _text(document, None, "api_url", path, lines)
    targets = tuple(_target(name, value, path, lines, groups, default_api) for name, value in table.items())
    migrations = _text(document, None, "migrations", path, lines)
    folder = (path.parent / migrations) if migrations else None
    return Fleet(path, targets, groups, folder)


def _target(name: str, value: Any, path: Path, lines: _Lines, groups: tuple[str, ...],
            default_api: str | None) -> Target:
    line = lines.table(name)
    if not _NAME.match(name):
        raise TargetsError(f"{_shown(name)} is not a target name: use letters, digits, - and _ (up to 63, "
                           "starting with a letter or digit)", path, line)
    if not isinstance(value, dict):
        raise TargetsError(f"targets.{name} must be a table ([targets.{name}])", path, line)
    for key in value:
        if key in _SECRET_KEYS:
            raise TargetsError(f"targets.{name}: {key} would write a secret into a file meant to be committed; "
                               f"put it in an environment variable and name the variable with {_SECRET_KEYS[key]}",
                               path, lines.key(name, key))
        if key not in _TARGET_KEYS:
            raise TargetsError(f"targets.{name}: {_unknown(key, _TARGET_KEYS)}", path, lines.key(name, key))
    url_env = _variable(value, name, "url_env", path, lines)
    token_env = _variable(value, name, "token_env", path, lines)
    ref = _text(value, name, "project_ref", path, lines)
    local = value.get("local", False)
    if not isinstance(local, bool):
        raise TargetsError(f"targets.{name}: local is true or false", path, lines.key(name, "local"))
    ways = [k for k, v in (("url_env", url_env), ("project_ref", ref), ("local", local)) if v]
    if len(ways) != 1:
        said = f"it has {' and '.join(ways)}" if ways else "it has none"
        raise TargetsError(f"targets.{name}: give exactly one of url_env, project_ref or local = true ({said})",
                           path, line)
    if ref is not None and not _REF.match(ref):
        raise TargetsError(f"targets.{name}: project_ref is a project's 20 lowercase letters (the xxxx of "
                           "https://xxxx.supabase.co)", path, lines.key(name, "project_ref"))
    if token_env is not None and ref is None:
        raise TargetsError(f"targets.{name}: token_env goes with project_ref (the Management API)", path,
                           lines.key(name, "token_env"))
    group = _text(value, name, "group", path, lines)
    if group is not None and not _NAME.match(group):
        raise TargetsError(f"targets.{name}: {_shown(group)} is not a group name: use letters, digits, - and _",
                           path, lines.key(name, "group"))
    if groups and group not in groups:
        said = f"its group {group} is not in" if group else "it has no group; give it one of"
        raise TargetsError(f"targets.{name}: {said} groups = [{', '.join(groups)}], which orders the rollout", path,
                           lines.key(name, "group") or line)
    api_url = _text(value, name, "api_url", path, lines) or default_api
    return Target(name, url_env, ref, token_env or DEFAULT_TOKEN_ENV, local, group, api_url, line)


def _groups(value: Any, path: Path, lines: _Lines) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(g, str) and _NAME.match(g) for g in value):
        raise TargetsError("groups is a list of group names, in the order of the rollout "
                           '(groups = ["staging", "production"])', path, lines.key(None, "groups"))
    if len(set(value)) != len(value):
        raise TargetsError("groups names a group twice", path, lines.key(None, "groups"))
    return tuple(value)


def _text(table: dict[str, Any], name: str | None, key: str, path: Path, lines: _Lines) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        where = f"targets.{name}: " if name else ""
        raise TargetsError(f"{where}{key} is a non-empty string", path, lines.key(name, key))
    return value


def _variable(table: dict[str, Any], name: str, key: str, path: Path, lines: _Lines) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not _VARIABLE.match(value):
        # never shown: what was written here may be the secret itself
        raise TargetsError(f"targets.{name}: {key} names an environment variable (such as STAGING_DATABASE_URL), "
                           "not its value", path, lines.key(name, key))
    return value


def _unknown(key: str, known: set[str]) -> str:
    return f"{_shown(key)} is not a setting here (known: {', '.join(sorted(known))})"


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")


def _line_in_message(message: str) -> int | None:
    match = re.search(r"at line (\d+)", message)
    return int(match.group(1)) if match else None


class _Lines:
    """Where a table or a key is written: tomllib gives values, not positions."""

    def __init__(self, text: str) -> None:
        self.rows = text.splitlines()

    def table(self, name: str) -> int | None:
        header = re.compile(r"^\s*\[\s*targets\s*\.\s*(?:\"" + re.escape(name) + r"\"|'" + re.escape(name)
                            + r"'|" + re.escape(name) + r")\s*\]")
        return next((i + 1 for i, row in enumerate(self.rows) if header.match(row)), None)

    def key(self, name: str | None, key: str) -> int | None:
        """The line of ``key`` in the table of target ``name`` (None: the top level, before any
        table); else the table's own line."""
        start = 0
        if name is not None:
            start = self.table(name) or 0
            if not start:
                return None
        pattern = re.compile(r"^\s*(?:\"" + re.escape(key) + r"\"|" + re.escape(key) + r")\s*=")
        for index in range(start, len(self.rows)):
            if re.match(r"^\s*\[", self.rows[index]):
                break
            if pattern.match(self.rows[index]):
                return index + 1
        return start or None


def shard(targets: list[Target], index: int, count: int) -> list[Target]:
    """The ``index``-th (from 1) of ``count`` slices of the targets: their names sorted, every
    ``count``-th name from the ``index``-th. The same names give the same slices on every machine,
    whatever the file's order, and the slices cover every target exactly once."""
    if not 1 <= index <= count:
        raise TargetsError(f"--shard {index}/{count}: the slice is from 1 to {count}")
    chosen = {t.name for t in sorted(targets, key=lambda t: t.name)[index - 1::count]}
    return [t for t in targets if t.name in chosen]
