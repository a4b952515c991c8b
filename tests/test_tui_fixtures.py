"""Shared fixtures and helpers of the TUI tests (this module holds no tests).

`tui_env` keeps every TUI test away from the user's home, the machine's HF cache
and its GPUs: profile and config folders, the HF cache and the working folder
all live in `tmp_path`, and GPU detection is replaced.

`fixed_outcome` is a hand-made plan used where a test pins the *layout* (the
snapshots) rather than the planner's arithmetic, so that planner refinements do
not churn the screenshots. Its figures are the Llama-3.1-8B config.json values
(32 layers, 8 KV heads of 128, 131,072 positions) and round numbers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from wizard_tui.schemas.facts import GpuSpec, ModelArch
from wizard_tui.schemas.plan import (
    KvCache,
    PerGpu,
    PlanResponse,
    Speed,
    WhatIf,
    WorkloadFit,
)
from wizard_tui.schemas.profile import Profile

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "profiles"
L4_PROFILE = "llama-3.1-8b-1x-l4.yaml"


class FakeDetect:
    """Stands in for `wizard_tui.catalog.detect`: two 80 GiB GPUs, 1.5 GiB in
    use on the busiest."""

    @staticmethod
    def detect_gpus(timeout: float = 5.0) -> dict:
        gpu = {
            "name": "NVIDIA H100 80GB HBM3",
            "catalog_name": "H100 SXM",
            "memory_total_mib": 81559,
            "memory_used_mib": 1536,
            "cuda_total_gib": 79.19,
        }
        return {"gpus": [gpu, dict(gpu)], "message": ""}

    @staticmethod
    def overhead_gib_from(result: dict) -> float:
        return max(g["memory_used_mib"] for g in result["gpus"]) / 1024


@pytest.fixture
def tui_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private world: ./profiles with the bundled profiles, an empty user
    folder, an empty HF cache, no GPU detection of the real host."""
    work = tmp_path / "work"
    (work / "profiles").mkdir(parents=True)
    for src in sorted(BUNDLED.glob("*.yaml")):
        shutil.copy(src, work / "profiles" / src.name)
    monkeypatch.chdir(work)
    monkeypatch.setenv("VLLM_WIZARD_PROFILES_DIR", str(tmp_path / "user-profiles"))
    monkeypatch.setenv("VLLM_WIZARD_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    import wizard_tui.tui.steps.forms as forms

    monkeypatch.setattr(forms, "detect_host", _fake_detect_host)
    return work


def _fake_detect_host(timeout: float):  # noqa: ANN202
    from wizard_tui.tui.steps import forms

    result = FakeDetect.detect_gpus(timeout)
    gpu = result["gpus"][0]
    overhead = round(FakeDetect.overhead_gib_from(result), 2)
    return forms.Detection(
        gpu["catalog_name"],
        len(result["gpus"]),
        None,
        overhead,
        f"found 2 x {gpu['name']}, {overhead:.1f} GiB in use per GPU",
    )


LLAMA_8B = ModelArch(
    model_id="meta-llama/Llama-3.1-8B-Instruct",
    source="test fixture (Llama-3.1-8B config.json)",
    architecture="LlamaForCausalLM",
    model_type="llama",
    num_layers=32,
    hidden_size=4096,
    intermediate_size=14336,
    vocab_size=128256,
    num_attention_heads=32,
    num_kv_heads=8,
    head_dim=128,
    max_model_len=131072,
    total_params=8_030_261_248,
    active_params=8_030_261_248,
    weight_bytes=16_060_522_496,
)
L4 = GpuSpec(name="L4", cuda_total_gib=22.05, bandwidth_gbs=300, bf16_tflops=121)


def fixed_plan(fits: bool, requested: int = 16) -> PlanResponse:
    """A plan with round figures for layout tests (see the module docstring)."""
    kv = 3.25 if fits else -1.5
    return PlanResponse(
        fits=fits,
        vllm_starts=fits,
        blockers=[] if fits else ["weights 15.0 GiB leave no room for KV cache"],
        warnings=["gpu_memory_utilization 0.90 leaves 2.2 GiB unused"],
        engine_version="0.34",
        tp_size=1,
        pp_size=1,
        per_gpu=PerGpu(
            total_gib=22.05,
            usable_gib=19.85,
            weights_gib=14.96,
            activation_gib=0.5,
            non_torch_gib=0.2,
            cuda_graph_gib=0.94,
            other_gib=0.0,
            kv_cache_gib=kv,
            free_gib=2.2,
        ),
        kv_cache=KvCache(
            tokens=53248 if fits else 0,
            blocks=3328 if fits else 0,
            block_size=16,
            bytes_per_token=65536,
        ),
        max_concurrency=6.5 if fits else 0.0,
        max_model_len=8192,
        max_model_len_fit=53184 if fits else 0,
        workload=WorkloadFit(
            concurrency_fit=34 if fits else 0,
            tokens_per_request=1536,
            requested=requested,
        ),
        speed=Speed(
            itl_ms=[60, 80, 100],
            ttft_ms=[200, 350, 500],
            decode_tok_s_per_seq=[10, 12, 16],
            decode_tok_s_total=[160, 195, 250],
            prefill_tok_s=[5000, 7000, 9000],
        ),
        what_if=[
            WhatIf(change="kv_cache_dtype: fp8", effect="KV cache 2.0x tokens"),
            WhatIf(change="gpus: 2 with tp_size 2", effect="fits, 31 GiB KV"),
        ],
        explanations={"kv_cache_gib": "usable minus weights, activation, graphs"},
        gpu_name="L4",
    )


def fixed_outcome(profile: Profile):  # noqa: ANN201
    """A `compute_plan` stand-in: fits with fewer than 32 requests in flight."""
    from wizard_tui.schemas.plan import PlanRequest
    from wizard_tui.tui.planning import PlanOutcome

    request = PlanRequest(profile=profile, model=LLAMA_8B, gpu=L4)
    concurrency = profile.workload.concurrency
    return PlanOutcome(profile, request, fixed_plan(concurrency < 32, concurrency))


async def settle(pilot, rounds: int = 3) -> None:  # noqa: ANN001
    """Let workers finish and their results reach the screen. The first pause
    outlasts the app's 50 ms delay before its folder scan and completion
    lists start, so their workers are among those waited for."""
    await pilot.pause(0.08)
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def panel_text(app) -> str:  # noqa: ANN001
    return app.wizard.query_one("#fit-panel").text
