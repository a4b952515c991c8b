"""The planner's answers beyond the KV figures: validity, auto TP, searches,
what-ifs, explanations, eras, purity, and the bundled profiles."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_planner_archs import (
    GIB,
    H100,
    RTX4090,
    gpt_oss,
    gpu,
    llama_31_8b,
    qwen25_7b,
    request,
)
from wizard_tui.planner import run_plan
from wizard_tui.schemas import PlanResponse

ROOT = Path(__file__).resolve().parent.parent


def llama_70b():
    # Llama-3.1-70B config.json: 80 layers, hidden 8192, intermediate 28672,
    # 64 heads, 8 KV heads; 70,553,706,496 params x 2 B.
    return llama_31_8b().model_copy(
        update={"model_id": "meta-llama/Llama-3.1-70B", "num_layers": 80,
                "hidden_size": 8192, "intermediate_size": 28672,
                "num_attention_heads": 64, "total_params": 70_553_706_496,
                "active_params": 69_503_000_000, "weight_bytes": 141_107_412_992}
    )  # fmt: skip


def test_terms_add_up() -> None:
    for version in ("0.6.4", "0.19.0", "0.28.0", "0.34"):
        resp = run_plan(request(llama_31_8b(), version=version, max_model_len=8192))
        g = resp.per_gpu
        parts = (g.weights_gib + g.activation_gib + g.non_torch_gib
                 + g.cuda_graph_gib + g.kv_cache_gib + g.other_gib)  # fmt: skip
        assert parts == pytest.approx(g.usable_gib, abs=0.05), version


def test_era_defaults() -> None:
    # Default util 0.90 up to 0.21, 0.92 from 0.22, 1.0 with 0.34's
    # extensible cache; block size 16, then 64 in 0.34 (VLLM_MEMORY.md c.1,
    # c.9).
    cases = {"0.6.4": (0.9, 16), "0.19.0": (0.9, 16), "0.28.0": (0.92, 16),
             "0.34": (1.0, 64)}  # fmt: skip
    for version, (util, block) in cases.items():
        resp = run_plan(request(llama_31_8b(), version=version, max_model_len=8192))
        assert resp.gpu_memory_utilization == util, version
        assert resp.kv_cache.block_size == block, version
        assert resp.engine_version == ".".join(version.split(".")[:2])


def test_034_keeps_a_margin_of_at_least_one_gib() -> None:
    resp = run_plan(request(llama_31_8b(), version="0.34", max_model_len=8192))
    assert resp.per_gpu.other_gib >= 1.0
    assert resp.per_gpu.free_gib >= 1.0


def test_unset_version_is_newest_with_a_note() -> None:
    req = request(llama_31_8b(), version=None, max_model_len=8192)
    req = req.model_copy(update={"notes": ("resolved from the catalog",)})
    resp = run_plan(req)
    assert resp.engine_version == "0.34"
    assert resp.notes[0] == "resolved from the catalog"
    assert any("0.34" in n for n in resp.notes[1:])


def test_guessed_model_warns_loudly() -> None:
    arch = llama_31_8b().model_copy(update={"guessed": True})
    resp = run_plan(request(arch, max_model_len=8192))
    assert resp.warnings[0].startswith("MODEL ARCHITECTURE GUESSED")


def test_extra_fields_filled() -> None:
    resp = run_plan(request(llama_31_8b(), max_model_len=8192))
    assert resp.gpu_name == "H100 SXM"
    assert resp.model_source == "test"
    assert resp.max_num_seqs == 1024 and resp.max_num_batched_tokens == 8192
    small = run_plan(request(llama_31_8b(), RTX4090, max_model_len=8192))
    assert small.max_num_seqs == 256 and small.max_num_batched_tokens == 2048


def test_auto_tp_smallest_that_starts() -> None:
    # 70B bf16 = 131.4 GiB of weights. TP2: 65.7 GiB + ~2 activation + 2.1
    # non-torch of 71.3 GiB leaves ~1.4 GiB, less than one 32,768-token
    # request (32,768 x 160 KiB per rank = 5 GiB); TP4 starts.
    resp = run_plan(request(llama_70b(), tp=None, gpus=8, max_model_len=32_768))
    assert resp.vllm_starts
    assert resp.tp_size == 4
    one = run_plan(request(llama_70b(), tp=2, max_model_len=32_768))
    assert not one.vllm_starts
    assert any("tp_size auto: 4" in n for n in resp.notes)


def test_tp_must_divide_heads() -> None:
    # Qwen2.5-7B: 28 attention heads, 4 KV heads; TP 8 divides neither.
    resp = run_plan(request(qwen25_7b(), tp=8, max_model_len=8192))
    assert not resp.vllm_starts
    assert "must be divisible by tensor parallel size (8)" in " ".join(resp.blockers)
    auto = run_plan(request(qwen25_7b(), tp=None, gpus=8, max_model_len=8192))
    assert auto.tp_size in (1, 2, 4, 7)


def test_kv_heads_replicated_above_tp() -> None:
    # 8 KV heads at TP 16: one head per rank, not half a head.
    arch = llama_70b().model_copy(update={"num_attention_heads": 128})
    resp = run_plan(request(arch, tp=16, max_model_len=8192))
    assert resp.kv_cache.bytes_per_token == 80 * 1 * 128 * 2 * 2


def test_max_model_len_above_the_model_is_blocked() -> None:
    resp = run_plan(request(qwen25_7b(), max_model_len=65_536))
    assert "greater than the derived max_model_len (32768)" in " ".join(resp.blockers)


def test_max_model_len_fit_is_the_edge() -> None:
    req = request(llama_31_8b(), max_model_len=131_072,
                  args={"kv_cache_memory_bytes": 4 * GIB})  # fmt: skip
    resp = run_plan(req)
    assert not resp.vllm_starts
    # 4 GiB / 128 KiB = 32,768 tokens.
    assert resp.max_model_len_fit == 32_768
    at_fit = run_plan(
        request(
            llama_31_8b(),
            max_model_len=resp.max_model_len_fit,
            args={"kv_cache_memory_bytes": 4 * GIB},
        )
    )
    assert at_fit.vllm_starts
    above = run_plan(
        request(
            llama_31_8b(), max_model_len=32_769, args={"kv_cache_memory_bytes": 4 * GIB}
        )
    )
    assert not above.vllm_starts


def test_utilization_needed_makes_it_start() -> None:
    card = gpu("RTX 4090", 23.52, cc="8.9", link="pcie")
    low = run_plan(request(llama_31_8b(), card, util=0.7, max_model_len=32_768))
    assert not low.vllm_starts
    need = low.utilization_needed
    assert need is not None and 0.7 < need <= 1.0
    ok = run_plan(request(llama_31_8b(), card, util=need, max_model_len=32_768))
    assert ok.vllm_starts
    under = run_plan(request(llama_31_8b(), card, util=round(need - 0.02, 2),
                             max_model_len=32_768))  # fmt: skip
    assert not under.vllm_starts


def test_kv_cache_memory_bytes_suggestion_starts() -> None:
    resp = run_plan(request(llama_31_8b(), version="0.28.0", max_model_len=8192))
    suggested = resp.kv_cache_memory_bytes_suggested
    assert suggested is not None
    # usable - (weights + activation + non-torch + graphs) - 150 MiB.
    g = resp.per_gpu
    expected = (g.usable_gib - g.weights_gib - g.activation_gib - g.non_torch_gib
                - g.cuda_graph_gib) * GIB - 150 * (1 << 20)  # fmt: skip
    assert suggested == pytest.approx(expected, rel=0.002)
    again = run_plan(
        request(
            llama_31_8b(),
            version="0.28.0",
            max_model_len=8192,
            args={"kv_cache_memory_bytes": suggested},
        )
    )
    assert again.vllm_starts


def test_workload_concurrency_fit() -> None:
    # 4 GiB of KV = 2,048 blocks of 16 tokens; a 512 + 256 request takes
    # 48 blocks; x 1.15 fragmentation -> 2,048 / 55.2 = 37 requests.
    resp = run_plan(
        request(
            llama_31_8b(),
            max_model_len=8192,
            args={"kv_cache_memory_bytes": 4 * GIB},
            workload={"prompt_tokens": 512, "gen_tokens": 256, "concurrency": 64},
            policy={"fragmentation_factor": 1.15},
        )  # fmt: skip
    )
    assert resp.workload.concurrency_fit == 37
    assert resp.workload.tokens_per_request == 768
    assert resp.vllm_starts and not resp.fits
    assert any("only 37 of the 64" in w for w in resp.warnings)


def test_headroom_decides_fits() -> None:
    resp = run_plan(request(llama_31_8b(), util=0.95, max_model_len=8192,
                            policy={"headroom_gb": 10.0}))  # fmt: skip
    assert resp.vllm_starts and not resp.fits
    assert any("headroom" in w for w in resp.warnings)


def test_what_if_list_has_numbers() -> None:
    resp = run_plan(request(llama_31_8b(), RTX4090, max_model_len=32_768))
    assert 2 <= len(resp.what_if) <= 3
    for item in resp.what_if:
        assert any(ch.isdigit() for ch in item.effect)
        assert "tokens" in item.effect
    fp8 = [w for w in resp.what_if if w.change == "kv_cache_dtype: fp8"]
    if fp8:
        assert "+" in fp8[0].effect


def test_what_if_prefers_changes_that_make_it_start() -> None:
    resp = run_plan(request(llama_70b(), tp=2, gpus=2, max_model_len=32_768))
    assert not resp.vllm_starts
    assert "; starts" in resp.what_if[0].effect


def test_explanations_cover_every_number() -> None:
    resp = run_plan(request(llama_31_8b(), max_model_len=8192))
    keys = [f"per_gpu.{k}" for k in resp.per_gpu.model_dump()] + [
        "kv_cache.tokens", "kv_cache.blocks", "kv_cache.block_size",
        "kv_cache.bytes_per_token", "max_concurrency", "max_model_len_fit",
        "workload.concurrency_fit", "speed", "utilization_needed",
        "kv_cache_memory_bytes_suggested",
    ]  # fmt: skip
    for key in keys:
        assert resp.explanations.get(key), key


def test_speed_ranges_ordered() -> None:
    resp = run_plan(request(llama_31_8b(), max_model_len=8192,
                            workload={"concurrency": 8}))  # fmt: skip
    s = resp.speed
    assert s.label == "estimate"
    # Every array is [low, typical, high] (CONTRACT.md): ascending, so the
    # low tok/s is the pessimistic end and matches the high ITL.
    assert s.itl_ms[0] <= s.itl_ms[1] <= s.itl_ms[2]
    assert s.decode_tok_s_per_seq == sorted(s.decode_tok_s_per_seq)
    assert s.decode_tok_s_per_seq[0] == pytest.approx(1000 / s.itl_ms[2], rel=0.01)
    assert s.decode_tok_s_total[1] == pytest.approx(s.decode_tok_s_per_seq[1] * 8,
                                                    rel=0.01)  # fmt: skip
    # H100 at 3.35 TB/s reading 16 GB of weights: ~5-15 ms per token.
    assert 4 < s.itl_ms[1] < 15


def test_bad_vllm_args_become_warnings() -> None:
    # The profile schema may reject such values itself; the planner must not
    # rely on it (a profile built without validation), so they are put in
    # after validation here.
    req = request(llama_31_8b(), max_model_len=8192)
    bad = {"max_num_seqs": "lots", "enforce_eager": "maybe"}
    outputs = req.profile.outputs.model_copy(update={"vllm_args": bad})
    profile = req.profile.model_copy(update={"outputs": outputs})
    resp = run_plan(req.model_copy(update={"profile": profile}))
    assert resp.vllm_starts
    assert sum("ignored" in w for w in resp.warnings) == 2


def test_overhead_reduces_free_memory() -> None:
    base = run_plan(request(llama_31_8b(), util=0.8, max_model_len=8192))
    held = run_plan(request(llama_31_8b(), util=0.8, max_model_len=8192,
                            policy={"overhead_gb": 4.0}))  # fmt: skip
    assert held.per_gpu.free_gib == pytest.approx(base.per_gpu.free_gib - 4.0,
                                                  abs=0.01)  # fmt: skip


def test_planner_imports_nothing_heavy() -> None:
    code = (
        "import sys, wizard_tui.planner as p, wizard_tui.planner.plan;"
        "bad=[m for m in ('yaml','textual','rich') if m in sys.modules];"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, cwd=ROOT, check=True)  # fmt: skip
    assert out.stdout.strip() == "[]"


def _bundled_profiles() -> list[Path]:
    files = sorted((ROOT / "profiles").glob("*.yaml"))
    files.append(ROOT / "tests" / "data" / "compat" / "vllm-wizard-sample.yaml")
    return [f for f in files if f.is_file()]


@pytest.mark.parametrize("path", _bundled_profiles(), ids=lambda p: p.name)
def test_bundled_profiles_plan(path: Path, tmp_path: Path, monkeypatch) -> None:
    from wizard_tui import catalog, profiles

    monkeypatch.setenv("VLLM_WIZARD_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    profile = profiles.load_profile(path)
    req = catalog.build_request(profile)
    resp = run_plan(req)
    assert not any("planner could not evaluate" in b for b in resp.blockers)
    assert resp.fits in (True, False)
    assert resp.per_gpu.total_gib > 0
    data = resp.model_dump(mode="json")
    assert data["kv_cache"]["tokens"] >= 0
    # The response is built without validation (plan._build): it must
    # round-trip through the schema unchanged, nested models included.
    again = PlanResponse.model_validate(resp.model_dump())
    assert again == resp
    assert again.model_dump(mode="json") == data
    for speed in data["speed"].values():
        if isinstance(speed, list):
            assert speed == sorted(speed)  # [low, typical, high] (CONTRACT.md)


def test_graph_profiling_notice_gives_equivalent_util() -> None:
    # From 0.21 vLLM charges graphs and says which util keeps the old KV size:
    # u + G / M.
    resp = run_plan(request(llama_31_8b(), version="0.28.0", util=0.9,
                            max_model_len=8192))  # fmt: skip
    graphs = resp.per_gpu.cuda_graph_gib
    note = next(w for w in resp.warnings if "charged to the budget" in w)
    assert f"{0.9 + graphs / 79.19:.3f}" in note


def test_default_util_boundary_021_022() -> None:
    at21 = run_plan(request(llama_31_8b(), version="0.21.0", max_model_len=8192))
    at22 = run_plan(request(llama_31_8b(), version="0.22.0", max_model_len=8192))
    assert at21.gpu_memory_utilization == 0.9
    assert at22.gpu_memory_utilization == 0.92
    assert at21.per_gpu.cuda_graph_gib > 0  # graph profiling since 0.21


def test_tp_across_nodes_warns_and_drops_custom_allreduce() -> None:
    arch = llama_70b()
    one_node = run_plan(request(arch, tp=16, gpus=16, max_model_len=8192))
    req = request(arch, tp=16, gpus=16, max_model_len=8192)
    hw = req.profile.hardware.model_copy(update={"gpus_per_node": 8})
    req = req.model_copy(
        update={"profile": req.profile.model_copy(update={"hardware": hw})}
    )
    two_nodes = run_plan(req)
    assert any("spans nodes of 8 GPUs" in w for w in two_nodes.warnings)
    assert two_nodes.speed.itl_ms[1] > one_node.speed.itl_ms[1]


def test_sweep_rows() -> None:
    from wizard_tui.planner import sweep

    req = request(llama_31_8b(), max_model_len=8192)
    cards = [H100, gpu("RTX 3090", 23.58, fp8=False, cc="8.6", link="pcie")]
    rows = sweep(req, cards)
    assert len(rows) == 2 * 4 * 2
    by_key = {(r.gpu_name, r.tp, r.kv_cache_dtype): r for r in rows}
    assert by_key[("H100 SXM", 1, "auto")].starts
    assert (
        by_key[("H100 SXM", 1, "fp8")].kv_tokens
        > by_key[("H100 SXM", 1, "auto")].kv_tokens
    )
    # An fp8 KV cache runs on Ampere (stored fp8, upcast): it starts, with
    # more tokens than 16-bit KV.
    assert by_key[("RTX 3090", 1, "fp8")].starts
    assert (
        by_key[("RTX 3090", 1, "fp8")].kv_tokens
        > by_key[("RTX 3090", 1, "auto")].kv_tokens
    )
    full = run_plan(request(llama_31_8b(), H100, tp=2, gpus=2, max_model_len=8192))
    assert by_key[("H100 SXM", 2, "auto")].kv_tokens == full.kv_cache.tokens


def test_workload_mode_shapes_unset_knobs() -> None:
    def plan(mode: str, args=None):
        return run_plan(
            request(
                llama_31_8b(),
                max_model_len=8192,
                args=args,
                workload={"mode": mode, "concurrency": 12},
            )
        )

    balanced, latency, throughput = (
        plan("balanced"),
        plan("latency"),
        plan("throughput"),
    )
    # H100 on 0.19: vLLM's own 1024 / 8,192.
    assert (balanced.max_num_seqs, balanced.max_num_batched_tokens) == (1024, 8192)
    assert latency.max_num_seqs == 16  # next power of two above 12
    assert throughput.max_num_batched_tokens == 16384
    assert latency.kv_cache.tokens > balanced.kv_cache.tokens  # smaller warm-up
    pinned = plan("latency", {"max_num_seqs": 64})
    assert pinned.max_num_seqs == 64


def test_a_planner_bug_becomes_a_blocker(monkeypatch) -> None:
    import wizard_tui.planner.plan as plan_module

    def broken(_request):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(plan_module, "plan", broken)
    resp = run_plan(request(llama_31_8b(), max_model_len=8192))
    assert not resp.fits and not resp.vllm_starts
    assert "planner could not evaluate" in resp.blockers[0]
    resp.model_dump(mode="json")


def test_034_margin_three_gib_on_rocm() -> None:
    mi300x = gpu("MI300X", 191.98, cc=None, link="infinity-fabric", bandwidth=5300)
    mi300x = mi300x.model_copy(update={"vendor": "amd"})
    nvidia = mi300x.model_copy(update={"vendor": "nvidia"})
    amd = run_plan(request(llama_31_8b(), mi300x, version="0.34", max_model_len=8192))
    nv = run_plan(request(llama_31_8b(), nvidia, version="0.34", max_model_len=8192))
    assert amd.per_gpu.other_gib >= 3.0
    assert nv.per_gpu.kv_cache_gib - amd.per_gpu.kv_cache_gib == pytest.approx(
        2.0, abs=0.6
    )


# Batch-1 inter-token latency against measured rows of
# tests/data/vllm_speed_measurements.yaml: the measurement inside [low, high]
# and the typical estimate within 20% (the benchmark's target).
@pytest.mark.parametrize(
    ("arch", "device", "version", "measured_ms"),
    [
        # blog-fp8kv-gptoss20b-h100-c1-fit: ITL intercept 4.03-4.07 ms (0.19.1).
        (gpt_oss(), H100, "0.19.0", 4.05),
        # musgrave-llama31-8b-a100-40gb-c1: 75 tok/s per user -> 13.33 ms.
        (llama_31_8b(), gpu("A100 40GB SXM", 39.39, fp8=False, cc="8.0",
                            bandwidth=1555, tflops=312), "0.23.0", 1000 / 75),
    ],
)  # fmt: skip
def test_batch1_itl_matches_measurements(arch, device, version, measured_ms) -> None:
    resp = run_plan(request(arch, device, version=version, max_model_len=4096,
                            workload={"concurrency": 1, "prompt_tokens": 256,
                                      "gen_tokens": 128}))  # fmt: skip
    low, typical, high = resp.speed.itl_ms
    assert low <= measured_ms <= high
    assert typical == pytest.approx(measured_ms, rel=0.2)


def test_no_length_starts_when_tp_is_invalid() -> None:
    # Llama-3.1-8B has 32 attention heads: TP 3 does not divide them, so vLLM
    # refuses at any max_model_len.
    resp = run_plan(request(llama_31_8b(), tp=3, gpus=4))
    assert not resp.vllm_starts
    assert "divisible by tensor parallel size (3)" in resp.blockers[0]
    assert resp.max_model_len_fit == 0
    assert "a blocker no length cures" in resp.explanations["max_model_len_fit"]


def _profile_plan(path: str, **changes: dict) -> PlanResponse:
    from wizard_tui.catalog import build_request
    from wizard_tui.profiles import load_profile

    profile = load_profile(Path(__file__).parent.parent / "profiles" / path)
    for section, values in changes.items():
        part = getattr(profile, section).model_copy(update=values)
        profile = profile.model_copy(update={section: part})
    return run_plan(build_request(profile))


def test_what_ifs_never_promise_a_start_a_blocker_rules_out() -> None:
    # An MLA-only KV dtype on Llama (not MLA): more GPUs change nothing, so
    # the only useful change is the KV dtype itself.
    resp = _profile_plan(
        "llama-3.1-8b-1x-l4.yaml", model={"kv_cache_dtype": "nvfp4_ds_mla"}
    )
    assert not resp.vllm_starts
    assert [w.change for w in resp.what_if] == ["kv_cache_dtype: fp8"]
    assert all("still does not start" not in w.effect for w in resp.what_if)


def test_what_if_offers_the_tp_that_starts_not_just_the_next() -> None:
    # Qwen2.5-32B: 32.8e9 params x 2 B = 61 GiB; TP 2 leaves 30.5 GiB per
    # GPU, more than an L4's 22.05 GiB; TP 4 leaves 15.3 GiB and starts.
    resp = _profile_plan(
        "llama-3.1-8b-1x-l4.yaml", model={"id": "Qwen/Qwen2.5-32B-Instruct"}
    )
    assert not resp.vllm_starts
    assert resp.what_if and resp.what_if[0].change == "gpus: 4 with tp_size 4"
    assert "starts" in resp.what_if[0].effect


def test_what_ifs_keep_tensor_parallel_within_a_node() -> None:
    # Two nodes of 8 H100: TP 16 would span nodes; the next step is PP.
    resp = _profile_plan("llama-3.1-405b-fp8-2-nodes-h100.yaml")
    changes = [w.change for w in resp.what_if]
    assert not any("tp_size 16" in c or c == "tp_size: 16" for c in changes)
    assert "gpus: 32 with pipeline_parallel_size 4" in changes
