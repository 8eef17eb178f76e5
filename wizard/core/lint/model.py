"""What a lint finding is: a rule (stable id, level, fix, advisor link), the object, and where in
the folder the statement that made it is, when known."""

from __future__ import annotations

import enum
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from wizard.core.sqlfile import location

ADVISOR_DOCS = "https://supabase.com/docs/guides/database/database-linter?lint="


class Level(enum.Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def at_least(self, other: Level) -> bool:
        return self.rank >= other.rank


_RANKS = {Level.INFO: 0, Level.WARNING: 1, Level.ERROR: 2}


class Scope(enum.Enum):
    FILES = "files"  # read from the migration files alone (their parse trees)
    DATABASE = "database"  # asked of a database's catalog


@dataclass(frozen=True)
class Rule:
    id: str
    level: Level
    scope: Scope
    category: str  # security, performance, safety or lint
    title: str
    fix: str
    advisor: str | None = None  # the id of the Supabase database advisor lint it mirrors
    sql: str | None = None  # a database rule: rows of (schema, name, kind, table, detail)

    @property
    def link(self) -> str | None:
        return ADVISOR_DOCS + self.advisor if self.advisor else None


@dataclass(frozen=True)
class LintFinding:
    rule: Rule
    object: str  # what it is about: "table public.notes", "policy p on public.notes"
    message: str
    file: str | None = None  # the file of the statement that made the object, when known
    line: int | None = None
    level: Level | None = None  # when it differs from the rule's (None: the rule's level)

    @property
    def severity(self) -> Level:
        return self.level or self.rule.level

    def location(self) -> str:
        return location(self.file, self.line) if self.file else "(database)"

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule.id,
            "level": self.severity.value,
            "category": self.rule.category,
            "object": self.object,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "fix": self.rule.fix,
            "link": self.rule.link,
        }


@cache
def rules() -> dict[str, Rule]:
    """Every rule, by id, as ``rules.toml`` describes them."""
    text = resources.files("wizard.core.lint").joinpath("rules.toml").read_text(encoding="utf-8")
    table: dict[str, Any] = tomllib.loads(text)
    found: dict[str, Rule] = {}
    for entry in table["rule"]:
        rule = Rule(entry["id"], Level(entry["level"]), Scope(entry["scope"]), entry["category"], entry["title"],
                    entry["fix"], entry.get("advisor"), entry.get("sql"))
        found[rule.id] = rule
    return found


def rule(rule_id: str) -> Rule:
    return rules()[rule_id]


def at_or_above(findings: list[LintFinding], level: Level) -> list[LintFinding]:
    return [f for f in findings if f.severity.at_least(level)]
