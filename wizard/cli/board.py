"""The fleet's progress on stderr: on a terminal, one line per target redrawn in place (the running
ones and a count when the fleet is taller than the screen); elsewhere (a CI log), plain lines."""

from __future__ import annotations

import shutil
import sys
import time

from wizard.cli.output import printable, say

WAITING = "waiting"


class Board:
    """Hears the fleet's events (one at a time: the fleet serialises them)."""

    def __init__(self, names: list[str], live: bool | None = None) -> None:
        self.names = names
        self.rows = {n: WAITING for n in names}
        self.running: set[str] = set()
        self.ended: dict[str, str] = {}  # name -> outcome
        self.live = sys.stderr.isatty() if live is None else live
        self.width = max((len(n) for n in names), default=4)
        self.drawn = 0
        self.last = 0.0

    # -- events ----------------------------------------------------------------------------------

    def __call__(self, event) -> None:
        from wizard.core import events
        from wizard.core.flows import fleet_apply as fleet

        if isinstance(event, fleet.FleetNotice):
            self._say(event.message)
        elif isinstance(event, fleet.TargetStarted):
            self.running.add(event.name)
            self._row(event.name, "canary: connecting" if event.canary else "connecting", f"{event.name}: started")
        elif isinstance(event, fleet.TargetEnded):
            result = event.result
            self.running.discard(result.target.name)
            self.ended[result.target.name] = result.outcome.value
            self._row(result.target.name, result.summary, f"{result.target.name}: {result.summary}", force=True)
        elif isinstance(event, fleet.TargetProgress):
            inner, name = event.event, event.name
            if isinstance(inner, events.MigrationStarted):
                self._row(name, f"applying {inner.version}_{inner.name}", None)
            elif isinstance(inner, events.StatementDone):
                self._row(name, self.rows[name].split("  ")[0] + f"  {inner.index}/{inner.total}", None)
            elif isinstance(inner, events.MigrationApplied):
                self._row(name, f"applied {inner.version}_{inner.name}",
                          f"{name}: {inner.version}_{inner.name} applied in {inner.duration_ms} ms")
            elif isinstance(inner, events.MigrationFailed):
                self._row(name, f"failed at {inner.diagnosis.location()}",
                          f"{name}: {inner.version}_{inner.name} FAILED at {inner.diagnosis.location()}", force=True)
            elif isinstance(inner, events.Notice):
                self._row(name, inner.message, f"{name}: {inner.message}")

    def close(self) -> None:
        """The last drawing stays on the screen."""
        if self.live:
            self._draw(force=True)

    # -- drawing ---------------------------------------------------------------------------------

    def _row(self, name: str, text: str, line: str | None, force: bool = False) -> None:
        self.rows[name] = text
        if self.live:
            self._draw(force)
        elif line is not None:
            say(line)

    def _say(self, message: str) -> None:
        if self.live:
            self._erase()
        say(message)
        if self.live:
            self._draw(force=True)

    def _shown(self) -> list[str]:
        columns, lines = shutil.get_terminal_size((100, 30))
        names = self.names
        if len(names) + 1 > max(4, lines - 2):  # taller than the screen: the running ones only
            names = [n for n in names if n in self.running][: max(1, lines - 3)]
        rows = [f"  {n:<{self.width}}  {self.rows[n]}" for n in names]
        counts = {"done": 0, "failed": 0, "unreachable": 0, "interrupted": 0, "not-started": 0}
        for outcome in self.ended.values():
            counts[outcome] = counts.get(outcome, 0) + 1
        waiting = len(self.names) - len(self.ended) - len(self.running)
        tally = [f"{v} {k.replace('-', ' ')}" for k, v in counts.items() if v]
        rows.append(f"  {len(self.running)} running, {waiting} waiting" + (", " + ", ".join(tally) if tally else ""))
        return [printable(r.replace("\n", " "))[: max(20, columns - 1)] for r in rows]

    def _erase(self) -> None:
        if self.drawn:
            sys.stderr.write(f"\033[{self.drawn}F\033[J")
            self.drawn = 0

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < 0.1:
            return
        self.last = now
        rows = self._shown()
        self._erase()
        sys.stderr.write("".join(f"\033[K{r}\n" for r in rows))
        sys.stderr.flush()
        self.drawn = len(rows)
