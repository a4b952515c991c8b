"""Per-GPU memory that is not KV cache: weights, activation peak, non-torch and
CUDA graphs. All results in bytes unless a name ends in ``_gib`` (2^30 bytes).

The activation and graph coefficients are fitted on the logs in
``tests/data/vllm_kv_logs.yaml`` (ids in comments) with a mechanism, not per
case: the larger of a forward pass of max_num_batched_tokens tokens through the
MLP and the residual stream, and the sampler's warm-up on [max_num_seqs x
vocab] logits on the last pipeline stage.
"""

from __future__ import annotations

from wizard_tui.planner.eras import V0, Era
from wizard_tui.schemas.facts import ModelArch

GIB = float(1 << 30)


def _param_bytes(arch: ModelArch) -> float:
    """Bytes per parameter of the body (quantized checkpoints pack tighter)."""
    if arch.total_params <= 0:
        return 2.0
    return max(0.25, arch.weight_bytes / arch.total_params)


def stage_weight_bytes(
    arch: ModelArch, layers: list[int], tp: int, mxfp4_backend: str = "marlin"
) -> list[float]:
    """Weight bytes on one rank of each pipeline stage (memoised; see
    `_stage_weight_bytes`), MXFP4 experts as padded by `mxfp4_backend`."""
    key = (
        arch.model_id, arch.weight_bytes, arch.total_params, arch.num_layers,
        arch.vocab_size, arch.hidden_size, arch.tie_word_embeddings,
        arch.vision_params, arch.num_kv_heads, arch.head_dim, arch.kv_lora_rank,
        tuple(layers), tp, mxfp4_backend,
    )  # fmt: skip
    out = _WEIGHTS.get(key)
    if out is None:
        if len(_WEIGHTS) > 512:
            _WEIGHTS.clear()
        out = _stage_weight_bytes(arch, layers, tp)
        pad = mxfp4_padding_bytes(arch, tp, mxfp4_backend)
        if pad:
            first = arch.first_k_dense
            start = 0
            padded = []
            for bytes_, n in zip(out, layers, strict=True):
                moe = max(0, min(start + n, arch.num_layers) - max(start, first))
                padded.append(bytes_ + pad * moe)
                start += n
            out = padded
        _WEIGHTS[key] = out
    return list(out)


# Bytes per MXFP4 weight element: 4 bits plus one 8-bit scale per 32 elements.
_MXFP4_BYTES = 0.5 + 1 / 32
# (intermediate-per-rank alignment, hidden alignment) of the MXFP4 MoE weights
# each backend allocates (`Mxfp4MoEMethod.create_weights`,
# vllm/model_executor/layers/quantization/mxfp4.py @ 007d5005): Marlin's
# kernel needs n % 256 and k % 128; FlashInfer's SM100 TRT-LLM kernels 256 on
# both; the Triton kernels 64 on the intermediate size only; ROCm rounds both
# to its padding alignment (128 assumed).
_MXFP4_ALIGN = {
    "marlin": (128, 256),
    "flashinfer-sm100": (256, 256),
    "triton": (64, 1),
    "rocm": (128, 128),
}


def mxfp4_backend(vendor: str, capability: tuple[int, int] | None) -> str:
    """The MXFP4 MoE backend vLLM picks by default (`get_mxfp4_backend`,
    mxfp4.py @ 007d5005): FlashInfer on Blackwell data-centre GPUs (SM 10.x),
    Triton on ROCm, Marlin on every other CUDA GPU. Hopper takes Triton only
    when the optional triton_kernels package is installed, which the vLLM
    images do not ship: the Hopper logs match Marlin's padding (c83, c84:
    13.47 / 64.38 GiB logged vs 13.66 / 65.8 padded, 12.8 / 60.7 unpadded;
    c69 TP2: 7.01 vs 7.05)."""
    if vendor == "amd":
        return "rocm"
    if capability is not None and capability[0] == 10:
        return "flashinfer-sm100"
    return "marlin"


def mxfp4_padding_bytes(arch: ModelArch, tp: int, backend: str) -> float:
    """Extra bytes per MoE layer on one rank when vLLM pads MXFP4 experts for
    its kernels: E x 3 x (H_pad x I_pad - H x I_rank) x 0.53125 B, with
    I_rank = I / TP rounded up to the backend's alignment (A100 Marlin: log
    c46 13.72 GiB vs 13.66 padded; c96 TP4: 17.22 vs 17.13). 0 for other
    formats."""
    if not (arch.quant and arch.quant.method == "mxfp4" and arch.num_experts):
        return 0.0
    a_i, a_h = _MXFP4_ALIGN.get(backend, (1, 1))
    width = arch.moe_intermediate_size or arch.intermediate_size
    i_rank = width // max(1, tp)
    i_pad = -(-i_rank // a_i) * a_i
    h_pad = -(-arch.hidden_size // a_h) * a_h
    extra = h_pad * i_pad - arch.hidden_size * i_rank
    return arch.num_experts * 3 * extra * _MXFP4_BYTES


_WEIGHTS: dict[tuple, list[float]] = {}


def _stage_weight_bytes(arch: ModelArch, layers: list[int], tp: int) -> list[float]:
    """Weight bytes on one rank of each pipeline stage.

    Layers split by `stage_layer_counts`; the embedding (vocab x hidden, 16-bit)
    sits on the first stage, the LM head on the last (a tied head is a second
    copy there when PP > 1, field case 10); the vision tower on the first stage.
    TP divides everything (vocab-parallel embedding, column/row-parallel
    linears); K/V projections are replicated when TP > H_kv.
    """
    emb = float(arch.vocab_size * arch.hidden_size * 2)
    head = 0.0 if arch.tie_word_embeddings else emb
    vision = float(arch.vision_params * 2)
    body = max(0.0, arch.weight_bytes - emb - head - vision)
    per_layer = body / max(1, arch.num_layers)
    # K/V projections: split over TP down to one KV head per rank, then each
    # rank keeps a whole head (replicated), so they stop shrinking at TP = H_kv.
    kv_proj = 0.0
    kv_share = 1.0 / tp
    if arch.kv_lora_rank is None and arch.num_kv_heads > 0:
        kv_proj = 2 * arch.hidden_size * arch.num_kv_heads * arch.head_dim
        kv_proj = min(kv_proj * _param_bytes(arch), per_layer)
        kv_share = max(1.0 / tp, 1.0 / arch.num_kv_heads)
    layer_rank = (per_layer - kv_proj) / tp + kv_proj * kv_share
    pp = len(layers)
    out = []
    for s, n in enumerate(layers):
        total = 0.0
        if s == 0:
            total += emb + vision
        if s == pp - 1:
            total += emb if (arch.tie_word_embeddings and pp > 1) else head
        out.append(total / tp + layer_rank * n)
    return out


def mlp_width(arch: ModelArch, tp: int) -> float:
    """MLP intermediate width one token activates on one rank (MoE: top-k
    experts plus shared experts)."""
    if arch.num_experts and arch.num_experts_per_tok:
        width = arch.moe_intermediate_size or arch.intermediate_size
        return width * (arch.num_experts_per_tok + arch.num_shared_experts) / tp
    return arch.intermediate_size / tp


def activation_bytes(
    arch: ModelArch,
    era: Era,
    tp: int,
    batched_tokens: int,
    max_num_seqs: int,
    last_stage: bool,
) -> float:
    """Profiled activation peak on one rank, bytes: in V1 the larger of the
    dummy forward pass and the sampler warm-up (they run one after the other,
    so their peaks do not add up); in V0 their sum (one call runs both).

    forward = N x (3 x I_rank + 3 x H) x 2 B x k: the gate/up output (2 I),
    the activated half (I) and three hidden-size buffers of the residual
    stream, 16-bit, for the N = max_num_batched_tokens dummy tokens. k = 1.0
    in V0 (logs c01/c02: Llama-3.1-8B grows 2.07 -> 2.99 GiB for 20,000 ->
    29,000 tokens, 109.8 KB per token vs 110.6 KB here), 1.25 in V1 (PP stage
    0 of c50/c51, which runs no sampler: 1.05-1.10 GiB at 8,192 tokens;
    Mixtral TP2 c68: 1.21 GiB).
    sampler (last stage) = min(S, N) x vocab x c bytes, S = max_num_seqs:
    c = 4 (one fp32 logits copy) in V0 and V1 up to 0.10 (logs c92-c96);
    38.9 in 0.11-0.16 (c80, c83, c84, c86, c87, c89 all within 38.5-39.6 B
    per element, whatever the model or TP); 15.5 from 0.17 (c47-c78: 14.6-16.0
    for Llama, Qwen, Gemma, gpt-oss, phi-4, Mistral; TP-invariant, e.g. c47
    TP1 and c48 TP2 both 1.89 GiB).
    """
    n = max(0, batched_tokens)
    fwd = n * (3 * mlp_width(arch, tp) + 3 * arch.hidden_size) * 2.0
    if arch.num_experts and arch.num_experts_per_tok:
        # The fused-MoE kernel's output cache: one hidden-size row per routed
        # expert per token (N x top_k x H x 2 B; Mixtral TP2 c68: 0.125 GiB
        # of its 1.21 GiB peak).
        fwd += n * arch.num_experts_per_tok * arch.hidden_size * 2.0
    fwd *= era.fwd_bytes_per_token_elem
    if not last_stage:
        return fwd
    if era.name == V0:
        # V0 profiles model and sampler in one execute_model call: both live.
        return fwd + max_num_seqs * arch.vocab_size * era.logits_bytes_per_elem
    seqs = min(max_num_seqs, n)
    return max(fwd, seqs * arch.vocab_size * era.logits_bytes_per_elem)


def non_torch_gib(era: Era, tp: int, pp: int, nvlink: bool = True) -> float:
    """NCCL, cuBLAS and custom all-reduce buffers per GPU, GiB: ~0.25 at TP1,
    ~2.1 at TP >= 2 over NVLink from 0.19 (logs c47/c48/c57), 0.13/0.55
    before (c80, c87, c89), 0.07 with pipeline-only parallelism (c50, c51).
    Without NVLink vLLM skips the custom all-reduce and its IPC buffers, so
    TP >= 2 costs about what TP1 does (c16 L40S TP8: 0.21; c08 RTX 3090 TP16:
    0.2)."""
    if tp >= 2:
        return era.non_torch_tp_multi if nvlink else era.non_torch_tp1
    if pp >= 2:
        return era.non_torch_pp_only
    return era.non_torch_tp1


def cuda_graph_gib(
    n_sizes: int, layers: int, enforce_eager: bool, is_moe: bool = False
) -> float:
    """CUDA-graph pool per GPU, GiB: n_sizes x (0.0063 + 0.00036 x layers),
    fitted on the 0.19 logs (c47 Llama-8B 0.91, c56 70B 1.79, c72 Gemma-2 1.09,
    c78 phi-4 1.07 with 51 capture sizes); MoE graphs hold ~1.6x more (c69,
    c71). 0 with enforce_eager."""
    if enforce_eager or n_sizes <= 0:
        return 0.0
    g = n_sizes * (0.0063 + 0.00036 * layers)
    return g * 1.6 if is_moe else g
