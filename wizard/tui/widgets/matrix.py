"""The fleet's matrix: a row per target, a cell per migration (or, when the migrations do not fit
across, one strip of symbols per target, as ``fleet status`` prints it), and a summary. The
symbols are the command line's: ✓ applied, · pending, ~ drifted, ✗ failed, ? missing; a target
that could not be read shows - in every cell; the migration running shows ▸ and its target ▶."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual.app import App
from textual.widgets import DataTable

SYMBOLS = {"applied": "✓", "pending": "·", "drifted": "~", "failed": "✗", "missing": "?", "unreachable": "-",
           "running": "▸"}
TONES = {"applied": "success", "pending": "muted", "drifted": "warning", "failed": "error", "missing": "warning",
         "unreachable": "muted", "running": "primary"}
LONGEST = 60  # a summary in its column, at most (the highlighted row's is shown in full below)
MINIMUM = 24  # ... and at least


def short(text: str, width: int = LONGEST) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


@dataclass
class Row:
    """A target as the matrix shows it: each migration's state, a phrase, and whether it runs now."""

    name: str
    states: dict[str, str] = field(default_factory=dict)  # version -> a key of SYMBOLS
    summary: str = "reading…"  # in full; its column shows the first LONGEST characters
    tone: str | None = "muted"  # the summary's tone
    running: bool = False
    reachable: bool = True


def style(app: App[Any], tone: str | None) -> str:
    if tone is None:
        return ""
    if tone == "muted":
        return "dim"
    return str(app.theme_variables.get(f"text-{tone}", ""))


def legend(app: App[Any]) -> Text:
    """What the symbols mean, each in its tone."""
    text = Text()
    for state, symbol in SYMBOLS.items():
        text.append(symbol, style=style(app, TONES[state]))
        text.append(f" {state}  ")
    return text


class Matrix(DataTable[object]):
    """Targets by migrations; :meth:`lay_out` sets the columns, :meth:`show` a target's row."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id)
        self.versions: list[str] = []
        self.compact = False
        self.summary_width = LONGEST
        self.rows_shown: dict[str, Row] = {}

    def lay_out(self, versions: list[str], names: list[str], width: int) -> None:
        """Columns for these migrations, rows for these targets (reading): a column per migration
        when they fit in ``width``, else one strip."""
        self.clear(columns=True)
        self.versions = list(versions)
        self.rows_shown = {}
        # every column's width is set here, from what is known now: a row that changes later never
        # has to widen a column (a summary is cut to its column, the highlighted one said in full)
        target = max([len(n) + 2 for n in names] + [6])
        across = sum(max(len(v), 1) + 2 for v in versions)
        self.compact = target + 2 + across + 2 + MINIMUM + 4 > width
        strip = len(versions) + max(0, len(versions) - 1) // 10
        label = f"Migrations ({len(versions)})"
        used = target + 2 + (max(strip, len(label)) + 2 if self.compact else across)
        self.summary_width = max(MINIMUM, min(LONGEST, width - used - 6))
        self.add_column("Target", key="target", width=target)
        if self.compact:
            self.add_column(label, key="strip", width=max(strip, len(label)))
        else:
            for version in versions:
                self.add_column(version, key=f"v:{version}", width=max(len(version), 1))
        self.add_column("Summary", key="summary", width=self.summary_width)
        for name in names:
            self.rows_shown[name] = Row(name)
            self.add_row(*self._cells(self.rows_shown[name]), key=name)

    def row(self, name: str) -> Row | None:
        return self.rows_shown.get(name)

    def highlighted(self) -> Row | None:
        """The row under the cursor."""
        if not self.is_valid_row_index(self.cursor_row):
            return None
        key = self.ordered_rows[self.cursor_row].key.value
        return self.rows_shown.get(key) if key is not None else None

    def show(self, row: Row) -> None:
        """A target's row as it is now."""
        if row.name not in self.rows_shown:
            return
        self.rows_shown[row.name] = row
        keys = ["target", *(["strip"] if self.compact else [f"v:{v}" for v in self.versions]), "summary"]
        for key, value in zip(keys, self._cells(row)):
            self.update_cell(row.name, key, value)

    def _cells(self, row: Row) -> list[object]:
        app = self.app
        name = Text(("▶ " if row.running else "  ") + row.name, style="bold " + style(app, "primary")
                    if row.running else "")
        symbols = [self._symbol(row, version) for version in self.versions]
        summary = Text(short(row.summary, self.summary_width), style=style(app, row.tone))
        if not self.compact:
            return [name, *symbols, summary]
        strip = Text()
        for index, symbol in enumerate(symbols):
            if index and index % 10 == 0:
                strip.append(" ")
            strip.append_text(symbol)
        return [name, strip, summary]

    def _symbol(self, row: Row, version: str) -> Text:
        if not row.reachable:
            state = "unreachable"
        else:
            state = row.states.get(version, "")
        if not state:
            return Text(" ")
        return Text(SYMBOLS.get(state, " "), style=style(self.app, TONES.get(state)))
