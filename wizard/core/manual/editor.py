"""An error the SQL editor showed for a paste, placed in the migration file."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from wizard.core.catalog import Migration
from wizard.core.manual.paste import Part, paste_offset

if TYPE_CHECKING:
    from wizard.core.diagnosis import Diagnosis


def read_error(text: str, migration: Migration, part: Part) -> Diagnosis | None:
    """The error pasted from the editor, placed in the file: at its "LINE n:" when it has one
    (a line of the paste, that is of ``part``), else at the statement that names its object.
    None when the text is not an error of PostgreSQL's."""
    from wizard.core.diagnosis import diagnose
    from wizard.core.db.https import statement_naming, parse_error

    error = parse_error(text.strip())
    if error.sqlstate is None and "ERROR" not in text:
        return None
    offset = _file_offset(migration, part, error.line, error.column) if error.line else None
    if offset is not None:
        found = diagnose(migration, error, offset=offset)
        if not error.column:  # the line is known, not the column
            found = replace(found, column=None)
        return found
    statements = migration.statements[part.first_statement - 1 : part.last_statement]
    statement = statement_naming(replace(migration, statements=statements), error.message)
    statement = statement or statement_naming(migration, error.message)
    return diagnose(migration, error, statement=statement)


def _file_offset(migration: Migration, part: Part, line: int, column: int | None) -> int | None:
    """Where in the file a line and column of the pasted part are; None when it has no such line."""
    lines = part.sql.split("\n")
    if not 1 <= line <= len(lines):
        return None
    if line == 1 and column:  # the paste's first line begins with its guard (see ``paste``)
        column -= paste_offset(part)
        if column < 1:
            return None
    offset = sum(len(text) + 1 for text in lines[: line - 1]) + max(0, (column or 1) - 1)
    if part.sql == migration.source:
        return offset
    # A part is the file's statements joined anew: find the statement the offset falls in.
    spans, cursor = [], 0
    for statement in migration.statements[part.first_statement - 1 : part.last_statement]:
        start = part.sql.find(statement.text, cursor)
        if start < 0:
            return None
        spans.append((start, statement))
        cursor = start + len(statement.text)
    before = [(start, s) for start, s in spans if start <= offset]
    if not before:
        return spans[0][1].start if spans else None
    start, statement = before[-1]
    return statement.start + min(offset - start, len(statement.text))
