"""Catalog reads asked ahead over a database connection: sent together in one round trip (libpq's
pipeline, a read-only transaction rolled back), each answer handed out once to the query that asks
it; a write through the database drops them; a failing read, or a caller's open transaction, makes
the reads go one by one as before."""

from __future__ import annotations

import contextlib
from pathlib import Path

import psycopg
import pytest
from psycopg import pq

from wizard.core.db import batch
from wizard.core.db import database as wrapped
from wizard.core.db.direct import DirectDatabase

COUNT = "SELECT count(*) FROM t"
NAMES = "SELECT string_agg(name, ',' ORDER BY name) FROM t WHERE id > %s"


@pytest.fixture
def table(db):
    db.execute("CREATE TABLE t (id int, name text)")
    db.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    return db


@contextlib.contextmanager
def round_trips(conn: psycopg.Connection, tmp_path: Path):
    """Counts the synchronisation points the client sends: one per round trip it waits for."""
    path = tmp_path / "trace"
    counted: list[int] = []
    with path.open("w") as out:
        conn.pgconn.trace(out.fileno())
        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            yield counted
        finally:
            conn.pgconn.untrace()
    counted.append(sum(1 for line in path.read_text().splitlines() if line.split("\t")[:1] == ["F"]
                       and line.split("\t")[2:3] in (["Sync"], ["Query"])))


def test_reads_asked_ahead_travel_in_one_round_trip_and_are_handed_out_once(database, table, tmp_path):
    with psycopg.connect(database, autocommit=True) as conn:
        with round_trips(conn, tmp_path) as ahead:
            batch.prefetch(conn, [(COUNT, None), (NAMES, (0,))])
        table.execute("INSERT INTO t VALUES (3, 'c')")  # another session: the answers were read before
        with round_trips(conn, tmp_path) as asked:
            # another wrapper of the same connection finds them: the engine wraps as it goes
            assert wrapped(conn).query(COUNT) == [(2,)]
            assert DirectDatabase(conn).query(NAMES, (0,)) == [("a,b",)]
        assert ahead == [1] and asked == [0]
        assert wrapped(conn).query(COUNT) == [(3,)]  # once: asked again, it is read again
        assert conn.info.transaction_status == pq.TransactionStatus.IDLE


def test_without_reading_ahead_each_read_is_its_own_round_trip(database, table, tmp_path):
    with psycopg.connect(database, autocommit=True) as conn, round_trips(conn, tmp_path) as asked:
        wrapped(conn).query(COUNT)
        wrapped(conn).query(NAMES, (0,))
    assert asked == [2]


@pytest.mark.parametrize("write", ["transaction", "execute", "lock"])
def test_a_write_through_the_database_drops_what_was_read_ahead(database, table, write):
    with psycopg.connect(database, autocommit=True) as conn:
        db = DirectDatabase(conn)
        batch.prefetch(db, [(COUNT, None), (NAMES, (0,))])
        if write == "transaction":
            db.transaction("INSERT INTO t VALUES (3, 'c')")
        elif write == "execute":
            assert db.execute("INSERT INTO t VALUES (3, 'c')") is None
        else:
            table.execute("INSERT INTO t VALUES (3, 'c')")
            assert db.try_lock()
            db.unlock()
        assert db.query(COUNT) == [(3,)]
        assert db.query(NAMES, (0,)) == [("a,b,c",)]


def test_a_failing_read_keeps_nothing_and_fails_where_it_is_asked(database, table):
    with psycopg.connect(database, autocommit=True) as conn:
        db = DirectDatabase(conn)
        batch.prefetch(db, [(COUNT, None), ("SELECT 1 / (SELECT count(*) - 2 FROM t)", None)])
        assert conn.info.transaction_status == pq.TransactionStatus.IDLE
        assert db.prefetched == {}
        table.execute("INSERT INTO t VALUES (3, 'c')")
        assert db.query(COUNT) == [(3,)]
        table.execute("DELETE FROM t WHERE id = 3")
        with pytest.raises(psycopg.errors.DivisionByZero):
            db.query("SELECT 1 / (SELECT count(*) - 2 FROM t)")


def test_reads_ahead_never_write(database, table):
    with psycopg.connect(database, autocommit=True) as conn:
        db = DirectDatabase(conn)
        batch.prefetch(db, [(COUNT, None), ("INSERT INTO t VALUES (9, 'z') RETURNING id", None)])
        assert db.prefetched == {}  # refused by the read-only transaction: nothing kept, nothing written
    assert table.execute(COUNT).fetchone() == (2,)


def test_inside_a_transaction_of_the_caller_nothing_is_read_ahead(database, table):
    with psycopg.connect(database) as conn:  # not autocommit: the caller's transaction
        conn.execute("INSERT INTO t VALUES (3, 'c')")
        db = DirectDatabase(conn)
        batch.prefetch(db, [(COUNT, None), (NAMES, (0,))])
        assert db.prefetched == {}
        assert db.query(COUNT) == [(3,)]  # the caller's transaction goes on, its row seen
        conn.rollback()
    assert table.execute(COUNT).fetchone() == (2,)


def test_a_whole_apply_reads_its_catalog_ahead(database, tmp_path, folder):
    from wizard.core import catalog
    from wizard.core.runner import Runner

    folder.write("001_a.sql", "CREATE TABLE a (id int);")
    with psycopg.connect(database, autocommit=True) as conn:
        with round_trips(conn, tmp_path) as counted:
            finished = Runner(conn, catalog.load(folder.path)).run()
        assert finished.ok
    # settings, the lock, the reads ahead, the compatibility step, the history tables, the
    # migration and the unlock; each read one by one would take 20 and more
    assert counted[0] <= 14, counted


def test_a_transaction_is_one_round_trip_and_a_failure_in_it_keeps_nothing(database, table, tmp_path):
    with psycopg.connect(database, autocommit=True) as conn:
        db = DirectDatabase(conn)
        with round_trips(conn, tmp_path) as counted:
            db.transaction("INSERT INTO t VALUES (3, 'c');\nINSERT INTO t VALUES (4, 'd') -- a comment at the end")
        assert counted == [1]
        with pytest.raises(psycopg.errors.UniqueViolation):
            db.transaction("CREATE UNIQUE INDEX ON t (id);\nINSERT INTO t VALUES (5, 'e');\nINSERT INTO t VALUES (1, 'x');")
        assert conn.info.transaction_status == pq.TransactionStatus.IDLE
        assert db.query(COUNT) == [(4,)]  # neither the index's transaction nor its rows were kept
        assert db.query("SELECT count(*) FROM pg_indexes WHERE tablename = 't'") == [(0,)]
