"""Every migration exported to files to paste, with an index: the order, the dashboard's URL and
pre-flight's findings to read first.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from wizard.core.catalog import Catalog
from wizard.core.errors import ExitCode, WizardError
from wizard.core.manual.paste import parts, sql_editor_url

if TYPE_CHECKING:
    from wizard.core.preflight import Finding


class ExportRefused(WizardError):
    """The export would overwrite what it must not: nothing was written."""

    kind = "export"
    exit_code = ExitCode.USAGE


RECORDS_ITSELF = "each part records itself in the migration history when it runs"


def export(catalog: Catalog, directory: Path, ref: str | None, findings: list[Finding] | None = None) -> list[Path]:
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


def _findings_section(findings: list[Finding]) -> list[str]:
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
