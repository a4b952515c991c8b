"""config.json -> `ModelArch`, read the way vLLM reads it.

The rules follow vLLM 0.34 (VLLM_MEMORY.md c.8): the text sub-config of
multimodal models (`get_hf_text_config`), the head-size precedence and the KV
head aliases (`model_arch_config_convertor.py`, `CONFIG_FIELD_ALIASES`), the
derived max length (`config/model.py::_get_and_verify_max_len`), and per-layer
attention kinds the way model files build their layers (gemma2/gemma3,
gpt_oss, llama4, qwen3_next, nemotron_h, mimo_v2, kimi_linear).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from wizard_tui.catalog import weights as W
from wizard_tui.schemas.facts import ModelArch

log = logging.getLogger(__name__)

KV_HEAD_KEYS = (
    "n_head_kv",
    "num_kv_heads",
    "num_key_value_heads",
    "multi_query_group_num",
    "num_attention_groups",
)
"""vLLM's aliases for the total KV heads, first present wins."""

MAX_LEN_KEYS = (
    "max_position_embeddings",
    "n_positions",
    "max_seq_len",
    "seq_length",
    "model_max_length",
    "max_target_positions",
    "max_sequence_length",
    "max_seq_length",
    "seq_len",
)
"""Position keys; vLLM takes the smallest one present."""

ROPE_TYPES_NOT_SCALED = ("su", "longrope", "llama3", "yarn", "deepseek_yarn")
"""RoPE types whose max_position_embeddings already includes the scaling."""

DEFAULT_MAX_LEN = 2048
"""vLLM's derived length when a config has no position key."""

TEXT_CONFIG_KEYS = ("text_config", "llm_config", "language_config", "thinker_config")

_LAYER_TYPE_KINDS = {
    "full_attention": "full",
    "attention": "full",
    "global": "full",
    "deepseek_sparse_attention": "full",
    "sliding_attention": "sliding",
    "sliding_window": "sliding",
    "local": "sliding",
    "chunked_attention": "chunked",
    "linear_attention": "linear",
    "mamba": "mamba",
    "mamba2": "mamba",
    "moe": "none",
    "mlp": "none",
}


def text_config(config: dict[str, Any]) -> dict[str, Any]:
    """The language model's config: the nested text config of multimodal
    models, with top-level keys it lacks (tie_word_embeddings, dtype,
    quantization_config) filled in from the outer config."""
    for key in TEXT_CONFIG_KEYS:
        sub = config.get(key)
        if isinstance(sub, dict) and key == "thinker_config":
            sub = sub.get("text_config")
        if isinstance(sub, dict) and sub:
            merged = dict(sub)
            for outer in ("tie_word_embeddings", "torch_dtype", "dtype"):
                if outer not in merged and outer in config:
                    merged[outer] = config[outer]
            return merged
    return config


def _first(cfg: dict[str, Any], *keys: str, default: Any = None) -> Any:
    for key in keys:
        value = cfg.get(key)
        if value is not None:
            return value
    return default


def _int(cfg: dict[str, Any], *keys: str, default: int = 0) -> int:
    value = _first(cfg, *keys)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return int(value)


def _rope(cfg: dict[str, Any]) -> dict[str, Any] | None:
    rope = _first(cfg, "rope_scaling", "rope_parameters")
    if not isinstance(rope, dict):
        return None
    if not any(k in rope for k in ("rope_type", "type", "factor")):
        return None  # per-kind rope parameters (Gemma 4): no single scaling
    return rope


def derived_max_len(cfg: dict[str, Any], model_type: str = "") -> int:
    """Smallest position key, times the RoPE factor unless the RoPE type (or
    Gemma 3) already counts it; 2048 when nothing is found (vLLM
    `_get_and_verify_max_len`)."""
    found = [
        int(cfg[k])
        for k in MAX_LEN_KEYS
        if isinstance(cfg.get(k), (int, float)) and not isinstance(cfg.get(k), bool)
    ]
    length = min(found) if found else DEFAULT_MAX_LEN
    rope = _rope(cfg)
    if rope is not None and "gemma3" not in model_type:
        rope_type = str(rope.get("rope_type") or rope.get("type") or "default")
        factor = rope.get("factor")
        if rope_type not in ROPE_TYPES_NOT_SCALED and isinstance(factor, (int, float)):
            length = int(length * factor)
    return length


def head_size(cfg: dict[str, Any], heads: int, hidden: int) -> int:
    """Per-head size vLLM uses: MLA latent, head_dim, hidden_size_per_head,
    else hidden/heads (`model_arch_config_convertor.py::get_head_size`)."""
    if cfg.get("kv_lora_rank"):
        return int(cfg["kv_lora_rank"]) + _int(cfg, "qk_rope_head_dim")
    head_dim = cfg.get("head_dim")
    if isinstance(head_dim, int) and head_dim > 0:
        return head_dim
    per_head = cfg.get("hidden_size_per_head")
    if isinstance(per_head, int) and per_head > 0:
        return per_head
    return hidden // heads if heads else 0


def _ffn_mult_to_intermediate(mult: float, hidden: int) -> int:
    """Nemotron-NAS block FFN width: 2/3 * mult * hidden rounded up to 256
    (vLLM nemotron_nas.py)."""
    size = int(2 * mult * hidden / 3)
    return size + (-size) % 256


def _pattern_kinds(t: dict[str, Any], n: int, model_type: str) -> list[str] | None:
    """Per-layer attention kinds from whichever pattern key the config uses."""
    pattern = t.get("hybrid_override_pattern")
    if isinstance(pattern, str) and pattern:
        table = {"M": "mamba", "*": "full", "-": "none", "E": "none"}
        return [table.get(ch, "none") for ch in pattern[:n]]
    blocks = t.get("layers_block_type")
    if isinstance(blocks, list) and blocks and model_type == "nemotron_h":
        return [_LAYER_TYPE_KINDS.get(str(b), "none") for b in blocks[:n]]
    block_configs = t.get("block_configs")
    if isinstance(block_configs, list) and block_configs:
        kinds = []
        for block in block_configs[:n]:
            attn = block.get("attention", {}) if isinstance(block, dict) else {}
            if attn.get("no_op") or attn.get("replace_with_linear"):
                kinds.append("none")
            elif attn.get("window_length"):
                kinds.append("sliding")
            else:
                kinds.append("full")
        return kinds
    linear = t.get("linear_attn_config")
    if isinstance(linear, dict) and linear.get("full_attn_layers") is not None:
        full = {int(i) - 1 for i in linear["full_attn_layers"]}  # 1-based
        return ["full" if i in full else "linear" for i in range(n)]
    layer_types = t.get("layer_types")
    if isinstance(layer_types, list) and layer_types:
        return [_LAYER_TYPE_KINDS.get(str(x), "full") for x in layer_types[:n]]
    hybrid = t.get("hybrid_layer_pattern")
    if isinstance(hybrid, list) and hybrid:
        return ["sliding" if x else "full" for x in hybrid[:n]]
    interval = t.get("full_attention_interval")
    if isinstance(interval, int) and interval > 0:
        return ["full" if (i + 1) % interval == 0 else "linear" for i in range(n)]
    if t.get("attention_chunk_size") and model_type.startswith("llama4"):
        no_rope = t.get("no_rope_layers")
        if isinstance(no_rope, list) and len(no_rope) >= n:
            return ["chunked" if no_rope[i] else "full" for i in range(n)]
        return ["full" if (i + 1) % 4 == 0 else "chunked" for i in range(n)]
    window_pattern = t.get("sliding_window_pattern")
    if isinstance(window_pattern, int) and window_pattern > 1:
        return [
            "full" if (i + 1) % window_pattern == 0 else "sliding" for i in range(n)
        ]
    if model_type == "gemma2":
        return ["sliding" if i % 2 == 0 else "full" for i in range(n)]
    return None


def _sliding_window(t: dict[str, Any], max_len: int) -> int | None:
    if t.get("use_sliding_window") is False:
        return None
    window = _first(t, "sliding_window", "sliding_window_size")
    if isinstance(window, list):
        window = max((w for w in window if isinstance(w, int)), default=None)
    if not isinstance(window, int) or window <= 0 or window >= max_len:
        return None
    return window


def _layer_kinds(
    t: dict[str, Any], n: int, model_type: str, window: int | None
) -> tuple[str, ...]:
    kinds = _pattern_kinds(t, n, model_type)
    if kinds is None:
        # A window with no per-layer pattern applies to every layer (Mistral
        # 7B v0.1); DeepSeek-V4 keeps its window inside compressed attention.
        uses_window = window is not None and not t.get("compress_ratios")
        kinds = ["sliding" if uses_window else "full"] * n
    if window is None:
        kinds = ["full" if k == "sliding" else k for k in kinds]
    kinds += ["full"] * (n - len(kinds))
    return tuple(kinds)


def _moe_layers(t: dict[str, Any], n: int, has_experts: bool) -> list[bool]:
    if not has_experts:
        return [False] * n
    mlp_types = t.get("mlp_layer_types")
    if isinstance(mlp_types, list) and len(mlp_types) >= n:
        return [str(x) in ("sparse", "moe") for x in mlp_types[:n]]
    freq = t.get("moe_layer_freq")
    first_dense = _int(t, "first_k_dense_replace")
    if isinstance(freq, list) and len(freq) >= n:
        return [bool(x) for x in freq[:n]]
    only_dense = set(t.get("mlp_only_layers") or [])
    step = _int(t, "decoder_sparse_step", "interleave_moe_layer_step", default=1) or 1
    every = freq if isinstance(freq, int) and freq > 0 else 1
    return [
        i >= first_dense
        and i not in only_dense
        and (i + 1) % step == 0
        and i % every == 0
        for i in range(n)
    ]


def _mlp_types(
    t: dict[str, Any], n: int, model_type: str, has_experts: bool
) -> tuple[str, ...]:
    pattern = t.get("hybrid_override_pattern")
    if isinstance(pattern, str) and pattern:
        table = {"-": "dense", "E": "moe"}
        return tuple(table.get(ch, "none") for ch in pattern[:n])
    blocks = t.get("layers_block_type")
    if isinstance(blocks, list) and blocks and model_type == "nemotron_h":
        table = {"mlp": "dense", "moe": "moe"}
        return tuple(table.get(str(b), "none") for b in blocks[:n])
    block_configs = t.get("block_configs")
    if isinstance(block_configs, list) and block_configs:
        out = []
        for block in block_configs[:n]:
            ffn = block.get("ffn", {}) if isinstance(block, dict) else {}
            out.append("none" if ffn.get("no_op") else "dense")
        return tuple(out)
    if t.get("enable_moe_block") and has_experts:
        return ("dense+moe",) * n
    moe = _moe_layers(t, n, has_experts)
    return tuple("moe" if m else "dense" for m in moe)


def _state_per_layer(
    t: dict[str, Any], kinds: tuple[str, ...], dtype_bytes: int
) -> tuple[int | None, int | None, int | None]:
    """(elements, SSM dtype bytes, total bytes) of one sequence's recurrent
    state in one Mamba/linear-attention layer: conv state + SSM state
    (vLLM mamba_utils.py state shapes; conv in the model dtype, SSM in
    mamba_ssm_cache_dtype when the config names one)."""
    ssm_dtype = _first(t, "mamba_ssm_cache_dtype", "mamba_ssm_dtype")
    ssm_bytes = (
        W.DTYPE_BYTES.get(str(ssm_dtype), dtype_bytes) if ssm_dtype else dtype_bytes
    )
    if "mamba" in kinds:
        heads = _int(t, "mamba_num_heads")
        head_dim = _int(t, "mamba_head_dim")
        inner = heads * head_dim or _int(t, "expand", default=2) * _int(
            t, "hidden_size"
        )
        groups = _int(t, "n_groups", default=1)
        state = _int(t, "ssm_state_size", "state_size", default=128)
        kernel = _int(t, "conv_kernel", "mamba_d_conv", default=4)
        conv = (kernel - 1) * (inner + 2 * groups * state)
        ssm = (heads or inner) * (head_dim or 1) * state
    elif "linear" in kinds:
        linear = t.get("linear_attn_config")
        if isinstance(linear, dict):
            # Kimi delta attention: q, k, v short convs and a d x d state per head.
            heads = int(linear.get("num_heads") or _int(t, "num_attention_heads"))
            dim = int(linear.get("head_dim") or 128)
            kernel = int(linear.get("short_conv_kernel_size") or 4)
            conv = (kernel - 1) * 3 * heads * dim
            ssm = heads * dim * dim
        else:
            k_heads = _int(t, "linear_num_key_heads")
            v_heads = _int(t, "linear_num_value_heads")
            k_dim = _int(t, "linear_key_head_dim")
            v_dim = _int(t, "linear_value_head_dim")
            kernel = _int(t, "linear_conv_kernel_dim", default=4)
            conv = (kernel - 1) * (2 * k_heads * k_dim + v_heads * v_dim)
            ssm = v_heads * k_dim * v_dim
    else:
        return None, None, None
    return conv + ssm, ssm_bytes, conv * dtype_bytes + ssm * ssm_bytes


def checkpoint_dtype(config: dict[str, Any], t: dict[str, Any]) -> str:
    """The weights' torch dtype from `dtype`/`torch_dtype` (text config first);
    bfloat16 when the config names none."""
    value = _first(t, "dtype", "torch_dtype") or _first(config, "dtype", "torch_dtype")
    value = str(value or "bfloat16").removeprefix("torch.")
    return value if value in W.DTYPE_BYTES else "bfloat16"


def load_dtype(ckpt: str, override: str | None) -> str:
    """The dtype vLLM loads in: --dtype when set, else the checkpoint's, with
    fp32 checkpoints cast to bfloat16 (vLLM `auto`)."""
    table = {"half": "float16", "float": "float32"}
    if override and override != "auto":
        return table.get(override, override)
    return "bfloat16" if ckpt == "float32" else ckpt


def _family(kinds: tuple[str, ...], mla: bool, moe: bool) -> str:
    parts = []
    if any(k in ("mamba", "linear") for k in kinds):
        parts.append("hybrid")
    elif any(k in ("sliding", "chunked") for k in kinds):
        parts.append("swa")
    if mla:
        parts.append("mla")
    if moe:
        parts.append("moe")
    return "-".join(parts) or "dense"


def total_kv_heads(t: dict[str, Any], heads: int) -> int:
    """Total KV heads: the first alias present, else the attention heads
    (vLLM CONFIG_FIELD_ALIASES). Nemotron-NAS sets none and gives
    n_heads_in_group per block instead: heads / the usual group size."""
    kv_heads = _int(t, *KV_HEAD_KEYS, default=heads) or heads
    blocks = t.get("block_configs")
    if isinstance(blocks, list):
        groups = [
            (b.get("attention") or {}).get("n_heads_in_group")
            for b in blocks
            if isinstance(b, dict)
        ]
        groups = [g for g in groups if g]
        if groups:
            kv_heads = heads // max(groups, key=groups.count)
    return kv_heads


def _kind_geometry(
    t: dict[str, Any], kinds: tuple[str, ...], kv_heads: int
) -> tuple[dict[str, int], dict[str, int]]:
    """KV heads and head size of layer kinds that differ from the rest:
    Gemma 4's global layers (num_global_key_value_heads of global_head_dim)
    and MiMo-V2's sliding layers (swa_num_key_value_heads of swa_head_dim)."""
    kv_by_kind: dict[str, int] = {}
    dim_by_kind: dict[str, int] = {}
    if t.get("global_head_dim") and "full" in kinds:
        dim_by_kind["full"] = int(t["global_head_dim"])
        kv_by_kind["full"] = _int(t, "num_global_key_value_heads", default=kv_heads)
    if t.get("swa_num_key_value_heads") and "sliding" in kinds:
        kv_by_kind["sliding"] = int(t["swa_num_key_value_heads"])
        if t.get("swa_head_dim"):
            dim_by_kind["sliding"] = int(t["swa_head_dim"])
    return kv_by_kind, dim_by_kind


@dataclass(frozen=True)
class _Moe:
    num_experts: int = 0
    top_k: int = 0
    expert_intermediate: int = 0
    num_shared: int = 0
    shared_total: int = 0
    """Summed intermediate width of all shared experts."""
    shared_gate: bool = False


def _moe_facts(t: dict[str, Any], model_type: str) -> _Moe:
    """Routed and shared experts under each family's key names (DeepSeek
    n_routed_experts/n_shared_experts, Mixtral num_local_experts, Qwen
    shared_expert_intermediate_size, Nemotron-H moe_shared_expert_...,
    Step share_expert_dim, Llama 4's implicit shared expert)."""
    num_experts = _int(
        t, "n_routed_experts", "num_local_experts", "num_experts", "moe_num_experts"
    )
    top_k = _int(
        t,
        "num_experts_per_tok",
        "experts_per_token",
        "num_experts_per_token",
        "top_k_experts",
        "moe_top_k",
    )
    intermediate = _int(t, "intermediate_size", "ffn_hidden_size", "n_inner")
    expert = _int(t, "moe_intermediate_size") or intermediate
    shared = _int(t, "n_shared_experts", "num_shared_experts")
    if t.get("moe_shared_expert_intermediate_size"):
        return _Moe(
            num_experts,
            top_k,
            expert,
            max(shared, 1),
            int(t["moe_shared_expert_intermediate_size"]),
        )
    if t.get("shared_intermediate_size") or t.get("share_expert_dim"):
        size = _int(t, "shared_intermediate_size", "share_expert_dim")
        return _Moe(num_experts, top_k, expert, max(shared, 1), size * max(shared, 1))
    if t.get("shared_expert_intermediate_size"):
        size = int(t["shared_expert_intermediate_size"])
        return _Moe(num_experts, top_k, expert, 1, size, shared_gate=True)
    if shared:
        return _Moe(num_experts, top_k, expert, shared, shared * expert)
    if model_type.startswith("llama4") and num_experts:
        return _Moe(num_experts, top_k, expert, 1, intermediate)
    return _Moe(num_experts, top_k, expert)


def _nas_intermediates(t: dict[str, Any], n: int, hidden: int) -> tuple[int, ...]:
    """Per-layer FFN widths of Nemotron-NAS (DeciLM) block_configs."""
    blocks = t.get("block_configs")
    if not isinstance(blocks, list):
        return ()
    return tuple(
        _ffn_mult_to_intermediate(
            float(
                ((b.get("ffn") or {}) if isinstance(b, dict) else {}).get("ffn_mult")
                or 0
            ),
            hidden,
        )
        for b in blocks[:n]
    )


def _shape(
    t: dict[str, Any],
    config: dict[str, Any],
    *,
    n: int,
    hidden: int,
    heads: int,
    kv_heads: int,
    head_dim: int,
    v_head_dim: int | None,
    kinds: tuple[str, ...],
    mlp_types: tuple[str, ...],
    kv_by_kind: dict[str, int],
    dim_by_kind: dict[str, int],
    dense_by_layer: tuple[int, ...],
    moe: _Moe,
) -> W.Shape:
    """The geometry the parameter count needs (weights.Shape)."""
    model_type = str(t.get("model_type") or config.get("model_type") or "")
    mla = bool(t.get("kv_lora_rank"))
    act = str(_first(t, "mlp_hidden_act", "hidden_act", "hidden_activation") or "")
    linear = t.get("linear_attn_config")
    linear = linear if isinstance(linear, dict) else {}
    intermediate = _int(t, "intermediate_size", "ffn_hidden_size", "n_inner")
    indexed = bool(t.get("index_topk"))
    return W.Shape(
        num_layers=n,
        hidden=hidden,
        vocab=_int(t, "vocab_size", "padded_vocab_size"),
        heads=heads,
        # MLA counts its projections per attention head.
        kv_heads=heads if mla else kv_heads,
        head_dim=(
            _int(t, "qk_nope_head_dim") + _int(t, "qk_rope_head_dim")
            if mla
            else head_dim
        ),
        v_head_dim=v_head_dim or head_dim,
        intermediate=(
            _int(t, "dense_intermediate_size", "intermediate_size_mlp") or intermediate
        ),
        tie=bool(
            t.get("tie_word_embeddings", config.get("tie_word_embeddings", False))
        ),
        layer_kinds=kinds,
        mlp_types=mlp_types,
        gated_mlp=act != "relu2",  # Nemotron-H's squared-ReLU MLP has no gate
        attention_bias=bool(t.get("attention_bias") or model_type == "qwen2"),
        attn_output_gate=bool(t.get("attn_output_gate") or model_type == "qwen3_next"),
        kv_heads_by_kind=kv_by_kind,
        head_dim_by_kind=dim_by_kind,
        dense_intermediate_by_layer=dense_by_layer,
        kv_lora_rank=t.get("kv_lora_rank") or None,
        q_lora_rank=t.get("q_lora_rank") or None,
        qk_nope_head_dim=_int(t, "qk_nope_head_dim"),
        qk_rope_head_dim=_int(t, "qk_rope_head_dim"),
        o_lora_rank=t.get("o_lora_rank") or None,
        index_heads=_int(t, "index_n_heads", default=64 if indexed else 0),
        index_head_dim=_int(t, "index_head_dim", default=128 if indexed else 0),
        num_experts=moe.num_experts,
        top_k=moe.top_k,
        expert_intermediate=moe.expert_intermediate,
        expert_input_dim=_int(t, "moe_latent_size", "routed_expert_hidden_size"),
        shared_intermediate_total=moe.shared_total,
        shared_gate=moe.shared_gate,
        linear_k_heads=_int(t, "linear_num_key_heads")
        or int(linear.get("num_heads") or 0),
        linear_v_heads=_int(t, "linear_num_value_heads")
        or int(linear.get("num_heads") or 0),
        linear_k_dim=_int(t, "linear_key_head_dim") or int(linear.get("head_dim") or 0),
        linear_v_dim=_int(t, "linear_value_head_dim")
        or int(linear.get("head_dim") or 0),
        linear_conv_kernel=_int(t, "linear_conv_kernel_dim")
        or int(linear.get("short_conv_kernel_size") or 4),
        mamba_heads=_int(t, "mamba_num_heads"),
        mamba_head_dim=_int(t, "mamba_head_dim"),
        mamba_groups=_int(t, "n_groups", default=1),
        ssm_state=_int(t, "ssm_state_size"),
        conv_kernel=_int(t, "conv_kernel", default=4),
    )


def _layer_counts(kinds: tuple[str, ...], mlp_types: tuple[str, ...]) -> dict[str, int]:
    """How many layers hold each parameter category (for exclude lists that
    name layers one by one)."""
    moe = sum("moe" in m for m in mlp_types)
    return {
        "all": len(kinds),
        "attn": sum(k in ("full", "sliding", "chunked") for k in kinds),
        "mamba": sum(k in ("mamba", "linear") for k in kinds),
        "mlp": sum("dense" in m for m in mlp_types),
        "experts": moe,
        "shared": moe,
        "router": moe,
    }


def arch_from_config(
    config: dict[str, Any],
    *,
    model_id: str,
    source: str,
    quant_config: dict[str, Any] | None = None,
    index_total_size: int | None = None,
    dtype_override: str | None = None,
) -> ModelArch:
    """Extract a model's architecture from its config.json as vLLM does.

    ``quant_config`` is hf_quant_config.json's content when the checkpoint
    keeps its quantization there (ModelOpt); ``index_total_size`` is the
    safetensors index's ``metadata.total_size`` (bytes), which makes the weight
    figure exact. Raises ValueError when the config lacks the basic sizes."""
    t = text_config(config)
    model_type = str(t.get("model_type") or config.get("model_type") or "")
    archs = config.get("architectures") or t.get("architectures") or [""]
    architecture = str(archs[0]) if isinstance(archs, list) and archs else ""

    n = _int(t, "num_hidden_layers", "n_layer", "num_layers", "n_layers")
    if not n:  # Nemotron-H configs that give only the per-layer pattern
        pattern = _first(t, "hybrid_override_pattern", "layers_block_type") or ()
        n = len(pattern)
    hidden = _int(t, "hidden_size", "n_embd", "d_model")
    heads = _int(t, "num_attention_heads", "n_head", "num_heads")
    if not (n and hidden and heads):
        raise ValueError(
            f"{model_id}: config.json lacks num_hidden_layers, hidden_size or "
            "num_attention_heads"
        )
    vocab = _int(t, "vocab_size", "padded_vocab_size")
    kv_heads = total_kv_heads(t, heads)
    head_dim = head_size(t, heads, hidden)
    mla = bool(t.get("kv_lora_rank"))
    if mla:
        kv_heads = 1  # one latent per token, replicated on every TP rank
    v_head_dim = t.get("v_head_dim") if isinstance(t.get("v_head_dim"), int) else None
    max_len = derived_max_len(t, model_type)

    window = _sliding_window(t, max_len)
    kinds = _layer_kinds(t, n, model_type, window)
    chunk = t.get("attention_chunk_size") if "chunked" in kinds else None
    if not any(k in ("sliding",) for k in kinds):
        window = None

    kv_by_kind, dim_by_kind = _kind_geometry(t, kinds, kv_heads)

    moe = _moe_facts(t, model_type)
    mlp_types = _mlp_types(t, n, model_type, moe.num_experts > 0)
    dense_by_layer = _nas_intermediates(t, n, hidden)
    intermediate = _int(t, "intermediate_size", "ffn_hidden_size", "n_inner")
    if dense_by_layer:
        intermediate = max(dense_by_layer)
    shape = _shape(
        t,
        config,
        n=n,
        hidden=hidden,
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        v_head_dim=v_head_dim,
        kinds=kinds,
        mlp_types=mlp_types,
        kv_by_kind=kv_by_kind,
        dim_by_kind=dim_by_kind,
        dense_by_layer=dense_by_layer,
        moe=moe,
    )
    counts = W.count_params(shape)

    ckpt = checkpoint_dtype(config, t)
    loaded = load_dtype(ckpt, dtype_override)
    dtype_bytes = W.DTYPE_BYTES[loaded]
    raw_quant = (
        quant_config
        or config.get("quantization_config")
        or t.get("quantization_config")
    )
    plan = W.quant_plan(raw_quant, _layer_counts(kinds, mlp_types))
    # The vision tower stays in the model dtype under every scheme read here.
    vision = (
        W.vision_params(config.get("vision_config"), hidden) if t is not config else 0
    )
    computed = W.weight_bytes(counts, plan, dtype_bytes) + vision * dtype_bytes
    exact = False
    weight_bytes = computed
    if index_total_size:
        weight_bytes, exact = int(index_total_size), True
        if plan is None and W.DTYPE_BYTES.get(ckpt, dtype_bytes) != dtype_bytes:
            # A checkpoint stored in another width is cast while loading.
            weight_bytes = int(index_total_size * dtype_bytes / W.DTYPE_BYTES[ckpt])
            exact = False

    state_elems, state_dtype_bytes, state_bytes = _state_per_layer(
        t, kinds, dtype_bytes
    )
    return ModelArch(
        model_id=model_id,
        source=source,
        architecture=architecture,
        model_type=model_type,
        family=_family(kinds, mla, moe.num_experts > 0),
        num_layers=n,
        hidden_size=hidden,
        intermediate_size=intermediate,
        vocab_size=vocab,
        num_attention_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        v_head_dim=None if mla or v_head_dim == head_dim else v_head_dim,
        max_model_len=max_len,
        kv_lora_rank=t.get("kv_lora_rank") or None,
        qk_rope_head_dim=t.get("qk_rope_head_dim") if mla else None,
        layer_kinds=None if all(k == "full" for k in kinds) else kinds,
        sliding_window=window,
        attention_chunk_size=chunk,
        state_elems_per_layer=state_elems,
        state_dtype_bytes=state_dtype_bytes,
        state_bytes_per_layer=state_bytes,
        kv_heads_by_kind=kv_by_kind or None,
        head_dim_by_kind=dim_by_kind or None,
        num_experts=moe.num_experts or None,
        num_experts_per_tok=moe.top_k or None,
        moe_intermediate_size=moe.expert_intermediate if moe.num_experts else None,
        num_shared_experts=moe.num_shared,
        first_k_dense=_int(t, "first_k_dense_replace"),
        tie_word_embeddings=shape.tie,
        checkpoint_dtype=ckpt,
        quant=plan.info if plan else None,
        total_params=counts.total,
        active_params=counts.active,
        weight_bytes=weight_bytes,
        weight_bytes_exact=exact,
        weight_bytes_computed=computed,
        vision_params=vision,
    )
