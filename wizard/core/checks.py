"""The checks file beside the migrations (``checks.toml``): what a person would check by hand
after applying them, kept as data. Format: ``migrations/README.md``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import psycopg

from wizard.core.catalog import CHECKS_FILE
from wizard.core.db import Connectable, database
from wizard.core.errors import ExitCode, WizardError

_EXPECTATIONS = ("expect", "expect_min", "expect_contains")


class ChecksFileError(WizardError):
    """The checks file is not valid."""

    kind = "checks-file"
    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Check:
    name: str
    sql: str
    expectation: str  # one of _EXPECTATIONS
    expected: object
    description: str = ""


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def to_json(self) -> dict:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def load(directory: Path) -> list[Check]:
    """The checks of a migration folder; none when it has no checks file."""
    path = directory / CHECKS_FILE
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ChecksFileError(f"{path}: {exc}") from exc
    checks = []
    for i, entry in enumerate(data.get("check", []), start=1):
        name = entry.get("name") or f"check {i}"
        given = [key for key in _EXPECTATIONS if key in entry]
        if not isinstance(entry.get("sql"), str) or len(given) != 1:
            raise ChecksFileError(
                f"{path}: check '{name}' needs a sql string and exactly one of " + ", ".join(_EXPECTATIONS)
            )
        checks.append(Check(name, entry["sql"], given[0], entry[given[0]], entry.get("description", "")))
    return checks


def run(conn: Connectable, checks: list[Check]) -> list[CheckResult]:
    """Run each check in a read-only transaction that is rolled back."""
    db = database(conn)
    results = []
    for check in checks:
        try:
            values = [row[0] for row in db.rolled_back(check.sql, read_only=True)]
        except psycopg.Error as exc:
            results.append(CheckResult(check.name, False, f"the query failed: {str(exc).strip()}"))
            continue
        result = _judge(check, values)
        if check.description:  # what the figures are about, for a reader who did not write the check
            result = CheckResult(result.name, result.ok, f"{result.detail}: {check.description}")
        results.append(result)
    return results


def _judge(check: Check, values: list) -> CheckResult:
    if check.expectation == "expect_contains":
        found = {str(v) for v in values}
        missing = [str(v) for v in check.expected if str(v) not in found]
        if missing:
            return CheckResult(check.name, False, f"missing: {', '.join(missing)}")
        return CheckResult(check.name, True, f"all {len(check.expected)} present")
    if len(values) != 1:
        return CheckResult(check.name, False, f"expected one value, the query returned {len(values)} rows")
    value = values[0]
    if check.expectation == "expect":
        ok = str(value) == str(check.expected)
        return CheckResult(check.name, ok, f"expected {check.expected}, found {value}")
    try:
        ok = value is not None and float(value) >= float(check.expected)
    except (TypeError, ValueError):
        ok = False
    return CheckResult(check.name, ok, f"expected at least {check.expected}, found {value}")
