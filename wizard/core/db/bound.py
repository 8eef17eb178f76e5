"""A query's text with its parameters written in (what a Management API request sends, and the key
under which an answer read ahead waits), and the taking of such an answer: once, while fresh."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from wizard.core.db.protocol import Params, Query, Row

FRESH_SECONDS = 30.0  # an answer read ahead and not asked for within this long is asked again
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%s|%%")


def text_of(query: Query) -> str:
    return query if isinstance(query, str) else query.as_string(None)


def bind(query: str, params: Params = None) -> str:
    """The query with its %s / %(name)s parameters written as SQL literals."""
    if params is None:
        return query
    named: Mapping[str, Any] = params if isinstance(params, Mapping) else {}
    sequence = iter(params) if not isinstance(params, Mapping) else iter(())

    def literal(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        value = named[match.group(1)] if match.group(1) else next(sequence)
        from psycopg import sql

        return sql.Literal(value).as_string(None)

    return _PLACEHOLDER.sub(literal, query)


def literal(value: str) -> str:
    """A text as an SQL string literal, as psycopg writes one (``E'...'`` when it holds a
    backslash, so it reads the same whatever ``standard_conforming_strings`` says), without
    loading the driver: the manual path's files are written offline."""
    quoted = value.replace("'", "''")
    if "\\" in value:
        return " E'" + quoted.replace("\\", "\\\\") + "'"
    return "'" + quoted + "'"


def take(waiting: dict[str, tuple[float, list[Row]]], text: str) -> list[Row] | None:
    """The answer read ahead for this bound text, once (it leaves ``waiting``), while fresh."""
    kept = waiting.pop(text, None)
    if kept is None or time.monotonic() - kept[0] >= FRESH_SECONDS:
        return None
    return kept[1]
