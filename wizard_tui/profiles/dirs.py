"""Where profiles live: ./profiles, the user's profile folder, and extra ones."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "vllm-wizard-tui"


def user_profiles_dir() -> Path:
    """The user's profile folder (platformdirs), or $VLLM_WIZARD_PROFILES_DIR."""
    override = os.environ.get("VLLM_WIZARD_PROFILES_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME)) / "profiles"


def profile_dirs(extra: list[Path] | None = None) -> list[Path]:
    """Folders to browse, in order, without duplicates: ./profiles, the user
    folder, then ``extra`` (--profiles-dir)."""
    candidates = [Path.cwd() / "profiles", user_profiles_dir(), *(extra or [])]
    seen: set[Path] = set()
    result: list[Path] = []
    for folder in candidates:
        key = folder.expanduser().resolve()
        if key not in seen:
            seen.add(key)
            result.append(folder.expanduser())
    return result


def list_profiles(dirs: list[Path]) -> list[Path]:
    """Profile files (*.yaml, *.yml) in ``dirs``, sorted by name per folder;
    unreadable folders are skipped."""
    found: list[Path] = []
    for folder in dirs:
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        found.extend(
            p for p in entries if p.suffix in (".yaml", ".yml") and p.is_file()
        )
    return found
