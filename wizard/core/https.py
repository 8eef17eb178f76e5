"""The automated path without a database password: SQL over HTTPS, through the Supabase Management
API (``POST /v1/projects/<ref>/database/query`` with a personal access token).

``ApiDatabase`` answers the engine's queries the way a psycopg connection does (``execute`` with
parameters bound on this side, rows as tuples, psycopg's error classes), so history, pre-flight,
verification and adoption work unchanged. ``ApiRunner`` applies a migration as ONE request that
holds ``BEGIN``, a transaction-level advisory lock, the file's statements, its history rows and
``COMMIT``: PostgreSQL runs a multi-statement query string in order and stops at the first error,
leaving the transaction uncommitted, so the migration and its record commit together or not at all.
What the service itself guarantees beyond running the query is not documented; see the README.
"""

from __future__ import annotations

import json
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql

from wizard import __version__
from wizard.core import history
from wizard.core.catalog import Migration
from wizard.core.diagnosis import ServerError, diagnose, named_object
from wizard.core.events import AppliedMigration, MigrationStarted, Notice, RunFinished, StatementDone
from wizard.core.runner import LOCK_KEY, Interrupted, Runner, _settings_sql

DEFAULT_API_URL = "https://api.supabase.com"

# Failure classes of the service, each with an advice entry ([https.<kind>]).
UNAUTHORIZED = "unauthorized"  # 401: bad or revoked token
FORBIDDEN = "forbidden"  # 403: the token's account cannot reach this project
NOT_FOUND = "not-found"  # 404: no such project ref
RATE_LIMITED = "rate-limited"  # 429, still after retries
SERVICE_ERROR = "service-error"  # 5xx
TIMEOUT = "timeout"
UNREACHABLE = "unreachable"

_ERROR = re.compile(r"ERROR:\s+(?:([0-9A-Z]{5}):\s+)?(.*)")
_LINE = re.compile(r"^LINE (\d+): (.*)$")
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%s|%%")


class ApiError(Exception):
    """The service refused or failed the request (not an SQL error)."""

    def __init__(self, kind: str, status: int | None, message: str):
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.message = message

    @property
    def connect_kind(self) -> str:
        return "https-" + self.kind


@dataclass
class _Info:
    server_version: int = 0
    encoding: str = "utf-8"


class _Rows:
    def __init__(self, rows: list[tuple]):
        self._rows = rows

    def fetchone(self):
        return self._rows[0] if self._rows else None

    def fetchall(self):
        return list(self._rows)

    def __iter__(self):
        return iter(self._rows)


def bind(query: str, params=None) -> str:
    """The query with its %s / %(name)s parameters written as SQL literals."""
    if params is None:
        return query
    sequence = iter(params) if isinstance(params, (list, tuple)) else None

    def literal(match: re.Match) -> str:
        if match.group(0) == "%%":
            return "%"
        value = params[match.group(1)] if match.group(1) else next(sequence)
        return sql.Literal(value).as_string(None)

    return _PLACEHOLDER.sub(literal, query)


def _value(value):
    """JSON values back to what psycopg would give: timestamps as datetimes."""
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in "T " and value[13] == ":":
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value


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


class ApiDatabase:
    """The project's database, reached through the Management API."""

    stateless = True  # every request is a transaction of its own: no session state survives
    autocommit = True
    closed = False

    def __init__(self, ref: str, token: str, api_url: str = DEFAULT_API_URL, timeout: float = 60,
                 on_notice: Callable[[str], None] | None = None, max_retries: int = 5):
        self.ref = ref
        self._token = token
        self.endpoint = f"{api_url.rstrip('/')}/v1/projects/{ref}/database/query"
        self.timeout = timeout
        self.info = _Info()
        self.on_notice = on_notice or (lambda message: None)
        self.max_retries = max_retries

    def __repr__(self) -> str:  # never the token
        return f"ApiDatabase(ref={self.ref!r}, endpoint={self.endpoint!r})"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def close(self) -> None:
        pass

    @contextmanager
    def transaction(self, force_rollback: bool = False):
        """Each request is its own transaction; a block of requests cannot be one."""
        yield self

    # -- requests ----------------------------------------------------------------------------

    def request(self, query: str) -> list[dict]:
        """POST one query; rows as dicts. Retries on 429 with backoff; raises ApiError or
        psycopg's error class for an SQL error."""
        from wizard.core.env import sendable

        if not sendable(self._token):  # never sent, never quoted in an error
            raise ApiError(UNAUTHORIZED, None, "the access token cannot be sent: it holds a character no access token "
                           "has (a space, a line break, a control or non-ASCII character); copy it again")
        body = json.dumps({"query": query}).encode("utf-8")
        delay = 1.0
        for attempt in range(self.max_retries + 1):
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
                    self.on_notice(f"The Management API is rate limiting (60 requests a minute): waiting {wait:g} s.")
                    time.sleep(wait)
                    delay = min(delay * 2, 30)
                    continue
                raise self._classify(exc.code, message) from None
            except (TimeoutError, socket.timeout):
                raise ApiError(TIMEOUT, None, f"no answer from {self.endpoint} within {self.timeout:g} s") from None
            except urllib.error.URLError as exc:
                reason = exc.reason
                if isinstance(reason, (TimeoutError, socket.timeout)):
                    raise ApiError(TIMEOUT, None, f"no answer from {self.endpoint} within {self.timeout:g} s") from None
                raise ApiError(UNREACHABLE, None, f"cannot reach {self.endpoint}: {reason}") from None
            except (ConnectionError, OSError) as exc:
                raise ApiError(UNREACHABLE, None, f"cannot reach {self.endpoint}: {exc}") from None
        raise ApiError(RATE_LIMITED, 429, "the Management API kept answering 429 (rate limited)")

    def _classify(self, status: int, message: str) -> Exception:
        if status == 401:
            return ApiError(UNAUTHORIZED, status, "the access token was refused (401): it is wrong, expired or revoked")
        if status == 403:
            return ApiError(FORBIDDEN, status, f"the access token may not reach project {self.ref} (403)")
        if status == 404:
            return ApiError(NOT_FOUND, status, f"the Management API knows no project {self.ref} (404)")
        if status == 429:
            return ApiError(RATE_LIMITED, status, "the Management API kept answering 429 (rate limited)")
        if status >= 500:
            return ApiError(SERVICE_ERROR, status, f"the Management API failed ({status}): {message[:200]}")
        error = parse_error(message)
        if error.sqlstate is None and "ERROR" not in message:
            return ApiError(SERVICE_ERROR, status, f"the Management API refused the request ({status}): {message[:200]}")
        try:
            cls = psycopg.errors.lookup(error.sqlstate) if error.sqlstate else psycopg.DatabaseError
        except KeyError:
            cls = psycopg.DatabaseError
        exc = cls(error.message)
        exc.api_error = error  # type: ignore[attr-defined]
        return exc

    # -- the connection-like surface the engine uses ------------------------------------------

    def execute(self, query, params=None) -> _Rows:
        text = query.as_string(None) if hasattr(query, "as_string") else query
        rows = self.request(bind(text, params))
        return _Rows([tuple(_value(v) for v in row.values()) for row in rows])

    def probe(self) -> str:
        """A harmless query; the server version on success."""
        rows = self.request("SELECT current_setting('server_version') AS server_version, "
                            "current_setting('server_version_num')::int AS server_version_num")
        self.info.server_version = int(rows[0]["server_version_num"])
        return rows[0]["server_version"]


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


class ApiRunner(Runner):
    """The runner over HTTPS: same pre-flight, events, history and diagnosis; one request per
    migration. There is no session, so no run-wide lock: each migration takes a transaction-level
    advisory lock, and the history's primary key refuses a second application of a version."""

    def _session_setup(self) -> None:
        # settings last one request: the service's connection is shared, nothing may leak into it
        self._settings = _settings_sql(self.options, self.conn.info.server_version, local=True).replace("\n", " ")

    def _acquire_lock(self) -> None:
        pass

    def _keep_database_search_path(self) -> None:
        """Nothing to keep: no request resets a session another one set up (and a SET must not
        leak into the service's shared connection)."""

    def _apply_all(self, todo: list[Migration]) -> RunFinished:
        """One request per migration, in order (there is no pipeline over HTTPS)."""
        applied: list[AppliedMigration] = []
        for migration in todo:
            if self._cancelled:
                return RunFinished(applied, interrupted=True)
            stopped = self._apply_one(migration, applied)
            if stopped is not None:
                return stopped
        return RunFinished(applied)

    def _release_lock(self) -> None:
        pass

    def cancel(self) -> None:
        self._cancelled = True  # the request in flight finishes or fails on the server; nothing after it starts

    def _record_sql(self, migration: Migration, statements: list[str], method: str) -> str:
        return history.record_sql(migration, statements, "https" if method == "automated" else method)

    def _apply(self, migration: Migration):
        if self._cancelled:
            raise Interrupted()
        if migration.no_transaction:
            return self._apply_without_transaction(migration)
        statements = migration.executable_statements
        self._emit(MigrationStarted(migration.version, migration.name, len(statements), True))
        # Everything before the file's text stays on its first line, so the server's LINE n is the file's.
        prefix = f"BEGIN; {self._settings}SELECT pg_advisory_xact_lock({LOCK_KEY}); "
        query = (prefix + migration.body_for_transaction + "\n;\n"
                 + "RESET ALL;\n" + self._record_sql(migration, [s.text for s in statements], "https") + ";\nCOMMIT;")
        self._prefix = prefix
        started = time.monotonic()
        try:
            self.conn.request(query)
        except psycopg.errors.UniqueViolation as exc:
            if "schema_migrations_pkey" not in str(exc):
                return self._diagnose(migration, exc)
            # another run recorded this version between our reading of the history and our commit:
            # the primary key refused ours, and our transaction rolled back
            self._emit(Notice(f"{migration.filename} was applied by another run meanwhile; nothing of this run's "
                              "attempt was kept."))
            return AppliedMigration(migration.version, migration.name, 0)
        except psycopg.Error as exc:
            return self._diagnose(migration, exc)
        except ApiError as exc:
            if exc.kind == TIMEOUT:
                return self._unknown_outcome(migration, exc)
            raise
        for index in range(1, len(statements) + 1):
            self._emit(StatementDone(migration.version, index, len(statements)))
        return AppliedMigration(migration.version, migration.name, int((time.monotonic() - started) * 1000))

    def _execute(self, query: str) -> ServerError | None:
        try:
            self.conn.request(query)
        except psycopg.Error as exc:
            error = _server_error(exc)
            line, column = getattr(error, "line", None), getattr(error, "column", None)
            if line is not None:  # LINE n of the query: make it a position in the query's text
                lines = query.split("\n")
                if line <= len(lines):
                    position = sum(len(text) + 1 for text in lines[: line - 1]) + (column or 1)
                    error = ServerError(error.sqlstate, error.message, error.detail, error.hint, position, None)
            return error
        return None

    def _rollback_quietly(self) -> None:
        pass  # a failed request leaves no transaction open

    def _diagnose(self, migration: Migration, exc: psycopg.Error, statement=None):
        error = _server_error(exc)
        if statement is None:
            api = getattr(exc, "api_error", None)
            line = getattr(api, "line", None)
            if line is not None and 1 <= line <= migration.text.count("\n") + 1:
                column = getattr(api, "column", None)
                start = len("\n".join(migration.text.split("\n")[: line - 1])) + (1 if line > 1 else 0)
                if line == 1:
                    column = column - len(self._prefix) if column and column > len(self._prefix) else None
                offset = start + (column - 1 if column and column > 0 else 0)
                found = diagnose(migration, error, offset=offset)
                if not column:
                    found = _without_column(found, line)
                return found
            statement = statement_naming(migration, error.message)
        return diagnose(migration, error, statement=statement)

    def _unknown_outcome(self, migration: Migration, exc: ApiError):
        """The request timed out: the migration may or may not have committed. Ask the history."""
        try:
            applied = migration.version in history.read(self.conn)
        except (ApiError, psycopg.Error):
            applied = False
        if applied:
            self._emit(Notice(f"{migration.filename}: the answer timed out, but the history shows it committed."))
            return AppliedMigration(migration.version, migration.name, 0)
        raise exc


def _without_column(found, line):
    from dataclasses import replace

    return replace(found, line=line, column=None)


def statement_naming(migration: Migration, message: str):
    """With no position from the server, the statement that names the object of the error."""
    name = named_object(message)
    if not name:
        return None
    bare = name.split("(")[0].split(".")[-1]
    pattern = re.compile(r"(?<![\w$])" + re.escape(bare) + r"(?![\w$])")
    return next((s for s in migration.statements if pattern.search(s.text)), None)


def _server_error(exc: psycopg.Error) -> ServerError:
    api = getattr(exc, "api_error", None)
    if api is not None:
        return api
    return ServerError(getattr(exc, "sqlstate", None), str(exc), None, None, None, None)


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


def probe(ref: str, token: str, api_url: str | None = None, timeout: float = 10):
    """The HTTPS path tried with a harmless query, as a connection probe. Never raises."""
    from wizard.core.connect import OK, Probe

    database = ApiDatabase(ref, token, api_url or DEFAULT_API_URL, timeout=timeout)
    try:
        version = database.probe()
    except ApiError as exc:
        return Probe(PROBE_SOURCE, database.endpoint, exc.connect_kind, exc.message)
    except Exception as exc:  # an SQL error on a harmless query: the service is not what it should be
        return Probe(PROBE_SOURCE, database.endpoint, "https-" + SERVICE_ERROR, str(exc))
    return Probe(PROBE_SOURCE, database.endpoint, OK, f"PostgreSQL {version}", server_version=version, supabase=True)
