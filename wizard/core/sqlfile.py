"""One migration file: its text, its header, and its statements with their positions.

Made by ``catalog`` (which reads and parses the files of a folder); read by everything that runs,
checks or explains a migration.
"""

from __future__ import annotations

import marshal
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from wizard.core.effects import Effects, EffectsData, Node


NO_TRANSACTION_HEADER = "-- wizard:no-transaction"
# Other tools' ways of saying "no transaction" in a file:
# Atlas: a directive line in the comment block that opens the file.
_ATLAS_TXMODE = re.compile(r"^--\s*atlas:txmode\s+(\S+)", re.IGNORECASE)
# dbmate: a file of two sections, "-- migrate:up [options]" and "-- migrate:down [options]"; only the up
# section is the migration; "transaction:false" among the up line's options runs it without a transaction.
_HEADER_COMMENTS = re.compile(r"(?:[ \t]*--[^\n]*(?:\n|\Z))*")
_DBMATE_UP = re.compile(r"^--\s*migrate:up(?:[ \t]+(.*))?$", re.MULTILINE)
_DBMATE_DOWN = re.compile(r"^--\s*migrate:down\b.*$", re.MULTILINE)
_BOUNDARIES = {"TRANS_STMT_BEGIN", "TRANS_STMT_START", "TRANS_STMT_COMMIT"}


def _dbmate_up(text: str) -> re.Match[str] | None:
    """The ``-- migrate:up`` line of a dbmate file: only blank lines and comments come before it."""
    if "migrate:up" not in text:
        return None
    up = _DBMATE_UP.search(text)
    if up is None:
        return None
    before = text[: up.start()].split("\n")
    return up if all(not line.strip() or line.lstrip().startswith("--") for line in before) else None


def _opening_comments(text: str) -> list[str]:
    """The lines of the comment block that opens a file."""
    block = _HEADER_COMMENTS.match(text)
    return (block.group(0) if block else "").split("\n")


def location(file: str, line: int | None = None, column: int | None = None) -> str:
    """file:line:column, as far as known."""
    if line is None:
        return file
    return f"{file}:{line}" + (f":{column}" if column is not None else "")


@dataclass(eq=False)  # compared by identity: a folder holds thousands, made on every run
class Statement:
    """One SQL statement of a migration file (not to be changed once made, but for its effects,
    filled in once when first worked out)."""

    index: int  # 1-based position in the file
    kind: str  # the parser's node name: CreateStmt, IndexStmt, TransactionStmt...
    tree: Node | bytes  # the parse tree (pglast's JSON form), or its marshal bytes until first used
    start: int  # character offset of the statement's first token in the file
    end: int  # character offset just past the statement (before its semicolon)
    line: int  # 1-based line of ``start``
    text: str
    # What the statement creates, drops and uses (see ``objects``), worked out once: as plain
    # tuples (``effects.to_data``), as the parse cache keeps them, and as objects when first asked for.
    effects_data: EffectsData | None = field(default=None, repr=False)
    effects: Effects | None = field(default=None, repr=False)

    @property
    def node(self) -> Node:
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

    def to_json(self) -> dict[str, object]:
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
        for number, line in enumerate(_opening_comments(self.text), start=1):
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
            for line in _opening_comments(text):
                atlas = _ATLAS_TXMODE.match(line.strip())
                if atlas:
                    return line.strip() if atlas.group(1).lower() == "none" else None
        up = _dbmate_up(self.text)
        if up is not None:
            options = dict(o.split(":", 1) for o in (up.group(1) or "").split() if o.count(":") == 1)
            if options.get("transaction", "").lower() == "false":
                marker: str = up.group(0).strip()
                return marker
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
