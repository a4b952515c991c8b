"""The wizard screen: step bar, profile sidebar, the current step, fit panel.

The steps are panes of a `ContentSwitcher` rather than separate screens so that
the one fit panel and the sidebar stay put while the user moves between steps,
and every step keeps its widgets (and any half-typed value) alive.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer

from wizard_tui.schemas.profile import Profile
from wizard_tui.tui.steps import STEPS, make_step
from wizard_tui.tui.widgets.fit_panel import FitPanel
from wizard_tui.tui.widgets.sidebar import Sidebar
from wizard_tui.tui.widgets.step_bar import StepBar


class WizardScreen(Screen[None]):
    """The app's only full screen."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]

    def __init__(self, profile: Profile, width: int = 80) -> None:
        # Start with the breakpoint class the terminal's width calls for, so
        # the first resize does not restyle every widget once more.
        wide = width >= self.HORIZONTAL_BREAKPOINTS[-1][0]
        super().__init__(classes="-wide" if wide else "-narrow")
        self.initial_profile = profile

    def compose(self) -> ComposeResult:
        profile = self.initial_profile
        yield StepBar(STEPS, id="step-bar")
        with Horizontal(id="body"):
            yield Sidebar(id="sidebar")
            with ContentSwitcher(initial="model", id="steps"):
                for step_id, _, _ in STEPS:
                    yield make_step(step_id, profile)
            yield FitPanel(id="fit-panel")
        yield Footer(compact=True)
