"""The planner's arithmetic per model family against numbers vLLM logged.

Log ids (c47 ...) are entries of tests/data/vllm_kv_logs.yaml. "Page math"
tests give the planner the KV memory the log printed (as
--kv-cache-memory-bytes) and expect its blocks/tokens; the tolerance covers the
log's rounding of GiB to two decimals (0.005 GiB). "Full" tests predict the KV
memory from the settings alone.
"""

from __future__ import annotations

import pytest

from tests.test_planner_archs import (
    A100_80,
    GIB,
    H100,
    deepseek_v2_lite,
    gemma3_12b,
    gpt_oss,
    gpu,
    llama_2_7b,
    llama_31_8b,
    mixtral_8x7b,
    qwen3_14b_awq,
    qwen25_7b,
    request,
)
from wizard_tui.planner import run_plan


def _page_math(arch, kv_gib, **kw):
    args = dict(kw.pop("args", {}))
    args["kv_cache_memory_bytes"] = int(kv_gib * GIB)
    return run_plan(request(arch, gpu("big", 2000.0), args=args, **kw))


def _close(pred: float, logged: float, tol: float) -> bool:
    return abs(pred - logged) <= tol * abs(logged)


# ---------------------------------------------------------------------------
# Dense GQA: Llama-3.1-8B on H100 80GB, vLLM 0.19, util 0.95, max_model_len 8192


def test_dense_gqa_page_math_c47() -> None:
    # 58.11 GiB / (32 layers x 16 tokens x 2 x 8 heads x 128 x 2 B = 2 MiB)
    # = 29,752 blocks; log: 29,751 blocks, 476,016 tokens, 58.11x.
    resp = _page_math(llama_31_8b(), 58.11, max_model_len=8192)
    assert resp.kv_cache.block_size == 16
    assert _close(resp.kv_cache.blocks, 29_751, 0.0005)
    assert _close(resp.kv_cache.tokens, 476_016, 0.0005)
    assert _close(resp.max_concurrency, 58.11, 0.001)


def test_dense_gqa_full_prediction_c47() -> None:
    # Log: weights 14.99, activation 1.89, non-torch 0.25 GiB, KV 58.11 GiB =
    # 0.95 x 79.19 - 14.99 - 1.89 - 0.25 (graphs 0.91 GiB not charged in 0.19).
    resp = run_plan(request(llama_31_8b(), util=0.95, max_model_len=8192))
    gib = resp.per_gpu
    assert _close(gib.usable_gib, 0.95 * 79.19, 0.001)
    assert _close(gib.weights_gib, 14.99, 0.01)
    assert gib.cuda_graph_gib == 0.0  # not charged before 0.21
    assert abs(gib.activation_gib - 1.89) < 0.3
    assert _close(gib.kv_cache_gib, 58.11, 0.01)
    assert _close(resp.kv_cache.tokens, 476_016, 0.01)
    assert resp.vllm_starts and resp.fits


def test_dense_gqa_tp2_c48() -> None:
    # TP2: 4 KV heads per rank; log KV 63.76 GiB per GPU, 65,293 blocks,
    # 1,044,688 tokens, non-torch 2.07 GiB (NVLink custom all-reduce buffers).
    resp = run_plan(request(llama_31_8b(), tp=2, util=0.95, max_model_len=8192))
    assert resp.kv_cache.bytes_per_token == 32 * 4 * 128 * 2 * 2
    assert _close(resp.per_gpu.weights_gib, 7.51, 0.01)
    assert abs(resp.per_gpu.non_torch_gib - 2.07) < 0.2
    assert _close(resp.per_gpu.kv_cache_gib, 63.76, 0.015)
    assert _close(resp.kv_cache.tokens, 1_044_688, 0.015)


def test_pipeline_parallel_min_over_stages_c50() -> None:
    # PP2: stage 0 holds 16 layers + embeddings (log 7.51 GiB, KV 66.54 GiB),
    # the last stage the LM head and the sampler's logits; the engine takes
    # the smaller block count: 67,207 blocks = 1,075,312 tokens.
    resp = run_plan(
        request(
            llama_31_8b(),
            util=0.95,
            max_model_len=8192,
            args={"pipeline_parallel_size": 2},
        )  # fmt: skip
    )
    assert resp.pp_size == 2
    assert _close(resp.per_gpu.weights_gib, 7.51, 0.01)
    assert _close(resp.kv_cache.tokens, 1_075_312, 0.01)


def test_block_size_128_v011_c87() -> None:
    # vLLM 0.11, --block-size 128, util 0.9, max_model_len 16000: log KV 51.38
    # GiB = 0.9 x 79.18 - 14.99 - 4.76 (activation) - 0.13 (non-torch).
    resp = run_plan(
        request(
            llama_31_8b(),
            gpu(total=79.18),
            version="0.11.0",
            util=0.9,
            max_model_len=16000,
            args={"block_size": 128},
        )  # fmt: skip
    )
    assert resp.kv_cache.block_size == 128
    assert _close(resp.per_gpu.kv_cache_gib, 51.38, 0.02)


# ---------------------------------------------------------------------------
# MHA: Llama-2-7B on MI300X, V0 (c20): 20,406 blocks, 79.71x at 4096 tokens


def test_mha_page_math_c20() -> None:
    # 32 layers x 32 KV heads x 128 x 2 x 2 B = 512 KiB per token; a 16-token
    # block is 8 MiB, so 20,406 blocks hold 159.42 GiB; 20,406 / 256 blocks
    # per 4096-token request = 79.71.
    kv = 20_406 * 16 * 524_288 / GIB
    resp = _page_math(llama_2_7b(), kv + 0.001, version="0.19.0", max_model_len=4096)
    assert resp.kv_cache.blocks == 20_406
    assert resp.max_concurrency == pytest.approx(79.71, abs=0.01)


# ---------------------------------------------------------------------------
# MoE: Mixtral-8x7B TP2 on H100, 0.19 (c68)


def test_moe_full_prediction_c68() -> None:
    # Log: weights 43.51 GiB per GPU (all experts: total parameters / 2),
    # KV 28.44 GiB, 465,936 tokens, 56.88x at 8192.
    resp = run_plan(request(mixtral_8x7b(), tp=2, util=0.95, max_model_len=8192))
    assert _close(resp.per_gpu.weights_gib, 43.51, 0.01)
    assert _close(resp.per_gpu.kv_cache_gib, 28.44, 0.02)
    assert _close(resp.kv_cache.tokens, 465_936, 0.02)


# ---------------------------------------------------------------------------
# MLA: DeepSeek-V2-Lite (c71, V1) and DeepSeek-R1 (c14, V0)


def test_mla_latent_replicated_c71() -> None:
    # 27 layers x (512 + 64) x 2 B = 31,104 B per token on every rank (not
    # split by TP); 43.61 GiB -> 1,505,552 tokens in the log.
    resp = _page_math(deepseek_v2_lite(), 43.61, max_model_len=8192)
    assert resp.kv_cache.bytes_per_token == 31_104
    assert _close(resp.kv_cache.tokens, 1_505_552, 0.001)
    tp2 = _page_math(deepseek_v2_lite(), 43.61, tp=2, max_model_len=8192)
    assert tp2.kv_cache.bytes_per_token == 31_104


def test_mla_full_prediction_c71() -> None:
    resp = run_plan(request(deepseek_v2_lite(), util=0.95, max_model_len=8192))
    assert _close(resp.per_gpu.kv_cache_gib, 43.61, 0.03)


def test_mla_v0_padding_c14() -> None:
    # V0 DeepSeek-R1 TP8: 21.43 GiB = 18,418 blocks of 16 tokens, i.e. 1,280 B
    # per layer per token (576 padded to 640 values) x 61 layers.
    from wizard_tui.planner import eras, kv

    arch = deepseek_v2_lite().model_copy(update={"num_layers": 61})
    era = eras.era_for("0.6.6")
    layout = kv.build_layout(arch, ("full",) * 61, 8, "auto", None, era)
    assert layout.bytes_per_block == 16 * 1280 * 61
    assert _close(layout.blocks(21.43 * GIB), 18_418, 0.001)


# ---------------------------------------------------------------------------
# Sliding window / hybrid groups


def test_sliding_groups_gpt_oss_20b_c69() -> None:
    # 12 sliding + 12 full layers -> 2 groups of 12; TP2 page = 16 x 2 x 4
    # heads x 64 x 2 B = 16,384 B; 12 x 16,384 B per block. 59.32 GiB ->
    # 323,972 blocks; tokens = blocks // 2 groups x 16 = 2,591,776;
    # concurrency = blocks / (512 full + 513 sliding blocks) = 316.07.
    resp = _page_math(gpt_oss(), 59.32, tp=2, max_model_len=8192)
    assert _close(resp.kv_cache.blocks, 323_972, 0.0005)
    assert _close(resp.kv_cache.tokens, 2_591_776, 0.0005)
    assert resp.max_concurrency == pytest.approx(316.07, abs=0.1)


def test_sliding_groups_gemma3_c74() -> None:
    # 40 sliding + 8 full -> group size 8, 6 groups; page 16 x 2 x 8 x 256 x 2
    # = 131,072 B; 8 pages = 1 MiB per block: 47.72 GiB -> 48,865 blocks
    # (log 48,867); tokens 48,867 // 6 x 16 = 130,304; 15.88x.
    resp = _page_math(gemma3_12b(), 47.72, max_model_len=8192)
    assert _close(resp.kv_cache.blocks, 48_867, 0.0005)
    assert _close(resp.kv_cache.tokens, 130_304, 0.001)
    assert resp.max_concurrency == pytest.approx(15.88, abs=0.02)


def test_sliding_full_prediction_gpt_oss_c69() -> None:
    resp = run_plan(request(gpt_oss(), tp=2, util=0.9, max_model_len=8192))
    assert _close(resp.per_gpu.kv_cache_gib, 59.32, 0.04)


# ---------------------------------------------------------------------------
# Quantized weights and FP8 KV


def test_awq_graph_era_c25() -> None:
    # vLLM 0.28 (graphs charged, default util 0.92) on L40S (44.42 GiB):
    # Qwen3-14B-AWQ loads 9.44 GiB; KV 29.63 GiB, 194,192 tokens at 40,960.
    l40s = gpu("L40S", 44.42, fp8=True, cc="8.9", link="pcie", bandwidth=864)
    resp = run_plan(request(qwen3_14b_awq(), l40s, version="0.28.0"))
    assert resp.gpu_memory_utilization == 0.92
    assert resp.per_gpu.cuda_graph_gib > 0
    assert _close(resp.per_gpu.kv_cache_gib, 29.63, 0.03)
    assert _close(resp.kv_cache.tokens, 194_192, 0.03)


def test_fp8_kv_doubles_tokens_c59_c62() -> None:
    # Same 58.53 GiB of KV: 1,096,000 tokens in bf16 (c59), 2,192,000 in fp8.
    bf16 = _page_math(qwen25_7b(), 58.53, max_model_len=8192)
    fp8 = _page_math(qwen25_7b(), 58.53, max_model_len=8192, kv_dtype="fp8")
    assert _close(bf16.kv_cache.tokens, 1_096_000, 0.001)
    assert _close(fp8.kv_cache.tokens, 2_192_000, 0.001)


def test_quantized_weights_more_kv_than_bf16() -> None:
    # Field case 13: same reserved budget, more KV for the quantized checkpoint.
    awq = run_plan(request(qwen3_14b_awq(), A100_80, max_model_len=8192))
    bf16_arch = qwen3_14b_awq().model_copy(
        update={"quant": None, "weight_bytes": 14_768_296_960 * 2}
    )
    bf16 = run_plan(request(bf16_arch, A100_80, max_model_len=8192))
    assert awq.per_gpu.usable_gib == bf16.per_gpu.usable_gib
    assert awq.kv_cache.tokens > bf16.kv_cache.tokens


def test_kv_cache_memory_bytes_honoured_exactly() -> None:
    resp = _page_math(llama_31_8b(), 8.0, max_model_len=8192)
    assert resp.per_gpu.kv_cache_gib == 8.0
    # 8 GiB / 2 MiB per block = 4,096 blocks.
    assert resp.kv_cache.blocks == 4096
    text = run_plan(
        request(
            llama_31_8b(),
            gpu("big", 2000.0),
            max_model_len=8192,
            args={"kv_cache_memory_bytes": "8G"},
        )  # fmt: skip
    )
    assert text.kv_cache.blocks == 4096


def test_h100_headline_check() -> None:
    # VLLM_MEMORY.md c.10: 51.38 GiB of KV for Llama-3.1-8B -> 6,576 blocks of
    # 8 MiB at block size 64 -> ~420.9k tokens.
    resp = _page_math(llama_31_8b(), 51.38, version="0.34", max_model_len=8192)
    assert resp.kv_cache.block_size == 64
    assert resp.kv_cache.blocks == 6576
    assert resp.kv_cache.tokens == pytest.approx(420_864, rel=0.001)


# vLLM pads MXFP4 expert weights for its MoE kernels
# (`Mxfp4MoEMethod.create_weights`, model_executor/layers/quantization/mxfp4.py):
# Marlin (A100, and Hopper without the optional triton_kernels package) rounds
# the per-rank intermediate size up to 128 and hidden to 256; FlashInfer on
# SM 10.x rounds both to 256. Elements cost 0.53125 B (4 bits + a scale per 32).
# gpt-oss-20b: 24 MoE layers x 32 experts, hidden = intermediate = 2880,
# checkpoint 13,747,850,880 B = 12.80 GiB.
@pytest.mark.parametrize(
    ("device", "tp", "extra_per_layer", "logged"),
    [
        # A100 TP1: 32 x 3 x (3072 x 2944 - 2880 x 2880) x 0.53125 = 38,228,968 B;
        # log c46 "Model loading took 13.72 GiB".
        (A100_80, 1, 32 * 3 * (3072 * 2944 - 2880 * 2880) * 0.53125, 13.72),
        # H100 TP2: I/TP 1440 -> 1536; log c69 7.01 GiB per GPU.
        (H100, 2, 32 * 3 * (3072 * 1536 - 2880 * 1440) * 0.53125, 7.01),
        # B200 (SM 10.0) TP1: 3072 x 3072; no log, the arithmetic only.
        (gpu("B200", 178.35, cc="10.0"), 1,
         32 * 3 * (3072 * 3072 - 2880 * 2880) * 0.53125, None),
    ],
)  # fmt: skip
def test_mxfp4_experts_padded_for_the_backend(device, tp, extra_per_layer, logged):
    resp = run_plan(request(gpt_oss(), device, tp=tp, max_model_len=8192))
    base = 13_747_850_880 / tp / GIB  # the checkpoint split by TP (no K/V
    expected = base + 24 * extra_per_layer / GIB  # replication: 8 KV heads)
    assert resp.per_gpu.weights_gib == pytest.approx(expected, abs=0.02)
    if logged is not None:
        assert resp.per_gpu.weights_gib == pytest.approx(logged, rel=0.01)


def test_mxfp4_padding_only_for_mxfp4_checkpoints() -> None:
    # Mixtral (bf16) on the same GPU: weights are the checkpoint split by TP.
    resp = run_plan(request(mixtral_8x7b(), A100_80, tp=2, max_model_len=8192))
    plain = mixtral_8x7b().weight_bytes / 2 / GIB
    assert resp.per_gpu.weights_gib == pytest.approx(plain, abs=0.02)


def test_moe_activation_holds_the_fused_moe_output_cache() -> None:
    # Mixtral-8x7B at TP 2, 0.19, 8,192 batched tokens: the kernel caches one
    # hidden row per routed expert per token: 8,192 x 2 x 4,096 x 2 B =
    # 0.125 GiB, x 1.25 (V1's profile factor) = 0.156 GiB on top of the dense
    # terms. The log (c68) has 1.21 GiB of activation peak.
    from wizard_tui.planner import eras, memory

    era = eras.era_for("0.19.0")
    arch = mixtral_8x7b()
    with_cache = memory.activation_bytes(arch, era, 2, 8192, 1, last_stage=False)
    dense = arch.model_copy(update={"num_experts": 0, "num_experts_per_tok": 0,
                                    "moe_intermediate_size": None})  # fmt: skip
    # Same MLP width for the dense stand-in: top-2 of 14,336 / TP 2.
    dense = dense.model_copy(update={"intermediate_size": 14336 * 2})
    without = memory.activation_bytes(dense, era, 2, 8192, 1, last_stage=False)
    assert (with_cache - without) / 2**30 == pytest.approx(0.125 * 1.25, rel=1e-6)
    assert with_cache / 2**30 == pytest.approx(1.21, rel=0.05)
