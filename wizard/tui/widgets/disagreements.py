"""Where the database's history and the folder disagree, on the Path step: one line each, with the
keys of the actions that resolve it; hidden when they agree."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from collections.abc import Collection

    from wizard.core.flows.disagree import Action, Disagreement

KEYS = {"fetch": "f", "diff": "d", "accept": "a", "include": "i", "forget": "x"}  # action -> key

_WHAT = {
    "drifted": "edited after it was applied",
    "missing-file": "recorded, but no file",
    "renamed": "renamed after it was applied (see pre-flight for the command)",
    "out-of-order": "sorts before what is applied",
}


class Disagreements(OptionList):
    """The disagreements; the highlighted one is the one the action keys act on."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.items: list[Disagreement] = []
        self.display = False

    def show(self, items: list[Disagreement], included: Collection[str]) -> None:
        """``included``: the versions the run is to apply out of order."""
        self.items = items
        self.clear_options()
        self.add_options([self._option(d, d.version in included) for d in items])
        self.display = bool(items)
        if items:
            self.highlighted = 0

    @staticmethod
    def _option(item: Disagreement, included: bool) -> Option:
        keys = "  ".join(f"{KEYS[a.value]} {a.value}" for a in item.actions)
        what = "included in the run" if included else _WHAT.get(item.code, item.code)
        prompt = Content.from_markup("[$text-warning]![/] [b]$label[/]  $what  [$text-muted]$keys[/]",
                                     label=item.label, what=what, keys=keys)
        return Option(prompt, id=f"{item.code}:{item.version}")

    @property
    def current(self) -> Disagreement | None:
        index = self.highlighted
        return self.items[index] if index is not None and 0 <= index < len(self.items) else None

    def offers(self, action: Action) -> bool:
        item = self.current
        return item is not None and action in item.actions
