"""Upgrades of older profile formats, one step per version.

A migration takes the parsed mapping of version N and returns version N + 1,
appending a note for each change the user should know about. Version 1 is the
original vllm-wizard tool's format and the current one, so the registry is
empty; the machinery is here so version 2 only has to add a function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wizard_tui.schemas.profile import PROFILE_VERSION

Migration = Callable[[dict[str, Any], list[str]], dict[str, Any]]

MIGRATIONS: dict[int, Migration] = {}
"""from-version -> function producing the next version's mapping."""


def migrate(raw: dict[str, Any], version: int, notes: list[str]) -> dict[str, Any]:
    """Apply each registered step from ``version`` up to `PROFILE_VERSION`."""
    data = dict(raw)
    while version < PROFILE_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise ValueError(f"no migration from profile_version {version}")
        data = step(data, notes)
        version += 1
        data["profile_version"] = version
        notes.append(f"upgraded from profile_version {version - 1} to {version}")
    return data
