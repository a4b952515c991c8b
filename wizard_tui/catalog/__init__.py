"""Model and GPU knowledge: built-in catalogs shipped as data, resolution of a
model id (local folder, Hugging Face cache, catalog, params_b guess), and
detection of the host's GPUs.

`build_request` is the one place a profile becomes a `PlanRequest`; the planner
never sees where the facts came from except the ``source`` texts.
"""

from __future__ import annotations

from wizard_tui.catalog.errors import ResolutionError

__all__ = ["ResolutionError", "build_request", "resolve_model"]


def build_request(profile, *, allow_network: bool = False):  # noqa: ANN001
    """Resolve the profile's model and GPU into a `PlanRequest`.

    Raises `ResolutionError` (naming the field, the value and the fix) when the
    model cannot be resolved and has no params_b, or the GPU is unknown and has
    no vram_gb.
    """
    from wizard_tui.catalog.resolve import build_request as _build

    return _build(profile, allow_network=allow_network)


def resolve_model(section, *, allow_network: bool = False):  # noqa: ANN001
    """Resolve a profile's model section into `ModelArch`: local folder, HF
    cache, the Hub (only with allow_network), the built-in catalog, then a
    params_b guess. Raises `ResolutionError` when none applies."""
    from wizard_tui.catalog.resolve import resolve_model as _resolve

    return _resolve(section, allow_network=allow_network)
