"""Form fields adapted from the profile's pydantic models (no app running)."""

from __future__ import annotations

from wizard_tui.schemas.profile import KV_CACHE_DTYPES, MODES, Profile
from wizard_tui.tui.fields import (
    ALL_FIELDS,
    HARDWARE_FIELDS,
    POLICY_FIELDS,
    WORKLOAD_FIELDS,
    apply_values,
    field_error,
)

BY_ID = {spec.dom_id: spec for spec in ALL_FIELDS}


def test_dom_ids_are_kebab_case_field_names() -> None:
    # CONTRACT.md: the input of field X has X's name in kebab-case, model.id
    # is #model-id.
    expected = {
        "model-id", "revision", "dtype", "quantization", "kv-cache-dtype",
        "max-model-len", "params-b", "gpu-name", "gpus", "gpus-per-node",
        "vram-gb", "interconnect", "tp-size", "pipeline-parallel-size",
        "prompt-tokens", "gen-tokens", "concurrency", "streaming", "mode",
        "gpu-memory-utilization", "overhead-gb", "fragmentation-factor",
        "headroom-gb", "max-num-seqs", "max-num-batched-tokens", "enforce-eager",
        "block-size", "vllm-version",
    }  # fmt: skip
    assert set(BY_ID) == expected


def test_select_choices_come_from_the_schema() -> None:
    assert BY_ID["kv-cache-dtype"].choices() == KV_CACHE_DTYPES
    assert BY_ID["mode"].choices() == MODES
    assert BY_ID["quantization"].optional


def test_field_error_is_pydantics_message() -> None:
    gpus = BY_ID["gpus"]
    assert field_error(gpus, gpus.parse("two")) == "Input should be a valid integer"
    assert field_error(gpus, gpus.parse("0")) == (
        "Input should be greater than or equal to 1"
    )
    assert field_error(gpus, gpus.parse("8")) is None
    util = BY_ID["gpu-memory-utilization"]
    assert field_error(util, util.parse("1.5")) == (
        "Input should be less than or equal to 1"
    )
    seqs = BY_ID["max-num-seqs"]
    # vllm_args knobs: OutputsSection's own rule, worded as loading says it.
    assert field_error(seqs, seqs.parse("0")) == (
        "max_num_seqs: 0 is not allowed (allowed: a whole number from 1 to 1,000,000)"
    )
    assert field_error(seqs, seqs.parse("")) is None
    version = BY_ID["vllm-version"]
    assert "outside the supported range" in field_error(version, "0.2")


def test_parse_numbers_and_empty() -> None:
    assert BY_ID["max-model-len"].parse("131_072") == 131072
    assert BY_ID["max-model-len"].parse("32,768") == 32768
    assert BY_ID["max-model-len"].parse("") is None
    assert BY_ID["vram-gb"].parse("79.2") == 79.2
    assert BY_ID["max-num-seqs"].parse(" ") is None


def test_apply_values_builds_a_new_profile() -> None:
    base = Profile()
    raw = {"gpus": "4", "tp-size": "2", "pipeline-parallel-size": "2"}
    candidate = apply_values(base, HARDWARE_FIELDS, raw)
    assert candidate.errors == {}
    assert candidate.profile.hardware.gpus == 4
    assert candidate.profile.hardware.tp_size == 2
    assert candidate.profile.outputs.vllm_args == {"pipeline_parallel_size": 2}
    assert base.hardware.gpus == 1  # the base is never changed


def test_cross_field_error_lands_on_tp_size() -> None:
    # TP 4 x PP 1 = 4 GPUs > hardware.gpus = 1: Profile's own validator.
    candidate = apply_values(Profile(), HARDWARE_FIELDS, {"tp-size": "4"})
    assert candidate.profile is None
    assert list(candidate.errors) == ["tp-size"]
    assert (
        "TP 4 x PP 1 = 4 GPUs is more than hardware.gpus = 1"
        in (candidate.errors["tp-size"])
    )


def test_untouched_fields_keep_their_exact_values() -> None:
    base = Profile.model_validate(
        {"outputs": {"vllm_args": {"enforce_eager": False, "swap_space": 4}}}
    )
    # The switch shows False as off; unchanged, the key stays as written.
    raw = {"enforce-eager": False, "max-num-seqs": "64"}
    candidate = apply_values(base, POLICY_FIELDS, raw)
    assert candidate.profile.outputs.vllm_args == {
        "enforce_eager": False,
        "swap_space": 4,
        "max_num_seqs": 64,
    }


def test_switch_and_select_values() -> None:
    candidate = apply_values(
        Profile(), WORKLOAD_FIELDS, {"streaming": False, "mode": "latency"}
    )
    assert candidate.profile.workload.streaming is False
    assert candidate.profile.workload.mode == "latency"
