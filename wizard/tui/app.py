"""The terminal wizard: Welcome, Environment, Path, Apply (or By hand, in the dashboard's SQL
editor), Verify and Done, in that order, with Troubleshoot over any of them when something fails.
A front end over ``wizard.core``: the screens show the engine's events, diagnoses, checks and
advice; the database work runs in thread workers."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from textual import work
from textual.binding import Binding

from wizard.tui.services import Services
from wizard.tui.settings import Settings

if TYPE_CHECKING:
    from wizard.core.catalog import Catalog
    from wizard.tui.screens.apply import Outcome
    from wizard.tui.screens.environment import Ways
    from wizard.tui.screens.path import Plan
    from wizard.tui.screens.step import Step
    from wizard.tui.screens.verify import Report

Answer = TypeVar("Answer")


STEPS = ("Welcome", "Environment", "Path", "Apply", "Verify", "Done")


@dataclass
class Walk:
    """Where the walk through the steps is, and what each step answered: each step is given the
    answer of the one before (Welcome: nothing; Environment: the folder's catalog; Path: the ways
    to the database; Apply or By hand: the plan; Verify: the outcome; Done: the report)."""

    position: int = 0  # the index in STEPS of the step on screen
    catalog: Catalog | None = None
    ways: Ways | None = None
    plan: Plan | None = None
    outcome: Outcome | None = None
    report: Report | None = None

    def screen(self) -> Step[Any]:
        """The screen of the current step, given what the step before answered."""
        from wizard.tui.screens.apply import ApplyScreen
        from wizard.tui.screens.done import DoneScreen
        from wizard.tui.screens.environment import EnvironmentScreen
        from wizard.tui.screens.manual import ManualScreen
        from wizard.tui.screens.path import PathScreen
        from wizard.tui.screens.verify import VerifyScreen
        from wizard.tui.screens.welcome import WelcomeScreen

        position = self.position
        if position == 0:
            return WelcomeScreen()
        if position == 1:
            return EnvironmentScreen(_given(self.catalog))
        if position == 2:
            return PathScreen(_given(self.ways))
        if position == 3:  # by hand, in the dashboard's SQL editor, or applied by the wizard
            plan = _given(self.plan)
            return ManualScreen(plan) if plan.manual else ApplyScreen(plan)
        if position == 4:
            return VerifyScreen(_given(self.outcome))
        return DoneScreen(_given(self.report))

    def answer(self, answer: Any) -> None:
        """What the current step answered: on to the next step, or None: back one step."""
        if answer is None:
            self.position = max(0, self.position - 1)
            return
        if self.position == 0:
            self.catalog = answer
        elif self.position == 1:
            self.ways = answer
        elif self.position == 2:
            self.plan = answer
        elif self.position == 3:
            self.outcome = answer
        elif self.position == 4:
            self.report = answer
        self.position += 1


def _given(answer: Answer | None) -> Answer:
    """What the step before answered: a step is only reached once the one before answered."""
    assert answer is not None, "the step before has answered"
    return answer


def theme_for(environ: Mapping[str, str], available: set[str]) -> str:
    """MIGRATION_WIZARD_THEME when it names a theme; else light or dark after the terminal's
    background (COLORFGBG, set by many terminals: "15;0" is light text on black)."""
    chosen = environ.get("MIGRATION_WIZARD_THEME", "")
    if chosen in available:
        return chosen
    background = environ.get("COLORFGBG", "").rpartition(";")[2]
    return "textual-light" if background in ("7", "15") else "textual-dark"


class WizardApp(Services):
    CSS_PATH = "wizard.tcss"
    TITLE = "migration-wizard"
    BINDINGS = [Binding("q", "quit", "Quit"), Binding("ctrl+q", "quit", "Quit", show=False, priority=True)]

    def __init__(self, **settings: Any) -> None:
        super().__init__(Settings(**settings))
        self.theme = theme_for(os.environ, set(self.available_themes))

    def on_mount(self) -> None:
        self.walk()

    @work(group="walk")
    async def walk(self) -> None:
        """The steps in order, each given the answer of the one before; a step that answers None
        goes back one step."""
        walked = Walk()
        while walked.position < len(STEPS):
            walked.answer(await self.push_screen_wait(walked.screen()))
        self.exit(0)
