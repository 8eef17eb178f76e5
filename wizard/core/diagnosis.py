"""What went wrong, and where in which file: the diagnosis of a failed migration."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from psycopg import pq

from wizard.core.catalog import Migration, Statement, location
from wizard.core.lockwait import LockWait

_FIELD = pq.DiagnosticField
_OBJECT = (
    re.compile(r'relation "([^"]+)" (?:does not exist|already exists)'),
    re.compile(r'(?:policy|trigger|constraint|type|role|schema|index|publication) "([^"]+)"'),
    re.compile(r"function ([\w.]+\([^)]*\)) does not exist"),
    re.compile(r'column "([^"]+)"'),
)
_PLPGSQL_LINE = re.compile(r"PL/pgSQL function .*? line (\d+)|compilation of PL/pgSQL function .*? near line (\d+)")
_DOLLAR_QUOTE = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")


@dataclass(frozen=True)
class Diagnosis:
    version: str
    name: str
    file: str
    sqlstate: str | None
    message: str
    detail: str | None = None
    hint: str | None = None
    line: int | None = None
    column: int | None = None
    statement_index: int | None = None  # 1-based, among the file's statements
    statement: str | None = None
    context: str | None = None
    lock_wait: LockWait | None = None  # a lock timeout: what the migration waited for, held by whom

    def location(self) -> str:
        return location(self.file, self.line, self.column)

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data.pop("context")
        data.pop("lock_wait")
        if self.lock_wait is not None:
            data["lock_wait"] = self.lock_wait.to_json()
        return data


@dataclass(frozen=True)
class ServerError:
    """The fields of an error the server sent, read from a libpq result."""

    sqlstate: str | None
    message: str
    detail: str | None
    hint: str | None
    position: int | None  # 1-based character position in the query that was sent
    context: str | None

    @classmethod
    def from_result(cls, result: pq.abc.PGresult, encoding: str = "utf-8") -> ServerError:
        def field(code: pq.DiagnosticField) -> str | None:
            value = result.error_field(code)
            return value.decode(encoding, "replace") if value is not None else None

        position = field(_FIELD.STATEMENT_POSITION)
        message = field(_FIELD.MESSAGE_PRIMARY)
        if message is None:
            message = result.error_message.decode(encoding, "replace").strip() or "unknown error"
        return cls(
            sqlstate=field(_FIELD.SQLSTATE),
            message=message,
            detail=field(_FIELD.MESSAGE_DETAIL),
            hint=field(_FIELD.MESSAGE_HINT),
            position=int(position) if position else None,
            context=field(_FIELD.CONTEXT),
        )


def diagnose(
    migration: Migration,
    error: ServerError,
    *,
    offset: int | None = None,
    statement: Statement | None = None,
) -> Diagnosis:
    """Place a server error in the file.

    ``offset`` is the character offset in the file that the server's error position points at,
    when it gave one; ``statement`` the statement that was running, when known otherwise.
    """
    line = column = None
    if offset is not None:
        line, column = migration.line_col(offset)
        statement = migration.statement_at(offset) or statement
    elif statement is not None:
        line, column = migration.line_col(statement.start)
        inner = _line_inside_do_block(statement, error.context)
        named = _named_in_statement(statement, error.message)
        if inner is not None:
            line, column = inner, None
        elif named is not None:
            line, column = migration.line_col(named)
    return Diagnosis(
        version=migration.version,
        name=migration.name,
        file=str(migration.path),
        sqlstate=error.sqlstate,
        message=error.message,
        detail=error.detail,
        hint=error.hint,
        line=line,
        column=column,
        statement_index=statement.index if statement else None,
        statement=statement.text if statement else None,
        context=error.context,
    )


def _line_inside_do_block(statement: Statement, context: str | None) -> int | None:
    """An error in a DO block or a PL/pgSQL function names a line of the body: make it a file line."""
    if not context or statement.kind not in ("DoStmt", "CreateFunctionStmt"):
        return None
    matches = list(_PLPGSQL_LINE.finditer(context))
    if statement.kind == "DoStmt":  # the block's own line, not that of a function it called
        matches = [m for m in matches if "inline_code_block" in m.group(0)]
    if not matches:
        return None
    match = matches[0]
    return body_file_line(statement, int(match.group(1) or match.group(2)))


_CALLED = re.compile(r"PL/pgSQL function ([\w.\"]+)\([^)]*\) line (\d+)")


def called_functions(context: str | None) -> list[tuple[str, int]]:
    """The PL/pgSQL functions an error happened in, innermost first, as (name, body line); DO
    blocks are left out."""
    return [(m.group(1).replace('"', ""), int(m.group(2))) for m in _CALLED.finditer(context or "")
            if m.group(1) != "inline_code_block"]


def body_file_line(statement: Statement, body_line: int) -> int | None:
    """The file line of a line of a DO block's or function's body (PL/pgSQL counts the body's lines
    from the line of its opening delimiter, which may follow other dollar-quoted strings)."""
    from wizard.core import plpgsql

    option = plpgsql.body_option(statement.kind, statement.node)
    first = plpgsql.body_line(statement.text, option[0]) if option else None
    if first is None:
        quote = _DOLLAR_QUOTE.search(statement.text)
        if not quote:
            return None
        first = statement.text.count("\n", 0, quote.start())
    return statement.line + first + body_line - 1


def excerpt(diagnosis: Diagnosis, around: int = 2) -> list[tuple[int, str]]:
    """The lines of the file around the failing line, numbered from 1."""
    if diagnosis.line is None:
        return []
    try:
        with open(diagnosis.file, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    first = max(1, diagnosis.line - around)
    last = min(len(lines), diagnosis.line + around)
    return [(n, lines[n - 1]) for n in range(first, last + 1)]


def named_object(message: str) -> str | None:
    """The object a server message is about: relation "x" does not exist -> x."""
    for pattern in _OBJECT:
        match = pattern.search(message or "")
        if match:
            return match.group(1)
    return None


def _named_in_statement(statement: Statement, message: str) -> int | None:
    """Where in the file the statement names the object of the error, when the server gave no
    position: the first occurrence of the name as a word."""
    name = named_object(message)
    if not name:
        return None
    bare = name.split("(")[0].split(".")[-1]
    match = re.search(r"(?<![\w$])" + re.escape(bare) + r"(?![\w$])", statement.text)
    return statement.start + match.start() if match else None
