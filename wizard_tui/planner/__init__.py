"""The planner: pure functions from a `PlanRequest` to a `PlanResponse`.

No I/O, no UI, no YAML: model and GPU facts are resolved before and passed in.
"""

from __future__ import annotations

from wizard_tui.schemas import PlanRequest, PlanResponse


class PlannerUnavailable(RuntimeError):
    """Raised until the planner lands; the CLI turns it into exit 2."""


def run_plan(request: PlanRequest) -> PlanResponse:
    raise PlannerUnavailable("planner not available in this build")
