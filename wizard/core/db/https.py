"""The automated path without a database password: SQL over HTTPS, through the Supabase Management
API (``POST /v1/projects/<ref>/database/query`` with a personal access token).

``ApiDatabase`` is the Database of the engine over that service. Every request is a transaction of
its own: PostgreSQL runs a multi-statement query string in order and stops at the first error,
leaving the implicit transaction uncommitted, so what one request holds commits together or not at
all. The run lock is a lease row (``lease``); checks run in ``START TRANSACTION READ ONLY ...
ROLLBACK`` within one request. What the service itself guarantees beyond running the query is not
documented; see the README.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from wizard import __version__
from wizard.core.connect import OK, Probe
from wizard.core.db.apitext import ApiServerError as ApiServerError  # re-exported: the API's error text
from wizard.core.db.apitext import parse_error as parse_error
from wizard.core.db.apitext import statement_naming as statement_naming
from wizard.core.db.bound import bind, take, text_of
from wizard.core.db.lease import Lease
from wizard.core.db.pacing import Pacer, pacer_for
from wizard.core.db.protocol import Params, Query, Row
from wizard.core.diagnosis import ServerError
from wizard.core.errors import ExitCode, WizardError

DEFAULT_API_URL = "https://api.supabase.com"

# Failure classes of the service, each with an advice entry ([https.<kind>]).
UNAUTHORIZED = "unauthorized"  # 401: bad or revoked token
FORBIDDEN = "forbidden"  # 403: the token's account cannot reach this project
NOT_FOUND = "not-found"  # 404: no such project ref
RATE_LIMITED = "rate-limited"  # 429, still after retries
SERVICE_ERROR = "service-error"  # 5xx
TIMEOUT = "timeout"
UNREACHABLE = "unreachable"
STOPPED = "stopped"  # a request the run no longer wanted, never sent

class ApiError(WizardError):
    """The service refused or failed the request (not an SQL error)."""

    exit_code = ExitCode.CONNECT

    def __init__(self, kind: str, status: int | None, message: str, *, sent: bool = False):
        super().__init__(message, kind=kind, advice_key=("https", kind))
        self.status = status
        # True when the request reached the service and no answer tells what became of it (a
        # timeout, a reset or closed connection, a 5xx): the query may have run, and committed.
        self.sent = sent

    @property
    def connect_kind(self) -> str:
        return "https-" + self.kind


class ApiSqlError(WizardError):
    """The service ran the query and PostgreSQL failed it: the server's error as the service wrote it."""

    kind = "sql"
    exit_code = ExitCode.FAILED

    def __init__(self, error: ApiServerError):
        super().__init__(error.message)
        self.error = error

    def as_psycopg(self) -> psycopg.Error:
        """The same error as psycopg's class for its SQLSTATE, for code that catches those."""
        sqlstate = self.error.sqlstate
        try:
            cls = psycopg.errors.lookup(sqlstate) if sqlstate else psycopg.DatabaseError
        except KeyError:
            cls = psycopg.DatabaseError
        return cls(self.error.message)


def _value(value: Any) -> Any:
    """JSON values back to what psycopg would give: timestamps as datetimes."""
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in "T " and value[13] == ":":
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value


class ApiDatabase:
    """The project's database, reached through the Management API."""

    session = False  # every request is a transaction of its own: no session state survives

    def __init__(self, ref: str, token: str, api_url: str = DEFAULT_API_URL, timeout: float = 60,
                 on_notice: Callable[[str], None] | None = None, max_retries: int = 6,
                 pacer: Pacer | None = None):
        self.ref = ref
        self._token = token
        self.endpoint = f"{api_url.rstrip('/')}/v1/projects/{ref}/database/query"
        self.timeout = timeout
        self.on_notice = on_notice or (lambda message: None)
        self.max_retries = max_retries  # 429s waited out (the service blocks a whole minute)
        # the requests of every ApiDatabase of this process with this token, kept under the limit
        self.pacer = pacer or pacer_for(api_url.rstrip("/"), token)
        self._said_429 = False
        self.stopping: Callable[[], bool] = lambda: False  # set by a run: a ``stoppable`` request waits no more
        self._server_version = 0
        self.lease = Lease(self._rows, on_lost=self.on_notice)
        # SQL that opens every ``transaction``: a run sets it to take the run lock there too
        self.transaction_guard = ""
        self.sent = 0  # requests sent to the service (each answered 429 counts), for the request budget
        # answers read ahead (``batch.prefetch``): when, and the rows; each given once, while fresh
        self.prefetched: dict[str, tuple[float, list[Row]]] = {}

    def __repr__(self) -> str:  # never the token
        return f"ApiDatabase(ref={self.ref!r}, endpoint={self.endpoint!r})"

    def __enter__(self) -> ApiDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def server_version(self) -> int:
        return self._server_version

    @property
    def encoding(self) -> str:
        return "utf-8"  # JSON over HTTPS

    def close(self) -> None:
        """Nothing stays open between requests; a lease still held is given up."""
        self.unlock()

    # -- requests ----------------------------------------------------------------------------

    def request(self, query: str, *, stoppable: bool = False) -> list[dict[str, Any]]:
        """POST one query; the rows of its last result as dicts. Retries on 429 with backoff;
        raises ApiError when the service fails, ApiSqlError when PostgreSQL failed the query.
        The answers read ahead are dropped: the query may write."""
        self.prefetched = {}
        return self._send(query, stoppable)

    def _send(self, query: str, stoppable: bool = False) -> list[dict[str, Any]]:
        from wizard.core.env import sendable

        if not sendable(self._token):  # never sent, never quoted in an error
            raise ApiError(UNAUTHORIZED, None, "the access token cannot be sent: it holds a character no access token "
                           "has (a space, a line break, a control or non-ASCII character); copy it again")
        body = json.dumps({"query": query}).encode("utf-8")
        delay = 2.0
        for attempt in range(self.max_retries + 1):
            if not self.pacer.wait_turn(self._paced, self.stopping if stoppable else lambda: False):
                raise ApiError(STOPPED, None, "the run was stopped while this request waited its turn: it was not sent")
            req = urllib.request.Request(
                self.endpoint,
                data=body,
                method="POST",
                headers={
                    "Authorization": f"Bearer {self._token}",
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                    "User-Agent": f"migration-wizard/{__version__}",
                },
            )
            self.sent += 1
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as response:
                    payload = response.read()
                    data = json.loads(payload) if payload.strip() else []
                    return data if isinstance(data, list) else [data]
            except urllib.error.HTTPError as exc:
                text = exc.read().decode("utf-8", "replace")
                message = _message(text)
                if exc.code == 429 and attempt < self.max_retries:
                    wait = _retry_after(exc.headers.get("Retry-After"), delay)
                    self.pacer.blocked_for(wait)  # every request of this token waits, not this one only
                    self._said_429 = True
                    self.on_notice(f"The Management API is rate limiting (60 requests a minute): waiting {wait:g} s.")
                    delay = min(delay * 2, 30)
                    continue
                raise self._classify(exc.code, message) from None
            except (TimeoutError, socket.timeout):
                raise ApiError(TIMEOUT, None, f"no answer from {self.endpoint} within {self.timeout:g} s",
                               sent=True) from None
            except urllib.error.URLError as exc:  # while connecting or sending: the request did not go out
                reason = exc.reason
                if isinstance(reason, (TimeoutError, socket.timeout)):
                    raise ApiError(TIMEOUT, None, f"no answer from {self.endpoint} within {self.timeout:g} s") from None
                raise ApiError(UNREACHABLE, None, f"cannot reach {self.endpoint}: {reason}") from None
            except (ConnectionError, OSError, http.client.HTTPException) as exc:  # the request went out
                said = str(exc) or type(exc).__name__
                raise ApiError(UNREACHABLE, None, f"the connection to {self.endpoint} was lost before its answer: "
                               f"{said}", sent=True) from None
        raise ApiError(RATE_LIMITED, 429, "the Management API kept answering 429 (rate limited)")

    def _paced(self, seconds: float, blocked: bool) -> None:
        said, self._said_429 = self._said_429, False
        if seconds < 1 or (blocked and said):  # this request's own 429 was said when it came
            return
        if blocked:
            self.on_notice(f"The Management API refused a request of this access token (60 requests a minute): "
                           f"waiting {seconds:.0f} s.")
        else:
            self.on_notice(f"The Management API allows {self.pacer.limit} requests a minute with an access token "
                           f"(this process keeps under it): waiting {seconds:.0f} s before the next one.")

    def _classify(self, status: int, message: str) -> ApiError | ApiSqlError:
        if status == 401:
            return ApiError(UNAUTHORIZED, status, "the access token was refused (401): it is wrong, expired or revoked")
        if status == 403:
            return ApiError(FORBIDDEN, status, f"the access token may not reach project {self.ref} (403)")
        if status == 404:
            return ApiError(NOT_FOUND, status, f"the Management API knows no project {self.ref} (404)")
        if status == 429:
            return ApiError(RATE_LIMITED, status, "the Management API kept answering 429 (rate limited)")
        if status >= 500:
            return ApiError(SERVICE_ERROR, status, f"the Management API failed ({status}): {message[:200]}", sent=True)
        error = parse_error(message)
        if error.sqlstate is None and "ERROR" not in message:
            return ApiError(SERVICE_ERROR, status, f"the Management API refused the request ({status}): {message[:200]}")
        return ApiSqlError(error)

    def _rows(self, query: str) -> list[Row]:
        """The rows of a query as tuples, values as psycopg would give them; psycopg's error class
        for an SQL error."""
        try:
            rows = self._send(query)
        except ApiSqlError as exc:
            raise exc.as_psycopg() from exc
        return [tuple(_value(v) for v in row.values()) for row in rows]

    # -- the Database ------------------------------------------------------------------------

    def query(self, query: Query, params: Params = None) -> list[Row]:
        text = bind(text_of(query), params)
        kept = self._kept(text)
        return kept if kept is not None else self._rows(text)

    def _kept(self, text: str) -> list[Row] | None:
        """The answer read ahead for this query (``batch.prefetch``), once, while fresh."""
        kept = take(self.prefetched, text)
        return None if kept is None else [tuple(_value(v) for v in row) for row in kept]

    def transaction(self, script: str) -> None:
        """One request: its statements are one implicit transaction on the server (after the
        ``transaction_guard``)."""
        self.prefetched = {}  # a write makes the answers read ahead stale
        self._rows(self.transaction_guard + script)

    def rolled_back(self, query: Query, params: Params = None, *, before: Sequence[Query] = (),
                    read_only: bool = False) -> list[Row]:
        """One request: ``START TRANSACTION [READ ONLY]; before; query; ROLLBACK`` (a write there
        fails when read-only, and is rolled back in any case)."""
        text = bind(text_of(query), params)
        kept = None if before else self._kept(text)  # read ahead, in a read-only transaction too
        if kept is not None:
            return kept
        parts = ["START TRANSACTION READ ONLY" if read_only else "START TRANSACTION"]
        parts += [q if isinstance(q, str) else q.as_string(None) for q in before]
        parts += [text, "ROLLBACK"]
        return self._rows(";\n".join(parts) + ";")

    def execute(self, script: str) -> ServerError | None:
        """One request; the server's error when a statement failed, its LINE made a position in
        the script's text (nothing stays open either way)."""
        try:
            self.request(script)  # a write: the answers read ahead are dropped
        except ApiSqlError as exc:
            return exc.error.in_text(script)
        return None

    def rollback(self) -> None:
        """Nothing to roll back: a request that failed left no transaction open."""

    def probe(self) -> str:
        """A harmless query; the server version on success."""
        ((version, number),) = self._rows("SELECT current_setting('server_version') AS server_version, "
                                          "current_setting('server_version_num')::int AS server_version_num")
        self._server_version = int(number)
        return str(version)

    # -- the run lock: a lease ---------------------------------------------------------------

    def try_lock(self) -> bool:
        try:
            return self.lease.take()
        except psycopg.errors.UniqueViolation:
            return self.lease.take()  # another run created the lease table at the same moment

    def lock_holder(self) -> str | None:
        holder = self.lease.holder or self.lease.current_holder()
        return str(holder) if holder is not None else None

    def unlock(self) -> None:
        try:
            self.lease.release()
        except (ApiError, psycopg.Error):
            pass  # the lease expires on its own

    def cancel(self) -> None:
        """Cancel the migration request in flight (from another thread, without waiting for the
        service): its backend is the one running a query that carries this database's ``mark``."""
        threading.Thread(target=self._cancel_marked, name="cancel", daemon=True).start()

    def _cancel_marked(self) -> None:
        pattern = sql.Literal("%" + self.mark + "%").as_string(None)
        try:
            self.request("SELECT pg_cancel_backend(pid) FROM pg_stat_activity "
                         f"WHERE pid <> pg_backend_pid() AND query LIKE {pattern}")
        except (ApiError, ApiSqlError):
            pass  # nothing to cancel, or no right to: the request in flight runs to its end

    def settle_in_flight(self, timeout: float = 30) -> bool:
        """Cancel this run's migration request if the server still runs it, and wait until no
        backend runs it any more (False when one outlived the timeout): only then does the
        history say for certain whether it committed."""
        running = (f"FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND state <> 'idle' "
                   f"AND query LIKE {sql.Literal('%' + self.mark + '%').as_string(None)}")
        self.request(f"SELECT count(pg_cancel_backend(pid)) AS cancelled {running}")
        deadline = time.monotonic() + timeout
        while int(self.request(f"SELECT count(*) AS running {running}")[0]["running"]):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)
        return True

    @property
    def mark(self) -> str:
        """A comment that names this run's migration requests, so that ``cancel`` finds them."""
        return f"/* migration-wizard {self.lease.owner} */"


def _message(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict):
        return str(data.get("message") or data.get("error") or data.get("msg") or text)
    return text


def _retry_after(header: str | None, default: float) -> float:
    try:
        return max(0.0, min(float(header), 60.0)) if header else default
    except ValueError:
        return default


PROBE_SOURCE = "SUPABASE_ACCESS_TOKEN (Management API, HTTPS)"
REQUEST_TIMEOUT = 300.0  # seconds for one request once connected (a migration can be long)


def open_database(ref: str, token: str, api_url: str | None = None, connect_timeout: float = 10,
                  request_timeout: float = REQUEST_TIMEOUT,
                  on_notice: Callable[[str], None] | None = None) -> tuple[ApiDatabase, str]:
    """The project's database over HTTPS, probed with a harmless query (within the connect
    timeout), then given the longer request timeout; with the server version. Raises ApiError,
    or psycopg's error when the service answers the probe with an SQL error."""
    database = ApiDatabase(ref, token, api_url or DEFAULT_API_URL, timeout=connect_timeout, on_notice=on_notice)
    version = database.probe()
    database.timeout = request_timeout
    return database, version


def probe(ref: str, token: str, api_url: str | None = None, timeout: float = 10) -> Probe:
    """The HTTPS path tried with a harmless query, as a connection probe. Never raises."""
    database = ApiDatabase(ref, token, api_url or DEFAULT_API_URL, timeout=timeout)
    try:
        version = database.probe()
    except ApiError as exc:
        return Probe(PROBE_SOURCE, database.endpoint, exc.connect_kind, exc.message)
    except Exception as exc:  # an SQL error on a harmless query: the service is not what it should be
        return Probe(PROBE_SOURCE, database.endpoint, "https-" + SERVICE_ERROR, str(exc))
    return Probe(PROBE_SOURCE, database.endpoint, OK, f"PostgreSQL {version}", server_version=version, supabase=True)
