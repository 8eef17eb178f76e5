"""The manual path: the dashboard's SQL editor, one migration at a time, checked and recorded.

For users with neither a database password nor an access token. The engine's part: the SQL to
paste (split at statement boundaries when a file is too large for one paste), the export of every
migration to files, the check of what a paste created without any database credential (through
the project's REST API, PostgREST, with the anon or service key), the reading of an error the
dashboard showed, the record of a migration applied by hand, and the progress kept between runs.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from wizard import __version__
from wizard.core.catalog import Catalog, Migration
from wizard.core.objects import final_objects

# A paste larger than this is offered in parts: the SQL editor handles large queries badly, and
# smaller parts fail in smaller pieces.
MAX_PART_BYTES = 200_000
MAX_PART_STATEMENTS = 400
PROGRESS_FILE = Path(".migration-wizard") / "manual-progress.json"


@dataclass(frozen=True)
class Part:
    migration: Migration
    number: int  # 1-based
    count: int
    first_statement: int  # 1-based, inclusive
    last_statement: int
    sql: str

    @property
    def label(self) -> str:
        if self.count == 1:
            return self.migration.filename
        return f"{self.migration.filename} (part {self.number} of {self.count})"

    @property
    def filename(self) -> str:
        stem = self.migration.filename.removesuffix(".sql")
        return f"{stem}.sql" if self.count == 1 else f"{stem}.part{self.number}of{self.count}.sql"


def parts(migration: Migration, max_bytes: int = MAX_PART_BYTES, max_statements: int = MAX_PART_STATEMENTS) -> list[Part]:
    """The migration as one paste, or as several cut between statements."""
    if len(migration.text.encode("utf-8")) <= max_bytes and len(migration.statements) <= max_statements:
        return [Part(migration, 1, 1, 1, len(migration.statements), migration.text)]
    groups: list[list] = [[]]
    size = 0
    for statement in migration.statements:
        length = len(statement.text.encode("utf-8")) + 2
        if groups[-1] and (size + length > max_bytes or len(groups[-1]) >= max_statements):
            groups.append([])
            size = 0
        groups[-1].append(statement)
        size += length
    header = migration.text.split("\n", 1)[0] if migration.text.startswith("--") else f"-- {migration.filename}"
    return [
        Part(migration, i, len(groups), group[0].index, group[-1].index,
             f"{header}\n-- part {i} of {len(groups)}: statements {group[0].index} to {group[-1].index}\n\n"
             + ";\n\n".join(s.text for s in group) + ";\n")
        for i, group in enumerate(groups, start=1)
    ]


def sql_editor_url(ref: str | None) -> str:
    return f"https://supabase.com/dashboard/project/{ref or '_'}/sql/new"


def export(catalog: Catalog, directory: Path, ref: str | None) -> list[Path]:
    """One file per migration (or part), and an index with the order and the dashboard URL."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    lines = [
        "# Migrations to run by hand, in this order",
        "",
        f"Open the SQL editor: {sql_editor_url(ref)}",
        "Paste each file in turn, run it, and check it succeeded before the next one.",
        "Afterwards `migration-wizard check-remote` checks that every table exists.",
        "",
    ]
    for migration in catalog.migrations:
        for part in parts(migration):
            path = directory / part.filename
            path.write_text(part.sql, encoding="utf-8")
            written.append(path)
            statements = part.last_statement - part.first_statement + 1
            lines.append(f"{len(written)}. {part.filename}  ({statements} statements, "
                         f"{len(part.sql.encode('utf-8')):,} bytes)")
    index = directory / "INDEX.md"
    index.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [index, *written]


# -- the REST check: no database credential needed ----------------------------------------------

EXISTS = "exists"
EXISTS_WITHOUT_GRANTS = "exists-without-grants"
MISSING = "missing"


class RestError(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind  # bad-key, unreachable, unexpected
        self.message = message


def tables(catalog: Catalog, migrations: list[Migration] | None = None) -> list[str]:
    """The tables of the public schema that the migrations leave (what PostgREST can show)."""
    return [obj.name for obj, _, _ in final_objects(migrations if migrations is not None else catalog.migrations)
            if obj.kind == "table" and obj.schema == "public"]


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


def _unexpected(table: str, status: int, body) -> RestError:
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


# -- progress kept between runs --------------------------------------------------------------------

def load_progress(project: Path) -> dict[str, str]:
    """Confirmed migrations: version -> the checksum of the file that was run."""
    path = project / PROGRESS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.get("confirmed", {}).items()} if isinstance(data, dict) else {}


def confirm(project: Path, migration: Migration) -> None:
    progress = load_progress(project)
    progress[migration.version] = migration.checksum
    path = project / PROGRESS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"confirmed": progress}, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


def next_to_run(catalog: Catalog, confirmed: dict[str, str]) -> Migration | None:
    """The first migration not yet confirmed (or changed since it was)."""
    return next((m for m in catalog.migrations if confirmed.get(m.version) != m.checksum), None)
