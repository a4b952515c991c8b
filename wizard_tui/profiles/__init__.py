"""Reading and writing profile files: safe load, atomic save, migrations, and
where profile folders live. Also the conversions between a profile and the
planner's request (the original tool's API names)."""

from __future__ import annotations

from wizard_tui.profiles.convert import (
    new_profile,
    profile_to_request,
    request_to_profile,
)
from wizard_tui.profiles.dirs import list_profiles, profile_dirs, user_profiles_dir
from wizard_tui.profiles.loader import (
    MAX_PROFILE_BYTES,
    LoadedProfile,
    ProfileError,
    load_profile,
    profile_from_text,
    read_profile,
)
from wizard_tui.profiles.store import (
    ProfileConflict,
    dump_profile,
    file_fingerprint,
    save_profile,
)

__all__ = [
    "MAX_PROFILE_BYTES",
    "LoadedProfile",
    "ProfileConflict",
    "ProfileError",
    "dump_profile",
    "file_fingerprint",
    "list_profiles",
    "load_profile",
    "new_profile",
    "profile_dirs",
    "profile_from_text",
    "profile_to_request",
    "read_profile",
    "request_to_profile",
    "save_profile",
    "user_profiles_dir",
]
