"""The manual path: the dashboard's SQL editor, one migration at a time, checked and recorded.

For users with neither a database password nor an access token. The engine's part: the SQL to
paste (split at statement boundaries when a file is too large for one paste), each paste one query
that runs the file and records it in the migration history in the same transaction, and stops
before anything runs when the history already holds it (see ``paste``); the export of every
migration to files, with pre-flight's findings in its index, the check of what a paste created without any database credential (through
the project's REST API, PostgREST, with the anon or service key), the reading of an error the
dashboard showed, the record of a migration applied by hand, and the progress kept between runs.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from wizard import __version__
from wizard.core.catalog import Catalog, Migration
from wizard.core.errors import ExitCode, WizardError
from wizard.core.objects import Obj, final_objects

if TYPE_CHECKING:
    from wizard.core.diagnosis import Diagnosis
    from wizard.core.env import Environment

# A paste larger than this is offered in parts: the SQL editor handles large queries badly, and
# smaller parts fail in smaller pieces.
MAX_PART_BYTES = 200_000
MAX_PART_STATEMENTS = 400
PROGRESS_FILE = Path(".migration-wizard") / "manual-progress.json"


@dataclass(frozen=True)
class Part:
    """One paste of a migration: the whole file, or some of its statements."""

    migration: Migration
    number: int  # 1-based
    count: int
    first_statement: int  # 1-based, inclusive
    last_statement: int  # first_statement - 1 for a part that only records the migration
    sql: str  # the statements as the person reads them (a whole file: its own text)
    alone: bool = False  # a statement that cannot run in a transaction: it must be a query of its own

    @property
    def label(self) -> str:
        if self.count == 1:
            return self.migration.filename
        return f"{self.migration.filename} (part {self.number} of {self.count})"

    @property
    def filename(self) -> str:
        stem = self.migration.filename.removesuffix(".sql")
        return f"{stem}.sql" if self.count == 1 else f"{stem}.part{self.number}of{self.count}.sql"

    @property
    def records(self) -> bool:
        """The last part records the migration in the history."""
        return self.number == self.count

    @property
    def paste(self) -> str:
        """What the person pastes into the SQL editor: see ``paste``."""
        return paste(self)


def parts(migration: Migration, max_bytes: int = MAX_PART_BYTES, max_statements: int = MAX_PART_STATEMENTS) -> list[Part]:
    """The migration as one paste, or as several cut between statements. A file's own BEGIN/COMMIT
    are left out of the parts (each paste is a transaction of its own). A file that runs without a
    transaction is cut around each statement that cannot run in one (it must be a query of its
    own), and ends with a part that records it when its last statement is such a statement."""
    if migration.no_transaction:
        statements = migration.statements
        alone = {s.index for s in statements if s.outside_transaction}
    else:
        statements = migration.executable_statements
        alone = set()
    if (not alone and len(migration.source.encode("utf-8")) <= max_bytes
            and len(migration.statements) <= max_statements):
        return [Part(migration, 1, 1, 1, len(migration.statements), migration.source)]
    groups: list[list] = [[]]
    size = 0
    for statement in statements:
        length = len(statement.text.encode("utf-8")) + 2
        single = statement.index in alone
        if groups[-1] and (single or size + length > max_bytes or len(groups[-1]) >= max_statements):
            groups.append([])
            size = 0
        groups[-1].append(statement)
        size += length
        if single:
            groups.append([])
            size = 0
    if not groups[-1]:
        groups.pop()
    if not groups or groups[-1][-1].index in alone:
        groups.append([])  # the record, in a query of its own
    header = migration.text.split("\n", 1)[0] if migration.text.startswith("--") else f"-- {migration.filename}"
    made = []
    for i, group in enumerate(groups, start=1):
        count = len(groups)
        if not group:
            last = statements[-1].index if statements else 0
            made.append(Part(migration, i, count, last + 1, last,
                             f"{header}\n-- part {i} of {count}: records {migration.filename} in the migration "
                             "history (its statements ran in the parts before)\n"))
            continue
        if group[0].index in alone:
            made.append(Part(migration, i, count, group[0].index, group[0].index,
                             f"{header}\n-- part {i} of {count}: statement {group[0].index}, alone: it cannot run "
                             f"in a transaction, so nothing else may share its query\n\n{group[0].text};\n",
                             alone=True))
            continue
        made.append(Part(migration, i, count, group[0].index, group[-1].index,
                         f"{header}\n-- part {i} of {count}: statements {group[0].index} to {group[-1].index}\n\n"
                         + ";\n\n".join(s.text for s in group) + ";\n"))
    return made


# -- the paste: the migration and its history rows, in one query ---------------------------------

ALREADY_APPLIED = "is already applied"
_MESSAGE_PREFIX = "migration-wizard: "


def _tag(*texts: str) -> str:
    """A dollar-quote tag that occurs in none of the texts."""
    number = 0
    while True:
        tag = "mw" if number == 0 else f"mw{number}"
        if not any(f"${tag}$" in text for text in texts):
            return tag
        number += 1


def _literal(value: str) -> str:
    from psycopg import sql

    return sql.Literal(value).as_string(None)


def _guard(migration: Migration, tag: str) -> str:
    """One line: stop before anything runs when another run holds the wizard's lock (held to the end
    of the paste's transaction), or when the history already holds the version."""
    from wizard.core import history
    from wizard.core.runner import LOCK_KEY

    name = "".join(c if c.isprintable() else "?" for c in migration.filename)
    busy = _literal(f"{_MESSAGE_PREFIX}another migration run is applying migrations to this database; "
                    "nothing was run")
    applied = _literal(f"{_MESSAGE_PREFIX}{name} {ALREADY_APPLIED} (version {migration.version} is in "
                       f"{history.TABLE}); nothing was run")
    hint = _literal("The history says this migration ran before. To run it again all the same, delete its row "
                    f"from {history.TABLE} first.")
    return (f"DO ${tag}$ BEGIN IF NOT pg_try_advisory_xact_lock({LOCK_KEY}) THEN RAISE EXCEPTION USING MESSAGE = "
            f"{busy}, HINT = 'Run this again when it has finished.'; END IF; "
            f"IF to_regclass('{history.TABLE}') IS NOT NULL THEN IF EXISTS (SELECT FROM {history.TABLE} "
            f"WHERE version = {_literal(migration.version)}) THEN RAISE EXCEPTION USING MESSAGE = {applied}, "
            f"HINT = {hint}; END IF; END IF; END ${tag}$;")


def _ensure_history(tag: str) -> str:
    """The history tables, created as the Supabase CLI creates them, only where they are missing
    (so a paste takes no lock on them when they are there)."""
    from wizard.core import history

    cli = "\n    ".join(f"EXECUTE {_literal(ddl)};" for ddl in history.CLI_DDL if not ddl.startswith("SET "))
    return (f"DO ${tag}$ BEGIN\n"
            f"  IF to_regclass('{history.TABLE}') IS NULL OR (SELECT count(*) FROM pg_catalog.pg_attribute\n"
            f"      WHERE attrelid = to_regclass('{history.TABLE}') AND attname IN ('statements', 'name')\n"
            "        AND NOT attisdropped) < 2 THEN\n"
            f"    {cli}\n"
            "  END IF;\n"
            f"  IF to_regclass('{history.META_TABLE}') IS NULL THEN\n"
            f"    EXECUTE {_literal(history.META_DDL.strip())};\n"
            f"    EXECUTE {_literal(history.COMMENT)};\n"
            "  END IF;\n"
            f"END ${tag}$;")


def paste(part: Part) -> str:
    """A part as one query for the SQL editor (which sends the whole text as one query): it runs
    the statements and, on the last part, records the migration in the Supabase CLI's history and
    the wizard's table, with the statements and checksum an automated run records, all in one
    transaction, creating the history tables where they are missing. It first stops, before
    anything runs, when the history already holds the version or another run holds the lock.

    The transaction is the one PostgreSQL gives a query string of several statements: all of it,
    or nothing, and after an error the session is as before (no transaction left open and aborted,
    as an explicit BEGIN would leave it). Only a file that uses savepoints, which need an explicit
    transaction block, gets BEGIN and COMMIT around it.

    What comes before the file's text stays on its first line: the editor's "LINE n" is the line
    of ``part.sql``. A file without a transaction still runs each part as one query (all or
    nothing); a statement that cannot run in a transaction is pasted alone, as it is."""
    from wizard.core import history

    if part.alone:
        return part.sql
    migration = part.migration
    transaction = not migration.no_transaction
    body = migration.body_for_transaction if part.count == 1 and transaction else part.sql
    tag = _tag(body, migration.filename)
    explicit = _explicit(part)
    head = ("BEGIN; " if explicit else "") + _guard(migration, tag) + " "
    tail = [""]
    if part.records:
        statements = migration.executable_statements if transaction else migration.statements
        tail += [
            f"-- migration-wizard: what follows records {migration.filename} in {history.TABLE} (the Supabase",
            "-- CLI's history) and in the wizard's own table" + (", in the same transaction." if transaction else
                                                                  " (this file runs without a transaction)."),
        ]
        if migration.changes_session:  # the file's settings (and role) end before the history write
            tail.append("RESET ALL; RESET ROLE;")
        tail.append(_ensure_history(tag))
        tail.append(history.record_sql(migration, [s.text for s in statements], "manual") + ";")
    if explicit:
        tail.append("COMMIT;")
    return head + body + "\n;\n" + "\n".join(tail).lstrip("\n") + "\n"


_SAVEPOINTS = {"TRANS_STMT_SAVEPOINT", "TRANS_STMT_RELEASE", "TRANS_STMT_ROLLBACK_TO"}


def _explicit(part: Part) -> bool:
    """Whether the paste needs an explicit transaction block: its statements use savepoints."""
    if part.migration.no_transaction:
        return False
    return any(s.kind == "TransactionStmt" and s.node.get("kind") in _SAVEPOINTS
               for s in part.migration.statements[part.first_statement - 1 : part.last_statement])


def paste_offset(part: Part) -> int:
    """How many characters of the paste's first line come before the part's own text."""
    if part.alone:
        return 0
    transaction = not part.migration.no_transaction
    body = part.migration.body_for_transaction if part.count == 1 and transaction else part.sql
    return len(("BEGIN; " if _explicit(part) else "") + _guard(part.migration, _tag(body, part.migration.filename)) + " ")


def already_applied(text: str) -> bool:
    """Whether an error the editor showed is a paste's own stop: the history holds the version."""
    return _MESSAGE_PREFIX in text and ALREADY_APPLIED in text


def sql_editor_url(ref: str | None) -> str:
    return f"https://supabase.com/dashboard/project/{ref or '_'}/sql/new"


class ExportRefused(WizardError):
    """The export would overwrite what it must not: nothing was written."""

    kind = "export"
    exit_code = ExitCode.USAGE


RECORDS_ITSELF = "each part records itself in the migration history when it runs"


def export(catalog: Catalog, directory: Path, ref: str | None, findings: list | None = None) -> list[Path]:
    """One file per migration (or part), each the query to paste (see ``paste``), and an index with
    the order, the dashboard URL and the pre-flight findings the person should read first.
    ``ExportRefused`` (nothing written) when the directory is the migration folder: the pastes
    would overwrite the migrations of the same names."""
    if Path(directory).resolve() == Path(catalog.directory).resolve():
        raise ExportRefused(f"{directory} is the migration folder: the pastes would overwrite the migrations "
                            "(they have the same names); export into another directory")
    directory.mkdir(parents=True, exist_ok=True)
    stale = _listed(directory / "INDEX.md")  # what an earlier export wrote here: not to be pasted any more
    written = []
    lines = [
        "# Migrations to run by hand, in this order",
        "",
        f"Open the SQL editor: {sql_editor_url(ref)}",
        "Paste each file in turn, run it, and check it succeeded before the next one.",
        "",
        f"{RECORDS_ITSELF.capitalize()}: one paste runs the migration and writes its row in",
        "supabase_migrations.schema_migrations (the Supabase CLI's history, so `supabase migration list`",
        "shows it applied and a later automated run skips it) and in the wizard's own table, in the same",
        "transaction: all of it, or nothing. A file whose version the history already holds stops before",
        "anything runs (\"already applied\") and changes nothing. A migration cut into parts is recorded by",
        "its last part; every part checks the history first.",
        "Afterwards `migration-wizard check-remote` checks that every table exists.",
        "",
    ]
    if findings:
        lines += _findings_section(findings)
    elif findings is not None:
        lines += ["Pre-flight (offline, against a fresh Supabase project): nothing to report.", ""]
    notes = []
    for migration in catalog.migrations:
        pieces = parts(migration)
        for part in pieces:
            path = directory / part.filename
            text = part.paste
            path.write_text(text, encoding="utf-8")
            written.append(path)
            statements = part.last_statement - part.first_statement + 1
            what = (f"{statements} statement{'s' * (statements != 1)}" if statements
                    else "records the migration")
            lines.append(f"{len(written)}. {part.filename}  ({what}, {len(text.encode('utf-8')):,} bytes"
                         + (", alone: paste it by itself)" if part.alone else ")"))
        if migration.no_transaction:
            alone = [p.filename for p in pieces if p.alone]
            notes.append(
                f"- {migration.filename} runs without a transaction ("
                + (f"its header says so: {migration.transaction_marker}" if migration.transaction_marker
                   else "every statement of it needs that")
                + "): a failure leaves the "
                "parts before it applied, and the history row is written after its statements"
                + (f"; {', '.join(alone)} cannot run in a transaction and must be pasted alone, with nothing "
                   "else in the editor, and cannot check the history first" if alone else "")
                + ".")
    if notes:
        lines += ["", "## Without a transaction", "", *notes]
    index = directory / "INDEX.md"
    index.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name in stale - {path.name for path in written}:
        (directory / name).unlink(missing_ok=True)
    return [index, *written]


def _listed(index: Path) -> set[str]:
    """The files an earlier export's INDEX.md lists (its numbered lines): pastes of the wizard's own."""
    import re

    try:
        text = index.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return set()
    names = re.findall(r"^\d+\. (.+?\.sql)  \(", text, re.MULTILINE)
    return {name for name in names if "/" not in name and "\\" not in name and not name.startswith(".")}


def _findings_section(findings: list) -> list[str]:
    """The pre-flight findings, errors first, as INDEX.md shows them before the first paste."""
    order = {"error": 0, "warning": 1, "info": 2}
    errors = sum(1 for f in findings if f.severity == "error")
    head = (f"## Read this first: pre-flight found {errors} error(s)" if errors
            else "## Pre-flight findings (no errors)")
    lines = [head, "", "Offline, against a fresh Supabase project: what the database already holds (objects made",
             "by hand in the dashboard) is unseen.", ""]
    if errors:
        lines += ["A paste with an error fails in the SQL editor (and, since each paste is one transaction,",
                  "changes nothing). Fix the files, then export again.", ""]
    for finding in sorted(findings, key=lambda f: order.get(f.severity, 3)):
        lines.append(f"- {finding.severity.upper()} {finding.location()}: {finding.message}")
    return lines + [""]


# -- the REST check: no database credential needed ----------------------------------------------

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


def tables(catalog: Catalog, migrations: list[Migration] | None = None) -> list[str]:
    """The tables of the public schema that the migrations leave (what PostgREST can show)."""
    return [obj.name for obj, _, _ in final_objects(migrations if migrations is not None else catalog.migrations)
            if obj.kind == "table" and obj.schema == "public"]


def _rest_get(base: str, key: str, table: str, query: str, timeout: float) -> tuple[int, object]:
    """GET /rest/v1/<table>?<query>: the status and the decoded body. Raises RestError for a
    refused key or an unreachable API."""
    from wizard.core.env import sendable

    if not sendable(key):  # never sent, never quoted in an error
        raise RestError("bad-key", "the API key cannot be sent: it holds a character no API key has (a space, a line "
                        "break, a control or non-ASCII character); copy it again")
    url = f"{base.rstrip('/')}/rest/v1/{urllib.parse.quote(table)}?{query}"
    headers = {"apikey": key, "Accept": "application/json", "User-Agent": f"migration-wizard/{__version__}"}
    if key.count(".") == 2:  # a JWT key also goes as the bearer
        headers["Authorization"] = f"Bearer {key}"
    try:
        request = urllib.request.Request(url, headers=headers)
    except ValueError:  # no http(s) scheme: SUPABASE_URL is not a URL
        raise RestError("unreachable", f"cannot reach {base}: it is not an http(s) URL") from None
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
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


# -- the REST API: what the manual path sees without a database credential ----------------------

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
        if variable is None or key_name is None:
            return None
        return cls(environment.get(variable).strip().rstrip("/"), key_name, environment.get(key_name), timeout)

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


# -- progress kept between runs --------------------------------------------------------------------

def target_key(ref: str | None, url: str | None) -> str:
    """What manual progress is kept under: the Supabase project, else the database the URL names
    (scheme, host, port and path; never its user or password); "" when neither is known."""
    if ref:
        return f"project:{ref}"
    if not url:
        return ""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{parts.hostname or ''}{f':{port}' if port else ''}{parts.path}"


def _read_progress(project: Path) -> dict:
    try:
        data = json.loads((project / PROGRESS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load_progress(project: Path, target: str = "") -> dict[str, str]:
    """The migrations confirmed on one target (see ``target_key``): version -> the checksum of the
    file that was run. A file written before progress was kept per target counts for the first
    target that reads it, and is kept under that target at the next confirmation."""
    data = _read_progress(project)
    targets = data.get("targets")
    if isinstance(targets, dict):
        confirmed = (targets.get(target) or {}).get("confirmed", {})
    else:
        confirmed = data.get("confirmed", {})
    return {str(k): str(v) for k, v in confirmed.items()} if isinstance(confirmed, dict) else {}


def confirm(project: Path, migration: Migration, target: str = "") -> None:
    """Keep that a migration was run by hand on a target, with its file's checksum."""
    data = _read_progress(project)
    progress = load_progress(project, target)
    progress[migration.version] = migration.checksum
    targets = data.get("targets") if isinstance(data.get("targets"), dict) else {}
    targets[target] = {"confirmed": progress}
    path = project / PROGRESS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"targets": targets}, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


def next_to_run(catalog: Catalog, confirmed: dict[str, str]) -> Migration | None:
    """The first migration not yet confirmed (or changed since it was)."""
    return next((m for m in catalog.migrations if confirmed.get(m.version) != m.checksum), None)


# -- one migration run by hand: what it creates, what a check found of it ------------------------

_PLURAL = {"index": "indexes", "policy": "policies", "schema": "schemas"}
_ORDER = ("view", "sequence", "column", "index", "trigger", "function", "policy", "type", "schema", "extension")


def _count(kind: str, number: int) -> str:
    return f"{number} {kind if number == 1 else _PLURAL.get(kind, kind + 's')}"


def _others(objs: list[Obj]) -> list[str]:
    """Every object but the tables, counted by kind: 17 columns, 7 indexes, row level security on 1 table."""
    kinds = Counter(o.kind for o in objs)
    counted = [_count(kind, kinds[kind]) for kind in _ORDER if kinds[kind]]
    counted += [_count(kind, n) for kind, n in kinds.items() if kind not in _ORDER + ("table", "rls")]
    if kinds["rls"]:
        counted.append(f"row level security on {_count('table', kinds['rls'])}")
    return counted


def _objects(migration: Migration) -> list[Obj]:
    return [obj for obj, _, _ in final_objects([migration])]


def _seeded(migration: Migration) -> list[str]:
    """The tables a migration inserts rows into."""
    names = []
    for statement in migration.statements:
        relation = statement.node.get("relation") if statement.kind == "InsertStmt" else None
        if relation and relation.get("relname") not in names:
            names.append(relation["relname"])
    return names


def creates(migration: Migration) -> str:
    """What running the migration leaves in the database, in one line."""
    objs = _objects(migration)
    tables = [o.name for o in objs if o.kind == "table"]
    said = []
    if len(tables) == 1:
        said.append(f"table {tables[0]}")
    elif tables:
        more = f" and {len(tables) - 3} more" if len(tables) > 4 else ""
        said.append(f"{len(tables)} tables ({', '.join(tables[:3] if more else tables)}{more})")
    said += _others(objs)
    seeded = _seeded(migration)
    if seeded:
        said.append("rows in " + ", ".join(seeded))
    return ", ".join(said) if said else "nothing that the wizard can name"


@dataclass(frozen=True)
class Presence:
    """What a check found of one migration after the person ran it."""

    how: str  # "the database's catalog" or "the REST API"
    present: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    unchecked: str = ""  # what this way cannot see

    @property
    def checked(self) -> bool:
        """Something could be looked up at all."""
        return bool(self.present or self.missing)

    @property
    def ok(self) -> bool:
        return self.checked and not self.missing

    @property
    def things(self) -> str:
        """What it looks at: the REST API sees tables; the catalog, objects and seeded rows."""
        return "tables" if self.how == "the REST API" else "objects"


def check(migration: Migration, catalog: Catalog, conn=None, rest: RestApi | None = None) -> Presence:
    """What the database holds of a migration: every object and seeded row, through a connection;
    else its tables, through the REST API (raises RestError when that fails)."""
    if conn is not None:
        from wizard.core import verify

        found, absent = verify.migration_presence(conn, migration)
        present, missing = [o.describe() for o in found], [o.describe() for o in absent]
        for seeds in verify.seed_checks(conn, [migration]):
            (present if seeds.ok else missing).append(f"{seeds.name}: {seeds.detail}")
        unseen = [t for t in _seeded(migration) if not any(t in line for line in present + missing)]
        unchecked = f"rows in {', '.join(unseen)} (not keyed by ON CONFLICT)" if unseen else ""
        return Presence("the database's catalog", tuple(present), tuple(missing), unchecked)

    from wizard.core import verify

    present, missing = [], []
    names = tables(catalog, [migration])
    for name in names:
        state = rest.state(name)
        if state == MISSING:
            missing.append(f"table {name}")
        elif state == EXISTS_WITHOUT_GRANTS:
            present.append(f"table {name} (this key's role has no grant on it)")
        else:
            present.append(f"table {name}")
    objs = _objects(migration)
    # columns added to tables that an earlier migration created: the REST API knows columns too
    added: dict[str, list[str]] = {}
    for obj in objs:
        schema, _, table = (obj.table or "").partition(".")
        if obj.kind == "column" and schema == "public" and table not in names:
            added.setdefault(table, []).append(obj.name)
    for table, columns in added.items():
        absent = set(rest.missing_columns(table, columns))
        for column in columns:
            (missing if column in absent else present).append(f"column {table}.{column}")
    # seeded rows, by their ON CONFLICT key: visible to the service role's key only
    seeds = verify.seed_rows([migration]) if rest.sees_all_rows else {}
    for (qualified, column), rows in seeds.items():
        table = qualified.partition(".")[2]
        found = rest.rows_found(table, column, [value for value, _, _ in rows])
        lacking = [value for value, _, _ in rows if value not in found]
        if lacking:
            missing.append(f"rows of {table} ({column} {', '.join(lacking[:5])}{'…' if len(lacking) > 5 else ''})")
        else:
            present.append(f"{len(rows)} rows of {table}")
    unseen = _others([o for o in objs if o.kind != "column" or (o.table or "").partition(".")[2] not in added])
    seeded = [t for t in _seeded(migration) if f"public.{t}" not in {q for q, _ in seeds}]
    if seeded:
        unseen.append("the rows in " + ", ".join(seeded))
    return Presence("the REST API", tuple(present), tuple(missing), ", ".join(unseen))


# -- an error the SQL editor showed ----------------------------------------------------------------

def read_error(text: str, migration: Migration, part: Part) -> Diagnosis | None:
    """The error pasted from the editor, placed in the file: at its "LINE n:" when it has one
    (a line of the paste, that is of ``part``), else at the statement that names its object.
    None when the text is not an error of PostgreSQL's."""
    from wizard.core.diagnosis import diagnose
    from wizard.core.https import statement_naming, parse_error

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
