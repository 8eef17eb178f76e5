"""The Management API's limit kept on this side: the requests of every database of the process that
share an access token stay under it (a fleet of projects reached with one token is not refused),
and a 429 the service sends anyway holds back every request of that token for as long as it asks."""

from __future__ import annotations

import threading
import time

import pytest
from api_server import REF, TOKEN

from wizard.core.db.https import DEFAULT_API_URL, ApiDatabase
from wizard.core.db.pacing import LIMIT, Pacer, pacer_for


def hammer(databases: list[ApiDatabase], each: int) -> list[BaseException]:
    """Each database, in a thread of its own, asks ``each`` queries; what went wrong."""
    errors: list[BaseException] = []

    def ask(database: ApiDatabase) -> None:
        try:
            for i in range(each):
                assert database.query(f"SELECT {i}") == [(i,)]
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(d,)) for d in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


def test_databases_sharing_a_token_keep_under_the_limit_together(api):
    api.limit = (8, 1.0)  # 8 requests a second, then a second refused
    pacer = Pacer(limit=8, window=1.5)  # the margin: a request is counted here before the service sees it
    notices: list[str] = []
    databases = [ApiDatabase(REF, TOKEN, api.url, on_notice=notices.append, pacer=pacer) for _ in range(4)]
    assert hammer(databases, 10) == []
    assert api.refused == 0  # 40 requests, never one too many
    assert len(api.requests) == 40


def test_a_429_holds_back_every_request_of_the_token_and_the_run_goes_on(api):
    api.limit = (8, 1.0)
    shared = Pacer(limit=None)  # no count kept: only the service's 429s hold requests back
    notices: list[str] = []
    databases = [ApiDatabase(REF, TOKEN, api.url, on_notice=notices.append, pacer=shared) for _ in range(4)]
    assert hammer(databases, 10) == []
    assert api.refused > 0 and len(api.requests) == 40
    assert any("is rate limiting" in n for n in notices)
    assert all(TOKEN not in n for n in notices)


def test_a_429_one_database_got_holds_back_the_others_of_its_token(api):
    api.rate_limited, api.retry_after = 1, "3"
    shared = Pacer(limit=None)
    first_said: list[str] = []
    other_said: list[str] = []
    first = ApiDatabase(REF, TOKEN, api.url, on_notice=first_said.append, pacer=shared)
    other = ApiDatabase(REF, TOKEN, api.url, on_notice=other_said.append, pacer=shared)
    refused = threading.Thread(target=first.query, args=("SELECT 1",))
    refused.start()
    deadline = time.monotonic() + 20
    while not first_said and time.monotonic() < deadline:  # its 429 came
        time.sleep(0.01)
    assert "is rate limiting" in first_said[0]
    assert other.query("SELECT 2") == [(2,)]  # held back with it, then sent
    refused.join(20)
    assert other_said and "refused a request of this access token" in other_said[0]
    assert len(api.requests) == 2


def test_a_refusal_for_the_whole_next_minute_is_waited_out():
    # the service blocks every call for the next minute: the waits between attempts cover more
    database = ApiDatabase(REF, TOKEN, "http://127.0.0.1:9")
    delays, delay = [], 2.0
    for _ in range(database.max_retries):
        delays.append(delay)
        delay = min(delay * 2, 30)
    assert sum(delays) > 61


def test_one_pacer_per_token_and_address_held_to_the_limit_at_supabase_only():
    assert pacer_for(DEFAULT_API_URL, TOKEN) is pacer_for(DEFAULT_API_URL, TOKEN)
    assert pacer_for(DEFAULT_API_URL, TOKEN) is not pacer_for(DEFAULT_API_URL, TOKEN[:-1] + "8")
    assert pacer_for(DEFAULT_API_URL, TOKEN).limit == LIMIT == 60
    assert pacer_for("http://127.0.0.1:8080", TOKEN).limit is None
    assert ApiDatabase(REF, TOKEN).pacer is ApiDatabase("abcdefghijklmnopqrst", TOKEN).pacer  # per user, not project


@pytest.mark.parametrize("files", [1, 2])  # one migration travels alone, two in a pack
def test_a_migration_request_waiting_its_turn_is_not_sent_once_the_run_is_stopped(api, folder, db, files):
    from wizard.core import catalog
    from wizard.core.apirunner import ApiRunner
    from wizard.core.events import Notice

    folder.write("001_a.sql", "CREATE TABLE a (id int);")
    if files == 2:
        folder.write("002_b.sql", "CREATE TABLE b (id int);")
    pacer = Pacer(limit=50, window=2.0)
    waiting: list[str] = []

    def said(message):  # the database says a request waits its turn: the run is stopped then
        waiting.append(message)
        runner.request_stop()

    database = ApiDatabase(REF, TOKEN, api.url, pacer=pacer, on_notice=said)
    events = []

    def on_event(event):
        events.append(event)
        if isinstance(event, Notice) and event.message.startswith("Over HTTPS:"):
            # the migrations' request is next: the token's window is full now
            while pacer.wait_turn(stopping=lambda: True):
                pass

    runner = ApiRunner(database, catalog.load(folder.path), on_event=on_event)
    finished = runner.run()
    assert finished.interrupted and "waiting" in waiting[0]
    assert not any(q.startswith("BEGIN;") for q in api.requests)  # no migration went out
    if files == 2:  # the pack's request never went: none of them was attempted
        assert finished.stopped == () and [p.version for p in finished.not_attempted] == ["001", "002"]
    else:
        assert [(s.version, s.outcome.value, s.reason) for s in finished.stopped] == [
            ("001", "not-applied", "the run was stopped before its request was sent")]
        notices = [e.message for e in events if isinstance(e, Notice)]
        assert "Stopped: 001_a.sql was not sent (it waited its turn under the rate limit)." in notices
        assert not any("rolled back" in n for n in notices)
    assert db.execute("SELECT to_regclass('a')").fetchone()[0] is None
