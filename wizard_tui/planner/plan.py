"""From a `PlanRequest` to a `PlanResponse`: budget, KV pages, verdict, advice.

`evaluate` computes one configuration (fixed TP and knobs) with plain
dataclasses so that auto TP, the what-if list and max_model_len searches can
re-run it cheaply; `run_plan` turns the chosen one into the pydantic response.

Memoisation (the TUI re-plans on every keystroke): a `Context` per model, GPU
and version object (identity-keyed, `Context.shared`) keeps the non-KV terms of
every stage shape, every configuration evaluated (by its `Knobs`) and the speed
estimates by their inputs. Nothing memoised is ever modified; a property test
checks that memoised plans equal fresh ones.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple, TypeVar

from pydantic import BaseModel

from wizard_tui.planner import eras as E
from wizard_tui.planner import kv as K
from wizard_tui.planner import memory as MEM
from wizard_tui.planner.speed import estimate_speed
from wizard_tui.schemas.facts import GpuSpec, ModelArch
from wizard_tui.schemas.plan import (
    KvCache,
    PerGpu,
    PlanRequest,
    PlanResponse,
    Speed,
    WhatIf,
    WorkloadFit,
)
from wizard_tui.schemas.profile import (
    NEWEST_VLLM_VERSION,
    data_parallel_size,
    pipeline_size,
)

log = logging.getLogger(__name__)

GIB = float(1 << 30)
MIB = float(1 << 20)
_FP8_KV = ("fp8", "fp8_e4m3", "fp8_e5m2", "fp8_inc", "fp8_per_token_head")
_ONLINE_QUANT = ("fp8", "bitsandbytes", "experts_int8", "torchao", "fbgemm_fp8")
_QUANT_ALIASES = {
    "awq_marlin": "awq",
    "auto_awq": "awq",
    "gptq_marlin": "gptq",
    "gptq_marlin_24": "gptq",
    "fbgemm_fp8": "fp8",
}
_REMOVED_IN_034 = ("bitsandbytes", "gguf")
# What vLLM's own process holds before its free-memory check (CUDA context):
# an idle H100 showed "Free memory on device (78.57/79.19 GiB)" (log c83, 0.11;
# 0.51 GiB in the 0.19 logs c47/c53/c59).
CUDA_CONTEXT_GIB = 0.62
# With more than one GPU on NVLink, NCCL and the custom all-reduce buffers are
# set up before that check too: 1.43-1.55 GiB free memory gone at TP 2/4 or
# PP 2/4 (c48, c50, c51, c57), 2.01 GiB for MoE models at TP 2 (c68 Mixtral,
# c69 gpt-oss); a PCIe-only card keeps the single-GPU figure (0.49 GiB on
# L40S at TP 8, c16).
NVLINK_GROUP_GIB = 0.9
MOE_TP_GROUP_GIB = 0.5


def startup_baseline_gib(gpu: GpuSpec, tp: int, pp: int, moe: bool) -> float:
    """GiB per GPU vLLM itself holds when it checks free memory at start-up."""
    held = CUDA_CONTEXT_GIB
    if tp * pp > 1 and gpu.interconnect != "pcie":
        held += NVLINK_GROUP_GIB + (MOE_TP_GROUP_GIB if moe and tp > 1 else 0.0)
    return held


def parse_size(value: object) -> int | None:
    """An int, or vLLM's human-readable size ('8k', '1G', '25.6k'): lowercase
    suffixes are decimal (k = 1,000), uppercase binary (K = 1,024)
    (`engine/arg_utils.py::human_readable_int`). None when unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, str):
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgtKMGT]?)\s*", value)
    if not m:
        return None
    number, suffix = float(m.group(1)), m.group(2)
    power = " kmgt".index(suffix.lower()) if suffix else 0
    base = 1024 if suffix.isupper() else 1000
    return int(number * base**power)


class Knobs(NamedTuple):
    """Engine settings after defaults, for one evaluation (a NamedTuple: the
    what-ifs and searches copy it with one field changed, `_replace`)."""

    tp: int
    pp: int
    util: float
    util_set: bool
    overhead_gib: float
    max_model_len: int
    kv_dtype: str
    max_num_seqs: int
    batched_tokens: int
    chunked: bool
    enforce_eager: bool
    block_size: int | None
    kv_cache_memory_bytes: int | None
    hybrid_manager: bool
    total_gib: float


@dataclass(slots=True)
class Outcome:
    """One configuration evaluated: the bottleneck stage's figures, in GiB."""

    knobs: Knobs
    total: float
    usable: float
    weights: float
    activation: float
    non_torch: float
    graphs: float  # graph pool estimate, charged or not
    graphs_charged: bool
    other: float
    kv: float
    free: float
    layout: K.KvLayout
    blocks: int
    tokens: int
    concurrency: float
    request_gib: float
    check_gib: float  # KV memory the fit check compares with
    blockers: list[str] = field(default_factory=list)
    # (weights GiB, KV GiB, blocks) of every pipeline stage, in order.
    stages: list[tuple[float, float, int]] = field(default_factory=list)

    @property
    def starts(self) -> bool:
        return not self.blockers


@dataclass(frozen=True, slots=True)
class Context:
    arch: ModelArch
    gpu: GpuSpec
    era: E.Era
    kinds: tuple[str, ...]  # the kind of every layer
    interconnect: str = "pcie"
    gpus_per_node: int = 0  # 0 = every GPU on one node
    # Per-plan memo of the parts that depend only on parallelism and KV
    # format: auto TP and the what-ifs re-evaluate the same shapes.
    memo: dict = field(default_factory=dict)
    # Every configuration evaluated with this context, by its knobs: a plan's
    # what-ifs are its neighbours' auto-TP trials, and a keystroke that only
    # changes the workload re-plans the same configurations. Outcomes are
    # never modified after `evaluate` returns them.
    outcomes: dict = field(default_factory=dict)
    # Speed estimates by their inputs (most keystrokes leave them unchanged).
    speeds: dict = field(default_factory=dict)
    # Facts of the model and GPU every evaluation asks for, derived once.
    fp8_ok: bool = False  # FP8 compute (capability 8.9+)
    valid_tps: tuple[int, ...] = ()  # TP sizes up to the head count
    mxfp4_backend: str = "marlin"  # the MXFP4 MoE backend on this GPU
    layout_facts: tuple = ()  # `K.layout_facts(arch)`

    @classmethod
    def make(
        cls,
        arch: ModelArch,
        gpu: GpuSpec,
        era: E.Era,
        interconnect: str = "pcie",
        gpus_per_node: int = 0,
    ) -> Context:
        cc = _capability(gpu)
        heads = arch.num_attention_heads
        return cls(
            arch,
            gpu,
            era,
            K.layer_kinds(arch),
            interconnect,
            gpus_per_node,
            fp8_ok=bool(gpu.fp8 or (cc or (0, 0)) >= (8, 9)),
            valid_tps=_valid_tps(heads, arch.num_kv_heads, K.is_mla(arch), heads),
            mxfp4_backend=MEM.mxfp4_backend(gpu.vendor, cc),
            layout_facts=K.layout_facts(arch),
        )

    @classmethod
    def shared(
        cls,
        arch: ModelArch,
        gpu: GpuSpec,
        era: E.Era,
        interconnect: str = "pcie",
        gpus_per_node: int = 0,
    ) -> Context:
        """The context of this model, GPU and version, kept across plans: the
        TUI re-plans on every keystroke with the same resolved model and GPU
        objects, and the per-stage terms in `memo` depend on nothing else. Keyed
        on object identity (the facts are frozen); an entry holds its objects,
        so their ids stay theirs while it lives."""
        key = (id(arch), id(gpu), id(era), interconnect, gpus_per_node)
        ctx = _CONTEXTS.get(key)
        if (
            ctx is None
            or ctx.arch is not arch
            or ctx.gpu is not gpu
            or ctx.era is not era
        ):
            if len(_CONTEXTS) >= 64:
                try:  # the oldest entry; another thread may be evicting too
                    del _CONTEXTS[next(iter(_CONTEXTS))]
                except (RuntimeError, KeyError, StopIteration):
                    _CONTEXTS.clear()
            ctx = cls.make(arch, gpu, era, interconnect, gpus_per_node)
            _CONTEXTS[key] = ctx
        elif len(ctx.memo) > 256 or len(ctx.outcomes) > 512 or len(ctx.speeds) > 256:
            ctx.memo.clear()
            ctx.outcomes.clear()
            ctx.speeds.clear()
        return ctx

    def tp_link(self, tp: int) -> str:
        """The link TP all-reduces cross: the node's, or the network when a
        TP group spans nodes."""
        if self.gpus_per_node and tp > self.gpus_per_node:
            return "infiniband"
        return self.interconnect


_CONTEXTS: dict[tuple, Context] = {}


def _in_flight(k: Knobs) -> int:
    # Tokens in flight per step: max_concurrent_batches (PP size) x budget.
    return k.batched_tokens * max(1, k.pp)


class _Stage(NamedTuple):
    """The non-KV terms of one pipeline stage on one rank, GiB, and its pages."""

    weights: float
    activation: float
    graphs: float
    layout: K.KvLayout


def _stage_terms(ctx: Context, k: Knobs) -> tuple[float, tuple[_Stage, ...]]:
    """Non-torch GiB and every stage's terms: they depend on parallelism, KV
    format and batch limits only, so auto TP, the what-ifs and the searches
    (which change max_model_len, utilisation or the budget) reuse them."""
    key = (k.tp, k.pp, k.kv_dtype, k.block_size, k.hybrid_manager,
           k.batched_tokens, k.max_num_seqs, k.enforce_eager)  # fmt: skip
    terms = ctx.memo.get(key)
    if terms is not None:
        return terms
    arch, era = ctx.arch, ctx.era
    counts = K.stage_layer_counts(arch.num_layers, k.pp)
    weights = MEM.stage_weight_bytes(arch, counts, k.tp, ctx.mxfp4_backend)
    fast_link = ctx.tp_link(k.tp) in ("nvlink", "infinity-fabric")
    nt = MEM.non_torch_gib(era, k.tp, k.pp, fast_link)
    n_sizes = E.capture_sizes(k.max_num_seqs, era)
    is_moe = bool(arch.num_experts)
    stages = []
    start = 0
    for s, n in enumerate(counts):
        stage_kinds = ctx.kinds[start : start + n]
        start += n
        layout = K.cached_layout(
            arch,
            stage_kinds,
            k.tp,
            k.kv_dtype,
            k.block_size,
            era,
            k.hybrid_manager,
            ctx.layout_facts,
        )
        a = MEM.activation_bytes(
            arch, era, k.tp, k.batched_tokens, k.max_num_seqs, s == k.pp - 1
        )
        g = MEM.cuda_graph_gib(n_sizes, n, k.enforce_eager, is_moe)
        stages.append(_Stage(weights[s] / GIB, a / GIB, g, layout))
    terms = ctx.memo[key] = (nt, tuple(stages))
    return terms


def evaluate(ctx: Context, k: Knobs) -> Outcome:
    """Memory, KV pages and the startup verdict of one configuration
    (memoised in the context; the result must not be modified)."""
    o = ctx.outcomes.get(k)
    if o is None:
        o = ctx.outcomes[k] = _evaluate(ctx, k)
    return o


def _evaluate(ctx: Context, k: Knobs) -> Outcome:
    era = ctx.era
    nt, terms = _stage_terms(ctx, k)
    usable = k.total_gib * k.util
    in_flight = k.batched_tokens * max(1, k.pp)  # `_in_flight`
    charged = era.graphs_charged
    amd = ctx.gpu.vendor == "amd"

    best = None
    stages: list[tuple[float, float, int]] = []
    for w, a, g, layout in terms:
        if k.kv_cache_memory_bytes is not None:
            kv = k.kv_cache_memory_bytes / GIB
        elif era.name == E.V1_EXTENSIBLE:
            # c.3: min(R - U, F - margin) - transient peak, U = what stays used.
            used = w + nt + g
            # 3 GiB floor on ROCm (extensible_kv_cache.py, VLLM_MEMORY.md c.3).
            margin = max(3.0 if amd else 1.0, 0.75 * a)
            # F (free memory after warm-up) also lacks the CUDA context held
            # before vLLM's snapshot (VLLM_MEMORY.md c.1, c.3). The NCCL part
            # of the multi-GPU baseline is left out here: the non-torch term
            # is calibrated on logs that may already count it, and no 0.34
            # log is at hand to tell.
            free_after = k.total_gib - k.overhead_gib - CUDA_CONTEXT_GIB - used
            kv = min(usable - used, free_after - margin) - a
        else:
            kv = usable - w - a - nt - (g if charged else 0.0)
        blocks = layout.blocks(kv * GIB)
        stages.append((w, kv, blocks))
        # The bottleneck: fewest blocks, then the most weight.
        if best is None or (blocks, -w) < (best[0], -best[1]):
            best = (blocks, w, a, g, layout, kv)
    assert best is not None
    blocks, w, a, g, layout, kv = best
    kv_used = max(0.0, kv)
    held = w + a + nt + kv_used
    o = Outcome(
        knobs=k,
        total=k.total_gib,
        usable=usable,
        weights=w,
        activation=a,
        non_torch=nt,
        graphs=g,
        graphs_charged=charged,
        other=usable - held - (g if charged else 0.0),
        kv=kv,
        free=k.total_gib - k.overhead_gib - held - g,
        layout=layout,
        blocks=blocks,
        tokens=0,
        concurrency=0.0,
        request_gib=0.0,
        check_gib=0.0,
        stages=stages,
    )
    tokens, o.concurrency, request = layout.capacity(blocks, k.max_model_len, in_flight)
    o.tokens = tokens
    o.request_gib = request / GIB
    check = kv_used
    if era.name == E.V1_EXTENSIBLE:
        check -= layout.bytes_per_block / GIB  # the null block (c.5)
    o.check_gib = check
    _startup_blockers(ctx, o)
    return o


def _kv_ok(o: Outcome) -> bool:
    """The KV cache holds one max_model_len request (the startup checks on
    memory, without the free-memory check)."""
    if o.kv <= 0 or o.blocks <= 0:
        return False
    if o.layout.v0:
        return o.tokens >= o.knobs.max_model_len
    return o.request_gib <= o.check_gib


def _beyond_full_gpu(ctx: Context, o: Outcome) -> str:
    """The hint when even gpu_memory_utilization 1.0 cannot start this
    configuration (raising it would not help): the GPUs a larger TP needs, or
    a shorter max_model_len. Empty when 1.0 would do."""
    k = o.knobs
    full = o if k.util >= 1.0 else evaluate(ctx, k._replace(util=1.0))
    if _kv_ok(full):
        return ""
    if full.kv > 0 and full.blocks > 0:
        est = 0
        if not full.layout.v0 and full.check_gib > 0:
            est = full.layout.max_len_fit(
                full.check_gib * GIB, _in_flight(k), k.max_model_len
            )
        shorter = f"set max_model_len <= {est}, " if est > 0 else ""
    else:
        shorter = ""
    held = full.weights + full.activation + full.non_torch
    held += full.graphs if full.graphs_charged else 0.0
    for t in ctx.valid_tps:
        if t > k.tp and _kv_ok(evaluate(ctx, k._replace(tp=t))):
            more = f"use {t * k.pp} GPUs (tp_size {t})"
            break
    else:
        more = "split it over more GPUs with pipeline_parallel_size"
    return (
        f"Even gpu_memory_utilization 1.00 cannot hold it ({held:.2f} GiB of "
        f"weights, activation and non-torch memory on a {full.total:.2f} GiB GPU): "
        f"{shorter}{more} or use a quantized checkpoint"
    )


def _startup_blockers(ctx: Context, o: Outcome) -> None:
    """Why vLLM would refuse to start, in its own words with our numbers."""
    k, era = o.knobs, ctx.era
    hint = (
        "reduce max_model_len or max_num_seqs, or use a bigger device"
        if era.name == E.V1_EXTENSIBLE and k.util >= 1.0
        else "Try increasing `gpu_memory_utilization` or decreasing `max_model_len`"
    )
    if not _kv_ok(o):
        hint = _beyond_full_gpu(ctx, o) or hint
    if era.checks_free_memory and k.kv_cache_memory_bytes is None:
        held = startup_baseline_gib(ctx.gpu, k.tp, k.pp, bool(ctx.arch.num_experts))
        free = k.total_gib - k.overhead_gib - held
        if free < o.usable:
            top = math.floor(free / k.total_gib * 100) / 100
            o.blockers.append(
                f"Free memory on device ({free:.2f}/{k.total_gib:.2f} GiB) on startup "
                f"is less than desired GPU memory utilization ({k.util:.2f}, "
                f"{o.usable:.2f} GiB): set gpu_memory_utilization <= {top:.2f} or "
                f"free {o.usable - free:.2f} GiB held by other processes"
            )
    elif k.overhead_gib > 0 and k.overhead_gib + o.usable > k.total_gib:
        o.blockers.append(
            f"CUDA out of memory: the budget {o.usable:.2f} GiB plus "
            f"{k.overhead_gib:.2f} GiB held by others exceeds the "
            f"{k.total_gib:.2f} GiB GPU; lower gpu_memory_utilization to "
            f"{max(0.0, (k.total_gib - k.overhead_gib) / k.total_gib):.2f}"
        )
    if o.kv <= 0 or o.blocks <= 0:
        o.blockers.append(
            f"No available memory for the cache blocks: {o.weights:.2f} GiB weights "
            f"+ {o.activation:.2f} GiB activation + {o.non_torch:.2f} GiB non-torch"
            + (f" + {o.graphs:.2f} GiB CUDA graphs" if o.graphs_charged else "")
            + f" leave {o.kv:.2f} GiB of the {o.usable:.2f} GiB budget. {hint}."
        )
        return
    if o.layout.v0:
        if k.max_model_len > o.tokens:
            o.blockers.append(
                f"The model's max seq len ({k.max_model_len}) is larger than the "
                f"maximum number of tokens that can be stored in KV cache "
                f"({o.tokens}). Try increasing `gpu_memory_utilization` or "
                "decreasing `max_model_len` when initializing the engine."
            )
    elif o.request_gib > o.check_gib:
        est = o.layout.max_len_fit(o.check_gib * GIB, _in_flight(k), k.max_model_len)
        o.blockers.append(
            f"To serve at least one request with the model's max seq len "
            f"({k.max_model_len}), {o.request_gib:.2f} GiB KV cache is needed, which "
            f"is larger than the available KV cache memory ({o.check_gib:.2f} GiB). "
            f"Based on the available memory, the estimated maximum model length is "
            f"{est}. {hint}."
        )
    if any(s.kind == "mamba" for s in o.layout.specs) and k.max_num_seqs > o.blocks:
        o.blockers.append(
            f"max_num_seqs ({k.max_num_seqs}) exceeds the available Mamba cache "
            f"blocks ({o.blocks}); each decoding sequence needs one: set "
            f"max_num_seqs <= {o.blocks}"
        )
    if k.kv_cache_memory_bytes is not None:
        need = o.weights + o.activation + o.non_torch + o.graphs + o.kv
        room = k.total_gib - k.overhead_gib
        if need > room:
            o.blockers.append(
                f"CUDA out of memory: kv_cache_memory_bytes {o.kv:.2f} GiB plus "
                f"{need - o.kv:.2f} GiB of weights, activations, non-torch and "
                f"graphs is {need:.2f} GiB, more than the {room:.2f} GiB free; "
                f"set kv_cache_memory_bytes <= {int(max(0.0, o.kv - need + room) * GIB)}"
            )
    elif not o.graphs_charged and o.graphs > 0 and o.free < 0:
        o.blockers.append(
            f"CUDA out of memory during CUDA graph capture: graphs need about "
            f"{o.graphs:.2f} GiB outside the {o.usable:.2f} GiB budget and only "
            f"{max(0.0, o.graphs + o.free):.2f} GiB is left; lower gpu_memory_utilization to "
            f"{max(0.0, k.util + o.free / k.total_gib):.2f} or set enforce_eager"
        )


# ---------------------------------------------------------------------------
# Knobs from the profile


def _knobs(req: PlanRequest, era: E.Era, warnings: list[str]) -> Knobs:
    p = req.profile
    args = p.outputs.vllm_args
    gpu = req.gpu
    total = gpu.cuda_total_gib
    pp = pipeline_size(args)
    max_len = p.model.max_model_len or req.model.max_model_len

    def flag(name: str) -> bool | None:
        value = args.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        warnings.append(f"vllm_args.{name}: {value!r} is not true/false; ignored")
        return None

    def count(name: str) -> int | None:
        if name not in args:
            return None
        value = parse_size(args[name])
        if value is None or value < 1:
            warnings.append(
                f"vllm_args.{name}: {args[name]!r} is not a positive number; ignored"
            )
            return None
        return value

    seqs_default, tokens_default = E.default_batch_limits(era, gpu.name, total)
    # workload.mode shapes the knobs vllm_args leaves unset (CONTRACT.md); the
    # launch files write them, so the plan is made with them. balanced keeps
    # vLLM's defaults; latency caps max_num_seqs near the workload's
    # concurrency (less sampler and graph memory); throughput prefills in
    # bigger batches.
    mode = p.workload.mode
    if era.name != E.V0 and mode == "latency":
        seqs_default = min(
            seqs_default, max(8, 1 << (p.workload.concurrency - 1).bit_length())
        )
    elif era.name != E.V0 and mode == "throughput":
        tokens_default = max(tokens_default, 16384)
    max_num_seqs = count("max_num_seqs") or seqs_default
    chunked_flag = flag("enable_chunked_prefill")
    batched = count("max_num_batched_tokens")
    if era.name == E.V0:
        default_tokens, chunked = E.v0_batched_tokens(max_len, chunked_flag)
        batched = batched or default_tokens
    else:
        chunked = chunked_flag is not False
        if batched is None:
            batched = tokens_default if chunked else max(max_len, tokens_default)
    kv_bytes = None
    if "kv_cache_memory_bytes" in args:
        kv_bytes = parse_size(args["kv_cache_memory_bytes"])
        if kv_bytes is None or kv_bytes < 0:
            warnings.append(
                f"vllm_args.kv_cache_memory_bytes: {args['kv_cache_memory_bytes']!r} "
                "is not a size (e.g. 8589934592 or '8G'); ignored"
            )
            kv_bytes = None
        elif era.version[:2] < (0, 10):
            warnings.append(
                f"vllm_args.kv_cache_memory_bytes: vLLM {era.text} has no such flag; "
                "ignored (it arrived in 0.10)"
            )
            kv_bytes = None
    util_set = p.policy.gpu_memory_utilization is not None
    util = p.policy.gpu_memory_utilization if util_set else era.default_util
    hybrid = flag("disable_hybrid_kv_cache_manager") is not True
    return Knobs(
        tp=p.hardware.tp_size or 1,
        pp=pp,
        util=float(util),
        util_set=util_set,
        overhead_gib=float(p.policy.overhead_gb or 0.0),
        max_model_len=int(max_len),
        kv_dtype=p.model.kv_cache_dtype,
        max_num_seqs=max_num_seqs,
        batched_tokens=batched,
        chunked=chunked,
        enforce_eager=bool(flag("enforce_eager")),
        block_size=count("block_size"),
        kv_cache_memory_bytes=kv_bytes,
        hybrid_manager=hybrid,
        total_gib=float(total),
    )


# ---------------------------------------------------------------------------
# Validity: TP, lengths, dtypes and quantization


def tp_valid(arch: ModelArch, tp: int) -> bool:
    """Attention heads divisible by TP, and KV heads divisible by TP or TP by
    them (`config/model.py::verify_with_parallel_config`, `models/llama.py`)."""
    if arch.num_attention_heads % tp:
        return False
    if K.is_mla(arch) or arch.num_kv_heads <= 0:
        return True
    return arch.num_kv_heads % tp == 0 or tp % arch.num_kv_heads == 0


def _validity(
    req: PlanRequest,
    era: E.Era,
    k: Knobs,
    warnings: list[str],
    notes: list[str],
) -> list[str]:
    arch, gpu, prof = req.model, req.gpu, req.profile
    out: list[str] = []
    if arch.num_attention_heads % k.tp:
        out.append(
            f"Total number of attention heads ({arch.num_attention_heads}) must be "
            f"divisible by tensor parallel size ({k.tp}): use a TP that divides it"
        )
    elif not tp_valid(arch, k.tp):
        out.append(
            f"{arch.num_kv_heads} KV heads and tensor parallel size {k.tp} do not "
            "divide one another, which vLLM's attention layers require"
        )
    if k.pp > arch.num_layers:
        out.append(
            f"pipeline_parallel_size {k.pp} is more than the {arch.num_layers} layers"
        )
    dp = data_parallel_size(prof.outputs.vllm_args)
    if k.tp * k.pp * dp > prof.hardware.gpus:
        out.append(
            f"TP {k.tp} x PP {k.pp}"
            + (f" x DP {dp}" if dp > 1 else "")
            + f" = {k.tp * k.pp * dp} GPUs, but hardware.gpus is "
            f"{prof.hardware.gpus}"
        )
    if k.max_model_len > arch.max_model_len:
        out.append(
            f"User-specified max_model_len ({k.max_model_len}) is greater than the "
            f"derived max_model_len ({arch.max_model_len}) of the model's config; "
            f"set max_model_len <= {arch.max_model_len} (or "
            "VLLM_ALLOW_LONG_MAX_MODEL_LEN=1 at your own risk)"
        )
    if (
        arch.model_type == "gemma2"
        and era.version < (0, 6, 5)
        and k.max_model_len > 4096
    ):
        out.append(
            f"vLLM {era.text} caps Gemma-2 at 4096 tokens (interleaved sliding "
            "window unsupported before 0.6.5): set max_model_len <= 4096"
        )
    cc = _capability(gpu)
    quant = prof.model.quantization
    ckpt = arch.quant.method if arch.quant else None
    if quant in _REMOVED_IN_034 and era.version[:2] >= (0, 34):
        out.append(
            f"quantization {quant!r} was removed in vLLM 0.34: use an AWQ/GPTQ or "
            "FP8 checkpoint, or target an older engine.vllm_version"
        )
    if (
        quant
        and ckpt
        and _QUANT_ALIASES.get(quant, quant) != _QUANT_ALIASES.get(ckpt, ckpt)
    ):
        out.append(
            f"Quantization method specified in the model config ({ckpt}) does not "
            f"match the quantization method specified in the `quantization` "
            f"argument ({quant}): leave model.quantization null (auto-detected)"
        )
    if quant and not ckpt and quant not in _ONLINE_QUANT:
        out.append(
            f"quantization {quant!r} needs a checkpoint quantized that way, and "
            f"{arch.model_id} is not: use a {quant.upper()} repository, or 'fp8' "
            "for online quantization"
        )
    fp8_weights = quant == "fp8" or bool(ckpt and "fp8" in ckpt and not quant)
    _fp8_checks(req, era, k, fp8_weights, out, warnings, notes)
    if k.kv_dtype in ("fp8_ds_mla", "nvfp4_ds_mla") and not K.is_mla(arch):
        out.append(
            f"kv_cache_dtype {k.kv_dtype} is only for MLA models (DeepSeek-V3.2 "
            f"style); {arch.model_id} is not one: use 'fp8' or 'auto'"
        )
    awq = ckpt in ("awq", "awq_marlin") or quant in ("awq", "awq_marlin")
    if awq and cc is not None and cc < (7, 5):
        out.append(
            f"AWQ needs compute capability 7.5 or newer; {gpu.name} has "
            f"{gpu.compute_capability}: use a GPTQ or bfloat16 checkpoint"
        )
    if (
        (quant == "bitsandbytes" or ckpt == "bitsandbytes")
        and k.tp > 1
        and era.version[:2] < (0, 8)
    ):
        out.append(
            "Prequantized bitsandbytes models are not supported with tensor "
            f"parallel in vLLM {era.text}: use pipeline_parallel_size {k.tp} instead"
        )
    if era.name != E.V0 and not k.chunked and k.batched_tokens < k.max_model_len:
        out.append(
            f"max_num_batched_tokens ({k.batched_tokens}) is smaller than "
            f"max_model_len ({k.max_model_len}) with chunked prefill disabled: set "
            f"max_num_batched_tokens >= {k.max_model_len} or enable chunked prefill"
        )
    if arch.architecture.startswith("Mllama") and k.max_num_seqs > 32:
        out.append(
            f"cross-attention vision model with max_num_seqs {k.max_num_seqs}: "
            "vLLM runs out of memory at startup; set max_num_seqs <= 32 and "
            "enforce_eager: true"
        )
    return out


def fp8_marlin_min_capability(era: E.Era) -> tuple[int, int]:
    """The oldest GPU that runs FP8 weights: below compute capability 8.9 vLLM
    falls back to the weight-only FP8 Marlin kernel, which needs 8.0 up to
    0.29 and 7.5 from 0.30 (`quantization/utils/marlin_utils_fp8.py::
    is_fp8_marlin_supported`, `has_device_capability(80)` then `(75)`)."""
    return (7, 5) if era.version[:2] >= (0, 30) else (8, 0)


def _fp8_checks(
    req: PlanRequest,
    era: E.Era,
    k: Knobs,
    fp8_weights: bool,
    out: list[str],
    warnings: list[str],
    notes: list[str],
) -> None:
    """FP8 weights and FP8 KV below compute capability 8.9: vLLM runs both
    (Marlin weight-only for weights; the KV cache stored in fp8 and upcast,
    vllm-project/vllm PR #24577 runs it on A100) without FP8 tensor-core
    speed; only weights below the Marlin minimum are refused. A GPU known by
    its memory alone has no capability: say it is unknown, never absent."""
    gpu = req.gpu
    cc = _capability(gpu)
    fp8_kv = k.kv_dtype in _FP8_KV
    if gpu.fp8 or (cc is not None and cc >= (8, 9)) or not (fp8_weights or fp8_kv):
        return
    what = " and ".join(
        x for x, on in (("FP8 weights", fp8_weights), ("FP8 KV cache", fp8_kv)) if on
    )
    if cc is None:
        notes.append(
            f"{what}: {gpu.name}'s compute capability is unknown (not in the GPU "
            "catalog), so whether it has FP8 tensor cores (8.9+) is unknown; vLLM "
            "runs FP8 weights weight-only (Marlin) and an fp8 KV cache upcast on "
            "older GPUs"
        )
        return
    low = fp8_marlin_min_capability(era)
    if fp8_weights and cc < low:
        out.append(
            f"FP8 weights need compute capability {low[0]}.{low[1]}+ in vLLM "
            f"{era.text} (the FP8 Marlin weight-only kernel, marlin_utils_fp8.py); "
            f"{gpu.name} has {gpu.compute_capability}: use a bfloat16/float16 or "
            "GPTQ checkpoint"
        )
    elif fp8_weights:
        warnings.append(
            f"{gpu.name} (compute capability {gpu.compute_capability}) has no FP8 "
            "tensor cores (8.9+): vLLM runs the FP8 weights weight-only through the "
            "FP8 Marlin kernel (dequantized to 16-bit for each matmul), so they "
            "save memory but give no FP8 compute speed-up"
        )
    if fp8_kv:
        warnings.append(
            f"kv_cache_dtype {k.kv_dtype} on {gpu.name} (compute capability "
            f"{gpu.compute_capability}, FP8 compute needs 8.9+): the cache is stored "
            "in fp8 (half the KV memory) and upcast to 16-bit for attention, so no "
            "FP8 attention speed-up"
        )


def _capability(gpu: GpuSpec) -> tuple[int, int] | None:
    return _parse_capability(gpu.compute_capability or "")


@lru_cache(maxsize=64)
def _parse_capability(text: str) -> tuple[int, int] | None:
    m = re.match(r"(\d+)\.(\d+)", text)
    return (int(m.group(1)), int(m.group(2))) if m else None


# ---------------------------------------------------------------------------
# Searches: auto TP, max_model_len fit, utilisation needed


def fit_max_num_seqs(ctx: Context, o: Outcome, concurrency: int) -> Outcome:
    """The one place that decides the deployment's max_num_seqs when
    vllm_args leaves it unset (the launch files write plan.max_num_seqs): the
    workload.mode default capped at what fits, max(the requests one replica
    serves, floor(max concurrency)), at least 1; `o` re-evaluated with it
    (the sampler, graphs and KV memory follow it)."""
    cap = max(1, concurrency, math.floor(o.concurrency + 1e-9))
    if cap >= o.knobs.max_num_seqs:
        return o
    return evaluate(ctx, o.knobs._replace(max_num_seqs=cap))


def _tp_candidates(arch: ModelArch, gpus: int, pp: int) -> list[int]:
    limit = max(1, gpus // max(1, pp))
    mla = K.is_mla(arch)
    return list(_valid_tps(arch.num_attention_heads, arch.num_kv_heads, mla, limit))


@lru_cache(maxsize=256)
def _valid_tps(heads: int, kv_heads: int, mla: bool, limit: int) -> tuple[int, ...]:
    """TP sizes 1..limit that `tp_valid` accepts, for these head counts."""
    out = []
    for t in range(1, limit + 1):
        if heads % t:
            continue
        if mla or kv_heads <= 0 or kv_heads % t == 0 or t % kv_heads == 0:
            out.append(t)
    return tuple(out)


def _max_len_fit(ctx: Context, o: Outcome) -> int:
    """Largest max_model_len that starts. V1: vLLM's estimate over the KV memory
    (the activation does not depend on it). V0: the profiled batch follows
    max_model_len, so each length is re-evaluated."""
    k = o.knobs
    cap = ctx.arch.max_model_len
    if ctx.era.name != E.V0:
        if o.check_gib <= 0:
            return 0
        return o.layout.max_len_fit(o.check_gib * GIB, _in_flight(k), cap)

    def ok(length: int, chunked: bool | None) -> bool:
        tokens, ch = E.v0_batched_tokens(length, chunked)
        trial = evaluate(ctx, k._replace(max_model_len=length, batched_tokens=tokens,
                                      chunked=ch))  # fmt: skip
        return trial.kv > 0 and trial.tokens >= length

    best = 0
    for chunked, lo, hi in ((False, 1, min(cap, 32768)), (True, 32769, cap)):
        if lo > hi:
            continue
        if not ok(lo, chunked):
            continue
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if ok(mid, chunked):
                lo = mid
            else:
                hi = mid - 1
        best = max(best, lo)
    return best


def _util_needed(ctx: Context, o: Outcome) -> float | None:
    """Smallest gpu_memory_utilization (0.01 steps) at which one max_model_len
    request fits: (non-KV terms charged + one request's KV) / total."""
    if ctx.era.name == E.V0 or o.layout.v0:
        need_kv = o.knobs.max_model_len * (o.layout.bytes_per_token or 0) / GIB
    else:
        need_kv = o.request_gib
    need = o.weights + o.activation + o.non_torch + need_kv
    if o.graphs_charged:
        need += o.graphs
    if ctx.era.name == E.V1_EXTENSIBLE:
        need += o.layout.bytes_per_block / GIB
    util = math.ceil(need / o.total * 100 - 1e-9) / 100
    return util if util <= 1.0 else None


# ---------------------------------------------------------------------------
# The response


def _fit_count(ctx: Context, req: PlanRequest, o: Outcome, dp: int = 1) -> int:
    """Requests of the workload held at once by all `dp` engine replicas
    (each holds what its own KV cache and max_num_seqs allow); memoised in
    the context by the configuration and the request size."""
    w = req.profile.workload
    per_request = w.prompt_tokens + w.gen_tokens
    frag = req.profile.policy.fragmentation_factor
    key = ("fit", o.knobs, per_request, frag)
    fit = ctx.memo.get(key)
    if fit is None:
        length = min(per_request, o.knobs.max_model_len)
        need = o.layout.request_blocks(length, _in_flight(o.knobs)) * frag
        fit = int(o.blocks // need) if need > 0 and o.starts else 0
        if per_request > o.knobs.max_model_len:
            fit = 0
        fit = ctx.memo[key] = min(fit, o.knobs.max_num_seqs)
    return fit * dp


def _workload(ctx: Context, req: PlanRequest, o: Outcome, dp: int = 1) -> WorkloadFit:
    w = req.profile.workload
    return _build(
        WorkloadFit,
        concurrency_fit=_fit_count(ctx, req, o, dp),
        tokens_per_request=w.prompt_tokens + w.gen_tokens,
        requested=w.concurrency,
    )


def _what_ifs(
    ctx: Context,
    req: PlanRequest,
    o: Outcome,
    fit_len: int,
    plan_starts: bool = True,
    dp: int = 1,
    dp_set: bool = False,
) -> list[WhatIf]:
    """Single changes worth trying, each re-evaluated (the stage terms they
    share with the plan come from the context's memo), best three first;
    memoised by everything they read (the WhatIf objects are never modified)."""
    w, hw = req.profile.workload, req.profile.hardware
    key = ("what-if", o.knobs, fit_len, plan_starts, dp, dp_set, hw.gpus,
           w.concurrency, w.prompt_tokens + w.gen_tokens,
           req.profile.policy.fragmentation_factor)  # fmt: skip
    memo = ctx.memo.get(key)
    if memo is None:
        memo = ctx.memo[key] = _what_ifs_of(ctx, req, o, fit_len, plan_starts,
                                             dp, dp_set)  # fmt: skip
    return list(memo)


def _what_ifs_of(
    ctx: Context,
    req: PlanRequest,
    o: Outcome,
    fit_len: int,
    plan_starts: bool,
    dp: int,
    dp_set: bool,
) -> tuple[WhatIf, ...]:
    k = o.knobs
    era, arch = ctx.era, ctx.arch
    hw = req.profile.hardware
    starts = o.starts
    # (label, Knobs field, value); the first ones matter most.
    trials: list[tuple[str, str, object]] = []
    # An fp8 KV cache halves KV memory on Ampere too (stored fp8, upcast).
    fp8_kv_ok = ctx.fp8_ok or (_capability(ctx.gpu) or (0, 0)) >= (8, 0)
    if k.kv_dtype in ("auto", "float16", "bfloat16") and fp8_kv_ok:
        mla_fp8 = K.is_mla(arch) and era.version >= (0, 34, 0)
        dtype = "fp8_ds_mla" if mla_fp8 else "fp8"
        trials.append((f"kv_cache_dtype: {dtype}", "kv_dtype", dtype))
    elif k.kv_dtype in ("fp8_ds_mla", "nvfp4_ds_mla") and not K.is_mla(arch):
        dtype = "fp8" if fp8_kv_ok else "auto"
        trials.append((f"kv_cache_dtype: {dtype}", "kv_dtype", dtype))
    # Tensor parallelism stays within a node (vLLM's advice: TP inside a
    # node, PP across nodes); past the node, one more pipeline stage.
    per_node = hw.gpus_per_node or max(hw.gpus, 8)
    larger = [t for t in ctx.valid_tps if k.tp < t <= per_node]
    if not starts:
        # The smallest larger TP that starts, not merely the next one (a 32B
        # model on one 24 GB card needs TP 4, and TP 2 alone changes nothing).
        larger = [t for t in larger if evaluate(ctx, k._replace(tp=t)).starts][
            :1
        ] or larger
    nxt = larger[0] if larger else 0
    if nxt:
        if nxt * k.pp * dp <= hw.gpus:
            trials.append((f"tp_size: {nxt}", "tp", nxt))
        else:
            trials.append((f"gpus: {nxt * k.pp} with tp_size {nxt}", "tp", nxt))
    elif k.pp * 2 <= arch.num_layers:
        pp = k.pp * 2
        label = (
            f"pipeline_parallel_size: {pp}"
            if k.tp * pp * dp <= hw.gpus
            else f"gpus: {k.tp * pp * dp} with pipeline_parallel_size {pp}"
        )
        trials.append((label, "pp", pp))
    if not starts and 0 < fit_len < k.max_model_len:
        trials.append((f"max_model_len: {fit_len}", "max_model_len", fit_len))
    elif k.max_model_len > 4096:
        half = k.max_model_len // 2
        trials.append((f"max_model_len: {half}", "max_model_len", half))
    if era.name != E.V1_EXTENSIBLE and k.util < 0.95:
        u = round(min(0.95, k.util + 0.05), 2)
        trials.append((f"gpu_memory_utilization: {u:.2f}", "util", u))
    if o.graphs_charged and not k.enforce_eager and o.graphs >= 0.5:
        trials.append(("enforce_eager: true", "enforce_eager", True))
    if era.name != E.V0 and k.batched_tokens > 2048 and k.chunked:
        trials.append(("max_num_batched_tokens: 2048", "batched_tokens", 2048))

    # Useful to the current verdict, best first: when vLLM does not start,
    # what makes it start; when the workload does not fit, what fits more of
    # it; when it fits, what gives the most KV capacity. A change that does
    # not improve on the plan is not offered.
    wanted = req.profile.workload.concurrency
    starts = starts and plan_starts
    fit_now = _fit_count(ctx, req, o, dp) if starts else 0
    level = 0 if not starts else (1 if fit_now < wanted else 2)
    scored = []
    for label, name, value in trials:
        t = evaluate(ctx, k._replace(**{name: value}))
        # Memory alone does not make vLLM start: a refusal the change leaves
        # in place (an MLA-only KV dtype on another model, say) still holds.
        # (A plan that starts was validated, and its trials stay within the
        # valid TPs: only a refused plan's trials are checked again.)
        t_starts = t.starts and (
            plan_starts or not _trial_blockers(req, era, t.knobs, dp)
        )
        fit = _fit_count(ctx, req, t, dp) if t_starts else 0
        t_level = 0 if not t_starts else (1 if fit < wanted else 2)
        gain = (fit - fit_now) if level == 1 else (t.tokens - o.tokens)
        # When the workload fits, a gain under 5% of the KV cache is noise.
        least = 0.05 * o.tokens if level == 2 else 0
        # When vLLM does not start, only what makes it start helps.
        if (
            t_level == 0
            or t_level < level
            or (t_level == level and (gain <= 0 or gain < least))
        ):
            continue
        scored.append(((-t_level, -gain), label, t, fit))
    # Idle GPUs: D replicas of TP x PP serve D times the requests (the KV
    # cache of each replica is unchanged).
    replicas = req.profile.hardware.gpus // (k.tp * k.pp)
    if starts and not dp_set and replicas >= 2:
        fit = _fit_count(ctx, req, o, replicas)
        t_level = 1 if fit < wanted else 2
        gain = (fit - fit_now) if level == 1 else o.tokens * (replicas - 1)
        if t_level > level or gain > 0:
            scored.append(((-t_level, -gain), f"data_parallel_size: {replicas}",
                           None, fit))  # fmt: skip
    scored.sort(key=_first)
    out = []
    before = f"KV cache {o.tokens:,} -> "
    after = f" max concurrency {o.concurrency:.2f}x -> "
    for _, label, t, fit in scored[:3]:
        held = (
            f", the workload's {wanted} requests fit"
            if fit >= wanted
            else f", {fit} of the workload's {wanted} requests fit"
        )
        if t is None:  # data parallelism
            effect = (
                f"{replicas} engine replicas of {k.tp * k.pp} GPU(s), each with "
                f"{o.tokens:,} KV tokens ({replicas * o.tokens:,} in all): about "
                f"x{replicas} throughput; starts{held}"
            )
            out.append(_build(WhatIf, change=label, effect=effect))
            continue
        pct = f" ({(t.tokens - o.tokens) / o.tokens:+.0%})" if o.tokens else ""
        effect = (
            f"{before}{t.tokens:,} tokens{pct},{after}{t.concurrency:.2f}x; "
            f"starts{held}"
        )
        out.append(_build(WhatIf, change=label, effect=effect))
    return tuple(out)


def _trial_blockers(req: PlanRequest, era: E.Era, knobs: Knobs, dp: int) -> list[str]:
    """vLLM's refusals (`_validity`) for a what-if's knobs, given the GPUs the
    what-if itself asks for."""
    hw = req.profile.hardware
    need = knobs.tp * knobs.pp * dp
    if need > hw.gpus:
        profile = req.profile.model_copy(
            update={"hardware": hw.model_copy(update={"gpus": need})}
        )
        req = req.model_copy(update={"profile": profile})
    return _validity(req, era, knobs, [], [])


def _first(item: tuple) -> object:
    return item[0]


def _explanations(o: Outcome, era: E.Era, fit_len: int) -> dict[str, str]:
    k = o.knobs
    g = "charged to the budget" if o.graphs_charged else "outside the budget"
    return {
        "per_gpu.total_gib": "The GPU's memory as CUDA reports it (what vLLM logs).",
        "per_gpu.usable_gib": (
            f"The budget vLLM requests: gpu_memory_utilization {k.util:.2f} x "
            f"{o.total:.2f} GiB."
        ),
        "per_gpu.weights_gib": (
            f"Checkpoint bytes on one rank: split by TP {k.tp}, the worst of "
            f"{k.pp} pipeline stage(s) with embeddings/LM head on theirs; MXFP4 "
            "experts as padded for vLLM's MoE kernels on this GPU."
        ),
        "per_gpu.activation_gib": (
            f"Profiled activation peak of a {k.batched_tokens}-token dummy forward "
            "pass plus "
            f"the sampler's {k.max_num_seqs} x vocab logits (fitted on vLLM logs)."
        ),
        "per_gpu.non_torch_gib": (
            f"NCCL, cuBLAS and all-reduce buffers for TP {k.tp}, as logged by "
            f"vLLM {era.text}-era engines."
        ),
        "per_gpu.cuda_graph_gib": (
            f"CUDA-graph pool ({o.graphs:.2f} GiB estimated, {g}"
            + (", enforce_eager" if k.enforce_eager else "")
            + ")."
        ),
        "per_gpu.other_gib": (
            "What the budget keeps beside the terms above: 0.34's free-memory margin"
            " and uncharged graph memory, negative when the budget is overdrawn."
        ),
        "per_gpu.kv_cache_gib": (
            "kv_cache_memory_bytes as given."
            if k.kv_cache_memory_bytes is not None
            else "Budget minus weights, activation peak, non-torch and charged "
            f"graphs ({era.label})."
        ),
        "per_gpu.free_gib": (
            "GPU memory left after vLLM and policy.overhead_gb, graphs included."
        ),
        "kv_cache.tokens": (
            "vLLM's 'GPU KV cache size': "
            + (
                "max concurrency x max_model_len (0.34 derives it)."
                if o.layout.derived_tokens
                else "blocks // KV groups x block size."
            )
        ),
        "kv_cache.blocks": (
            f"floor(KV memory / {o.layout.bytes_per_block:,} B per block), the "
            "smallest over pipeline stages."
        ),
        "kv_cache.block_size": "Tokens per KV block for full-attention layers.",
        "kv_cache.bytes_per_token": (
            "Full-attention layers x per-rank KV heads x (K+V head size) x bytes "
            "per element on one GPU."
        ),
        "max_concurrency": (
            f"Blocks / blocks one {k.max_model_len}-token request needs over all "
            "KV groups (vLLM's formula)."
        ),
        "max_model_len_fit": (
            f"Largest length ({fit_len}) whose one request fits the KV memory, by "
            "vLLM's estimate_max_model_len binary search"
            + ("; 0: a blocker no length cures." if fit_len == 0 else ".")
        ),
        "workload.concurrency_fit": (
            "Requests of prompt+gen tokens (x fragmentation_factor) whose blocks fit "
            "at once, capped by max_num_seqs."
        ),
        "speed": (
            "Estimates: memory-bandwidth roofline with efficiency, per-step floor, "
            "KV reads and TP all-reduce; prefill from FLOPs."
        ),
        "utilization_needed": (
            "Smallest gpu_memory_utilization at which one max_model_len request fits."
        ),
        "kv_cache_memory_bytes_suggested": (
            "Budget minus weights, activation, non-torch and graphs minus 150 MiB, "
            "as vLLM suggests after startup."
        ),
    }


def _gib(x: float) -> float:
    # + 0.0 turns a rounded -0.0 (a tiny negative) into 0.0.
    return round(x, 2) + 0.0


_M = TypeVar("_M", bound=BaseModel)
_FIELD_COUNTS: dict[type, int] = {}


def _build(cls: type[_M], **values: object) -> _M:
    """An instance of a response model from values of the schema's types,
    without validation: what pydantic's `model_construct` does for a model
    without aliases, extras or private attributes, in a third of its time (the
    planner runs on every keystroke). Every field must be given; the tests
    re-validate the dumped responses of every bundled profile. A field added
    to the schema later and not given here falls back to `model_construct`
    (which fills its default)."""
    if len(values) != _FIELD_COUNTS.get(cls, -1):
        if cls not in _FIELD_COUNTS:
            _FIELD_COUNTS[cls] = len(cls.model_fields)
            return _build(cls, **values)
        return cls.model_construct(**values)
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", values)
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


def plan(req: PlanRequest) -> PlanResponse:
    """The whole plan; see `wizard_tui.planner.run_plan`."""
    prof, arch, gpu = req.profile, req.model, req.gpu
    era = E.era_for(prof.engine.vllm_version)
    notes = list(req.notes)
    warnings: list[str] = []
    if prof.engine.vllm_version is None and not any(
        "engine.vllm_version" in n for n in notes
    ):
        notes.append(
            f"engine.vllm_version not set: planned for vLLM {NEWEST_VLLM_VERSION}, the "
            "newest supported"
        )
    if arch.guessed:
        warnings.append(
            f"MODEL ARCHITECTURE GUESSED from params_b: {arch.model_id}'s config.json "
            "was not found, so layers, heads and KV size are invented; every figure "
            "below is approximate. Point model.id at a folder with config.json."
        )
    per_node = prof.hardware.gpus_per_node or 0
    ctx = Context.shared(arch, gpu, era, _interconnect(req), per_node)
    base = _knobs(req, era, warnings)

    given_seqs = parse_size(prof.outputs.vllm_args.get("max_num_seqs"))
    seqs_given = given_seqs is not None and given_seqs >= 1
    # Data parallelism: DP engine replicas of TP x PP GPUs each; per-GPU
    # figures, KV tokens and max concurrency are one replica's, and each
    # replica serves ceil(concurrency / DP) of the workload's requests.
    dp = data_parallel_size(prof.outputs.vllm_args)
    dp_set = "data_parallel_size" in prof.outputs.vllm_args
    wanted = -(-prof.workload.concurrency // dp)

    def seqs_fitted(o: Outcome) -> Outcome:
        return o if seqs_given else fit_max_num_seqs(ctx, o, wanted)

    # Auto TP: the smallest valid TP that starts, within the GPUs.
    if prof.hardware.tp_size is None:
        cands = _tp_candidates(arch, prof.hardware.gpus // dp, base.pp) or [1]
        chosen = None
        for t in cands:
            trial = seqs_fitted(evaluate(ctx, base._replace(tp=t)))
            if trial.starts:
                chosen = trial
                break
        outcome = chosen or seqs_fitted(evaluate(ctx, base._replace(tp=cands[-1])))
        notes.append(f"tp_size auto: {outcome.knobs.tp} (valid: {cands})")
    else:
        outcome = seqs_fitted(evaluate(ctx, base))
    k = outcome.knobs
    idle = prof.hardware.gpus - k.tp * k.pp * dp
    if not dp_set and idle > 0:
        d = prof.hardware.gpus // (k.tp * k.pp)
        notes.append(
            f"{idle} GPU{'s' if idle > 1 else ''} unused: set data_parallel_size "
            f"{d} to serve with all of them (x{d} throughput)"
            if d >= 2
            else f"{idle} GPU(s) unused: TP {k.tp} x PP {k.pp} uses "
            f"{k.tp * k.pp} of {prof.hardware.gpus}"
        )
    if k.max_num_seqs < base.max_num_seqs:
        notes.append(
            f"max_num_seqs {k.max_num_seqs}: the {prof.workload.mode} default "
            f"{base.max_num_seqs} capped at what fits, max(workload concurrency "
            f"{wanted}, floor of the max concurrency at max_model_len); planned "
            "with it, and the launch files write it"
        )
    elif seqs_given and outcome.starts:
        holds = max(1, math.floor(outcome.concurrency + 1e-9))
        if k.max_num_seqs > max(wanted, holds):
            warnings.append(
                f"max_num_seqs {k.max_num_seqs} is more than the KV cache holds at "
                f"once ({holds} requests of max_model_len {k.max_model_len}; the "
                f"workload asks for {wanted}): vLLM admits them and preempts; "
                f"set max_num_seqs <= {max(wanted, holds)} to plan for fewer"
            )

    validity = _validity(req, era, k, warnings, notes)
    blockers = validity + outcome.blockers
    starts = not blockers
    # A refusal that no length cures (an invalid TP, a dtype the GPU lacks:
    # one that holds even at a length of 1) leaves no max_model_len that
    # would start.
    cured_by_length = not validity or not _validity(
        req, era, k._replace(max_model_len=1), [], []
    )
    fit_len = _max_len_fit(ctx, outcome) if cured_by_length else 0
    util_needed = _util_needed(ctx, outcome)
    suggested = None
    if era.version[:2] >= (0, 10):
        charged = outcome.weights + outcome.activation + outcome.non_torch
        rest = outcome.usable - charged - outcome.graphs - 150 * MIB / GIB
        suggested = int(rest * GIB) if rest > 0 else None

    workload = _workload(ctx, req, outcome, dp)
    if not starts:
        workload.concurrency_fit = 0
    headroom_ok = outcome.free >= prof.policy.headroom_gb
    fits = starts and workload.concurrency_fit >= prof.workload.concurrency
    fits = fits and headroom_ok
    _advise(req, era, outcome, workload, headroom_ok, warnings, starts)

    batch = max(1, min(wanted, k.max_num_seqs))  # per replica
    quant_fp8 = bool(arch.quant and "fp8" in (arch.quant.method or ""))
    average = prof.workload.prompt_tokens + prof.workload.gen_tokens // 2
    speed_key = (
        k.tp,
        k.pp,
        ctx.tp_link(k.tp),
        outcome.layout.read_bytes(min(average, k.max_model_len)),
        batch,
        prof.workload.prompt_tokens,
        prof.workload.gen_tokens,
        quant_fp8 and gpu.fp8,
    )
    sp = ctx.speeds.get(speed_key)
    if sp is None:
        sp = ctx.speeds[speed_key] = estimate_speed(arch, gpu, *speed_key)
    # No figure is better than an invented one: a GPU known by its memory
    # alone has no bandwidth, and a plan that does not start has no speed.
    no_speed = ""
    if gpu.bandwidth_gbs <= 0:
        no_speed = "unknown for this GPU (no bandwidth figure)"
    elif not starts:
        no_speed = "none: vLLM would not start"
    if no_speed:
        speed = _build(Speed, itl_ms=[], ttft_ms=[], decode_tok_s_per_seq=[],
                       decode_tok_s_total=[], prefill_tok_s=[], label=no_speed)  # fmt: skip
    else:
        speed = _build(
            Speed,
            itl_ms=list(sp.itl_ms),
            ttft_ms=list(sp.ttft_ms),
            decode_tok_s_per_seq=list(sp.decode_tok_s_per_seq),
            decode_tok_s_total=[x * dp for x in sp.decode_tok_s_total],
            prefill_tok_s=list(sp.prefill_tok_s),
            label="estimate",
        )

    if k.pp > 1:
        parts = "; ".join(
            f"stage {i}: {w:.2f} GiB weights, {kv:.2f} GiB KV, {b:,} blocks"
            for i, (w, kv, b) in enumerate(outcome.stages)
        )
        low = min(range(k.pp), key=lambda i: outcome.stages[i][2])
        notes.append(
            f"pipeline stages per GPU ({parts}); every stage keeps stage {low}'s "
            f"{outcome.blocks:,} blocks"
        )

    lay = outcome.layout
    # Built without re-validation: every value above has the schema's type,
    # and this runs on every keystroke.
    return _build(
        PlanResponse,
        fits=fits,
        vllm_starts=starts,
        blockers=blockers,
        warnings=warnings,
        engine_version=era.text,
        tp_size=k.tp,
        pp_size=k.pp,
        per_gpu=_build(
            PerGpu,
            total_gib=_gib(outcome.total),
            usable_gib=_gib(outcome.usable),
            weights_gib=_gib(outcome.weights),
            activation_gib=_gib(outcome.activation),
            non_torch_gib=_gib(outcome.non_torch),
            cuda_graph_gib=_gib(outcome.graphs if outcome.graphs_charged else 0.0),
            other_gib=_gib(outcome.other),
            kv_cache_gib=_gib(max(0.0, outcome.kv)),
            free_gib=_gib(outcome.free),
        ),
        kv_cache=_build(
            KvCache,
            tokens=outcome.tokens,
            blocks=outcome.blocks,
            block_size=lay.block_size,
            bytes_per_token=lay.bytes_per_token,
        ),
        max_concurrency=round(outcome.concurrency, 2),
        max_model_len=k.max_model_len,
        max_model_len_fit=fit_len,
        workload=workload,
        speed=speed,
        what_if=_what_ifs(ctx, req, outcome, fit_len, starts, dp, dp_set),
        explanations=_explanations(outcome, era, fit_len),
        gpu_name=gpu.name,
        model_source=arch.source,
        gpu_memory_utilization=k.util,
        utilization_needed=util_needed,
        kv_cache_memory_bytes_suggested=suggested,
        max_num_seqs=k.max_num_seqs,
        max_num_batched_tokens=k.batched_tokens,
        data_parallel_size=dp,
        notes=notes,
        checkpoint_quantization=arch.quant.method if arch.quant else None,
    )


def _interconnect(req: PlanRequest) -> str:
    value = req.profile.hardware.interconnect
    if value == "unknown":
        return req.gpu.interconnect or "pcie"
    return value


def _advise(
    req: PlanRequest,
    era: E.Era,
    o: Outcome,
    workload: WorkloadFit,
    headroom_ok: bool,
    warnings: list[str],
    starts: bool = True,
) -> None:
    """Warnings that say what to change, with numbers (those that presume
    vLLM starts only when it does)."""
    prof, k = req.profile, o.knobs
    args = prof.outputs.vllm_args
    if workload.tokens_per_request > k.max_model_len:
        warnings.append(
            f"a request of {workload.tokens_per_request} tokens (prompt + gen) is "
            f"longer than max_model_len {k.max_model_len}: raise max_model_len or "
            "shorten the workload"
        )
    elif starts and workload.concurrency_fit < prof.workload.concurrency:
        # Never suggest what is already in effect (fp8 KV when KV is fp8).
        fixes = ["more GPUs", "a shorter max_model_len", "fewer requests"]
        if k.kv_dtype in ("auto", "float16", "bfloat16") and (
            (_capability(req.gpu) or (0, 0)) >= (8, 0) or req.gpu.fp8
        ):
            fixes.insert(0, "fp8 KV")
        warnings.append(
            f"only {workload.concurrency_fit} of the {prof.workload.concurrency} "
            f"concurrent requests fit in {o.tokens:,} KV tokens"
            + (
                f" (max_num_seqs {k.max_num_seqs} caps it)"
                if workload.concurrency_fit == k.max_num_seqs
                else ""
            )
            + ": use "
            + ", ".join(fixes[:-1])
            + f" or {fixes[-1]}"
        )
    # Headroom advice presumes vLLM starts; the blockers say what to change.
    if starts and not headroom_ok:
        warnings.append(
            f"headroom: {o.free:.2f} GiB per GPU stays free, policy.headroom_gb asks "
            f"for {prof.policy.headroom_gb:.2f}: lower gpu_memory_utilization by "
            f"{(prof.policy.headroom_gb - o.free) / o.total + 0.005:.2f}"
        )
    if k.util >= 0.95 and o.total <= 24.5 and not k.enforce_eager:
        warnings.append(
            f"gpu_memory_utilization {k.util:.2f} on a {o.total:.1f} GiB GPU leaves "
            f"{(1 - k.util) * o.total:.2f} GiB for CUDA graphs (~{o.graphs:.2f} GiB) "
            "and the driver: use 0.90 or enforce_eager: true"
        )
    if (
        era.name != E.V0
        and "max_num_seqs" not in args
        and k.max_num_seqs >= 1024
        and era.version[:2] <= (0, 16)
    ):
        sampler = k.max_num_seqs * req.model.vocab_size * 4 / GIB
        warnings.append(
            f"max_num_seqs defaults to {k.max_num_seqs} in vLLM {era.text} on this "
            f"GPU; the sampler warm-up holds {sampler:.2f} GiB per fp32 logits copy "
            f"({k.max_num_seqs} x {req.model.vocab_size} x 4 B): write "
            "max_num_seqs explicitly (e.g. 256) to be safe"
        )
    if (
        era.version[:3] >= (0, 6, 4)
        and era.version[:3] < (0, 6, 5)
        and (era.version[:2] == (0, 6))
    ):
        warnings.append(
            "vLLM 0.6.4 counts other processes' memory against "
            "gpu_memory_utilization (a global cap): upgrade or keep the GPU empty"
        )
    if era.name == E.V1_EXTENSIBLE and k.util_set and 0.7 < k.util < 1.0:
        held = (1.0 - k.util) * o.total
        if held >= 1.0:
            warnings.append(
                f"gpu_memory_utilization {k.util:.2f} withholds {held:.2f} GiB that "
                "0.34's extensible KV cache would use; leave it unset (1.0) unless "
                "the GPU is shared"
            )
    per_node = prof.hardware.gpus_per_node
    if per_node and k.tp > per_node:
        warnings.append(
            f"tensor parallel size {k.tp} spans nodes of {per_node} GPUs: every "
            "layer's all-reduce crosses the network; use tp_size "
            f"{per_node} and pipeline_parallel_size {k.tp * k.pp // per_node} instead"
        )
    if era.name == E.V1_GRAPHS and k.util_set and o.graphs >= 0.1:
        # vLLM's own notice since 0.21 (gpu_worker.py, VLLM_MEMORY.md c.6).
        same = min(1.0, k.util + o.graphs / o.total)
        warnings.append(
            f"CUDA graph memory ({o.graphs:.2f} GiB) is charged to the budget since "
            f"vLLM 0.21: gpu_memory_utilization {k.util:.2f} now acts like "
            f"{k.util - o.graphs / o.total:.3f} did before; use {same:.3f} to keep "
            "the older KV cache size"
        )
    if req.model.vision_params:
        warnings.append(
            "the vision encoder's profiling reserve is not modelled (it grows with "
            "max_pixels and images per prompt): keep 1-3 GiB spare per GPU"
        )
    if any(s.kind == "mamba" for s in o.layout.specs) and k.kv_dtype != "auto":
        warnings.append(
            "hybrid Mamba model: the state pages stay 16-bit, so fp8 KV gains less "
            "than 2x at short contexts"
        )
    if not o.graphs_charged and o.graphs > 0 and 0 <= o.free < 0.5:
        warnings.append(
            f"CUDA graphs (~{o.graphs:.2f} GiB) sit outside vLLM {era.text}'s budget "
            f"and leave {o.free:.2f} GiB free: lower gpu_memory_utilization or set "
            "enforce_eager: true"
        )


@dataclass(frozen=True, slots=True)
class SweepRow:
    """One cell of a GPU x TP x KV-dtype sweep."""

    gpu_name: str
    tp: int
    kv_cache_dtype: str
    starts: bool
    kv_tokens: int
    max_concurrency: float
    kv_cache_gib: float
    first_blocker: str


def sweep(
    req: PlanRequest,
    gpus: list[GpuSpec],
    tps: tuple[int, ...] = (1, 2, 4, 8),
    kv_dtypes: tuple[str, ...] = ("auto", "fp8"),
) -> list[SweepRow]:
    """Which GPUs and TP sizes would start this profile, and with how many KV
    tokens: the core evaluation only (no what-ifs, speed or response model),
    for comparison tables. TP is checked against the heads, FP8 KV against
    the GPU; the profile's other settings are kept."""
    era = E.era_for(req.profile.engine.vllm_version)
    args = req.profile.outputs.vllm_args
    given = parse_size(args.get("max_num_seqs"))
    seqs_given = given is not None and given >= 1
    dp = data_parallel_size(args)
    wanted = -(-req.profile.workload.concurrency // dp)
    rows: list[SweepRow] = []
    for device in gpus:
        ctx = Context.shared(req.model, device, era, device.interconnect or "pcie")
        base = _knobs(req.model_copy(update={"gpu": device}), era, [])
        # An fp8 KV cache is stored fp8 and upcast where FP8 compute is
        # missing: only a known capability below Ampere (8.0) is left out.
        cc = _capability(device)
        fp8_ok = device.fp8 or cc is None or cc >= (8, 0)
        for tp in tps:
            for dtype in kv_dtypes:
                reason = ""
                if not tp_valid(req.model, tp):
                    reason = f"TP {tp} does not divide the attention/KV heads"
                elif dtype in _FP8_KV and not fp8_ok:
                    reason = (
                        f"{device.name} (compute capability "
                        f"{device.compute_capability}) is older than Ampere: "
                        "fp8 KV not planned"
                    )
                if reason:
                    rows.append(SweepRow(device.name, tp, dtype, False, 0, 0.0, 0.0,
                                         reason))  # fmt: skip
                    continue
                o = evaluate(ctx, base._replace(tp=tp, kv_dtype=dtype))
                if not seqs_given:  # as run_plan plans it
                    o = fit_max_num_seqs(ctx, o, wanted)
                rows.append(
                    SweepRow(
                        device.name,
                        tp,
                        dtype,
                        o.starts,
                        o.tokens,
                        round(o.concurrency, 2),
                        round(max(0.0, o.kv), 2),
                        o.blockers[0] if o.blockers else "",
                    )  # fmt: skip
                )
    return rows
