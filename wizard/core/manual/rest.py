"""The check of what a paste created without any database credential: the project's REST API
(PostgREST) and an API key.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from wizard import __version__
from wizard.core.errors import ExitCode, WizardError

if TYPE_CHECKING:
    from wizard.core.env import Environment


EXISTS = "exists"
EXISTS_WITHOUT_GRANTS = "exists-without-grants"
MISSING = "missing"


class RestError(WizardError):
    """The REST API refused the key, could not be reached, or answered what it should not. ``kind``:
    bad-key, unreachable or unexpected (the advice entry of the rest section)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message, kind=kind, advice_key=("rest", kind),
                         exit_code=ExitCode.CONNECT if kind in ("bad-key", "unreachable") else ExitCode.FAILED)
        self.args = (kind, message)  # as constructed: a copy (pickle, copy) is built the same way

    def __str__(self) -> str:
        return self.message


def _rest_get(base: str, key: str, table: str, query: str, timeout: float) -> tuple[int, object]:
    """GET /rest/v1/<table>?<query>: the status and the decoded body. Raises RestError for a
    refused key or an unreachable API."""
    url = f"{base.rstrip('/')}/rest/v1/{urllib.parse.quote(table)}?{query}"
    headers = {"apikey": key, "Accept": "application/json", "User-Agent": f"migration-wizard/{__version__}"}
    if key.count(".") == 2:  # a JWT key also goes as the bearer
        headers["Authorization"] = f"Bearer {key}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"[]")
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            body = {}
        code = str(body.get("code", "")) if isinstance(body, dict) else ""
        if exc.code in (401, 403) and code != "42501":
            said = str(body.get("message", "")) if isinstance(body, dict) else ""
            raise RestError("bad-key", f"the REST API refused the key ({exc.code}): {said}".rstrip(": ")) from None
        return exc.code, body
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RestError("unreachable", f"cannot reach {base}: {reason}") from None


def _unexpected(table: str, status: int, body: object) -> RestError:
    said = str(body.get("message", "")) if isinstance(body, dict) else ""
    return RestError("unexpected", f"the REST API answered {status} for {table}: {said}".rstrip(": "))


def rest_table_state(supabase_url: str, key: str, table: str, timeout: float = 10) -> str:
    """Whether a table exists, asked of the project's REST API: 404 PGRST205 (older servers
    42P01) when it does not; 42501 when it exists but the key's role has no grant on it."""
    status, body = _rest_get(supabase_url, key, table, "select=*&limit=0", timeout)
    code = str(body.get("code", "")) if isinstance(body, dict) else ""
    if status < 300:
        return EXISTS
    if code in ("PGRST205", "42P01") or (status == 404 and not code):
        return MISSING
    if code == "42501":
        return EXISTS_WITHOUT_GRANTS
    raise _unexpected(table, status, body)


def rest_missing_columns(supabase_url: str, key: str, table: str, columns: list[str], timeout: float = 10) -> list[str]:
    """The columns of a table that the REST API does not know (it answers 42703 for a column
    that does not exist), asked one by one."""
    missing = []
    for column in columns:
        status, body = _rest_get(supabase_url, key, table, "select=" + urllib.parse.quote(column) + "&limit=0", timeout)
        code = str(body.get("code", "")) if isinstance(body, dict) else ""
        if status < 300 or code == "42501":
            continue
        if code in ("42703", "PGRST204") or status == 400:
            missing.append(column)
        else:
            raise _unexpected(table, status, body)
    return missing


def rest_rows_found(supabase_url: str, key: str, table: str, column: str, values: list[str],
                    timeout: float = 10) -> set[str]:
    """Which of these key values the table holds (seed rows), through the REST API. Row level
    security hides rows from the anon key: use the service role's key."""
    found: set[str] = set()
    for start in range(0, len(values), 40):
        chunk = values[start : start + 40]
        listed = ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in chunk)
        query = (f"select={urllib.parse.quote(column)}&{urllib.parse.quote(column)}=in."
                 + urllib.parse.quote(f"({listed})"))
        status, body = _rest_get(supabase_url, key, table, query, timeout)
        if status >= 300 or not isinstance(body, list):
            raise _unexpected(table, status, body)
        found |= {str(row.get(column)) for row in body if isinstance(row, dict)}
    return found


def rest_check(supabase_url: str, key: str, names: list[str], timeout: float = 10) -> dict[str, str]:
    return {name: rest_table_state(supabase_url, key, name, timeout) for name in names}


@dataclass(frozen=True)
class RestApi:
    """The project's REST API (PostgREST) and an API key: how the manual path checks a paste
    without any database credential. Any base URL: a Supabase project or a stand-in."""

    url: str
    key_name: str
    key: str = field(repr=False)
    timeout: float = 10.0

    @classmethod
    def find(cls, environment: Environment, timeout: float = 10.0) -> RestApi | None:
        """SUPABASE_URL (or NEXT_PUBLIC_SUPABASE_URL) and the first API key set; None without both."""
        variable = environment.supabase_url_variable()
        key_name = environment.rest_key()
        url = environment.get(variable) if variable is not None else None
        key = environment.get(key_name) if key_name is not None else None
        if url is None or key_name is None or key is None:
            return None
        return cls(url.strip().rstrip("/"), key_name, key, timeout)

    def state(self, table: str) -> str:
        """exists, exists-without-grants or missing. Raises RestError."""
        return rest_table_state(self.url, self.key, table, timeout=self.timeout)

    @property
    def sees_all_rows(self) -> bool:
        """The service role's key bypasses row level security; the anon key sees what policies allow."""
        return self.key_name in ("SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_SECRET_KEY")

    def missing_columns(self, table: str, columns: list[str]) -> list[str]:
        return rest_missing_columns(self.url, self.key, table, columns, timeout=self.timeout)

    def rows_found(self, table: str, column: str, values: list[str]) -> set[str]:
        return rest_rows_found(self.url, self.key, table, column, values, timeout=self.timeout)
