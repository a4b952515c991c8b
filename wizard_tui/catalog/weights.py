"""Parameter counts and weight bytes, computed from config facts.

Parameters are counted per *category* (embeddings, lm_head, attention, dense
MLP, routed experts, shared experts, routers, Mamba/linear-attention mixers,
norms), because quantized checkpoints store each category differently: AWQ,
GPTQ, FP8, NVFP4 and MXFP4 quantize the big linear layers and leave the
embeddings, lm_head, norms and routers in the model dtype.

Bytes per weight element of each storage format (scales counted per group):

- 16-bit: 2; fp32: 4.
- int4 group g (AWQ/GPTQ/compressed-tensors W4A16): 0.5 + 2/g (fp16 scale)
  + 0.5/g when zeros are stored (AWQ zero_point, GPTQ qzeros).
- int8 per channel (W8A8): 1 (+ one fp32 scale per output row, negligible).
- fp8 per tensor: 1; fp8 with [128, 128] blocks: 1 + 4/(128*128) (fp32 scale
  per block, DeepSeek-V3 style).
- NVFP4: 0.5 + 1/16 (one fp8 e4m3 scale per 16 elements, NVIDIA ModelOpt).
- MXFP4: 0.5 + 1/32 (one E8M0 scale per 32 elements, OCP MX spec); MXFP8:
  1 + 1/32.

Parameter counts are the text model's; a vision tower is sized apart
(`vision_params`) and added to the weight bytes in the model dtype.
Multi-token-prediction (MTP) layers are left out: vLLM does not load them for
plain serving. Exact figures from a checkpoint's safetensors index include
whatever the checkpoint ships.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard_tui.schemas.facts import QuantInfo

CATEGORIES = (
    "embed",
    "lm_head",
    "attn",
    "mlp",
    "experts",
    "shared",
    "router",
    "mamba",
    "norm",
)
"""Parameter categories. Linear layers that quantization may touch: attn, mlp,
experts, shared, mamba. Always in the model dtype: embed, lm_head (unless a
scheme says otherwise), router, norm (which also holds biases and conv1d)."""

_QUANTIZABLE = ("attn", "mlp", "experts", "shared", "mamba")

DTYPE_BYTES = {
    "float32": 4,
    "float": 4,
    "bfloat16": 2,
    "float16": 2,
    "half": 2,
    "float8_e4m3fn": 1,
    "float8": 1,
    "fp8": 1,
}


@dataclass
class ParamCounts:
    """Parameters per category, every expert counted, plus the active count."""

    by_category: dict[str, int] = field(default_factory=dict)
    active: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_category.values())

    def add(self, category: str, count: int | float) -> None:
        self.by_category[category] = self.by_category.get(category, 0) + int(count)


@dataclass(frozen=True)
class QuantPlan:
    """Bytes per weight element for each category a scheme quantizes.

    ``fractions`` holds, per category, the share of its parameters the scheme
    leaves in the model dtype (from exclude/ignore lists that name only some
    layers)."""

    info: QuantInfo
    bytes_per_elem: dict[str, float]
    excluded_fraction: dict[str, float] = field(default_factory=dict)


# --- storage formats ----------------------------------------------------------


def int_bytes(bits: int, group_size: int | None, zeros: bool) -> float:
    """Bytes per element of integer weights with an fp16 scale per group."""
    per = bits / 8
    if group_size and group_size > 0:
        per += 2 / group_size
        if zeros:
            per += (bits / 8) / group_size
    return per


FP8_BLOCK_BYTES = 1 + 4 / (128 * 128)
NVFP4_BYTES = 0.5 + 1 / 16
MXFP4_BYTES = 0.5 + 1 / 32
MXFP8_BYTES = 1 + 1 / 32


def _fp8_bytes(block: Any) -> float:
    if isinstance(block, (list, tuple)) and len(block) == 2 and all(block):
        return 1 + 4 / (int(block[0]) * int(block[1]))
    return 1.0


# --- module names -> categories -----------------------------------------------

_LAYER_INDEX = re.compile(r"layers\.(\d+)")


def category_of(name: str) -> str | None:
    """Map a module name or pattern from an exclude/ignore list to a category.

    Returns None for names this planner does not count (vision tower, MTP
    layers) or that name a whole layer without saying which part."""
    n = name.lower().removeprefix("re:")
    if any(k in n for k in ("vision", "mm_projector", "multi_modal", "patch_merge")):
        return None
    if n.startswith("mtp") or ".mtp" in n or "indexer" in n:
        return None  # MTP layers are not loaded; indexers are tiny
    if "lm_head" in n or n == "head":
        return "lm_head"
    if "embed" in n:
        return "embed"
    if "shared_expert" in n and not n.endswith("shared_expert_gate"):
        return "shared"
    if "experts" in n:
        return "experts"
    if re.search(r"(mlp|mixer|block_sparse_moe|ffn)\.gate($|[^_])", n) or any(
        k in n for k in ("router", "e_score_correction", "shared_expert_gate")
    ):
        return "router"
    if "norm" in n:
        return "norm"
    if any(
        k in n for k in ("linear_attn", "mixer.in_proj", "mixer.out_proj", "conv1d")
    ):
        return "mamba"
    if any(
        k in n
        for k in (
            "self_attn",
            ".attn",
            "attention",
            "q_proj",
            "k_proj",
            "v_proj",
            "o_proj",
            "kv_a_proj",
            "kv_b_proj",
            "q_a_proj",
            "q_b_proj",
        )
    ):
        return "attn"
    if any(k in n for k in ("mlp", "ffn", "gate_proj", "up_proj", "down_proj")):
        return "mlp"
    return None


LayerCounts = int | Mapping[str, int]
"""Layers in the model, or per category how many layers have one (plus
"all"): attention exists in 6 of Nemotron-3-Nano's 52 layers, so excluding it
in 6 layers excludes all of it."""


def _layers_with(cat: str, counts: LayerCounts) -> int:
    if isinstance(counts, int):
        return counts
    return counts.get(cat) or counts.get("all") or 1


def excluded_fractions(names: Iterable[str], counts: LayerCounts) -> dict[str, float]:
    """Share of each category an exclude list leaves unquantized.

    A name without a layer index (or with a wildcard before it) excludes the
    category in every layer; names with indices exclude that many of the layers
    that have the category. Indices past the last layer (MTP layers) are
    ignored."""
    total = _layers_with("all", counts)
    everywhere: set[str] = set()
    layers: dict[str, set[int]] = {}
    for name in names:
        if not isinstance(name, str):
            continue
        cat = category_of(name)
        if cat is None:
            continue
        match = _LAYER_INDEX.search(name)
        if match is None or "*" in name.split(match.group(0))[0]:
            everywhere.add(cat)
        elif int(match.group(1)) < total:
            layers.setdefault(cat, set()).add(int(match.group(1)))
    out = {cat: 1.0 for cat in everywhere}
    for cat, idx in layers.items():
        if cat not in out:
            out[cat] = min(1.0, len(idx) / max(1, _layers_with(cat, counts)))
    return out


# --- quantization configs -> plans ---------------------------------------------


def _all_linear(value: float) -> dict[str, float]:
    return {cat: value for cat in _QUANTIZABLE}


def _modelopt_algo_bytes(algo: str, group: int | None) -> tuple[float, str] | None:
    a = algo.upper()
    if "NVFP4" in a:
        return NVFP4_BYTES, "nvfp4"
    if "MXFP4" in a:
        return MXFP4_BYTES, "mxfp4"
    if "MXFP8" in a:
        return MXFP8_BYTES, "mxfp8"
    if "FP8" in a:
        return 1.0, "fp8"
    if "W4A" in a or "INT4" in a:
        return int_bytes(4, group or 128, False), "int4"
    if "INT8" in a or "W8A8" in a:
        return 1.0, "int8"
    return None


def _modelopt_plan(q: dict[str, Any], num_layers: LayerCounts) -> QuantPlan:
    algo = str(q.get("quant_algo") or "")
    group = q.get("group_size")
    excluded = q.get("exclude_modules") or q.get("ignore") or []
    if algo.upper() == "MIXED_PRECISION" and isinstance(
        q.get("quantized_layers"), dict
    ):
        per_cat: dict[str, tuple[float, str]] = {}
        counts: dict[str, dict[str, int]] = {}
        for name, spec in q["quantized_layers"].items():
            cat = category_of(name)
            if cat is None or not isinstance(spec, dict):
                continue
            got = _modelopt_algo_bytes(
                str(spec.get("quant_algo", "")), spec.get("group_size")
            )
            if got is None:
                continue
            counts.setdefault(cat, {})
            counts[cat][got[1]] = counts[cat].get(got[1], 0) + 1
            per_cat.setdefault(f"{cat}:{got[1]}", got)
        bytes_per: dict[str, float] = {}
        for cat, by_fmt in counts.items():
            fmt = max(by_fmt, key=lambda f: by_fmt[f])
            bytes_per[cat] = per_cat[f"{cat}:{fmt}"][0]
        formats = sorted({fmt for by_fmt in counts.values() for fmt in by_fmt})
        info = QuantInfo(
            method="modelopt",
            weight_format="mixed:" + "+".join(formats),
            group_size=group,
        )
        return QuantPlan(info, bytes_per, excluded_fractions(excluded, num_layers))
    if algo.upper() == "MIXED_PRECISION":
        # DeepSeek-V4 NVFP4 style: experts in moe_quant_algo, the rest in fp8.
        moe = _modelopt_algo_bytes(str(q.get("moe_quant_algo") or "NVFP4"), group)
        bytes_per = _all_linear(FP8_BLOCK_BYTES)
        if moe:
            bytes_per["experts"] = moe[0]
        info = QuantInfo(method="modelopt", weight_format="mixed", group_size=group)
        return QuantPlan(info, bytes_per, excluded_fractions(excluded, num_layers))
    got = _modelopt_algo_bytes(algo, group) or (1.0, "fp8")
    method = "modelopt_fp4" if got[1] == "nvfp4" else "modelopt"
    info = QuantInfo(
        method=method,
        bits=4 if got[1] == "nvfp4" else 8,
        group_size=16 if got[1] == "nvfp4" else None,
        weight_format=got[1],
    )
    return QuantPlan(
        info, _all_linear(got[0]), excluded_fractions(excluded, num_layers)
    )


def _compressed_tensors_plan(q: dict[str, Any], num_layers: LayerCounts) -> QuantPlan:
    top_format = str(q.get("format") or "")
    groups = q.get("config_groups") or {}
    bytes_per: dict[str, float] = {}
    info: QuantInfo | None = None
    for group in groups.values():
        if not isinstance(group, dict):
            continue
        w = group.get("weights") or {}
        bits = int(w.get("num_bits") or 8)
        kind = str(w.get("type") or "int")
        gsize = w.get("group_size")
        strategy = str(w.get("strategy") or "")
        fmt = str(group.get("format") or top_format)
        if "nvfp4" in fmt or (kind == "float" and bits == 4 and gsize == 16):
            value, name = NVFP4_BYTES, "nvfp4"
        elif "mxfp4" in fmt or (kind == "float" and bits == 4):
            value, name = MXFP4_BYTES, "mxfp4"
        elif kind == "float":
            block = w.get("block_structure")
            value = _fp8_bytes(block) if strategy == "block" else 1.0
            name = "fp8"
        else:
            zeros = w.get("symmetric") is False
            g = gsize if strategy == "group" else None
            value, name = int_bytes(bits, g, zeros), f"int{bits}"
        targets = group.get("targets") or ["Linear"]
        cats = set()
        for target in targets:
            if target == "Linear":
                cats.update(_QUANTIZABLE)
            else:
                cat = category_of(str(target))
                if cat:
                    cats.add(cat)
        for cat in cats:
            bytes_per.setdefault(cat, value)
        if info is None:
            info = QuantInfo(
                method="compressed-tensors",
                bits=bits,
                group_size=gsize if isinstance(gsize, int) else None,
                zero_point=w.get("symmetric") is False,
                weight_format=name,
            )
    ignore = q.get("ignore") or []
    return QuantPlan(
        info or QuantInfo(method="compressed-tensors"),
        bytes_per,
        excluded_fractions(ignore, num_layers),
    )


def quant_plan(
    quant: dict[str, Any] | None, num_layers: LayerCounts
) -> QuantPlan | None:
    """Read a ``quantization_config`` (or hf_quant_config.json's contents) into
    bytes per element per category. None for an unquantized checkpoint."""
    if not quant:
        return None
    if "quantization" in quant and isinstance(quant["quantization"], dict):
        quant = quant["quantization"]  # hf_quant_config.json shape
    method = str(quant.get("quant_method") or "").lower()
    producer = quant.get("producer") or {}
    is_modelopt = (
        method in ("modelopt", "modelopt_fp4")
        or (isinstance(producer, dict) and producer.get("name") == "modelopt")
        or (not method and "quant_algo" in quant)
        or str(quant.get("quant_algo", "")).upper() == "MIXED_PRECISION"
    )
    if is_modelopt:
        return _modelopt_plan(quant, num_layers)
    not_converted = quant.get("modules_to_not_convert") or []
    if method == "compressed-tensors":
        return _compressed_tensors_plan(quant, num_layers)
    if method in (
        "awq",
        "awq_marlin",
        "gptq",
        "gptq_marlin",
        "auto-round",
        "moe_wna16",
    ):
        bits = int(quant.get("bits") or quant.get("w_bit") or 4)
        group = quant.get("group_size") or quant.get("q_group_size") or 128
        is_awq = method.startswith("awq")
        # GPTQ stores qzeros whether or not the scheme is symmetric. Its g_idx
        # (4 B per input row, about 0.1% here) is left out.
        zeros = bool(quant.get("zero_point", True)) if is_awq else True
        info = QuantInfo(
            method=method,
            bits=bits,
            group_size=group,
            zero_point=zeros if is_awq else not quant.get("sym", True),
            weight_format=f"int{bits}",
        )
        value = int_bytes(bits, group, zeros)
        return QuantPlan(
            info, _all_linear(value), excluded_fractions(not_converted, num_layers)
        )
    if method in ("fp8", "fbgemm_fp8"):
        block = quant.get("weight_block_size")
        info = QuantInfo(
            method=method,
            bits=8,
            group_size=int(block[0]) if block else None,
            weight_format="fp8",
        )
        return QuantPlan(
            info,
            _all_linear(_fp8_bytes(block)),
            excluded_fractions(not_converted, num_layers),
        )
    if method == "mxfp4":
        info = QuantInfo(method="mxfp4", bits=4, group_size=32, weight_format="mxfp4")
        # gpt-oss: only the MoE experts are MXFP4 (modules_to_not_convert lists
        # attention, router, embeddings and lm_head).
        return QuantPlan(info, {"experts": MXFP4_BYTES}, {})
    if method == "bitsandbytes":
        bits = 4 if quant.get("load_in_4bit") else 8
        info = QuantInfo(method=method, bits=bits, weight_format=f"int{bits}")
        value = int_bytes(bits, 64, False) if bits == 4 else 1.0
        return QuantPlan(info, _all_linear(value), {})
    info = QuantInfo(method=method or "unknown", bits=quant.get("bits"))
    return QuantPlan(info, {}, {})


def weight_bytes(counts: ParamCounts, plan: QuantPlan | None, dtype_bytes: int) -> int:
    """Bytes of all weights: each category at its storage format, the parts a
    scheme leaves out (and norms, biases, routers) at ``dtype_bytes``."""
    total = 0.0
    for cat, n in counts.by_category.items():
        per = plan.bytes_per_elem.get(cat) if plan else None
        if per is None:
            total += n * dtype_bytes
            continue
        kept = plan.excluded_fraction.get(cat, 0.0)
        total += n * (kept * dtype_bytes + (1 - kept) * per)
    return int(round(total))


# --- exact sizes from a checkpoint folder ----------------------------------------


def exact_weight_bytes(folder: Path) -> int | None:
    """Bytes of the checkpoint's tensors: ``metadata.total_size`` of
    model.safetensors.index.json, else the sum over the safetensors headers of
    the folder's model*.safetensors files. None when neither is there."""
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        try:
            data = json.loads(index.read_text(encoding="utf-8"))
            size = data.get("metadata", {}).get("total_size")
            if isinstance(size, (int, float)) and size > 0:
                return int(size)
        except (OSError, ValueError):
            return None
    total = 0
    for shard in sorted(folder.glob("model*.safetensors")):
        size = safetensors_tensor_bytes(shard)
        if size is None:
            return None
        total += size
    return total or None


def safetensors_tensor_bytes(path: Path) -> int | None:
    """Sum of tensor byte ranges in one safetensors file, from its header only
    (8-byte little-endian header length, then a JSON map of tensors with
    ``data_offsets``; safetensors format spec)."""
    try:
        with path.open("rb") as fh:
            (length,) = struct.unpack("<Q", fh.read(8))
            if length <= 0 or length > 100_000_000:
                return None
            header = json.loads(fh.read(length))
    except (OSError, ValueError, struct.error):
        return None
    total = 0
    for name, spec in header.items():
        if name == "__metadata__" or not isinstance(spec, dict):
            continue
        start, end = spec.get("data_offsets", (0, 0))
        total += int(end) - int(start)
    return total or None


# --- parameter counts ------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """The geometry `count_params` needs, already resolved from the config by
    `wizard_tui.catalog.models` (aliases, nesting and per-layer patterns)."""

    num_layers: int
    hidden: int
    vocab: int
    heads: int
    kv_heads: int
    head_dim: int
    v_head_dim: int
    intermediate: int
    tie: bool
    layer_kinds: tuple[str, ...]
    mlp_types: tuple[str, ...]
    """Per layer: "dense", "moe", "dense+moe" or "none"."""
    gated_mlp: bool = True
    attention_bias: bool = False
    attn_output_gate: bool = False
    kv_heads_by_kind: dict[str, int] = field(default_factory=dict)
    head_dim_by_kind: dict[str, int] = field(default_factory=dict)
    dense_intermediate_by_layer: tuple[int, ...] = ()
    # MLA and DeepSeek-V4 style low-rank attention.
    kv_lora_rank: int | None = None
    q_lora_rank: int | None = None
    qk_nope_head_dim: int = 0
    qk_rope_head_dim: int = 0
    o_lora_rank: int | None = None
    index_heads: int = 0
    index_head_dim: int = 0
    # Mixture of experts.
    num_experts: int = 0
    top_k: int = 0
    expert_intermediate: int = 0
    expert_input_dim: int = 0
    shared_intermediate_total: int = 0
    shared_gate: bool = False
    # Gated delta net (Qwen3-Next/3.5) or Kimi delta attention.
    linear_k_heads: int = 0
    linear_v_heads: int = 0
    linear_k_dim: int = 0
    linear_v_dim: int = 0
    linear_conv_kernel: int = 4
    # Mamba2.
    mamba_heads: int = 0
    mamba_head_dim: int = 0
    mamba_groups: int = 1
    ssm_state: int = 0
    conv_kernel: int = 4


def _attention_params(s: Shape, kind: str) -> int:
    h = s.hidden
    if s.kv_lora_rank:
        qk = s.qk_nope_head_dim + s.qk_rope_head_dim
        if s.q_lora_rank:
            q = h * s.q_lora_rank + s.q_lora_rank + s.q_lora_rank * s.heads * qk
        else:
            q = h * s.heads * qk
        kv_a = h * (s.kv_lora_rank + s.qk_rope_head_dim) + s.kv_lora_rank
        kv_b = s.kv_lora_rank * s.heads * (s.qk_nope_head_dim + s.v_head_dim)
        o = s.heads * s.v_head_dim * h
        index = 0
        if s.index_heads and s.index_head_dim:
            q_in = s.q_lora_rank or h
            index = q_in * s.index_heads * s.index_head_dim
            index += h * s.index_head_dim + h * s.index_heads
        return q + kv_a + kv_b + o + index
    kv_heads = s.kv_heads_by_kind.get(kind, s.kv_heads)
    d = s.head_dim_by_kind.get(kind, s.head_dim)
    v_d = s.v_head_dim if kind not in s.head_dim_by_kind else d
    if s.q_lora_rank and s.o_lora_rank:
        # DeepSeek-V4: low-rank query and grouped low-rank output.
        q = h * s.q_lora_rank + s.q_lora_rank * s.heads * d
        kv = h * kv_heads * d
        o = s.heads * d * s.o_lora_rank + s.o_lora_rank * h
        return q + kv + o
    q = h * s.heads * d * (2 if s.attn_output_gate else 1)
    kv = h * kv_heads * (d + v_d)
    o = s.heads * v_d * h
    bias = (s.heads * d + kv_heads * (d + v_d)) if s.attention_bias else 0
    return q + kv + o + bias


def _linear_attention_params(s: Shape) -> int:
    h = s.hidden
    key_dim = s.linear_k_heads * s.linear_k_dim
    value_dim = s.linear_v_heads * s.linear_v_dim
    # Gated delta net (vLLM qwen3_next.py): in_proj_qkvz, in_proj_ba, conv1d,
    # dt_bias, A_log, a gated RMSNorm and out_proj.
    in_proj = h * (2 * key_dim + 2 * value_dim) + h * 2 * s.linear_v_heads
    conv = (2 * key_dim + value_dim) * s.linear_conv_kernel
    return in_proj + conv + 2 * s.linear_v_heads + s.linear_v_dim + value_dim * h


def _mamba_params(s: Shape) -> int:
    h = s.hidden
    inner = s.mamba_heads * s.mamba_head_dim
    conv_dim = inner + 2 * s.mamba_groups * s.ssm_state
    # Mamba2 mixer (vLLM mamba_mixer2.py): in_proj to [z, x, B, C, dt], conv1d
    # with bias, A, D, dt_bias, gated norm, out_proj.
    in_proj = h * (2 * inner + 2 * s.mamba_groups * s.ssm_state + s.mamba_heads)
    return (
        in_proj + conv_dim * (s.conv_kernel + 1) + 3 * s.mamba_heads + inner + inner * h
    )


def count_params(s: Shape) -> ParamCounts:
    """Parameters per category for the text model, all experts counted.

    ``active`` is what one token reads: everything except the routed experts
    it is not sent to (top-k of num_experts per MoE layer) and the input
    embedding table, of which a token reads one row (tied embeddings still
    count once, as the lm_head). This is how gpt-oss's model card counts
    (3.6B active for gpt-oss-20b) and what bandwidth-bound decoding reads."""
    c = ParamCounts()
    h = s.hidden
    c.add("embed", s.vocab * h)
    if not s.tie:
        c.add("lm_head", s.vocab * h)
    c.add("norm", h)
    mats = 3 if s.gated_mlp else 2
    idle_experts = 0
    for i in range(s.num_layers):
        kind = s.layer_kinds[i] if i < len(s.layer_kinds) else "full"
        if kind in ("full", "sliding", "chunked"):
            c.add("attn", _attention_params(s, kind))
            c.add("norm", 2 * h)
        elif kind == "linear":
            c.add("mamba", _linear_attention_params(s))
            c.add("norm", 2 * h)
        elif kind == "mamba":
            c.add("mamba", _mamba_params(s))
            c.add("norm", h)
        mlp = s.mlp_types[i] if i < len(s.mlp_types) else "dense"
        if "dense" in mlp:
            inter = (
                s.dense_intermediate_by_layer[i]
                if i < len(s.dense_intermediate_by_layer)
                else s.intermediate
            )
            c.add("mlp", mats * h * inter)
            if kind == "none":
                c.add("norm", h)
        if "moe" in mlp and s.num_experts:
            dim = s.expert_input_dim or h
            per_expert = mats * dim * s.expert_intermediate
            c.add("experts", s.num_experts * per_expert)
            if dim != h:
                c.add("experts", 2 * h * dim)  # latent down/up projections
            c.add("router", h * s.num_experts)
            if s.shared_intermediate_total:
                c.add("shared", mats * h * s.shared_intermediate_total)
                if s.shared_gate:
                    c.add("router", h)
            idle_experts += max(0, s.num_experts - s.top_k) * per_expert
            if kind == "none":
                c.add("norm", h)
    lookup_only = 0 if s.tie else s.vocab * h
    c.active = c.total - idle_experts - lookup_only
    return c


def vision_params(vision: dict[str, Any] | None, text_hidden: int) -> int:
    """Parameters of a ViT-style vision tower and its projector, from
    ``vision_config`` (SigLIP/CLIP layers as in Gemma 3/4, Qwen3-VL's encoder
    and patch mergers). 0 when the config has no such section.

    Per layer: attention 4 h^2 and a non-gated MLP 2 h i, plus biases and two
    LayerNorms. Projector: Qwen-style mergers take h x merge^2 features through
    two linear layers to ``out_hidden_size`` (one per deepstack level too);
    others project h to the text hidden size."""
    if not isinstance(vision, dict):
        return 0
    layers = int(vision.get("depth") or vision.get("num_hidden_layers") or 0)
    h = int(vision.get("hidden_size") or 0)
    if not (layers and h):
        return 0
    inter = int(vision.get("intermediate_size") or 4 * h)
    per_layer = 4 * h * h + 2 * h * inter + 4 * h + inter + h + 4 * h
    patch = int(vision.get("patch_size") or 14)
    temporal = int(vision.get("temporal_patch_size") or 1)
    channels = int(vision.get("in_channels") or vision.get("num_channels") or 3)
    embed = channels * patch * patch * temporal * h + h
    out = vision.get("out_hidden_size")
    if out:
        merged = h * int(vision.get("spatial_merge_size") or 2) ** 2
        merger = merged * merged + merged * int(out)
        projector = merger * (1 + len(vision.get("deepstack_visual_indexes") or ()))
    else:
        projector = h * text_hidden
    return layers * per_layer + embed + projector
