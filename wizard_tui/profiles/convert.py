"""Profile <-> PlanRequest, under the original tool's names."""

from __future__ import annotations

from collections.abc import Iterable

from wizard_tui.schemas import PlanRequest, Profile


def profile_to_request(profile: Profile, *, allow_network: bool = False) -> PlanRequest:
    """Resolve the profile's model and GPU and build the planner's request.

    Raises `wizard_tui.catalog.ResolutionError` when the model or GPU cannot be
    resolved (no config.json and no params_b; unknown GPU and no vram_gb).
    """
    from wizard_tui.catalog import build_request

    return build_request(profile, allow_network=allow_network)


def request_to_profile(
    request: PlanRequest, emit: Iterable[str] | None = None
) -> Profile:
    """The profile a request was built from, with ``outputs.emit`` replaced
    when ``emit`` is given."""
    profile = request.profile
    if emit is None:
        return profile
    outputs = profile.outputs.model_copy(update={"emit": list(emit)})
    return profile.model_copy(update={"outputs": outputs})


def new_profile() -> Profile:
    """A starting profile for the app: the schema's defaults, targeting the
    installed vLLM when there is one in the supported range, else the newest
    supported (CONTRACT.md: new profiles take and save that version)."""
    from importlib import metadata

    from wizard_tui.schemas.profile import NEWEST_VLLM_VERSION, version_supported

    try:
        installed: str | None = metadata.version("vllm")
    except Exception:  # not installed, or broken metadata
        installed = None
    version = NEWEST_VLLM_VERSION
    if installed and version_supported(installed):
        version = installed
    profile = Profile()
    return profile.model_copy(
        update={"engine": profile.engine.model_copy(update={"vllm_version": version})}
    )
