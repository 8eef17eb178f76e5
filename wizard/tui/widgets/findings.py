"""What pre-flight found, above the migration to paste on the manual path: the errors of the
migrations not yet confirmed, and the warnings of the one shown; hidden when there are none."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

if TYPE_CHECKING:
    from wizard.core.preflight import Finding

SHOWN = 3  # findings named before "and N more"


class PreflightFindings(Static):
    def show(self, findings: Iterable[Finding], confirmed: Collection[str], current: str | None,
             offline: bool) -> None:
        """``confirmed``: the files confirmed as run; ``current``: the file shown; ``offline``:
        pre-flight read the folder against a fresh Supabase project (no way to the database)."""
        findings = list(findings)
        errors = [f for f in findings if f.severity == "error" and f.file not in confirmed]
        warnings = [f for f in findings if f.severity == "warning" and f.file == current]
        self.display = bool(errors or warnings)
        if not self.display:
            return
        where = " (offline, against a fresh Supabase project)" if offline else ""
        lines = []
        if errors:
            lines.append(Content.from_markup(
                f"[b $text-error]✗ Pre-flight found $count{where}:[/] a paste fails there, unless the object "
                "was made by hand", count=f"{len(errors)} error{'s' * (len(errors) != 1)}"))
        for finding in (errors + warnings)[:SHOWN]:
            tone = "$text-error" if finding.severity == "error" else "$text-warning"
            lines.append(Content.from_markup(f"  [{tone}]$where[/] $message", where=finding.location(),
                                             message=finding.message))
        more = len(errors) + len(warnings) - SHOWN
        if more > 0:
            lines.append(Content(f"  … and {more} more: 'migration-wizard plan' lists them all"))
        self.update(Content("\n").join(lines))
