"""Per-file suppression: a comment ``-- wizard:allow RULE_ID reason`` in a migration file silences
that rule's findings located in the file. The reason is required: a comment without one, or naming
no rule, is a finding of its own."""

from __future__ import annotations

import re
from dataclasses import dataclass

from wizard.core.lint.model import LintFinding, rule, rules
from wizard.core.sqlfile import Migration

_ALLOW = re.compile(r"--\s*wizard:allow\b[ \t]*(\S*)[ \t]*(.*?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Allow:
    file: str
    line: int
    rule_id: str
    reason: str


def allows(migration: Migration) -> list[Allow]:
    text = migration.text
    return [Allow(migration.filename, text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2))
            for m in _ALLOW.finditer(text)]


def check(migrations: list[Migration]) -> tuple[dict[str, set[str]], list[LintFinding]]:
    """The rules each file allows (by file name), and the findings about the comments themselves."""
    allowed: dict[str, set[str]] = {}
    out = []
    known = rules()
    for migration in migrations:
        for allow in allows(migration):
            if allow.rule_id not in known:
                out.append(LintFinding(rule("suppression_unknown_rule"), f"comment in {allow.file}",
                                       f"wizard:allow names {allow.rule_id or 'nothing'}, which is not a rule",
                                       allow.file, allow.line))
            elif not allow.reason:
                out.append(LintFinding(rule("suppression_without_reason"), f"comment in {allow.file}",
                                       f"wizard:allow {allow.rule_id} gives no reason: the findings stay",
                                       allow.file, allow.line))
            else:
                allowed.setdefault(allow.file, set()).add(allow.rule_id)
    return allowed, out


def apply(findings: list[LintFinding], allowed: dict[str, set[str]]) -> tuple[list[LintFinding], list[LintFinding]]:
    """(the findings that stand, those a comment in their file suppresses)."""
    stand, silenced = [], []
    for finding in findings:
        if finding.file is not None and finding.rule.id in allowed.get(finding.file, set()):
            silenced.append(finding)
        else:
            stand.append(finding)
    return stand, silenced
