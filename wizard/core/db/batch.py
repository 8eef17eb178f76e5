"""Several catalog reads in one request, where every request counts (the Management API allows 60
a minute), or in one round trip over a database connection (libpq's pipeline).

The service answers only the rows of a query's last statement, so the reads travel as one
``SELECT`` (in a read-only transaction, rolled back) whose single value is a JSON array: for each read, its rows, each row an array of its
values in column order (``json_each`` over the row keeps every column, even two of the same name).
:func:`prefetch` sends them ahead of the code that asks them one by one: each answer is kept on the
database and handed out once, to the first ``query`` with the same text and parameters, within
half a minute; any write through the database drops them all, so none can be stale for long. A
prefetch whose reads all wait already sends nothing (a caller's reads asked ahead by its own
caller, with more). Over a database connection the reads go in one pipeline, in a read-only
transaction rolled back (``DirectDatabase.read_ahead``), their values as psycopg reads them: a
distant server (a Supabase project across an ocean) costs one round trip for all of them rather
than one each.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from wizard.core.db import Connectable, Params, Query, Row, database
from wizard.core.db.bound import FRESH_SECONDS, bind, text_of


@runtime_checkable
class PipelinesReads(Protocol):
    """A session whose reads can travel together in one round trip (a psycopg connection's)."""

    @property
    def prefetched(self) -> dict[str, tuple[float, list[Row]]]: ...

    def read_ahead(self, reads: Sequence[tuple[Query, Params]]) -> list[list[Row]]: ...


@runtime_checkable
class ReadsAhead(Protocol):
    """A database where answers can wait for their question (the Management API's)."""

    prefetched: dict[str, tuple[float, list[Row]]]

    def rolled_back(self, query: Query, params: Params = None, *, before: Sequence[Query] = (),
                    read_only: bool = False) -> list[Row]: ...


def combined(texts: Sequence[str]) -> str:
    """One SELECT returning every query's rows, as described above."""
    parts = []
    for text in texts:
        rows = (f"SELECT (SELECT json_agg(e.value ORDER BY e.n) FROM json_each(row_to_json(t)) WITH ORDINALITY "
                f"AS e(key, value, n)) AS r, row_number() OVER () AS o FROM ({text.strip().rstrip(';')}\n) AS t")
        parts.append(f"(SELECT coalesce(json_agg(s.r ORDER BY s.o), '[]'::json) FROM ({rows}) AS s)")
    return "SELECT json_build_array(" + ",\n".join(parts) + ") AS answers"


def answers(value: Any, count: int) -> list[list[Row]]:
    """The rows of each query from the combined answer's value (JSON text, or already decoded)."""
    decoded = json.loads(value) if isinstance(value, str) else value
    if not isinstance(decoded, list) or len(decoded) != count:
        raise ValueError("the combined answer does not hold one result per query")
    return [[tuple(row) for row in result] for result in decoded]


def prefetch(conn: Connectable, queries: Sequence[tuple[Query, Params]]) -> None:
    """Ask these independent reads together now (one request over the Management API, one round
    trip over a database connection); their answers wait for the ``query`` calls that ask them. A
    read that fails here is asked again on its own when its turn comes (and fails there, where it
    is expected)."""
    db = database(conn)
    if not isinstance(db, (ReadsAhead, PipelinesReads)):
        return
    now = time.monotonic()
    waiting = {text for text, (when, _) in db.prefetched.items() if now - when < FRESH_SECONDS}
    asked: dict[str, tuple[Query, Params]] = {}
    for query, params in queries:
        asked.setdefault(bind(text_of(query), params), (query, params))
    texts = list(asked)
    if len(texts) < 2 or waiting.issuperset(texts):  # one read alone costs the same round trip when asked
        return
    try:
        if isinstance(db, PipelinesReads):
            results = db.read_ahead(list(asked.values()))
        else:
            ((value,),) = db.rolled_back(combined(texts), read_only=True)  # a read, and nothing else
            results = answers(value, len(texts))
    except Exception:  # noqa: BLE001 - a hint only: each read is asked again on its own
        return
    now = time.monotonic()
    db.prefetched.update((text, (now, rows)) for text, rows in zip(texts, results))


def known(conn: Connectable, query: Query, params: Params, rows: list[Row]) -> None:
    """The answer ``query`` would get right now, as the caller just made it so (the history tables
    it created): handed out as a prefetched one, on either database."""
    db = database(conn)
    if isinstance(db, (ReadsAhead, PipelinesReads)):
        db.prefetched[bind(text_of(query), params)] = (time.monotonic(), rows)
