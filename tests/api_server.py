"""A local stand-in for the Supabase Management API's SQL endpoint, over a real PostgreSQL.

``POST /v1/projects/<ref>/database/query`` with ``Authorization: Bearer <token>`` and a JSON body
``{"query": sql}``: the query runs as one simple-protocol query string on a fresh connection, and
the answer is the rows of its last result (a JSON array of objects), or a 400 with the service's
error form, ``{"message": "Failed to run sql query: ERROR:  <SQLSTATE>: <message>\\nLINE n: ..."}``.
Modes make it answer 401, 403, 404, 429 a few times before serving, or hang past the client's timeout.
``lose_reply = N`` runs the Nth migration request (a request that opens a transaction: one
migration, a pack of them, or the history rows of a file run without one; its query commits),
then answers nothing and
closes the connection (``lost_reply_mode = "close"``) or answers 502 (``"502"``); or answers 502
without running it (``"502-not-run"``); ``down`` closes
every connection without an answer (``down_after_loss`` sets it right after the lost reply).
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg

# The project and the access token the suite's stand-in answers for (tests may start it with others).
REF = "qwertyuiopasdfghjklz"
TOKEN = "sbp_0123456789abcdef0123456789abcdef01234567"

PATH = re.compile(r"^/v1/projects/([a-z]{20})/database/query$")


class ApiServer:
    def __init__(self, database_url: str, ref: str, token: str):
        self.database_url = database_url
        self.ref = ref
        self.token = token
        self.mode = "ok"
        self.rate_limited = 0  # how many 429 answers remain
        self.retry_after = "0.2"  # what they ask to wait
        # Supabase's limit: at most n requests in any `window` seconds; past it, every call is
        # refused (429, no Retry-After) for the next `window` seconds
        self.limit: tuple[int, float] | None = None
        self.refused = 0  # 429s sent because of `limit`
        self._limit_lock = threading.Lock()
        self._window: list[float] = []
        self._blocked_until = 0.0
        self.requests: list[str] = []
        self.lose_reply: int | None = None  # the migration request (1-based) whose answer is lost
        self.lost_reply_mode = "close"  # or "502"
        self.down = False
        self.down_after_loss = False
        self.migration_requests = 0
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.http.shutdown()
        self.http.server_close()

    def within_limit(self) -> bool:
        """Whether one more request keeps within ``limit`` (counted when it does)."""
        assert self.limit is not None
        count, window = self.limit
        with self._limit_lock:
            now = time.monotonic()
            if now < self._blocked_until:
                self.refused += 1
                return False
            self._window = [t for t in self._window if now - t < window]
            if len(self._window) >= count:
                self._blocked_until = now + window
                self.refused += 1
                return False
            self._window.append(now)
            return True

    def run(self, query: str) -> tuple[int, object]:
        try:
            with psycopg.connect(self.database_url, autocommit=True) as conn:
                cursor = conn.execute(query)
                rows = []
                while True:
                    if cursor.description is not None:
                        names = [c.name for c in cursor.description]
                        rows = [dict(zip(names, row)) for row in cursor.fetchall()]
                    if not cursor.nextset():
                        break
                return 201, rows
        except psycopg.Error as exc:
            text = str(exc).strip()
            detail = f"\nDETAIL:  {exc.diag.message_detail}" if exc.diag.message_detail else ""
            return 400, {"message": f"Failed to run sql query: ERROR:  {exc.sqlstate}: {text}{detail}\n"}

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body, headers: dict | None = None):
                data = json.dumps(body, default=str).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the timeout test)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if api.down:
                    self.close_connection = True
                    return None  # no answer at all
                match = PATH.match(self.path)
                if api.mode == "401" or self.headers.get("Authorization") != f"Bearer {api.token}":
                    return self._answer(401, {"message": "Unauthorized"})
                if api.mode == "403":
                    return self._answer(403, {"message": "Your account does not have the necessary privileges"})
                if api.mode == "500":
                    return self._answer(500, {"message": "Internal server error"})
                if api.mode == "404" or not match or match.group(1) != api.ref:
                    return self._answer(404, {"message": "Project not found"})
                if api.rate_limited > 0:
                    api.rate_limited -= 1
                    return self._answer(429, {"message": "Too many requests"}, {"Retry-After": api.retry_after})
                if api.limit is not None and not api.within_limit():
                    return self._answer(429, {"message": "Too many requests"})
                query = body.get("query", "")
                api.requests.append(query)
                if api.mode == "slow" and query.startswith("BEGIN;"):
                    time.sleep(3)  # past the client's timeout; the request is then dropped
                    return self._answer(504, {"message": "Gateway timeout"})
                lost = False
                if query.startswith("BEGIN;"):
                    api.migration_requests += 1
                    lost = api.migration_requests == api.lose_reply
                if lost and api.lost_reply_mode == "502-not-run":
                    api.lose_reply = None
                    return self._answer(502, {"message": "Bad gateway"})  # the query never reached the database
                status, answer = api.run(query)
                if lost:
                    api.lose_reply = None
                    api.down = api.down or api.down_after_loss
                    if api.lost_reply_mode == "502":
                        return self._answer(502, {"message": "Bad gateway"})
                    self.close_connection = True
                    return None  # the query ran (and committed); its answer is lost
                self._answer(status, answer)

        return Handler


def another_run_after_reading(monkeypatch, db, folder_path, only=None) -> None:
    """Another run, over a database connection, applies the folder (``only`` those versions) right
    after the first reading of the history: it commits between this run's reading and its own."""
    from wizard.core import catalog
    from wizard.core import runner as runner_module

    original = runner_module.history.read
    raced = []

    def read_then_race(conn):
        records = original(conn)
        if not raced:
            raced.append(True)
            runner_module.Runner(db, catalog.load(folder_path)).run(only=only)
        return records

    monkeypatch.setattr(runner_module.history, "read", read_then_race)


def run_over_https(api, folder_path):
    """The folder applied over the stand-in, in this process: the runner, its end and its events."""
    from wizard.core import catalog
    from wizard.core.apirunner import ApiRunner
    from wizard.core.db.https import ApiDatabase

    database = ApiDatabase(REF, TOKEN, api.url)
    database.probe()
    events: list = []
    runner = ApiRunner(database, catalog.load(folder_path), on_event=events.append)
    return runner, runner.run(), events
