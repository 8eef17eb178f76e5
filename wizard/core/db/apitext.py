"""What the Management API's error text says: the SQLSTATE, message, detail, hint and LINE n of
PostgreSQL's error as the service (and the dashboard's SQL editor) writes it, e.g.
'Failed to run sql query: ERROR:  42P01: relation "x" does not exist\\nLINE 3: ...\\n   ^'."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from wizard.core.catalog import Migration, Statement
from wizard.core.diagnosis import Diagnosis, ServerError, named_object

_ERROR = re.compile(r"ERROR:\s+(?:([0-9A-Z]{5}):\s+)?(.*)")
_LINE = re.compile(r"^LINE (\d+): (.*)$")


def parse_error(message: str) -> "ApiServerError":
    """SQLSTATE, message and position from the service's error text, e.g.
    'Failed to run sql query: ERROR:  42P01: relation "x" does not exist\\nLINE 3: ...\\n   ^'."""
    lines = message.splitlines()
    sqlstate, primary = None, message.strip()
    for line in lines:
        match = _ERROR.search(line)
        if match:
            sqlstate, primary = match.group(1), match.group(2).strip()
            break
    detail = hint = None
    line_number = column = None
    for i, line in enumerate(lines):
        if line.startswith("DETAIL:"):
            detail = line.removeprefix("DETAIL:").strip()
        elif line.startswith("HINT:"):
            hint = line.removeprefix("HINT:").strip()
        match = _LINE.match(line)
        if match and line_number is None:
            line_number = int(match.group(1))
            excerpt = match.group(2)
            if i + 1 < len(lines) and lines[i + 1].rstrip().endswith("^") and not excerpt.startswith("..."):
                column = len(lines[i + 1].rstrip()) - len(f"LINE {line_number}: ")
    return ApiServerError(sqlstate, primary, detail, hint, None, None, line_number, column)


@dataclass(frozen=True)
class ApiServerError(ServerError):
    """A server error read from the service's text: a line and column instead of a position."""

    line: int | None = None
    column: int | None = None

    def in_text(self, text: str) -> ServerError:
        """The error with its LINE n (and column) made a position in ``text``, the query sent."""
        if self.line is None:
            return self
        lines = text.split("\n")
        if self.line > len(lines):
            return self
        position = sum(len(part) + 1 for part in lines[: self.line - 1]) + (self.column or 1)
        return ServerError(self.sqlstate, self.message, self.detail, self.hint, position, None)


def statement_naming(migration: Migration, message: str) -> Statement | None:
    """With no position from the server, the statement that names the object of the error."""
    name = named_object(message)
    return statement_on(migration, name) if name else None


def statement_on(migration: Migration, name: str) -> Statement | None:
    """The first statement of the migration that names this object (``public.users``, ``users``
    or ``f(int)``)."""
    bare = name.split("(")[0].split(".")[-1]
    pattern = re.compile(r"(?<![\w$])" + re.escape(bare) + r"(?![\w$])")
    return next((s for s in migration.statements if pattern.search(s.text)), None)


def at_the_wait(migration: Migration, diagnosis: Diagnosis) -> Diagnosis:
    """A lock timeout comes with no position over HTTPS: the line is that of the statement naming
    the relation the migration was seen waiting for."""
    wait = diagnosis.lock_wait
    if diagnosis.line is not None or wait is None or not wait.relation:
        return diagnosis
    statement = statement_on(migration, wait.relation)
    if statement is None:
        return diagnosis
    line, column = migration.line_col(statement.start)  # as over a database connection
    return replace(diagnosis, line=line, column=column, statement_index=statement.index, statement=statement.text)
