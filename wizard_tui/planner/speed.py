"""Speed estimates: decode inter-token latency from a memory-bandwidth roofline,
prefill and time-to-first-token from FLOPs. Labelled estimates with ranges.

Decode step (ms) = max(bytes / (eta_mem x BW) + expert bytes / (eta_experts x
BW), FLOPs / (eta_c x peak)) + per-step floor + per-layer kernel floors (larger
for MoE layers) + TP all-reduce, where bytes = the weights one rank reads
besides routed experts (the LM head whole, one row of the input embedding) +
the KV cache of the batch, and expert bytes = the routed experts a batch of b
tokens touches (top-k of E per token). Prefill = 2 x active params x prompt
tokens / (eta_c x peak x TP).
Efficiencies and the floor are checked by `bench/speed_accuracy.py` against
`tests/data/vllm_speed_measurements.yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from wizard_tui.planner.memory import mxfp4_backend, mxfp4_padding_bytes
from wizard_tui.schemas.facts import GpuSpec, ModelArch

# (low-latency case, typical, slow case)
# Typical decode reaches ~77-80% of peak bandwidth on dense models (speed row
# musgrave-llama31-8b-a100-40gb-c1 claims "roughly 77%").
_ETA_MEM = (0.9, 0.8, 0.6)
_ETA_COMPUTE = (0.65, 0.5, 0.35)
_FLOOR_MS = (0.6, 1.0, 1.6)  # scheduler + sampler + launch per step
_PER_LAYER_US = (8.0, 15.0, 25.0)  # kernels per layer under CUDA graphs
# A fused-MoE decode step at small batches (router, top-k, permute, one small
# GEMM per touched expert, unpermute) costs more than its bytes at dense-GEMV
# efficiency, in two parts: a per-MoE-layer kernel floor, and the touched
# experts' weights read at a lower bandwidth efficiency than a dense matrix
# (each expert is a separate, small slice of the layer's weights, so the
# kernels spend much of their time ramping up). Fitted on the batch-1 MoE
# rows together (gpt-oss-20b on H100 / H100 PCIe / B200 over two harnesses,
# DeepSeek-V3.2 and Qwen3.5-397B on 8x B300), not per row:
# bench/speed_accuracy.py prints each.
_PER_MOE_LAYER_US = (40.0, 70.0, 110.0)
_ETA_EXPERTS = (0.6, 0.5, 0.3)
# Server-side time before the first token beyond the prefill itself (HTTP,
# tokenisation, scheduling): short-prompt TTFTs sit at 50-65 ms on every GPU
# in the speed rows (gpustack-*-c4, gpuconc-*-c1, lambda-mistral7b-h100-p10).
_TTFT_FLOOR_MS = (20.0, 35.0, 55.0)
_LINK_GBS = {
    "nvlink": 300.0,
    "infinity-fabric": 64.0,
    "infiniband": 25.0,
    "ethernet": 10.0,
    "pcie": 25.0,
}
_LINK_LATENCY_US = {
    "nvlink": 8.0,
    "infinity-fabric": 10.0,
    "infiniband": 20.0,
    "ethernet": 40.0,
    "pcie": 20.0,
}


@dataclass(frozen=True, slots=True)
class SpeedFigures:
    itl_ms: list[float]
    ttft_ms: list[float]
    decode_tok_s_per_seq: list[float]
    decode_tok_s_total: list[float]
    prefill_tok_s: list[float]


# Checkpoint formats that quantize only the routed experts: attention, router,
# embeddings and LM head stay 16-bit (gpt-oss's MXFP4: vLLM's Mxfp4Config hands
# every linear layer to UnquantizedLinearMethod and only FusedMoE to
# Mxfp4MoEMethod, `model_executor/layers/quantization/mxfp4.py`).
_EXPERTS_ONLY_QUANT = ("mxfp4", "experts_int8", "moe_wna16")


@lru_cache(maxsize=128)
def _split(
    weight_bytes: int,
    total_params: int,
    expert_params: int,
    table_params: int,
    tied: bool,
    experts_only: bool,
) -> tuple[float, float]:
    """(bytes of all routed experts, bytes a decode step reads of the rest),
    all ranks. The embedding table and LM head (one table when tied) are
    16-bit in every format vLLM loads; the other non-expert weights take the
    checkpoint's average bytes per parameter, or 2 B when only the experts are
    quantized. A step reads the LM head whole but one row of the input
    embedding (a gather): an untied embedding table is left out of the bytes
    read, a tied one is read as the head."""
    table_count = 1 if tied else 2
    tables = 2.0 * table_params * table_count
    body_params = max(0, total_params - table_params * table_count)
    body_bytes = max(0.0, weight_bytes - tables)
    per_param = body_bytes / body_params if body_params else 2.0
    rest_params = max(0, body_params - expert_params)
    rest = rest_params * (2.0 if experts_only else per_param)
    experts = min(max(0.0, body_bytes - rest), body_bytes)
    return experts, min(rest, body_bytes) + 2.0 * table_params


def _expert_split(arch: ModelArch) -> tuple[float, float]:
    """(bytes of all routed experts, bytes of everything else a decode step
    reads), all ranks; see `_split`."""
    expert_params = 0
    if arch.num_experts and arch.num_experts_per_tok:
        width = arch.moe_intermediate_size or arch.intermediate_size
        moe_layers = max(0, arch.num_layers - arch.first_k_dense)
        expert_params = moe_layers * arch.num_experts * 3 * arch.hidden_size * width
    method = arch.quant.method if arch.quant else None
    return _split(
        arch.weight_bytes,
        arch.total_params,
        expert_params,
        arch.vocab_size * arch.hidden_size,
        arch.tie_word_embeddings,
        method in _EXPERTS_ONLY_QUANT,
    )


@lru_cache(maxsize=64)
def _capability(text: str | None) -> tuple[int, int] | None:
    parts = (text or "").split(".")
    if len(parts) < 2 or not (parts[0].isdigit() and parts[1][:1].isdigit()):
        return None
    return int(parts[0]), int(parts[1][0])


def _weights_read(arch: ModelArch, batch: int) -> tuple[float, float]:
    """(bytes of the rest, bytes of routed experts) one decode step reads, all
    ranks together: the experts are the share a batch of `batch` tokens
    touches."""
    experts, rest = _expert_split(arch)
    if experts == 0.0:
        return rest, 0.0
    e = arch.num_experts or 1
    k = arch.num_experts_per_tok or 1
    touched = 1.0 - (1.0 - k / e) ** max(1, batch)  # expected share of experts
    return rest, experts * touched


def estimate_speed(
    arch: ModelArch,
    gpu: GpuSpec,
    tp: int,
    pp: int,
    interconnect: str,
    kv_bytes_per_seq: float,
    batch: int,
    prompt_tokens: int,
    gen_tokens: int,
    fp8_compute: bool,
) -> SpeedFigures:
    """[low, typical, high] estimates at `batch` sequences in flight.

    `kv_bytes_per_seq` is what one sequence at the average context (prompt +
    half the output) keeps on one rank, all layers: a decode step reads it
    for every sequence in the batch.
    """
    bw = max(gpu.bandwidth_gbs, 1.0) * 1e9
    peak = gpu.fp8_tflops if fp8_compute and gpu.fp8_tflops else gpu.bf16_tflops
    peak = max(peak or 0.0, 1.0) * 1e12
    batch = max(1, batch)
    rest, experts = _weights_read(arch, batch)
    rest /= tp * pp
    experts /= tp * pp
    if experts:
        # MXFP4 experts are read as vLLM padded them for this GPU's kernels.
        all_experts = _expert_split(arch)[0]
        moe_layers = max(0, arch.num_layers - arch.first_k_dense)
        backend = mxfp4_backend(gpu.vendor, _capability(gpu.compute_capability))
        pad = mxfp4_padding_bytes(arch, tp, backend) * moe_layers * tp
        experts *= 1.0 + pad / all_experts if all_experts else 1.0
    weights = rest + experts
    kv_read = batch * kv_bytes_per_seq
    flops = 2.0 * arch.active_params * batch / tp / pp
    link = interconnect if interconnect in _LINK_GBS else "pcie"
    layers = arch.num_layers
    moe_layers = max(0, layers - arch.first_k_dense) if arch.num_experts else 0
    moe_us = moe_layers * 1e-3
    dense_us = (layers - moe_layers) * 1e-3
    step_bytes = rest + kv_read
    pre_flops = 2.0 * arch.active_params * prompt_tokens
    pre_flops += 2.0 * layers * prompt_tokens**2 * arch.hidden_size
    comm = 0.0
    if tp > 1:
        msg = batch * arch.hidden_size * 2 * 2 * (tp - 1) / tp
        per = _LINK_LATENCY_US[link] / 1e3 + msg / (_LINK_GBS[link] * 1e9) * 1e3
        comm = 2 * layers * per
    itl, ttft = [], []
    for i in range(3):
        mem_ms = (step_bytes / _ETA_MEM[i] + experts / _ETA_EXPERTS[i]) / bw * 1e3
        cmp_ms = flops / (_ETA_COMPUTE[i] * peak) * 1e3
        step = max(mem_ms, cmp_ms) * pp + _FLOOR_MS[i] + comm
        step += dense_us * _PER_LAYER_US[i] + moe_us * _PER_MOE_LAYER_US[i]
        itl.append(step)
        pre_ms = pre_flops / (_ETA_COMPUTE[i] * peak * tp) * 1e3
        pre_ms = max(pre_ms, weights / (_ETA_MEM[i] * bw) * 1e3 * pp)
        ttft.append(pre_ms + step + _TTFT_FLOOR_MS[i])
    # Every array is [low, typical, high] in its own unit (CONTRACT.md): the
    # shortest latencies give the highest rates, so the rates run backwards.
    per_seq = [1e3 / t for t in reversed(itl)]
    return SpeedFigures(
        itl_ms=[round(t, 2) for t in itl],
        ttft_ms=[round(t, 1) for t in ttft],
        decode_tok_s_per_seq=[round(x, 1) for x in per_seq],
        decode_tok_s_total=[round(x * batch, 1) for x in per_seq],
        prefill_tok_s=[round(prompt_tokens / (t / 1e3), 0) for t in reversed(ttft)],
    )
