"""Speed estimates: decode inter-token latency from a memory-bandwidth roofline,
prefill and time-to-first-token from FLOPs. Labelled estimates with ranges.

Decode step (ms) = max(bytes read / (eta_mem x BW), FLOPs / (eta_c x peak))
+ per-step floor + TP all-reduce, where bytes = the weights one rank reads (MoE:
the shared part plus the experts a batch of b tokens touches) + the KV cache of
the batch. Prefill = 2 x active params x prompt tokens / (eta_c x peak x TP).
Efficiencies and the floor are checked by `bench/speed_accuracy.py` against
`tests/data/vllm_speed_measurements.yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass

from wizard_tui.schemas.facts import GpuSpec, ModelArch

# (low-latency case, typical, slow case)
# Typical decode reaches ~77-80% of peak bandwidth on dense models (speed row
# musgrave-llama31-8b-a100-40gb-c1 claims "roughly 77%").
_ETA_MEM = (0.9, 0.8, 0.6)
_ETA_COMPUTE = (0.65, 0.5, 0.35)
_FLOOR_MS = (0.6, 1.0, 1.6)  # scheduler + sampler + launch per step
_PER_LAYER_US = (8.0, 15.0, 25.0)  # kernels per layer under CUDA graphs
# A fused-MoE layer (router, top-k, permute, expert GEMMs) costs far more than
# its bytes at small batches: gpt-oss-20b on H100 decodes at ~4.05 ms/token
# with ~1.1 ms of weight reads over 24 layers (speed rows
# blog-fp8kv-gptoss20b-h100-c1-fit, gpustack-gptoss120b-a100-c4).
_PER_MOE_LAYER_US = (45.0, 80.0, 130.0)
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


def _expert_split(arch: ModelArch) -> tuple[float, float]:
    """(bytes of all routed experts, bytes of everything else), all ranks."""
    if not (arch.num_experts and arch.num_experts_per_tok):
        return 0.0, float(arch.weight_bytes)
    width = arch.moe_intermediate_size or arch.intermediate_size
    per_param = arch.weight_bytes / max(1, arch.total_params)
    moe_layers = max(0, arch.num_layers - arch.first_k_dense)
    experts = moe_layers * arch.num_experts * 3 * arch.hidden_size * width
    experts_bytes = min(experts * per_param, arch.weight_bytes * 0.98)
    return experts_bytes, arch.weight_bytes - experts_bytes


def _weights_read(arch: ModelArch, batch: int) -> float:
    """Weight bytes one decode step reads, all ranks together."""
    experts, rest = _expert_split(arch)
    if experts == 0.0:
        return rest
    e = arch.num_experts or 1
    k = arch.num_experts_per_tok or 1
    touched = 1.0 - (1.0 - k / e) ** max(1, batch)  # expected share of experts
    return rest + experts * touched


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
    weights = _weights_read(arch, batch) / (tp * pp)
    kv_read = batch * kv_bytes_per_seq
    flops = 2.0 * arch.active_params * batch / tp / pp
    link = interconnect if interconnect in _LINK_GBS else "pcie"
    layers = arch.num_layers
    moe_layers = max(0, layers - arch.first_k_dense) if arch.num_experts else 0
    itl, ttft = [], []
    for i in range(3):
        mem_ms = (weights + kv_read) / (_ETA_MEM[i] * bw) * 1e3
        cmp_ms = flops / (_ETA_COMPUTE[i] * peak) * 1e3
        step = max(mem_ms, cmp_ms) * pp + _FLOOR_MS[i]
        step += (layers - moe_layers) * _PER_LAYER_US[i] / 1e3
        step += moe_layers * _PER_MOE_LAYER_US[i] / 1e3
        if tp > 1:
            msg = batch * arch.hidden_size * 2 * 2 * (tp - 1) / tp
            per = _LINK_LATENCY_US[link] / 1e3 + msg / (_LINK_GBS[link] * 1e9) * 1e3
            step += 2 * layers * per
        itl.append(step)
        pre_flops = 2.0 * arch.active_params * prompt_tokens
        pre_flops += 2.0 * layers * prompt_tokens**2 * arch.hidden_size
        pre_ms = pre_flops / (_ETA_COMPUTE[i] * peak * tp) * 1e3
        pre_ms = max(pre_ms, weights / (_ETA_MEM[i] * bw) * 1e3 * pp)
        ttft.append(pre_ms + step + _TTFT_FLOOR_MS[i])
    per_seq = [1e3 / t for t in itl]
    return SpeedFigures(
        itl_ms=[round(t, 2) for t in itl],
        ttft_ms=[round(t, 1) for t in ttft],
        decode_tok_s_per_seq=[round(x, 1) for x in per_seq],
        decode_tok_s_total=[round(x * batch, 1) for x in per_seq],
        prefill_tok_s=[round(prompt_tokens / (t / 1e3), 0) for t in ttft],
    )
