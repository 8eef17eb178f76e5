"""The bar on top of every step: the wizard's steps, where you are (highlighted), what is done
(in the success tone), what comes next (muted). On the manual path, Apply reads "By hand"."""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

STEPS = ("Welcome", "Environment", "Path", "Apply", "Verify", "Done")


class Steps(Widget):
    def __init__(self, current: str, by_hand: bool = False) -> None:
        super().__init__()
        self.current = STEPS.index(current)
        self.names = tuple("By hand" if by_hand and name == "Apply" else name for name in STEPS)

    def render(self) -> Content:
        parts = []
        for index, name in enumerate(self.names):
            if index < self.current:
                parts.append(Content.from_markup("[$text-success]$name[/]", name=name))
            elif index == self.current:
                parts.append(Content.from_markup("[b reverse $text-primary] $name [/]", name=name))
            else:
                parts.append(Content.from_markup("[$text-muted]$name[/]", name=name))
        title = Content.from_markup("[b]migration-wizard[/]  ")
        return title + Content(" › ").join(parts)
