"""The terminal wizard (Textual). Imported only when the wizard opens: the headless commands never
pay for Textual."""

from __future__ import annotations


def run(**settings) -> int:
    """Open the wizard; its exit code."""
    from wizard.tui.app import WizardApp

    app = WizardApp(**settings)
    app.run()
    return app.return_code or 0
