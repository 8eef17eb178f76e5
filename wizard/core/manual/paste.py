"""The pastes of a migration for the dashboard's SQL editor: the file as one paste, or cut between
statements when it is too large for one; each paste one query that runs its statements and, on the
last part, records the migration in the history in the same transaction, stopping before anything
runs when the history already holds it.
"""

from __future__ import annotations

from dataclasses import dataclass

from wizard.core.catalog import Migration, Statement
from wizard.core.db.bound import literal

# A paste larger than this is offered in parts: the SQL editor handles large queries badly, and
# smaller parts fail in smaller pieces.
MAX_PART_BYTES = 200_000
MAX_PART_STATEMENTS = 400


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
    groups: list[list[Statement]] = [[]]
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


def _guard(migration: Migration, tag: str) -> str:
    """One line: stop before anything runs when another run holds the wizard's lock (held to the end
    of the paste's transaction), or when the history already holds the version."""
    from wizard.core import history
    from wizard.core.db.protocol import LOCK_KEY

    name = "".join(c if c.isprintable() else "?" for c in migration.filename)
    busy = literal(f"{_MESSAGE_PREFIX}another migration run is applying migrations to this database; "
                    "nothing was run")
    applied = literal(f"{_MESSAGE_PREFIX}{name} {ALREADY_APPLIED} (version {migration.version} is in "
                       f"{history.TABLE}); nothing was run")
    hint = literal("The history says this migration ran before. To run it again all the same, delete its row "
                    f"from {history.TABLE} first.")
    return (f"DO ${tag}$ BEGIN IF NOT pg_try_advisory_xact_lock({LOCK_KEY}) THEN RAISE EXCEPTION USING MESSAGE = "
            f"{busy}, HINT = 'Run this again when it has finished.'; END IF; "
            f"IF to_regclass('{history.TABLE}') IS NOT NULL THEN IF EXISTS (SELECT FROM {history.TABLE} "
            f"WHERE version = {literal(migration.version)}) THEN RAISE EXCEPTION USING MESSAGE = {applied}, "
            f"HINT = {hint}; END IF; END IF; END ${tag}$;")


def _ensure_history(tag: str) -> str:
    """The history tables, created as the Supabase CLI creates them, only where they are missing
    (so a paste takes no lock on them when they are there)."""
    from wizard.core import history

    cli = "\n    ".join(f"EXECUTE {literal(ddl)};" for ddl in history.CLI_DDL if not ddl.startswith("SET "))
    return (f"DO ${tag}$ BEGIN\n"
            f"  IF to_regclass('{history.TABLE}') IS NULL OR (SELECT count(*) FROM pg_catalog.pg_attribute\n"
            f"      WHERE attrelid = to_regclass('{history.TABLE}') AND attname IN ('statements', 'name')\n"
            "        AND NOT attisdropped) < 2 THEN\n"
            f"    {cli}\n"
            "  END IF;\n"
            f"  IF to_regclass('{history.META_TABLE}') IS NULL THEN\n"
            f"    EXECUTE {literal(history.META_DDL.strip())};\n"
            f"    EXECUTE {literal(history.COMMENT)};\n"
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
