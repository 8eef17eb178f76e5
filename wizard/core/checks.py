"""The checks file beside the migrations (``checks.toml``): what a person would check by hand
after applying them, kept as data. Format: ``migrations/README.md``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import SupportsFloat, SupportsIndex, TypeAlias

import psycopg

from wizard.core.catalog import CHECKS_FILE
from wizard.core.db import Connectable, database
from wizard.core.errors import ExitCode, WizardError

_EXPECTATIONS = ("expect", "expect_min", "expect_contains")

# A value of the checks file, as tomllib reads it.
TomlValue: TypeAlias = "str | int | float | bool | datetime | date | time | list[TomlValue] | dict[str, TomlValue]"


class ChecksFileError(WizardError):
    """The checks file is not valid."""

    kind = "checks-file"
    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Check:
    name: str
    sql: str
    expectation: str  # one of _EXPECTATIONS
    expected: TomlValue
    description: str = ""


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def to_json(self) -> dict[str, object]:
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
        if given[0] == "expect_contains" and not isinstance(entry[given[0]], list):
            raise ChecksFileError(f"{path}: check '{name}': expect_contains needs a list of values, such as "
                                  '["users", "bilans"]')
        checks.append(Check(name, entry["sql"], given[0], entry[given[0]], entry.get("description", "")))
    return checks


def run(conn: Connectable, checks: list[Check]) -> list[CheckResult]:
    """Run each check in a read-only transaction that is rolled back (all of them asked together
    first: one request over HTTPS, one round trip over a connection; when one fails there, each
    is asked on its own and the failing one says why)."""
    from wizard.core.db import batch

    db = database(conn)
    batch.prefetch(db, [(check.sql, None) for check in checks])
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


def _judge(check: Check, values: list[object]) -> CheckResult:
    if check.expectation == "expect_contains":
        found = {str(v) for v in values}
        wanted = _items(check.expected)
        missing = [str(v) for v in wanted if str(v) not in found]
        if missing:
            return CheckResult(check.name, False, f"missing: {', '.join(missing)}")
        return CheckResult(check.name, True, f"all {len(wanted)} present")
    if len(values) != 1:
        return CheckResult(check.name, False, f"expected one value, the query returned {len(values)} rows")
    value = values[0]
    if check.expectation == "expect":
        ok = str(value) == str(check.expected)
        return CheckResult(check.name, ok, f"expected {check.expected}, found {value}")
    try:
        ok = value is not None and _number(value) >= _number(check.expected)
    except (TypeError, ValueError):
        ok = False
    return CheckResult(check.name, ok, f"expected at least {check.expected}, found {value}")


def _items(value: TomlValue) -> list[TomlValue]:
    """The values an ``expect_contains`` lists (``load`` takes nothing else)."""
    return list(value) if isinstance(value, list) else [value]


def _number(value: object) -> float:
    """``float(value)``: a TypeError for what is neither a number, a string nor bytes."""
    if isinstance(value, (str, bytes, bytearray, memoryview, SupportsFloat, SupportsIndex)):
        return float(value)
    raise TypeError(f"float() argument must be a string or a real number, not '{type(value).__name__}'")
