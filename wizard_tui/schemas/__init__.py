"""Pydantic models: the profile file, resolved facts, and the planner's I/O."""

from wizard_tui.schemas.facts import GpuSpec, LayerKind, ModelArch, QuantInfo
from wizard_tui.schemas.plan import PlanRequest, PlanResponse
from wizard_tui.schemas.profile import (
    EngineSection,
    HardwareSection,
    ModelSection,
    OutputsSection,
    PolicySection,
    Profile,
    WorkloadSection,
)

__all__ = [
    "EngineSection",
    "GpuSpec",
    "HardwareSection",
    "LayerKind",
    "ModelArch",
    "ModelSection",
    "OutputsSection",
    "PlanRequest",
    "PlanResponse",
    "PolicySection",
    "Profile",
    "QuantInfo",
    "WorkloadSection",
]
