"""Widgets the screens share."""

from wizard.tui.widgets.cell import cell
from wizard.tui.widgets.findings import PreflightFindings
from wizard.tui.widgets.steps import Steps

__all__ = ["PreflightFindings", "Steps", "cell"]
