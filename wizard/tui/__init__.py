"""The terminal wizard (Textual). Imported only when the wizard opens: the headless commands never
pay for Textual."""

from __future__ import annotations


def run(**settings) -> int:
    """Open the wizard; its exit code."""
    from wizard.tui.app import WizardApp

    return WizardApp(**settings).run() or 0
