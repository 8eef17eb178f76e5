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
from functools import cached_property
from pathlib import Path

from wizard.core.errors import ExitCode, WizardError


# ASCII digits only, and the name ends the file name (no trailing newline): as the Supabase CLI reads them.
MIGRATION_FILE = re.compile(r"^([0-9]+)_(.+)\.sql\Z")
NO_TRANSACTION_HEADER = "-- wizard:no-transaction"
# Other tools' ways of saying "no transaction" in a file:
# Atlas: a directive line in the comment block that opens the file.
_ATLAS_TXMODE = re.compile(r"^--\s*atlas:txmode\s+(\S+)", re.IGNORECASE)
# dbmate: a file of two sections, "-- migrate:up [options]" and "-- migrate:down [options]"; only the up
# section is the migration; "transaction:false" among the up line's options runs it without a transaction.
_HEADER_COMMENTS = re.compile(r"(?:[ \t]*--[^\n]*(?:\n|\Z))*")
_DBMATE_UP = re.compile(r"^--\s*migrate:up(?:[ \t]+(.*))?$", re.MULTILINE)
_DBMATE_DOWN = re.compile(r"^--\s*migrate:down\b.*$", re.MULTILINE)
CHECKS_FILE = "checks.toml"
_BOUNDARIES = {"TRANS_STMT_BEGIN", "TRANS_STMT_START", "TRANS_STMT_COMMIT"}
_META_COMMAND = re.compile(r"^[ \t]*(\\[a-zA-Z!?]+)", re.MULTILINE)


def _dbmate_up(text: str) -> re.Match | None:
    """The ``-- migrate:up`` line of a dbmate file: only blank lines and comments come before it."""
    if "migrate:up" not in text:
        return None
    up = _DBMATE_UP.search(text)
    if up is None:
        return None
    before = text[: up.start()].split("\n")
    return up if all(not line.strip() or line.lstrip().startswith("--") for line in before) else None


def location(file: str, line: int | None = None, column: int | None = None) -> str:
    """file:line:column, as far as known."""
    if line is None:
        return file
    return f"{file}:{line}" + (f":{column}" if column is not None else "")


@dataclass(eq=False)  # compared by identity: a folder holds thousands, made on every run
class Statement:
    """One SQL statement of a migration file (not to be changed once made)."""

    index: int  # 1-based position in the file
    kind: str  # the parser's node name: CreateStmt, IndexStmt, TransactionStmt...
    tree: dict | bytes  # the parse tree (pglast's JSON form), or its marshal bytes until first used
    start: int  # character offset of the statement's first token in the file
    end: int  # character offset just past the statement (before its semicolon)
    line: int  # 1-based line of ``start``
    text: str

    @property
    def node(self) -> dict:
        """The statement's parse tree. A tree read from the parse cache is decoded on first use:
        most runs need the kind and position of every statement, and the tree of a few."""
        tree = self.tree
        if isinstance(tree, bytes):
            tree = self.tree = marshal.loads(tree)
        return tree

    @property
    def is_transaction_control(self) -> bool:
        """BEGIN, START TRANSACTION, COMMIT or END: the file's own transaction boundaries."""
        return self.kind == "TransactionStmt" and self.node.get("kind") in _BOUNDARIES

    @property
    def outside_transaction(self) -> str | None:
        """What the statement is, when PostgreSQL refuses to run it inside a transaction block."""
        kind = self.kind
        if kind not in _MAYBE_OUTSIDE_TRANSACTION:
            return None
        node = self.node
        if kind == "IndexStmt" and node.get("concurrent"):
            return "CREATE INDEX CONCURRENTLY"
        if kind == "DropStmt" and node.get("concurrent"):
            return "DROP INDEX CONCURRENTLY"
        if kind == "ReindexStmt" and any(
            p.get("DefElem", {}).get("defname") == "concurrently" for p in node.get("params", [])
        ):
            return "REINDEX CONCURRENTLY"
        if kind == "VacuumStmt" and node.get("is_vacuumcmd"):
            return "VACUUM"
        if kind == "DiscardStmt" and node.get("target") == "DISCARD_ALL":
            return "DISCARD ALL"
        return _NEVER_IN_TRANSACTION.get(kind)


_NEVER_IN_TRANSACTION = {
    "CreatedbStmt": "CREATE DATABASE",
    "DropdbStmt": "DROP DATABASE",
    "AlterSystemStmt": "ALTER SYSTEM",
    "CreateTableSpaceStmt": "CREATE TABLESPACE",
    "DropTableSpaceStmt": "DROP TABLESPACE",
    "CreateSubscriptionStmt": "CREATE SUBSCRIPTION",
    "DropSubscriptionStmt": "DROP SUBSCRIPTION",
}
# Statement kinds worth a look at their parse tree (only those are decoded from the parse cache).
_MAYBE_OUTSIDE_TRANSACTION = {"IndexStmt", "DropStmt", "ReindexStmt", "VacuumStmt", "DiscardStmt", *_NEVER_IN_TRANSACTION}
# What a file may consist of to run without a transaction and without a header saying so.
_ALONE_OUTSIDE_TRANSACTION = {"CREATE INDEX CONCURRENTLY", "DROP INDEX CONCURRENTLY", "REINDEX CONCURRENTLY", "VACUUM"}


@dataclass(frozen=True)
class Problem:
    """Something that makes the folder unusable; found before any SQL runs."""

    code: str
    file: str
    message: str
    line: int | None = None
    column: int | None = None

    def location(self) -> str:
        return location(self.file, self.line, self.column)

    def to_json(self) -> dict:
        return {
            "severity": "error",
            "code": self.code,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class Migration:
    version: str
    name: str
    path: Path
    text: str
    checksum: str  # sha256 of the file's bytes
    statements: list[Statement] = field(default_factory=list)

    @property
    def filename(self) -> str:
        return self.path.name

    @cached_property
    def down_section(self) -> int | None:
        """Where a dbmate file's ``-- migrate:down`` section starts (a character offset): what
        follows undoes the migration and never runs. None for any other file."""
        up = _dbmate_up(self.text)
        if up is None:
            return None
        down = _DBMATE_DOWN.search(self.text, up.end())
        return down.start() if down else None

    @property
    def source(self) -> str:
        """The SQL that is the migration: the whole file, or a dbmate file's up section."""
        down = self.down_section
        return self.text if down is None else self.text[:down]

    @cached_property
    def unknown_txmode(self) -> tuple[int, str] | None:
        """An Atlas ``txmode`` directive in the opening comment block whose value is none of Atlas's
        (``none``, ``file``, ``all``): its line and value."""
        if "atlas:" not in self.text[:4096]:
            return None
        for number, line in enumerate(_HEADER_COMMENTS.match(self.text).group(0).split("\n"), start=1):
            atlas = _ATLAS_TXMODE.match(line.strip())
            if atlas and atlas.group(1).lower() not in ("none", "file", "all"):
                return number, atlas.group(1)
        return None

    @cached_property
    def transaction_marker(self) -> str | None:
        """The header that opts the file out of a transaction, as written: the wizard's own first
        line, Atlas's ``-- atlas:txmode none`` in the opening comment block, or dbmate's
        ``-- migrate:up transaction:false``."""
        text = self.text
        first = text[: text.find("\n")] if "\n" in text[:200] else text[:200]
        first = first.strip()
        if first.lower().replace(" ", "") == NO_TRANSACTION_HEADER.replace(" ", ""):
            return first
        if "atlas:" in text[:4096]:
            for line in _HEADER_COMMENTS.match(text).group(0).split("\n"):
                atlas = _ATLAS_TXMODE.match(line.strip())
                if atlas:
                    return line.strip() if atlas.group(1).lower() == "none" else None
        up = _dbmate_up(self.text)
        if up is not None:
            options = dict(o.split(":", 1) for o in (up.group(1) or "").split() if o.count(":") == 1)
            if options.get("transaction", "").lower() == "false":
                return up.group(0).strip()
        return None

    @property
    def no_transaction(self) -> bool:
        """Whether the file runs without a transaction: its header says so, or every statement it
        runs is one that cannot run in a transaction (CREATE INDEX CONCURRENTLY and the like)."""
        return self.transaction_marker is not None or self.only_outside_transaction

    @cached_property
    def only_outside_transaction(self) -> bool:
        """Every statement is one that cannot run in a transaction (CREATE/DROP INDEX CONCURRENTLY,
        REINDEX CONCURRENTLY, VACUUM) or adds an enum value that nothing in the file uses; SET
        statements may go with them. Such a file needs no header: it runs without a transaction."""
        found = False
        for statement in self.statements:
            if statement.kind == "VariableSetStmt":
                continue
            if statement.outside_transaction in _ALONE_OUTSIDE_TRANSACTION or (
                statement.kind == "AlterEnumStmt" and statement.node.get("newVal")
            ):
                found = True
                continue
            return False
        return found

    @cached_property
    def executable_statements(self) -> list[Statement]:
        """The statements the wizard runs: a file's own BEGIN/COMMIT are left out, because the
        wizard already runs each file in one transaction of its own."""
        return [s for s in self.statements if not s.is_transaction_control]

    @cached_property
    def changes_session(self) -> bool:
        """Whether running the file may change a setting of the session (SET, SET LOCAL, SET ROLE,
        set_config, DISCARD, or a DO block or procedure that may do any of them): the setting is then
        reset before the history write and the next file."""
        for s in self.statements:
            if s.kind in ("VariableSetStmt", "DiscardStmt", "DoStmt", "CallStmt") or "set_config" in s.text.lower():
                return True
        return False

    @cached_property
    def body_for_transaction(self) -> str:
        """The file's text with its own transaction control blanked out, character for character,
        so that server error positions still point at the right place in the file (a dbmate file:
        its up section)."""
        text = self.source
        blanked = [s for s in self.statements if s.is_transaction_control]
        if not blanked:
            return text
        parts, last = [], 0
        for s in blanked:
            parts.append(text[last : s.start])
            parts.append(re.sub(r"[^\n]", " ", text[s.start : s.end]))
            last = s.end
        parts.append(text[last:])
        return "".join(parts)

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset in the file."""
        line = self.text.count("\n", 0, offset) + 1
        line_start = self.text.rfind("\n", 0, offset) + 1
        return line, offset - line_start + 1

    def line_at_byte(self, offset: int) -> int:
        """1-based line of a byte offset of the file (the parser's locations are bytes)."""
        return self._encoded.count(b"\n", 0, offset) + 1

    @cached_property
    def _encoded(self) -> bytes:
        return self.text.encode("utf-8")

    def statement_at(self, offset: int) -> Statement | None:
        """The statement that contains a character offset of the file."""
        found = None
        for s in self.statements:
            if s.start <= offset:
                found = s
            else:
                break
        return found


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
            shown = _printable(path.name)
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


def _printable(name: str) -> str:
    """A file name as it may be shown: its control characters escaped (\\x1b)."""
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), name)


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
    from wizard.core import objects, parsecache

    if folder is None:
        return False
    cached = parsecache.load(migration.checksum, folder)
    if cached is None:
        return False
    text = migration.text
    statements = []
    for index, kind, tree, start, end, line, effects in cached:
        statement = Statement(index, kind, tree, start, end, line, text[start:end])
        objects.remember_data(statement, effects)
        statements.append(statement)
    migration.statements = statements
    return True


def _parse_and_cache(migration: Migration) -> list[Problem]:
    from wizard.core import objects, parsecache

    problems = _parse(migration)
    if not problems and migration.statements:
        parsecache.store(migration.checksum, [
            (s.index, s.kind, marshal.dumps(s.node), s.start, s.end, s.line, objects.to_data(objects.effects(s)))
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
