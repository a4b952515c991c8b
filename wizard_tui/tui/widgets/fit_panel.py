"""The fit panel: the verdict in words, then the memory of one GPU and the
numbers behind it. Visible on every step; `#fit-panel` in CONTRACT.md."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from wizard_tui.schemas.plan import PlanResponse
from wizard_tui.schemas.profile import Profile
from wizard_tui.tui import verdict


class FitPanel(Static):
    """Shows the last plan; `stale` says why it may be out of date.

    The app hands everything down in one `show` call, so the panel draws once
    per plan; its text is also kept as `text` for tests and screen readers.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("planning...", **kwargs)
        self.plan: PlanResponse | None = None
        self.profile: Profile | None = None
        self.stale: str | None = None
        self.problem: str | None = "planning..."
        self._text = Text("planning...")

    @property
    def text(self) -> str:
        """The panel's plain text; it starts with the verdict in words."""
        return self._text.plain

    def show(
        self,
        plan: PlanResponse | None,
        profile: Profile | None,
        *,
        stale: str | None = None,
        problem: str | None = None,
    ) -> None:
        """Show `plan` (made for `profile`), or why there is none."""
        self.plan = plan
        self.profile = profile
        self.stale = stale
        self.problem = problem
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        width = max(self.content_size.width, 20)
        if self.plan is None or self.profile is None:
            message = f"no plan: {self.problem}" if self.problem else "planning..."
            self._text = Text(message, style="bold")
        else:
            stale = self.stale or (
                f"{self.problem} (last plan shown)" if self.problem else None
            )
            roomy = self.content_size.height >= 30
            self._text = verdict.panel_text(
                self.plan,
                self.profile,
                width=width,
                stale=stale,
                warnings=2 if roomy else 1,
            )
        # The panel's size never depends on its text: skip the screen layout.
        self.update(self._text, layout=False)
