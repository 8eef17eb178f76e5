"""Widgets the screens share."""

from wizard.tui.widgets.steps import Steps

__all__ = ["Steps"]
