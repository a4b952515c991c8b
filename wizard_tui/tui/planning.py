"""Profile -> plan, guarded: whatever goes wrong becomes a sentence for the
panel, never an exception in the UI. Runs in a worker thread."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from wizard_tui.schemas.facts import GpuSpec, ModelArch
from wizard_tui.schemas.plan import PlanRequest, PlanResponse
from wizard_tui.schemas.profile import Profile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlanOutcome:
    """What planning one profile gave: the resolved request, the plan, or the
    reason there is none (``problem``)."""

    profile: Profile
    request: PlanRequest | None = None
    plan: PlanResponse | None = None
    problem: str | None = None

    @property
    def model(self) -> ModelArch | None:
        return self.request.model if self.request else None

    @property
    def gpu(self) -> GpuSpec | None:
        return self.request.gpu if self.request else None


def compute_plan(profile: Profile) -> PlanOutcome:
    """Resolve the profile's model and GPU, then plan; never raises."""
    from wizard_tui.catalog import ResolutionError, build_request

    try:
        request = build_request(profile)
    except ResolutionError as exc:
        return PlanOutcome(profile, problem=f"{exc.field}: {exc.message}")
    except Exception as exc:
        log.exception("resolving %s", profile.model.id)
        return PlanOutcome(profile, problem=f"cannot resolve the profile: {exc}")

    try:
        from wizard_tui.planner import run_plan

        plan = run_plan(request)
    except Exception as exc:
        if type(exc).__name__ == "PlannerUnavailable":
            return PlanOutcome(profile, request, problem="planner not available")
        log.exception("planning %s", profile.model.id)
        return PlanOutcome(profile, request, problem=f"planner error: {exc}")
    return PlanOutcome(profile, request, plan)
