"""Field cases (tests/data/field-cases.md): each "Test" line with numbers.

Numbers in comments are the case's observed figures or its own arithmetic.
"""

from __future__ import annotations

import re

import pytest

from tests.test_planner_archs import (
    A100_80,
    GIB,
    H100,
    RTX3090,
    RTX4090,
    gemma3_12b,
    gpt_oss,
    gpu,
    llama_2_7b,
    llama_31_8b,
    llama_31_405b,
    qwen3_0_6b,
    qwen3_8b,
    qwen3_14b_awq,
    qwen25_7b,
    qwen35_27b,
    request,
)
from wizard_tui.planner import run_plan
from wizard_tui.schemas import ModelArch, QuantInfo


def _blockers(resp) -> str:
    return " | ".join(resp.blockers)


# 1. Capacity is not monotonic in max_model_len (Llama-3.1-8B, RTX 3090, V0).
def test_case_01_v0_29k_refused_20k_and_35k_start() -> None:
    def plan(length: int):
        return run_plan(
            request(
                llama_31_8b(), RTX3090, version="0.6.4", util=0.9, max_model_len=length
            )  # fmt: skip
        )

    at20, at29, at35 = plan(20_000), plan(29_000), plan(35_000)
    # Observed: 20K starts (3.81 GiB KV), 29K refused (23,648 tokens < 29,000),
    # 35K starts again (chunked prefill shrinks the profiled batch).
    assert at20.vllm_starts
    assert not at29.vllm_starts
    assert "larger than the maximum number of tokens" in _blockers(at29)
    assert at35.vllm_starts
    # The activation reserve grows with the profiled batch (2.07 -> 2.99 GiB
    # of peak above the weights in the log), it is not a fixed overhead.
    assert at29.per_gpu.activation_gib > at20.per_gpu.activation_gib + 0.8
    assert at35.per_gpu.activation_gib < at20.per_gpu.activation_gib
    assert at29.kv_cache.tokens == pytest.approx(23_648, rel=0.05)
    assert at20.per_gpu.kv_cache_gib == pytest.approx(3.81, abs=0.15)


# 2. max_num_batched_tokens eats KV capacity (Qwen3-8B, RTX 4090, util 0.9).
def test_case_02_batched_tokens_8192_fewer_tokens_than_2048() -> None:
    def plan(tokens: int):
        return run_plan(
            request(
                qwen3_8b(),
                RTX4090,
                util=0.9,
                max_model_len=8192,
                args={"max_num_batched_tokens": tokens},
            )  # fmt: skip
        )

    small, large = plan(2048), plan(8192)
    # Observed: 40,464 -> 36,720 tokens (-9.2%).
    drop = 1 - large.kv_cache.tokens / small.kv_cache.tokens
    assert 0.05 < drop < 0.15
    assert large.per_gpu.activation_gib > small.per_gpu.activation_gib
    assert "activation" in large.explanations["per_gpu.activation_gib"]


# 3. fp8 KV: 48 KiB/token; one 221,000-token request needs ~10.1 GiB.
def test_case_03_fp8_kv_221k_needs_10_gib() -> None:
    # 48 layers x 4 KV heads x 128 x 2 (K,V) x 1 B = 49,152 B = 48 KiB/token.
    arch = llama_31_8b().model_copy(
        update={"num_layers": 48, "num_kv_heads": 4, "max_model_len": 262_144}
    )
    resp = run_plan(
        request(
            arch,
            max_model_len=221_000,
            kv_dtype="fp8",
            args={"kv_cache_memory_bytes": int(5.59 * GIB)},
        )  # fmt: skip
    )
    assert resp.kv_cache.bytes_per_token == 49_152
    assert not resp.vllm_starts
    # 221,000 x 49,152 B = 10.12 GiB vs 5.59 GiB available.
    assert "10.12 GiB KV cache is needed" in _blockers(resp)
    # vLLM's own estimate was 122,080 tokens.
    assert resp.max_model_len_fit == pytest.approx(122_080, rel=0.005)


# 4. CUDA graphs outside the budget / high util on a small card.
def test_case_04_high_util_small_gpu_warns() -> None:
    resp = run_plan(request(llama_31_8b(), RTX4090, util=0.95, max_model_len=4096))
    text = " ".join(resp.warnings)
    assert "enforce_eager" in text and "0.90" in text


def test_case_04_graph_reserve_by_version() -> None:
    old = run_plan(request(llama_31_8b(), version="0.19.0", util=0.9,
                           max_model_len=8192))  # fmt: skip
    new = run_plan(request(llama_31_8b(), version="0.28.0", util=0.9,
                           max_model_len=8192))  # fmt: skip
    assert old.per_gpu.cuda_graph_gib == 0  # outside the budget before 0.21
    assert new.per_gpu.cuda_graph_gib > 0.5  # charged from 0.21
    eager = run_plan(
        request(
            llama_31_8b(),
            version="0.28.0",
            util=0.9,
            max_model_len=8192,
            args={"enforce_eager": True},
        )
    )
    assert eager.per_gpu.cuda_graph_gib == 0
    assert eager.kv_cache.tokens > new.kv_cache.tokens


# 5. V1's default max_num_seqs 1024 and the sampler warm-up.
def test_case_05_default_max_num_seqs_1024_on_011() -> None:
    qwen3_32b = qwen3_8b().model_copy(
        update={"model_id": "Qwen/Qwen3-32B", "num_layers": 64, "hidden_size": 5120,
                "intermediate_size": 25600, "num_attention_heads": 64,
                "weight_bytes": 65_524_213_760, "total_params": 32_762_106_880}
    )  # fmt: skip
    # A plain `vllm serve` (the case's log) keeps the default 1024.
    plain = run_plan(request(qwen3_32b, version="0.11.0", tp=2, util=0.95))
    assert plain.max_num_seqs == 1024
    # Left unset in the profile, the planner caps it at what fits, max(4
    # requests of the workload, floor(max concurrency at 1024)), so the
    # launch files never ask for the 1024 x 151,936 x 4 B = 0.58 GiB sampler
    # warm-up of the case.
    resp = run_plan(request(qwen3_32b, version="0.11.0", tp=2, util=0.95,
                            fitted_seqs=True))  # fmt: skip
    assert resp.max_num_seqs == max(4, int(plain.max_concurrency))
    assert resp.max_num_seqs < 1024
    assert resp.kv_cache.tokens > plain.kv_cache.tokens  # smaller warm-up
    assert any(n.startswith(f"max_num_seqs {resp.max_num_seqs}: the balanced "
                            "default 1024 capped") for n in resp.notes)  # fmt: skip


# 7. Cross-attention vision model with default concurrency.
def test_case_07_mllama_needs_low_max_num_seqs() -> None:
    arch = llama_31_8b().model_copy(
        update={"architecture": "MllamaForConditionalGeneration"}
    )
    a100 = gpu("A100 80GB SXM", 79.25, fp8=False, cc="8.0")
    resp = run_plan(request(arch, a100, version="0.6.3", max_model_len=1024))
    assert not resp.fits
    assert "max_num_seqs <= 32" in _blockers(resp)
    assert "enforce_eager" in _blockers(resp)


# 10. Pipeline stages: embeddings on the first, LM head on the last.
def test_case_10_last_stage_carries_lm_head() -> None:
    from wizard_tui.planner import memory

    arch = llama_31_8b()
    stages = memory.stage_weight_bytes(arch, [16, 16], tp=1)
    lm_head = 128_256 * 4096 * 2  # vocab x hidden x 2 B
    # Both stages hold 16 layers; the first adds the embedding, the last the
    # LM head of the same size, so they match here; with 3 stages the middle
    # one is lighter by the LM head.
    three = memory.stage_weight_bytes(arch, [11, 11, 10], tp=1)
    assert stages[1] == pytest.approx(stages[0])
    layer = (arch.weight_bytes - 2 * lm_head) / 32
    assert three[2] == pytest.approx(10 * layer + lm_head)
    assert three[1] == pytest.approx(11 * layer)


def test_case_10_per_stage_memory_and_bottleneck() -> None:
    # Llama-3.1-8B on PP2 (log c50): 16 layers each; stage 0 adds the
    # embedding, stage 1 the LM head of the same size plus the sampler's
    # activation, so stage 1 has fewer blocks (log: stage 0 prints 66.54 GiB,
    # the engine keeps 67,207 blocks, below stage 0's 68,137).
    resp = run_plan(request(llama_31_8b(), util=0.95, max_model_len=8192,
                            args={"pipeline_parallel_size": 2}))  # fmt: skip
    note = next(n for n in resp.notes if n.startswith("pipeline stages"))
    assert "stage 0:" in note and "stage 1:" in note
    assert "every stage keeps stage 1's" in note
    assert f"{resp.kv_cache.blocks:,} blocks" in note
    assert resp.kv_cache.blocks == pytest.approx(67_207, rel=0.01)


# 12. Startup refusal when the GPU is not empty.
# 11. Several vLLM instances on one GPU (PR#18858: three instances at 0.3 on an
# 80 GB A100). gpu_memory_utilization is per instance (restored by PR#10498):
# the others' memory is policy.overhead_gb, and an instance starts when the
# GPU still has its own budget free.
def test_case_11_three_instances_at_03_share_an_a100() -> None:
    budget = 0.3 * 79.25  # 23.78 GiB per instance
    third = run_plan(request(qwen3_0_6b(), A100_80, version="0.19.0", util=0.3,
                             max_model_len=2048,
                             policy={"overhead_gb": 2 * budget}))  # fmt: skip
    # Free: 79.25 - 47.55 - 0.62 (own CUDA context) = 31.08 GiB >= 23.78.
    assert third.vllm_starts, third.blockers
    assert third.per_gpu.usable_gib == pytest.approx(budget, abs=0.01)


def test_case_11_fourth_instance_refused_with_the_util_that_starts() -> None:
    budget = 0.3 * 79.25
    fourth = run_plan(request(qwen3_0_6b(), A100_80, version="0.19.0", util=0.3,
                              max_model_len=2048,
                              policy={"overhead_gb": 3 * budget}))  # fmt: skip
    # Free: 79.25 - 71.325 - 0.62 = 7.305 GiB < 23.775: vLLM's startup refusal,
    # with the highest util that fits: floor(7.305 / 79.25 x 100) / 100 = 0.09.
    assert not fourth.vllm_starts
    text = _blockers(fourth)
    free = re.search(r"Free memory on device \(([\d.]+)/79\.25 GiB\)", text)
    assert free is not None, text
    assert float(free.group(1)) == pytest.approx(7.305, abs=0.006)
    assert "gpu_memory_utilization <= 0.09" in text


def test_case_11_v0_instances_over_the_gpu_refused_and_064_warned() -> None:
    # V0 has no free-memory check: the second instance runs out of memory when
    # its budget plus the first one's exceeds the GPU (0.3 then 0.8 of 79.25).
    second = run_plan(request(qwen3_0_6b(), A100_80, version="0.6.3", util=0.8,
                              max_model_len=2048,
                              policy={"overhead_gb": 0.3 * 79.25}))  # fmt: skip
    assert "CUDA out of memory" in _blockers(second)
    assert "lower gpu_memory_utilization to 0.70" in _blockers(second)
    # 0.6.4 counted other processes against the flag (a global cap): warned.
    at_064 = run_plan(request(qwen3_0_6b(), A100_80, version="0.6.4", util=0.3,
                              max_model_len=2048))  # fmt: skip
    assert any("global cap" in w for w in at_064.warnings)


def test_case_12_free_memory_refusal() -> None:
    # 24 GiB card at util 0.97 needs 23.28 GiB free; 1.24 GiB in use leaves
    # 22.76 GiB: 0.62 GiB held by another process plus vLLM's own CUDA
    # context (0.62 GiB: "Free memory on device (78.57/79.19 GiB)", log c83).
    card = gpu("RTX 3090", 24.0, fp8=False, cc="8.6", link="pcie")
    resp = run_plan(
        request(
            qwen25_7b(),
            card,
            util=0.97,
            max_model_len=4096,
            policy={"overhead_gb": 0.62},
        )  # fmt: skip
    )
    assert not resp.vllm_starts
    text = _blockers(resp)
    assert "Free memory on device (22.76/24.00 GiB)" in text
    assert "23.28 GiB" in text
    assert "gpu_memory_utilization <= 0.94" in text


def test_case_12_util_one_refused_before_034() -> None:
    # Before the extensible cache, util 1.0 asks for more than is ever free.
    card = gpu("RTX 3090", 23.58, fp8=False, cc="8.6", link="pcie")
    old = run_plan(request(qwen3_8b(), card, version="0.19.0", util=1.0,
                           max_model_len=4096))  # fmt: skip
    assert "Free memory on device" in _blockers(old)
    new = run_plan(request(qwen3_8b(), card, version="0.34", util=1.0,
                           max_model_len=4096))  # fmt: skip
    assert "Free memory on device" not in _blockers(new)


# 14. KV dtype changes bytes per token: Qwen2.5-7B at 262,144 tokens.
def test_case_14_fp8_halves_kv_figure() -> None:
    from wizard_tui.planner import eras, kv

    era = eras.era_for("0.19.0")
    arch = qwen25_7b()
    kinds = ("full",) * 28
    bf16 = kv.build_layout(arch, kinds, 1, "auto", None, era)
    fp8 = kv.build_layout(arch, kinds, 1, "fp8", None, era)
    # 56 KiB/token x 262,144 = 14 GiB; fp8: 7 GiB.
    assert bf16.request_bytes(262_144, 2048) / GIB == pytest.approx(14.0)
    assert fp8.request_bytes(262_144, 2048) / GIB == pytest.approx(7.0)


# 16. Llama-3.1-405B: 504 KiB/token; one 131,072-token sequence ~63 GiB.
def test_case_16_405b_kv_per_token() -> None:
    resp = run_plan(
        request(
            llama_31_405b(),
            gpu("big", 2000.0),
            max_model_len=131_072,
            args={"kv_cache_memory_bytes": 10 * GIB},
        )  # fmt: skip
    )
    assert resp.kv_cache.bytes_per_token == 504 * 1024
    assert "63.00 GiB KV cache is needed" in _blockers(resp)


# 18. MoE weights use total parameters.
def test_case_18_moe_weights_use_total_params() -> None:
    # Qwen3.5-122B-A10B at ~4.5 bits: 122e9 x 4.5 / 8 = 68.6 GB of weights.
    arch = qwen35_27b().model_copy(
        update={"model_id": "Qwen/Qwen3.5-122B-A10B", "family": "hybrid-moe",
                "num_experts": 256, "num_experts_per_tok": 8,
                "moe_intermediate_size": 1024, "total_params": 122_000_000_000,
                "active_params": 10_000_000_000, "weight_bytes": 68_625_000_000}
    )  # fmt: skip
    mac = gpu("48 GiB GPU", 48.0, fp8=False, cc="8.6", link="pcie")
    resp = run_plan(request(arch, mac, max_model_len=8192))
    assert resp.per_gpu.weights_gib > 60
    assert not resp.fits


# 21. Sliding layers charged at full length only without the hybrid manager.
def test_case_21_gemma4_sliding_layers() -> None:
    # gemma-4-31B: 60 layers, 50 sliding (16 KV heads x 256, window 1024) and
    # 10 full (4 KV heads x 512); unset max_model_len = 262,144.
    kinds = tuple("full" if (i + 1) % 6 == 0 else "sliding" for i in range(60))
    arch = ModelArch(
        model_id="google/gemma-4-31B-it", source="test", model_type="gemma4_text",
        family="swa", num_layers=60, hidden_size=5376, intermediate_size=21504,
        vocab_size=262144, num_attention_heads=32, num_kv_heads=16, head_dim=256,
        max_model_len=262_144, layer_kinds=kinds, sliding_window=1024,
        kv_heads_by_kind={"full": 4}, head_dim_by_kind={"full": 512},
        tie_word_embeddings=True, total_params=31_000_000_000,
        active_params=31_000_000_000, weight_bytes=62_000_000_000,
    )  # fmt: skip
    small = {"kv_cache_memory_bytes": int(20.13 * GIB)}
    flat = run_plan(
        request(arch, gpu("big", 2000.0),
                args={**small, "disable_hybrid_kv_cache_manager": True})
    )  # fmt: skip
    # All 60 layers at full length: (50 x 16,384 + 10 x 8,192) B x 262,144 =
    # 220.0 GiB, vs 20.13 GiB available.
    assert "220.00 GiB KV cache is needed" in _blockers(flat)
    assert flat.max_model_len == 262_144
    hybrid = run_plan(request(arch, gpu("big", 2000.0), args=small))
    # 10 full layers x 8,192 B x 262,144 = 20 GiB, plus 50 windows of ~1K+in
    # flight tokens: far below 220 GiB.
    assert "KV cache is needed" not in _blockers(hybrid) or (
        hybrid.max_model_len_fit > flat.max_model_len_fit
    )
    assert hybrid.max_model_len_fit > 3 * flat.max_model_len_fit


# 22. gpt-oss-120b: 5.38 GiB -> vLLM's 78,384 "tokens".
def test_case_22_gpt_oss_120b_reported_tokens() -> None:
    # 18 sliding + 18 full layers, 2 groups of 18; page 16 x 2 x 8 x 64 x 2 =
    # 32,768 B; 18 pages per block; tokens = blocks // 2 x 16.
    resp = run_plan(
        request(
            gpt_oss(36, 128),
            gpu("big", 2000.0),
            max_model_len=8192,
            args={"kv_cache_memory_bytes": int(5.38 * GIB)},
        )  # fmt: skip
    )
    assert resp.kv_cache.tokens == pytest.approx(78_384, rel=0.001)
    assert "groups" in resp.explanations["kv_cache.tokens"]
    new = run_plan(
        request(gpt_oss(36, 128), gpu("big", 2000.0), version="0.34",
                max_model_len=8192, args={"kv_cache_memory_bytes": int(5.38 * GIB)})
    )  # fmt: skip
    assert "derives" in new.explanations["kv_cache.tokens"]


# 23. Gemma-2 capped at 4096 before 0.6.5.
def test_case_23_gemma2_capped_before_065() -> None:
    arch = gemma3_12b().model_copy(update={"model_type": "gemma2",
                                           "max_model_len": 8192})  # fmt: skip
    old = run_plan(request(arch, version="0.6.4", max_model_len=8192))
    assert "4096" in _blockers(old)
    new = run_plan(request(arch, version="0.6.6", max_model_len=8192))
    assert "4096" not in _blockers(new)


# 26. Quantization x GPU x TP combinations that refuse to load.
def test_case_26_fp8_on_ampere_runs_weight_only() -> None:
    # The refusal of mid-2024 (vLLM 0.5) is gone in the versions planned for
    # (0.6+): below 8.9 vLLM runs FP8 weights through the FP8 Marlin
    # weight-only kernel (marlin_utils_fp8.py: is_fp8_marlin_supported needs
    # capability 8.0, 7.5 from 0.30). A warning says what it costs.
    resp = run_plan(request(llama_31_8b(), RTX3090, quantization="fp8",
                            max_model_len=4096))  # fmt: skip
    assert resp.vllm_starts, resp.blockers
    assert any("FP8 Marlin" in w and "no FP8 compute speed-up" in w
               for w in resp.warnings)  # fmt: skip
    # V100 (7.0) is below the Marlin minimum in every version: refused.
    v100 = gpu("V100 32GB", 31.74, fp8=False, cc="7.0")
    for version, low in (("0.19.0", "8.0"), ("0.34", "7.5")):
        old = run_plan(request(llama_31_8b(), v100, version=version,
                               quantization="fp8", max_model_len=4096))  # fmt: skip
        assert f"FP8 weights need compute capability {low}+" in _blockers(old)
    # T4 (7.5): refused up to 0.29 (Marlin needs 8.0), runs from 0.30.
    t4 = gpu("T4", 14.58, fp8=False, cc="7.5")
    t4_old = run_plan(request(llama_31_8b(), t4, version="0.19.0",
                              quantization="fp8", max_model_len=4096))  # fmt: skip
    assert "FP8 weights need compute capability 8.0+" in _blockers(t4_old)
    t4_new = run_plan(request(llama_31_8b(), t4, version="0.34",
                              quantization="fp8", max_model_len=4096))  # fmt: skip
    assert "FP8 weights need" not in _blockers(t4_new)


def test_fp8_kv_on_ampere_is_a_warning_and_unknown_gpu_a_note() -> None:
    # vLLM starts with an fp8 KV cache on A100 (stored fp8, upcast;
    # vllm-project/vllm PR #24577): a warning, and half the KV bytes.
    auto = run_plan(request(llama_31_8b(), A100_80, max_model_len=8192))
    fp8 = run_plan(request(llama_31_8b(), A100_80, max_model_len=8192,
                           kv_dtype="fp8"))  # fmt: skip
    assert fp8.vllm_starts, fp8.blockers
    assert any("upcast" in w for w in fp8.warnings)
    # Llama-3.1-8B: 32 layers x 8 KV heads x 128 x 2 (K+V) x 2 B = 131,072 B
    # per token in bf16, 65,536 in fp8.
    assert (auto.kv_cache.bytes_per_token, fp8.kv_cache.bytes_per_token) == (
        131_072, 65_536)  # fmt: skip
    # A GPU known by vram_gb alone: capability unknown, never "no FP8".
    custom = gpu("custom GPU", 80.0, fp8=False, cc=None)
    resp = run_plan(request(llama_31_8b(), custom, max_model_len=8192,
                            kv_dtype="fp8"))  # fmt: skip
    assert resp.vllm_starts, resp.blockers
    assert not any("FP8" in w for w in resp.warnings)
    assert any("compute capability is unknown" in n for n in resp.notes)


def test_case_26_awq_on_v100_refused() -> None:
    v100 = gpu("V100 32GB", 31.74, fp8=False, cc="7.0")
    resp = run_plan(request(qwen3_14b_awq(), v100, max_model_len=4096))
    assert "AWQ needs compute capability 7.5" in _blockers(resp)


def test_case_26_bnb_with_tp_on_v0_refused() -> None:
    arch = llama_31_8b().model_copy(
        update={"quant": QuantInfo(method="bitsandbytes", bits=4)}
    )
    resp = run_plan(request(arch, RTX4090, version="0.7.3", tp=2,
                            max_model_len=4096))  # fmt: skip
    assert "pipeline_parallel_size 2" in _blockers(resp)


def test_case_26_quantization_flag_on_unquantized_checkpoint() -> None:
    resp = run_plan(request(llama_31_8b(), quantization="awq", max_model_len=4096))
    assert "needs a checkpoint quantized that way" in _blockers(resp)
    mismatch = run_plan(request(qwen3_14b_awq(), quantization="gptq",
                                max_model_len=4096))  # fmt: skip
    assert "does not match" in _blockers(mismatch)
    same = run_plan(request(qwen3_14b_awq(), quantization="awq_marlin",
                            max_model_len=4096))  # fmt: skip
    assert "does not match" not in _blockers(same)


def test_case_26_bitsandbytes_gguf_removed_in_034() -> None:
    for method in ("bitsandbytes", "gguf"):
        resp = run_plan(request(llama_31_8b(), version="0.34", quantization=method,
                                max_model_len=4096))  # fmt: skip
        assert "removed in vLLM 0.34" in _blockers(resp)


# 27. Chunked prefill off and a small batch budget.
def test_case_27_chunked_prefill_off_needs_big_budget() -> None:
    resp = run_plan(
        request(
            llama_31_8b(),
            version="0.24.0",
            max_model_len=131_072,
            args={"enable_chunked_prefill": False, "max_num_batched_tokens": 8192},
        )  # fmt: skip
    )
    assert "max_num_batched_tokens (8192) is smaller than max_model_len" in (
        _blockers(resp)
    )
    # Left to its default, the budget follows max_model_len and the larger
    # activation reserve is charged.
    auto = run_plan(request(llama_31_8b(), version="0.24.0", max_model_len=131_072,
                            args={"enable_chunked_prefill": False}))  # fmt: skip
    assert auto.max_num_batched_tokens >= 131_072
    assert auto.per_gpu.activation_gib > resp.per_gpu.activation_gib


# 29. Hybrid Mamba/GDN models: one state block per sequence.
def test_case_29_hybrid_state_blocks_cap_max_num_seqs() -> None:
    # Qwen3.6-27B-FP8 on one H100 at util 0.95: "max_num_seqs 1024 exceeds the
    # 856 available Mamba cache blocks". FP8 weights: ~26.9e9 B.
    arch = qwen35_27b().model_copy(
        update={"model_id": "Qwen/Qwen3.6-27B-FP8", "weight_bytes": 26_900_000_000,
                "quant": QuantInfo(method="fp8", bits=8)}
    )  # fmt: skip
    resp = run_plan(request(arch, H100, version="0.34", util=0.95,
                            max_model_len=32_768))  # fmt: skip
    assert "exceeds the available Mamba cache blocks" in _blockers(resp)
    assert resp.kv_cache.blocks == pytest.approx(856, rel=0.15)
    # KV per token counts only the 16 attention layers: 16 x 4 x 256 x 2 x 2.
    assert resp.kv_cache.bytes_per_token == 16 * 4 * 256 * 2 * 2
    # At a short context one block per group holds a whole request in both
    # formats: fp8 only doubles the attention block size (the state pins the
    # page), so concurrency stays put ("1.00x" in the case).
    fp8 = run_plan(request(arch, H100, version="0.34", util=0.95,
                           max_model_len=512, kv_dtype="fp8",
                           args={"max_num_seqs": 256}))  # fmt: skip
    bf16 = run_plan(
        request(
            arch,
            H100,
            version="0.34",
            util=0.95,
            max_model_len=512,
            args={"max_num_seqs": 256},
        )
    )
    assert fp8.max_concurrency == pytest.approx(bf16.max_concurrency, rel=0.05)
    assert any("state" in w for w in fp8.warnings)


# 31. Invariants: quantized never needs more; a 7B at 2K is near 15 GiB.
def test_case_31_seven_b_near_15_gib() -> None:
    resp = run_plan(request(llama_2_7b(), gpu("big", 2000.0), max_model_len=2048,
                            args={"max_num_seqs": 1}))  # fmt: skip
    used = (resp.per_gpu.weights_gib + resp.per_gpu.activation_gib
            + resp.per_gpu.non_torch_gib + 2048 * 524_288 / GIB)  # fmt: skip
    assert 12 < used < 20


# 8. Large VLM with one image per prompt still OOMs (vllm#16570).
def test_case_08_vision_reserve_flagged_on_4x_a100_40gb() -> None:
    # Qwen2.5-VL-72B: the Qwen2.5-72B text stack (80 layers, hidden 8192,
    # intermediate 29568, vocab 152064, 64 heads, 8 KV heads of 128) plus a
    # ~0.67B-parameter vision tower; 73.4B params x 2 B in all.
    arch = ModelArch(
        model_id="Qwen/Qwen2.5-VL-72B-Instruct", source="test", model_type="qwen2_5_vl",
        architecture="Qwen2_5_VLForConditionalGeneration",
        num_layers=80, hidden_size=8192, intermediate_size=29568, vocab_size=152064,
        num_attention_heads=64, num_kv_heads=8, head_dim=128, max_model_len=128000,
        total_params=73_400_000_000, active_params=73_400_000_000,
        weight_bytes=146_800_000_000, vision_params=670_000_000,
    )  # fmt: skip
    a100_40 = gpu("A100 40GB SXM", 39.39, fp8=False, cc="8.0")
    resp = run_plan(
        request(arch, a100_40, version="0.8.4", tp=4, gpus=4, util=0.95,
                max_model_len=4096, args={"max_num_seqs": 2})
    )  # fmt: skip
    # The log: "model loading took 34.43 GiB" per rank.
    assert resp.per_gpu.weights_gib == pytest.approx(34.43, rel=0.05)
    # Its check: 0.95 x 39.39 - 34.43 = 2.99 GiB for activations, graphs, KV.
    assert resp.per_gpu.usable_gib - resp.per_gpu.weights_gib < 4.0
    assert any("vision encoder's profiling reserve is not modelled" in w
               for w in resp.warnings)  # fmt: skip


# 13. "My AWQ model uses as much memory as fp16" (vllm#2948, #1234, #235).
def test_case_13_awq_same_reservation_more_kv_tokens() -> None:
    from wizard_tui.catalog import build_request
    from wizard_tui.schemas import Profile

    def plan(model_id: str):
        profile = Profile.model_validate({
            "model": {"id": model_id, "max_model_len": 8192},
            "hardware": {"gpu_name": "L40S", "gpus": 1},
            "policy": {"gpu_memory_utilization": 0.9},
            "engine": {"vllm_version": "0.19.0"},
            "outputs": {"vllm_args": {"max_num_seqs": 256}},
        })  # fmt: skip
        return run_plan(build_request(profile))

    fp16 = plan("Qwen/Qwen2.5-7B-Instruct")
    awq = plan("Qwen/Qwen2.5-7B-Instruct-AWQ")
    # vLLM reserves util x total whatever the model: the same on both.
    assert awq.per_gpu.usable_gib == fp16.per_gpu.usable_gib
    assert fp16.per_gpu.usable_gib == pytest.approx(
        0.9 * fp16.per_gpu.total_gib, abs=0.01
    )
    # The weights saved become KV: Qwen2.5-7B holds 28 layers x 4 KV heads x
    # 128 x (K+V) x 2 B = 57,344 B per token, so each GiB saved is ~18,724
    # tokens more.
    saved = fp16.per_gpu.weights_gib - awq.per_gpu.weights_gib
    assert saved > 8.0
    assert awq.kv_cache.bytes_per_token == 57_344
    more = awq.kv_cache.tokens - fp16.kv_cache.tokens
    assert more == pytest.approx(saved * 2**30 / 57_344, rel=0.05)


def test_case_13_help_says_what_the_fraction_covers() -> None:
    from wizard_tui.schemas import Profile

    text = Profile.model_json_schema()["$defs"]["PolicySection"]["properties"][
        "gpu_memory_utilization"
    ]["description"]
    assert "weights" in text and "activations" in text and "KV cache" in text


def test_case_12_multi_gpu_baseline_on_nvlink() -> None:
    # c48 (0.19, Llama-3.1-8B, TP 2 on H100): "Free memory on device
    # (77.66/79.19 GiB)": 1.53 GiB gone before the check (NCCL and the custom
    # all-reduce buffers), against 0.51 at TP 1 (c47). At util 0.985 vLLM
    # asks 0.985 x 79.19 = 78.00 GiB: TP 1 has 79.19 - 0.62 = 78.57 free and
    # passes; TP 2 has 79.19 - 1.52 = 77.67 and is refused.
    tp1 = run_plan(request(llama_31_8b(), H100, version="0.19.0", util=0.985))
    tp2 = run_plan(request(llama_31_8b(), H100, version="0.19.0", util=0.985,
                           tp=2, gpus=2))  # fmt: skip
    assert "Free memory on device" not in _blockers(tp1)
    assert "Free memory on device (77.67/79.19 GiB)" in _blockers(tp2)
    # A PCIe-only card has no NVLink buffers: TP 2 on L40S keeps the TP 1
    # figure (c16: 43.93/44.42 GiB free at TP 8).
    l40s = gpu("L40S", 44.42, link="pcie")
    pcie = run_plan(request(llama_31_8b(), l40s, version="0.19.0", util=0.985,
                            tp=2, gpus=2))  # fmt: skip
    assert "Free memory on device" not in _blockers(pcie)
