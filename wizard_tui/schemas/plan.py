"""The planner's input and output, shaped after CONTRACT.md's `plan --json` keys.

`PlanResponse.model_dump(mode="json")` *is* the `plan --json` document; keys are
only ever added, never renamed.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from wizard_tui.schemas.facts import GpuSpec, ModelArch
from wizard_tui.schemas.profile import Profile


class PlanRequest(BaseModel):
    """A profile plus the model and GPU facts resolved for it (no I/O left)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile: Profile
    model: ModelArch
    gpu: GpuSpec = Field(description="one GPU; vram_gb already applied when set")
    notes: tuple[str, ...] = Field(
        (), description="what resolution and loading noticed, shown with the plan"
    )


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PerGpu(_Out):
    total_gib: float = Field(description="CUDA total of one GPU, GiB")
    usable_gib: float = Field(description="the budget vLLM requests, GiB")
    weights_gib: float = Field(description="weights on one rank, worst PP stage")
    activation_gib: float = Field(description="profiled activation peak")
    non_torch_gib: float = Field(description="NCCL, cuBLAS and other non-torch")
    cuda_graph_gib: float = Field(description="graph memory charged to the budget")
    other_gib: float = Field(description="margins the version keeps, and the rest")
    kv_cache_gib: float = Field(description="KV cache memory on each GPU")
    free_gib: float = Field(
        0.0,
        description=(
            "GiB per GPU vLLM leaves unallocated: total - overhead - what it holds. "
            "Not one of the terms that add up to usable_gib; where the budget keeps "
            "a margin (0.34) that margin is in both other_gib and free_gib."
        ),
    )


class KvCache(_Out):
    tokens: int = Field(description="vLLM's 'GPU KV cache size: N tokens'")
    blocks: int = Field(description="KV blocks per GPU")
    block_size: int = Field(description="tokens per block")
    bytes_per_token: int | None = Field(
        description="KV bytes one more token costs on one GPU (full-attention layers)"
    )


class WorkloadFit(_Out):
    concurrency_fit: int = Field(description="requests of prompt+gen tokens at once")
    tokens_per_request: int = 0
    requested: int = 0


class Speed(_Out):
    """Estimates, each [low, typical, high]."""

    itl_ms: list[float]
    ttft_ms: list[float]
    decode_tok_s_per_seq: list[float]
    decode_tok_s_total: list[float]
    prefill_tok_s: list[float]
    label: str = "estimate"


class WhatIf(_Out):
    change: str
    effect: str


class PlanResponse(_Out):
    fits: bool
    vllm_starts: bool
    blockers: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    engine_version: str
    tp_size: int
    pp_size: int
    per_gpu: PerGpu
    kv_cache: KvCache
    max_concurrency: float
    max_model_len: int = Field(description="the max_model_len planned for")
    max_model_len_fit: int
    workload: WorkloadFit
    speed: Speed
    what_if: list[WhatIf] = Field(default_factory=list)
    explanations: dict[str, str] = Field(default_factory=dict)
    # Additions beyond CONTRACT.md's list (allowed: keys are only added).
    gpu_name: str = ""
    model_source: str = ""
    gpu_memory_utilization: float = 0.0
    utilization_needed: float | None = None
    kv_cache_memory_bytes_suggested: int | None = None
    max_num_seqs: int = 0
    max_num_batched_tokens: int = 0
    data_parallel_size: int = Field(
        1,
        description=(
            "engine replicas (vllm_args.data_parallel_size); GPUs in use = DP x "
            "TP x PP. per_gpu, kv_cache and max_concurrency are one replica's; "
            "workload.concurrency_fit and speed.decode_tok_s_total count all"
        ),
    )
    notes: list[str] = Field(default_factory=list)
    checkpoint_quantization: str | None = Field(
        None,
        description=(
            "the checkpoint's own quant_method (ModelArch.quant.method); null = not "
            "pre-quantized or unknown. Launch files omit --quantization when the "
            "profile's method equals it (vLLM detects it)."
        ),
    )
