"""Findings, their severities, and the checks of each migration's statements on their own."""

from __future__ import annotations

from dataclasses import dataclass

from wizard.core.catalog import Catalog, Migration, Problem, Statement, location

# A statement's effects as objects.effects_data gives them (plain tuples, as the parse cache keeps
# them), for the dependency walk too.
from wizard.core.effects import EffectsData as EffectsData
from wizard.core.effects import FunctionName as FunctionName
from wizard.core.effects import MoreData as MoreData
from wizard.core.effects import ObjectData as ObjectData
from wizard.core.effects import UseData as UseData

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

    def to_json(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "code": self.code,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }

    def location(self) -> str:
        return location(self.file, self.line, self.column)


def _from_problem(problem: Problem, severity: str = ERROR) -> Finding:
    return Finding(severity, problem.code, problem.file, problem.line, problem.message, problem.column)


def _destructive(statement: Statement) -> str | None:
    kind = statement.kind
    if kind not in ("DropStmt", "TruncateStmt", "AlterTableStmt"):
        return None
    node = statement.node
    removed: str | None = node.get("removeType")
    if kind == "DropStmt" and removed in ("OBJECT_TABLE", "OBJECT_SCHEMA"):
        return "DROP " + removed.removeprefix("OBJECT_")
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
    marker = migration.transaction_marker
    txmode = migration.unknown_txmode
    if txmode is not None:
        findings.append(Finding(
            WARNING, "unknown-txmode", name, txmode[0],
            f"'atlas:txmode {txmode[1]}' is not one of Atlas's modes (none, file, all): the file runs in "
            "one transaction, as without it",
        ))
    alone = marker is None and migration.only_outside_transaction
    if marker is not None:
        findings.append(Finding(
            INFO, "no-transaction", name, 1,
            f"runs without a transaction, statement by statement, as its header says ({marker})",
        ))
    elif alone:
        what = [f"{s.outside_transaction or 'ALTER TYPE ... ADD VALUE'} at line {s.line}"
                for s in migration.statements if s.kind != "VariableSetStmt"]
        findings.append(Finding(
            WARNING, "runs-without-transaction", name, migration.statements[0].line,
            "the file holds only statements that run outside a transaction (" + ", ".join(what[:6])
            + (f" and {len(what) - 6} more" if len(what) > 6 else "") + "): it runs without one, statement by "
            "statement; a failure half-way leaves the statements before it applied",
        ))
    if migration.down_section is not None:
        findings.append(Finding(
            INFO, "dbmate-down", name, migration.line_col(migration.down_section)[0],
            "a dbmate file: only its migrate:up section runs; the migrate:down section from here on is left out",
        ))
    ordinary = None
    if not migration.no_transaction:
        others = [s for s in migration.statements if s.outside_transaction is None
                  and not s.is_transaction_control and s.kind != "VariableSetStmt"]
        ordinary = next((s for s in others if s.kind != "AlterEnumStmt"), others[0] if others else None)
    for statement in migration.statements:
        outside = statement.outside_transaction
        if outside and not migration.no_transaction:
            also = (f", and the file also holds other statements ({_short(ordinary)} at line "
                    f"{ordinary.line}), which run in the file's transaction" if ordinary is not None else "")
            findings.append(
                Finding(
                    ERROR,
                    "needs-no-transaction",
                    name,
                    statement.line,
                    f"{outside} cannot run inside a transaction{also}: move it to a file of its own (a file "
                    "of such statements alone runs without a transaction), or make the file's first line "
                    "'-- wizard:no-transaction' (it then runs statement by statement, without the "
                    "all-or-nothing guarantee)",
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
        if statement.kind == "CopyStmt" and not statement.node.get("is_from") and not statement.node.get("filename"):
            findings.append(
                Finding(
                    ERROR,
                    "copy-to-stdout",
                    name,
                    statement.line,
                    "COPY ... TO STDOUT sends rows to psql's screen, and a migration has no screen: "
                    "remove the statement",
                )
            )
        if statement.kind in ("DoStmt", "CreateFunctionStmt"):
            findings += _unchecked(migration, statement)
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


def _short(statement: Statement) -> str:
    first = statement.text.split("\n", 1)[0].strip()
    return first if len(first) <= 40 else first[:37] + "..."


def _unchecked(migration: Migration, statement: Statement) -> list[Finding]:
    """Dynamic SQL of a DO block or PL/pgSQL function that pre-flight could not read."""
    from wizard.core.objects import effects_data

    more: MoreData | None = effects_data(statement)[3]
    if more is None or not more[3]:
        return []
    lines = sorted({migration.line_at_byte(offset) if offset else statement.line for offset in more[3]})
    return [
        Finding(INFO, "dynamic-sql", migration.filename, line,
                f"not checked: dynamic SQL at {migration.filename}:{line} (EXECUTE of a string built "
                "at run time): pre-flight cannot tell what it creates or uses")
        for line in lines
    ]


def check(catalog: Catalog, migrations: list[Migration] | None = None) -> list[Finding]:
    """Every finding for the folder: its problems first, then each (pending) migration's."""
    findings = [_from_problem(p) for p in catalog.problems]
    findings += [_from_problem(w, WARNING) for w in catalog.warnings]
    for migration in catalog.migrations if migrations is None else migrations:
        if migration.statements:
            compact = [(s, s.tree) for s in migration.statements if isinstance(s.tree, bytes)]
            findings += check_migration(migration)
            for statement, tree in compact:
                statement.tree = tree  # the trees decoded for the checks go: a run needs few of them again
    return findings


def blocking(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == ERROR]
