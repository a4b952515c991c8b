"""Problems a newcomer found in the plan and the launch files it sizes: FP8
below compute capability 8.9, speed without figures, contradictory advice,
one max_num_seqs for plan and launch, idle GPUs, -0.0, what-ifs that change
nothing, one note per fact."""

from __future__ import annotations

import json
import math
from pathlib import Path

from tests.test_planner_archs import H100, gpu, llama_31_8b, request
from tests.test_planner_checks import llama_70b
from wizard_tui.catalog import build_request
from wizard_tui.planner import run_plan
from wizard_tui.planner.plan import _gib
from wizard_tui.profiles import read_profile

ROOT = Path(__file__).resolve().parent.parent
PROFILES = sorted((ROOT / "profiles").glob("*.yaml"))
SPEEDS = ("itl_ms", "ttft_ms", "decode_tok_s_per_seq", "decode_tok_s_total",
          "prefill_tok_s")  # fmt: skip


def _text(plan) -> str:  # noqa: ANN001
    from wizard_tui.cli import render_plan_text

    return render_plan_text(plan)


def test_no_speed_for_a_gpu_known_by_memory_only() -> None:
    # hardware.vram_gb alone: no bandwidth, so no inter-token latency (the
    # old roofline divided by a 1 GB/s stand-in: "ITL 22119 ms").
    custom = gpu("custom GPU", 80.0, fp8=False, cc=None, bandwidth=0.0,
                 tflops=0.0)  # fmt: skip
    resp = run_plan(request(llama_31_8b(), custom, max_model_len=8192))
    assert resp.vllm_starts
    for name in SPEEDS:
        assert getattr(resp.speed, name) == [], name
    assert resp.speed.label == "unknown for this GPU (no bandwidth figure)"
    assert "speed: unknown for this GPU (no bandwidth figure)" in _text(resp)
    # The JSON keeps every key (CONTRACT.md's list).
    doc = json.loads(resp.model_dump_json())
    assert set(SPEEDS) <= set(doc["speed"])


def test_no_speed_for_a_plan_that_does_not_start() -> None:
    # Llama-3.1-70B in bf16 is 141.1 GB = 131.4 GiB of weights: more than an
    # 80 GB H100's 79.19 GiB.
    resp = run_plan(request(llama_70b(), H100, max_model_len=8192))
    assert not resp.vllm_starts
    for name in SPEEDS:
        assert getattr(resp.speed, name) == [], name
    assert "speed: none: vLLM would not start" in _text(resp)


def test_tiny_negatives_print_as_zero() -> None:
    # round(-0.001, 2) is -0.0, which JSON and f-strings print as "-0.0".
    assert str(_gib(-0.001)) == "0.0"
    assert math.copysign(1.0, _gib(-0.004)) == 1.0
    assert _gib(-0.006) == -0.01  # a real negative stays
    for path in PROFILES:
        req = build_request(read_profile(path).profile)
        doc = run_plan(req).model_dump_json()
        assert "-0.0," not in doc and "-0.0}" not in doc, path.name


def test_one_note_for_an_unset_vllm_version(tmp_path: Path) -> None:
    text = (ROOT / "profiles" / "llama-3.1-8b-1x-l4.yaml").read_text()
    path = tmp_path / "p.yaml"
    path.write_text(text.replace("vllm_version: '0.34'", "vllm_version: null"))
    loaded = read_profile(path)
    req = build_request(loaded.profile)
    # The CLI's way: the loader's notes, then resolution's.
    req = req.model_copy(update={"notes": tuple(loaded.notes) + tuple(req.notes)})
    notes = run_plan(req).notes
    assert sum("engine.vllm_version" in n for n in notes) == 1, notes
