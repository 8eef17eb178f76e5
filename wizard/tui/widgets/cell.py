"""Table cells in the theme's tones, so states read the same on dark and light themes."""

from __future__ import annotations

from rich.text import Text
from textual.app import App


def cell(app: App, text: str, tone: str | None = None) -> Text:
    """``tone``: success, error, warning, primary, or muted."""
    if tone is None:
        return Text(text)
    if tone == "muted":
        return Text(text, style="dim")
    return Text(text, style=app.theme_variables.get(f"text-{tone}", ""))
