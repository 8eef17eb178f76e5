"""The migration folder: files, versions, checksums and statements with their lines.

A migration file is named ``<digits>_<name>.sql``. Files are ordered by file name, as the Supabase
CLI orders them; the version is the digits, kept as text. Each file is parsed once with the real
PostgreSQL parser (pglast) to split it into statements that keep their position in the file, so a
server error can be mapped back to file:line:column.

Problems that make a folder unusable (duplicate versions, unreadable or empty files, psql
meta-commands, SQL that does not parse) are collected together in ``Catalog.problems``; nothing may
be applied while there is one.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from wizard.core.errors import ExitCode, WizardError
from wizard.core.sqlfile import NO_TRANSACTION_HEADER, Migration, Problem, Statement, location

__all__ = [
    "CHECKS_FILE", "MIGRATION_FILE", "NO_TRANSACTION_HEADER", "Catalog", "FolderNotFound", "Migration", "Problem",
    "Statement", "default_directory", "load", "load_file", "location", "printable",
]


# ASCII digits only, and the name ends the file name (no trailing newline): as the Supabase CLI reads them.
MIGRATION_FILE = re.compile(r"^([0-9]+)_(.+)\.sql\Z")
CHECKS_FILE = "checks.toml"
_META_COMMAND = re.compile(r"^[ \t]*(\\[a-zA-Z!?]+)", re.MULTILINE)


@dataclass
class Catalog:
    directory: Path
    migrations: list[Migration]
    problems: list[Problem]
    ignored: list[str]
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def by_version(self) -> dict[str, Migration]:
        return {m.version: m for m in self.migrations}


class FolderNotFound(WizardError):
    """The migration folder does not exist: the message is the folder."""

    kind = "folder-not-found"
    exit_code = ExitCode.USAGE


class FolderUnreadable(WizardError):
    """The migration folder exists but its list of files cannot be read (no permission)."""

    kind = "folder-unreadable"
    exit_code = ExitCode.USAGE


def default_directory(cwd: Path | None = None) -> Path:
    """``migrations/`` in the working directory, else ``supabase/migrations/``."""
    cwd = cwd or Path.cwd()
    for candidate in (cwd / "migrations", cwd / "supabase" / "migrations"):
        if candidate.is_dir():
            return candidate
    return cwd / "migrations"


def load(directory: Path) -> Catalog:
    """Read and parse every migration file of a folder."""
    if not directory.is_dir():
        raise FolderNotFound(str(directory))
    migrations: list[Migration] = []
    problems: list[Problem] = []
    ignored: list[str] = []
    seen: dict[str, str] = {}
    widths: set[int] = set()
    from wizard.core import parsecache

    cache = parsecache.directory()

    try:
        entries = sorted(directory.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        raise FolderUnreadable(f"cannot read the migration folder {directory}: {exc.strerror or exc}; "
                               "nothing was run") from None
    for path in entries:
        match = MIGRATION_FILE.match(path.name)
        if _CONTROL.search(path.name):  # an escape sequence in a name would be run by the terminal showing it
            shown = printable(path.name)
            if match and not path.is_dir():
                problems.append(Problem("unprintable-name", shown, "the file name holds a control character "
                                        "(shown escaped): rename the file"))
            elif not path.name.startswith("."):
                ignored.append(shown)
            continue
        if match and not path.is_file() and not path.is_dir():
            # named as a migration, but no file to read: a broken or looping symbolic link, a pipe...
            problems.append(Problem("unreadable", path.name, _not_a_file(path)))
            continue
        if not match or not path.is_file():
            if path.name != CHECKS_FILE and not path.name.startswith("."):
                ignored.append(path.name)
            continue
        version, name = match.group(1), match.group(2)
        if version in seen:
            problems.append(
                Problem(
                    "duplicate-version",
                    path.name,
                    f"version {version} is used by two files: {seen[version]} and {path.name}",
                )
            )
            continue
        seen[version] = path.name
        widths.add(len(version))
        migration, file_problems = load_file(path, version, name, cache)
        problems.extend(file_problems)
        if migration is not None:
            migrations.append(migration)

    warnings = []
    if len(widths) > 1:
        warnings.append(
            Problem(
                "version-widths",
                str(directory),
                "versions have different widths (" + ", ".join(str(w) for w in sorted(widths)) + " digits): "
                "files run in file-name order, as the Supabase CLI runs them, which may not be numeric order",
            )
        )
    return Catalog(directory, migrations, problems, ignored, warnings)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str, keep_lines: bool = False) -> str:
    """Text as it may reach a terminal: its control characters (an escape sequence would move the
    cursor, rewrite the screen or write the clipboard) shown escaped (\\x1b); with ``keep_lines``,
    line breaks and tabs kept."""
    pattern = _CONTROL_BUT_LINES if keep_lines else _CONTROL
    return pattern.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def _not_a_file(path: Path) -> str:
    """Why an entry named as a migration file cannot be read as one."""
    if path.is_symlink():
        try:
            path.stat()
        except OSError as exc:
            return f"cannot read the file: it is a symbolic link that leads nowhere ({exc.strerror})"
    return "cannot read the file: it is not a regular file"


def load_file(path: Path, version: str, name: str, cache: Path | None = None,
              label: str | None = None) -> tuple[Migration | None, list[Problem]]:
    """Read and parse one file of SQL (a migration, or a seed file read the same way); the
    problems found are named after ``label`` (default: the file's name)."""
    label = label or path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem("unreadable", label, f"cannot read the file: {exc.strerror}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return None, [Problem("not-utf8", label, "the file is not UTF-8 text (save it as UTF-8)", line=line)]
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:  # PostgreSQL would never see the SQL after it
        line = text.count("\n", 0, text.index("\x00")) + 1
        return None, [Problem("nul-byte", label, "the file holds a NUL byte, which is not SQL text (PostgreSQL would "
                              "read the file only up to it)", line=line)]
    migration = Migration(version, name, path, text, hashlib.sha256(raw).hexdigest())
    problems = [] if _from_cache(migration, cache) else _parse_and_cache(migration)
    problems = [replace(p, file=label) for p in problems] if label != path.name else problems
    if not problems and not migration.statements:
        problems.append(Problem("empty", label, "the file holds no SQL statement"))
    return migration, problems


def _from_cache(migration: Migration, folder: Path | None) -> bool:
    """The statements of a file as the parse cache holds them, with their effects as plain tuples
    (turned into objects when first asked for)."""
    from wizard.core import parsecache

    if folder is None:
        return False
    cached = parsecache.load(migration.checksum, folder)
    if cached is None:
        return False
    text = migration.text
    migration.statements = [
        Statement(index, kind, tree, start, end, line, text[start:end], effects)
        for index, kind, tree, start, end, line, effects in cached
    ]
    return True


def _parse_and_cache(migration: Migration) -> list[Problem]:
    from wizard.core import objects, parsecache  # only when a file is not in the parse cache

    problems = _parse(migration)
    if not problems and migration.statements:
        parsecache.store(migration.checksum, [
            (s.index, s.kind, marshal.dumps(s.node), s.start, s.end, s.line, objects.effects_data(s))
            for s in migration.statements
        ])
    return problems


def _parse(migration: Migration) -> list[Problem]:
    text = migration.source  # a dbmate file's down section is never read: it never runs
    if not text.strip():
        return []
    from pglast import parser as pg_parser  # only when a file is not in the parse cache

    try:
        tree = json.loads(pg_parser.parse_sql_json(text))
    except pg_parser.ParseError as exc:
        return _parse_problems(migration, exc)

    encoded = text.encode("utf-8")
    ascii_only = len(encoded) == len(text)

    cursor = [0, 0]  # (byte, char) of the last conversion: offsets only grow, convert the step

    def to_char(byte_offset: int) -> int:
        if ascii_only:
            return byte_offset
        last_byte, last_char = cursor
        if byte_offset < last_byte:
            last_byte, last_char = 0, 0
        char = last_char + len(encoded[last_byte:byte_offset].decode("utf-8", errors="ignore"))
        cursor[:] = [byte_offset, char]
        return char

    statements = []
    line, counted_to = 1, 0
    for i, raw in enumerate(tree.get("stmts", []), start=1):
        begin = raw.get("stmt_location", 0)
        length = raw.get("stmt_len", 0)
        stop = begin + length if length else len(encoded)
        start, end = to_char(begin), to_char(stop)
        start = _skip_space_and_comments(text, start, end)
        end = len(text[:end].rstrip()) if end > start else end
        if text[start:end].endswith(";"):
            end -= 1
        (kind, node), = raw["stmt"].items()
        line += text.count("\n", counted_to, start)
        counted_to = start
        statements.append(Statement(i, kind, node, start, end, line, text[start:end]))
    migration.statements = statements
    return []


def _parse_problems(migration: Migration, exc: Exception) -> list[Problem]:
    message, position = exc.args[0], (exc.args[1] if len(exc.args) > 1 else None)
    meta = [
        Problem(
            "psql-meta-command",
            migration.filename,
            f"psql meta-command {m.group(1)} is not SQL: only psql understands it; "
            "replace it with the SQL it stands for",
            line=migration.text.count("\n", 0, m.start()) + 1,
            column=m.start(1) - migration.text.rfind("\n", 0, m.start()),
        )
        for m in _META_COMMAND.finditer(migration.source)
    ]
    if meta:
        return meta
    if position is None:
        position = len(migration.source.rstrip())
    line, column = migration.line_col(position)
    return [Problem("syntax", migration.filename, f"the SQL does not parse: {message}", line=line, column=column)]


def _skip_space_and_comments(text: str, pos: int, end: int) -> int:
    """Move past whitespace and comments, to the statement's first token."""
    while pos < end:
        if text[pos].isspace():
            pos += 1
        elif text.startswith("--", pos):
            newline = text.find("\n", pos)
            pos = end if newline == -1 else newline + 1
        elif text.startswith("/*", pos):
            depth, pos = 1, pos + 2
            while pos < end and depth:
                if text.startswith("/*", pos):
                    depth, pos = depth + 1, pos + 2
                elif text.startswith("*/", pos):
                    depth, pos = depth - 1, pos + 2
                else:
                    pos += 1
        else:
            break
    return pos


def from_text(version: str, name: str, text: str, directory: Path) -> tuple[Migration, list[Problem]]:
    """A migration that is not (yet) a file: ``text`` parsed as if it were ``<version>_<name>.sql``
    in ``directory`` (the statements a history row recorded, for instance)."""
    raw = text.encode("utf-8")
    migration = Migration(version, name, directory / f"{version}_{name}.sql", text, hashlib.sha256(raw).hexdigest())
    return migration, _parse(migration)
