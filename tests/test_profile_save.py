"""Saving: atomic, byte-stable, with a backup, and never over a changed file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wizard_tui.profiles import (
    ProfileConflict,
    dump_profile,
    profile_from_text,
    read_profile,
    save_profile,
)
from wizard_tui.schemas import Profile
from wizard_tui.schemas.profile import DTYPES, KV_CACHE_DTYPES, MODES

DATA = Path(__file__).parent / "data"


def test_save_then_load_round_trip(tmp_path: Path) -> None:
    profile = Profile.model_validate(
        {
            "model": {"id": "Qwen/Qwen3-8B", "max_model_len": 32768},
            "hardware": {"gpus": 2, "tp_size": 2},
        }
    )
    path = tmp_path / "a.yaml"
    save_profile(profile, path)
    assert read_profile(path).profile == profile


def test_file_layout(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    save_profile(Profile(), path)
    text = path.read_text()
    lines = text.splitlines()
    assert lines[0].startswith("# vllm-wizard-tui profile")
    first_key = next(line for line in lines if not line.startswith("#"))
    assert first_key == "profile_version: 1"
    top = [
        line.split(":")[0]
        for line in lines
        if line and not line.startswith((" ", "#", "-"))
    ]
    assert top == [
        "profile_version",
        "model",
        "hardware",
        "workload",
        "policy",
        "engine",
        "outputs",
    ]


def test_compat_sample_round_trips_and_is_then_byte_stable(tmp_path: Path) -> None:
    loaded = read_profile(DATA / "compat" / "vllm-wizard-sample.yaml")
    path = tmp_path / "sample.yaml"
    save_profile(loaded.profile, path)
    first = path.read_bytes()
    again = read_profile(path)
    assert again.profile == loaded.profile
    save_profile(again.profile, path, expected_fingerprint=again.fingerprint)
    assert path.read_bytes() == first


def test_bundled_profiles_are_byte_stable(tmp_path: Path) -> None:
    for source in sorted((Path(__file__).parent.parent / "profiles").glob("*.yaml")):
        loaded = read_profile(source)
        assert dump_profile(loaded.profile, source.name) == source.read_text(), (
            source.name
        )


def test_backup_of_replaced_file(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    save_profile(Profile(), path)
    before = path.read_bytes()
    loaded = read_profile(path)
    changed = loaded.profile.model_copy(
        update={
            "workload": loaded.profile.workload.model_copy(update={"concurrency": 99})
        }
    )
    save_profile(changed, path, expected_fingerprint=loaded.fingerprint)
    assert (tmp_path / "a.yaml.bak").read_bytes() == before
    assert read_profile(path).profile.workload.concurrency == 99


def test_no_silent_overwrite_of_changed_file(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    save_profile(Profile(), path)
    loaded = read_profile(path)
    path.write_text(path.read_text() + "# edited by a teammate\n")
    edited = path.read_bytes()
    with pytest.raises(ProfileConflict, match="changed on disk"):
        save_profile(loaded.profile, path, expected_fingerprint=loaded.fingerprint)
    assert path.read_bytes() == edited
    assert not (tmp_path / "a.yaml.bak").exists()


def test_save_as_onto_existing_needs_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("keep me\n")
    with pytest.raises(ProfileConflict, match="already exists"):
        save_profile(Profile(), path)
    assert path.read_text() == "keep me\n"
    save_profile(Profile(), path, overwrite=True)
    assert (tmp_path / "a.yaml.bak").read_text() == "keep me\n"


def test_interrupted_save_leaves_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.yaml"
    save_profile(Profile(), path)
    loaded = read_profile(path)
    before = path.read_bytes()

    real_fsync = os.fsync

    def crash(fd: int) -> None:
        # The temp file holds part of the new text when the "power fails".
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", crash)
    changed = loaded.profile.model_copy(
        update={"hardware": loaded.profile.hardware.model_copy(update={"gpus": 8})}
    )
    with pytest.raises(OSError):
        save_profile(changed, path, expected_fingerprint=loaded.fingerprint)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert path.read_bytes() == before
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_save_into_folder_path_refused(tmp_path: Path) -> None:
    with pytest.raises(ProfileConflict, match="folder"):
        save_profile(Profile(), tmp_path)


# --- property tests ----------------------------------------------------------

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda s: s == s.strip())

_profiles = st.builds(
    lambda model_id, revision, dtype, kv, mml, gpus, tp, conc, mode, util, frag, args: (
        Profile.model_validate(
            {
                "model": {
                    "id": model_id,
                    "revision": revision,
                    "dtype": dtype,
                    "kv_cache_dtype": kv,
                    "max_model_len": mml,
                },
                "hardware": {"gpus": gpus, "tp_size": min(tp, gpus) if tp else None},
                "workload": {"concurrency": conc, "mode": mode},
                "policy": {
                    "gpu_memory_utilization": util,
                    "fragmentation_factor": frag,
                },
                "engine": {"vllm_version": "0.34"},
                "outputs": {"vllm_args": args},
            }
        )
    ),
    _text,
    st.none() | _text,
    st.sampled_from(DTYPES),
    st.sampled_from(KV_CACHE_DTYPES),
    st.none() | st.integers(1, 10_000_000),
    st.integers(1, 64),
    st.none() | st.integers(1, 64),
    st.integers(1, 100_000),
    st.sampled_from(MODES),
    st.none() | st.floats(0.05, 1.0, allow_nan=False),
    st.floats(1.0, 3.0, allow_nan=False),
    st.dictionaries(
        st.from_regex(r"[a-z][a-z_]{0,20}", fullmatch=True),
        st.none() | st.booleans() | st.integers(-(10**9), 10**9) | _text,
        max_size=4,
    ),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(_profiles)
def test_dump_load_round_trip(profile: Profile) -> None:
    text = dump_profile(profile)
    loaded = profile_from_text(text)
    assert loaded.profile == profile
    assert dump_profile(loaded.profile) == text


def test_new_profile_targets_installed_vllm(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import metadata

    from wizard_tui.profiles import new_profile

    def version(name: str) -> str:
        if name == "vllm":
            return "0.11.0"
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", version)
    assert new_profile().engine.vllm_version == "0.11.0"

    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    assert new_profile().engine.vllm_version == "0.34"
    # A version outside 0.6-0.34 falls back to the newest supported.
    monkeypatch.setattr(metadata, "version", lambda name: "0.40.1")
    assert new_profile().engine.vllm_version == "0.34"


def test_file_set_rename_failure_restores_what_it_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wizard_tui.profiles import store

    (tmp_path / "a.sh").write_text("old a\n")
    (tmp_path / "b.sh").write_text("old b\n")
    real_replace = os.replace
    calls = []

    def flaky_replace(src, dst):  # noqa: ANN001, ANN202
        calls.append(dst)
        if len(calls) == 2:  # the second rename fails (an immutable b.sh, say)
            raise PermissionError(1, "Operation not permitted")
        return real_replace(src, dst)

    monkeypatch.setattr(store.os, "replace", flaky_replace)
    with pytest.raises(store.FileSetError) as info:
        store.write_file_set(
            tmp_path, {"a.sh": (b"new a\n", 0o755), "b.sh": (b"new b\n", 0o755)}
        )
    monkeypatch.setattr(store.os, "replace", real_replace)
    assert info.value.path == tmp_path / "b.sh"
    assert (tmp_path / "a.sh").read_text() == "old a\n"
    assert (tmp_path / "b.sh").read_text() == "old b\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
