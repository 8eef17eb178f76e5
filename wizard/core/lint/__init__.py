"""Lint: rules with stable ids and a level (error, warning, info) over the migration files
(offline: their parse trees) and over a database (SQL over its catalog, read-only), mirroring
Supabase's database advisors where they can; each finding names the object, the file:line of the
statement that made it where known, the fix, and the advisor's documentation.

The rules are data: ``rules.toml`` (ids, levels, fixes, links, and each database rule's SQL);
``filerules`` holds the patterns read from the files. A comment ``-- wizard:allow RULE_ID reason``
in a file suppresses that rule's findings located in the file (``suppress``).

    files(catalog, big=None, pending=None) -> list[LintFinding]     offline
    database(db, catalog=None) -> list[LintFinding]                  read-only, rolled back
    big_tables(db) -> dict[str, int]                                 for files(big=...)
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from wizard.core.catalog import Catalog
from wizard.core.db import Connectable
from wizard.core.db import database as as_database
from wizard.core.lint import dbrules, filerules, suppress
from wizard.core.lint.dbrules import BIG_TABLE_PAGES, BIG_TABLE_ROWS, EXPOSED_SCHEMAS, MANAGED_SCHEMAS
from wizard.core.lint.model import ADVISOR_DOCS, Level, LintFinding, Rule, Scope, at_or_above, rule, rules

__all__ = [
    "ADVISOR_DOCS", "BIG_TABLE_PAGES", "BIG_TABLE_ROWS", "EXPOSED_SCHEMAS", "MANAGED_SCHEMAS", "Level", "LintFinding",
    "Rule", "Scope", "at_or_above", "big_tables", "database", "files", "rule", "rules", "suppressed",
]


def files(catalog: Catalog, big: Mapping[str, int] | None = None,
          pending: Collection[str] | None = None) -> list[LintFinding]:
    """The file rules' findings in the folder, those a comment suppresses left out (and the
    comments' own findings in). ``big``: the tables a database holds many rows of (see
    ``big_tables``; None offline: the rules about big tables stay silent); ``pending``: the versions
    not applied yet, the only ones those rules look at (None: every file)."""
    migrations = catalog.migrations
    found = filerules.check(migrations, big, pending)
    allowed, own = suppress.check(migrations)
    return suppress.apply(found, allowed)[0] + own


def database(db: Connectable, catalog: Catalog | None = None, exposed: Sequence[str] = EXPOSED_SCHEMAS,
             managed: Sequence[str] = MANAGED_SCHEMAS) -> list[LintFinding]:
    """The database rules' findings on ``db``, read in one read-only transaction rolled back. With
    the folder (``catalog``), each finding names the file:line that made its object, and the
    folder's comments suppress as they do for the file rules."""
    migrations = catalog.migrations if catalog is not None else []
    found = dbrules.findings(as_database(db), migrations, exposed, managed)
    allowed, _ = suppress.check(migrations)
    return suppress.apply(found, allowed)[0]


def big_tables(db: Connectable, rows: int = BIG_TABLE_ROWS, pages: int = BIG_TABLE_PAGES) -> dict[str, int]:
    """The tables ``db`` holds at least ``rows`` rows (estimated) or ``pages`` pages of."""
    return dbrules.big_tables(as_database(db), rows, pages)


def suppressed(catalog: Catalog, findings: list[LintFinding]) -> list[LintFinding]:
    """Which of ``findings`` a comment in their file suppresses."""
    allowed, _ = suppress.check(catalog.migrations)
    return suppress.apply(findings, allowed)[1]
