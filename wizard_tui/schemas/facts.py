"""Resolved knowledge the planner takes as data: a model's architecture and a GPU.

The catalog fills these from config.json files, the HF cache, the built-in
catalogs or host detection; the planner never learns where they came from
except through the ``source`` text it repeats to the user.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LayerKind = Literal["full", "sliding", "chunked", "mamba", "linear", "none"]
"""Per-layer attention kind, as vLLM groups KV cache specs:
full attention, sliding window, chunked-local attention, Mamba (SSM) state,
linear attention (gated-delta-net and friends, which keep a state page), and
none: a layer that keeps no cache at all (Nemotron-H MLP/MoE-only layers,
Nemotron-NAS layers whose attention is a no-op)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class QuantInfo(_Frozen):
    """How the checkpoint's weights are stored (quantization_config or
    hf_quant_config.json)."""

    method: str = Field(
        description="vLLM quant_method name, e.g. awq, gptq, fp8, "
        "compressed-tensors, modelopt, modelopt_fp4, mxfp4"
    )
    bits: int | None = Field(None, description="weight bits for integer schemes")
    group_size: int | None = Field(None, description="elements per scale group")
    zero_point: bool = Field(False, description="AWQ-style zeros stored per group")
    weight_format: str | None = Field(
        None, description="fp8, nvfp4, mxfp4, int4, int8 ... where known"
    )


class ModelArch(_Frozen):
    """Architecture facts, extracted the way vLLM extracts them (VLLM_MEMORY.md
    c.8). Lengths in tokens, sizes in elements, bytes in bytes."""

    model_id: str
    source: str = Field(description="where these facts came from, for the user")
    guessed: bool = Field(False, description="architecture synthesised from params_b")
    architecture: str = ""
    model_type: str = ""
    family: str = Field("dense", description="dense, moe, mla, hybrid, ... for reports")

    num_layers: int
    hidden_size: int
    intermediate_size: int
    vocab_size: int
    num_attention_heads: int
    num_kv_heads: int
    head_dim: int = Field(description="per-head K (and V) size vLLM uses")
    v_head_dim: int | None = Field(None, description="V size when it differs")
    max_model_len: int = Field(description="derived max length (c.8)")

    # Multi-head latent attention (DeepSeek-V2/V3, Kimi K2, GLM-5 ...).
    kv_lora_rank: int | None = None
    qk_rope_head_dim: int | None = None

    # Per-layer kinds; None means all layers are full attention.
    layer_kinds: tuple[LayerKind, ...] | None = None
    sliding_window: int | None = None
    attention_chunk_size: int | None = None
    # State per sequence per Mamba/linear layer, in elements (conv + SSM).
    state_elems_per_layer: int | None = None
    state_dtype_bytes: int | None = Field(
        None, description="bytes per SSM-state element (the conv state uses 2)"
    )
    state_bytes_per_layer: int | None = Field(
        None,
        description="bytes of one sequence's state in one Mamba/linear layer: "
        "conv state in the model dtype + SSM state in its own dtype",
    )
    # Per-kind attention geometry when it differs from num_kv_heads/head_dim
    # (Gemma 4 global layers: 2 KV heads of 512; MiMo-V2 sliding layers).
    kv_heads_by_kind: dict[str, int] | None = None
    head_dim_by_kind: dict[str, int] | None = None

    # Mixture of experts.
    num_experts: int | None = None
    num_experts_per_tok: int | None = None
    moe_intermediate_size: int | None = None
    num_shared_experts: int = 0
    first_k_dense: int = 0

    tie_word_embeddings: bool = False
    checkpoint_dtype: str = Field("bfloat16", description="torch dtype of the weights")
    quant: QuantInfo | None = None

    total_params: int = Field(description="all parameters, every expert counted")
    active_params: int = Field(description="parameters used per token (MoE: top-k)")
    weight_bytes: int = Field(description="bytes of the loaded weights, all ranks")
    weight_bytes_exact: bool = Field(
        False, description="from the safetensors index/headers rather than computed"
    )
    weight_bytes_computed: int | None = Field(
        None, description="the computed figure, kept beside an exact one"
    )
    vision_params: int = 0


class GpuSpec(_Frozen):
    """One GPU model. Memory is the CUDA total in GiB (what vLLM logs)."""

    name: str
    vendor: Literal["nvidia", "amd", "other"] = "nvidia"
    cuda_total_gib: float = Field(gt=0)
    memory_source: str = Field("", description="a vLLM log, or derived (say how)")
    bandwidth_gbs: float = Field(0.0, description="memory bandwidth, GB/s (10^9)")
    bf16_tflops: float = Field(0.0, description="dense BF16 TFLOP/s")
    fp8_tflops: float | None = None
    fp4_tflops: float | None = None
    fp8: bool = False
    fp4: bool = False
    compute_capability: str | None = None
    interconnect: str = "pcie"
    interconnect_gbs: float = Field(
        0.0, description="per-GPU one-way link bandwidth, GB/s"
    )
    smi_names: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    source: str = ""
