"""The fit panel: the verdict in words, then the memory of one GPU and the
numbers behind it. Visible on every step; `#fit-panel` in CONTRACT.md."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from wizard_tui.schemas.plan import PlanResponse
from wizard_tui.schemas.profile import Profile
from wizard_tui.tui import verdict


class FitPanel(Static):
    """Shows the last plan; `stale` says why it may be out of date."""

    plan: reactive[PlanResponse | None] = reactive(None, always_update=True)
    profile: reactive[Profile | None] = reactive(None)
    stale: reactive[str | None] = reactive(None)
    problem: reactive[str | None] = reactive("planning...")

    def __init__(self, **kwargs: object) -> None:
        super().__init__("planning...", **kwargs)  # type: ignore[arg-type]

    def show(
        self,
        plan: PlanResponse | None,
        profile: Profile | None,
        *,
        stale: str | None = None,
        problem: str | None = None,
    ) -> None:
        """Set everything at once, so the panel redraws once."""
        self.set_reactive(FitPanel.plan, plan)
        self.set_reactive(FitPanel.profile, profile)
        self.set_reactive(FitPanel.stale, stale)
        self.set_reactive(FitPanel.problem, problem)
        self._redraw()

    def watch_plan(self) -> None:
        self._redraw()

    def watch_stale(self) -> None:
        self._redraw()

    def watch_problem(self) -> None:
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    @property
    def text(self) -> str:
        """The panel's plain text (what a test or a screen reader reads)."""
        return self._text.plain

    _text: Text = Text("planning...")

    def _redraw(self) -> None:
        width = max(self.content_size.width, 20)
        if self.plan is None or self.profile is None:
            self._text = Text(
                f"no plan: {self.problem}" if self.problem else "planning...",
                style="bold",
            )
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
