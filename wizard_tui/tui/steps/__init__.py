"""The wizard's steps, in order: Model, Hardware, Workload, Policy & engine,
Review. Each is a pane of the one wizard screen, so its widgets (and what the
user typed, valid or not) stay alive while the user moves between steps."""

from __future__ import annotations

from textual.widget import Widget

from wizard_tui.schemas.profile import Profile
from wizard_tui.tui.steps.forms import HardwareStep, ModelStep, PolicyStep, WorkloadStep
from wizard_tui.tui.steps.review import ReviewStep

STEPS: tuple[tuple[str, str, str], ...] = (
    ("model", "Model", "f2"),
    ("hardware", "Hardware", "f3"),
    ("workload", "Workload", "f4"),
    ("policy", "Policy & engine", "f5"),
    ("review", "Review", "f6"),
)
"""(step id, title, key) in wizard order."""


def make_step(step_id: str, profile: Profile) -> Widget:
    """A new widget for step `step_id`, showing `profile`."""
    if step_id == "review":
        return ReviewStep(id="review")
    forms = {
        "model": ModelStep,
        "hardware": HardwareStep,
        "workload": WorkloadStep,
        "policy": PolicyStep,
    }
    return forms[step_id](profile, id=step_id)


__all__ = [
    "STEPS",
    "HardwareStep",
    "ModelStep",
    "PolicyStep",
    "ReviewStep",
    "WorkloadStep",
]
