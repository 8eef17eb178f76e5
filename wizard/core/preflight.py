"""Static checks of the migration files, before any SQL runs.

Findings have a severity: ``error`` (it will certainly fail, or it would break the wizard's
guarantees: nothing is applied while there is one), ``warning`` (it can hurt: read it before you go
on) or ``info``.
"""

from __future__ import annotations

from dataclasses import dataclass

from wizard.core.catalog import Catalog, Migration, Problem, Statement

ERROR = "error"
WARNING = "warning"
INFO = "info"


@dataclass(frozen=True)
class Finding:
    severity: str
    code: str
    file: str
    line: int | None
    message: str
    column: int | None = None

    def to_json(self) -> dict:
        return {
            "severity": self.severity,
            "code": self.code,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }

    def location(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where


def _from_problem(problem: Problem, severity: str = ERROR) -> Finding:
    return Finding(severity, problem.code, problem.file, problem.line, problem.message, problem.column)


def _outside_transaction(statement: Statement) -> str | None:
    """What a statement is, when PostgreSQL refuses to run it inside a transaction block."""
    node, kind = statement.node, statement.kind
    if kind == "IndexStmt" and node.get("concurrent"):
        return "CREATE INDEX CONCURRENTLY"
    if kind == "DropStmt" and node.get("concurrent"):
        return "DROP INDEX CONCURRENTLY"
    if kind == "ReindexStmt" and any(
        p.get("DefElem", {}).get("defname") == "concurrently" for p in node.get("params", [])
    ):
        return "REINDEX CONCURRENTLY"
    if kind == "VacuumStmt" and node.get("is_vacuumcmd"):
        return "VACUUM"
    if kind == "DiscardStmt" and node.get("target") == "DISCARD_ALL":
        return "DISCARD ALL"
    return {
        "CreatedbStmt": "CREATE DATABASE",
        "DropdbStmt": "DROP DATABASE",
        "AlterSystemStmt": "ALTER SYSTEM",
        "CreateTableSpaceStmt": "CREATE TABLESPACE",
        "DropTableSpaceStmt": "DROP TABLESPACE",
        "CreateSubscriptionStmt": "CREATE SUBSCRIPTION",
        "DropSubscriptionStmt": "DROP SUBSCRIPTION",
    }.get(kind)


def _destructive(statement: Statement) -> str | None:
    node, kind = statement.node, statement.kind
    if kind == "DropStmt" and node.get("removeType") in ("OBJECT_TABLE", "OBJECT_SCHEMA"):
        return "DROP " + node["removeType"].removeprefix("OBJECT_")
    if kind == "TruncateStmt":
        return "TRUNCATE"
    if kind == "AlterTableStmt":
        for cmd in node.get("cmds", []):
            if cmd.get("AlterTableCmd", {}).get("subtype") == "AT_DropColumn":
                return "DROP COLUMN"
    return None


def check_migration(migration: Migration) -> list[Finding]:
    findings = []
    name = migration.filename
    boundaries = [s for s in migration.statements if s.is_transaction_control]
    for statement in migration.statements:
        what = _outside_transaction(statement)
        if what and not migration.no_transaction:
            findings.append(
                Finding(
                    ERROR,
                    "needs-no-transaction",
                    name,
                    statement.line,
                    f"{what} cannot run inside a transaction: make the file's first line "
                    "'-- wizard:no-transaction' (it then runs statement by statement, without the "
                    "all-or-nothing guarantee), or move the statement to a file of its own",
                )
            )
        if statement.kind == "TransactionStmt" and not statement.is_transaction_control and not migration.no_transaction:
            kind = statement.node.get("kind", "")
            if kind in ("TRANS_STMT_ROLLBACK", "TRANS_STMT_PREPARE", "TRANS_STMT_COMMIT_PREPARED",
                        "TRANS_STMT_ROLLBACK_PREPARED"):
                findings.append(
                    Finding(
                        ERROR,
                        "transaction-control",
                        name,
                        statement.line,
                        "the file ends or discards its own transaction ("
                        + statement.text.split()[0].upper()
                        + "): the wizard runs each file in one transaction; remove the statement",
                    )
                )
        if statement.kind == "CopyStmt" and statement.node.get("is_from") and not statement.node.get("filename"):
            findings.append(
                Finding(
                    ERROR,
                    "copy-from-stdin",
                    name,
                    statement.line,
                    "COPY ... FROM STDIN needs psql to send the data; use INSERT statements instead",
                )
            )
        destructive = _destructive(statement)
        if destructive:
            findings.append(
                Finding(
                    WARNING,
                    "destructive",
                    name,
                    statement.line,
                    f"{destructive} destroys data: check you have a backup before applying",
                )
            )
        if statement.kind == "AlterEnumStmt" and statement.node.get("newVal") and not migration.no_transaction:
            findings.append(
                Finding(
                    WARNING,
                    "enum-value-in-transaction",
                    name,
                    statement.line,
                    "a value added to an enum cannot be used in the same transaction: "
                    "use it in a later migration",
                )
            )
    if boundaries and not migration.no_transaction:
        findings.append(
            Finding(
                INFO,
                "own-transaction",
                name,
                boundaries[0].line,
                "the file's own BEGIN/COMMIT are left out: the wizard runs the whole file in one transaction",
            )
        )
    return findings


def check(catalog: Catalog, migrations: list[Migration] | None = None) -> list[Finding]:
    """Every finding for the folder: its problems first, then each (pending) migration's."""
    findings = [_from_problem(p) for p in catalog.problems]
    findings += [_from_problem(w, WARNING) for w in catalog.warnings]
    for migration in catalog.migrations if migrations is None else migrations:
        if migration.statements:
            findings += check_migration(migration)
    return findings


def blocking(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == ERROR]
