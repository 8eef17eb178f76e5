"""Printing: results on stdout (with ``--json``, exactly one JSON document), narration on stderr,
and the narrator of a run's events."""

from __future__ import annotations

import json
import sys

from wizard.core.catalog import printable as _printable
from wizard.core.describe import plain

__all__ = ["emit_json", "lint_findings", "plain", "printable", "say"]


def printable(text: str) -> str:
    """Text as it may reach a terminal: control characters escaped, line breaks and tabs kept."""
    return _printable(text, keep_lines=True)


def say(message: str = "") -> None:
    print(printable(message), file=sys.stderr, flush=True)


def emit_json(document: dict) -> None:
    json.dump(document, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")
    sys.stdout.flush()


def lint_findings(findings, indent: str = "  ", fixes: bool = True) -> None:
    """Lint findings, one a line (level, rule, file:line, object, what), each with its fix and link."""
    for f in findings:
        print(f"{indent}{f.severity.value:<7} {f.rule.id}  {f.location()}  {f.object}: {f.message}")
        if fixes:
            print(f"{indent}        fix: {f.rule.fix}" + (f"  ({f.rule.link})" if f.rule.link else ""))


class _Narrator:
    """Prints run events on stderr: a line per migration; live statement progress on a terminal."""

    def __init__(self, quiet: bool, width: int = 0):
        self.quiet = quiet
        self.live = sys.stderr.isatty() and not quiet
        self.width = width
        self.current = ""
        self.label = ""
        self.transactional = True

    def __call__(self, event) -> None:
        from wizard.core import events

        if isinstance(event, events.Notice):
            self._line(event.message)
        elif isinstance(event, events.MigrationStarted):
            label = f"seed {event.name}" if event.version == "seed" else f"{event.version}_{event.name}"
            self.current = label.ljust(self.width)
            self.label = label
            self.transactional = event.transactional
            if self.live:
                sys.stderr.write(f"\r\033[K  {self.current}  0/{event.statements}")
                sys.stderr.flush()
        elif isinstance(event, events.StatementDone):
            if self.live:
                sys.stderr.write(f"\r\033[K  {self.current}  {event.index}/{event.total}")
                sys.stderr.flush()
        elif isinstance(event, events.MigrationApplied) and event.reply_lost:
            pass  # a notice of the engine's says it ("... was applied (its reply was lost)")
        elif isinstance(event, events.MigrationApplied):
            self._line(f"  {self.current}  applied in {event.duration_ms} ms")
        elif isinstance(event, events.MigrationFailed):
            from wizard.core.diagnosis import excerpt

            d = event.diagnosis
            self._line(f"  {self.current}  FAILED")
            self._line("")
            self._line(f"{d.location()}: {d.sqlstate or ''} {d.message}".replace(":  ", ": "))
            if d.detail:
                self._line(f"  detail: {d.detail}")
            if d.hint:
                self._line(f"  hint: {d.hint}")
            lines = excerpt(d)
            if lines:
                width = len(str(lines[-1][0]))
                for number, text in lines:
                    marker = ">" if number == d.line else " "
                    self._line(f"  {marker} {number:>{width}} | {text}")
                    if number == d.line and d.column:
                        self._line(f"    {' ' * width} | {' ' * (d.column - 1)}^")
            elif d.statement_index:
                self._line(f"  in statement {d.statement_index}:")
                for text_line in (d.statement or "").splitlines()[:12]:
                    self._line(f"    {text_line}")
            if self.transactional:
                what = "the seed file" if event.version == "seed" else "the migration"
                self._line(f"Nothing of {self.label.removeprefix('seed ')} was kept: {what} was rolled back.")
            self._line("")

    def _line(self, text: str) -> None:
        if self.quiet and not text.startswith(("Supabase", "Another", "Interrupted")):
            return
        if self.live:
            sys.stderr.write("\r\033[K")
        say(text)
