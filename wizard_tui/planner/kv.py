"""KV cache pages, blocks, tokens and concurrency, as vLLM computes them.

Sources (VLLM_MEMORY.md c.4-c.7): `vllm/v1/kv_cache_interface.py` (page sizes,
per-request need), `vllm/v1/core/kv_cache_utils.py` and
`kv_cache_planning.py` (groups, blocks, capacity, estimate_max_model_len),
`vllm/config/model.py::get_num_kv_heads` (per-rank KV heads). Bytes are bytes,
lengths are tokens.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from wizard_tui.planner.eras import V0, V1_EXTENSIBLE, Era
from wizard_tui.schemas.facts import ModelArch

# Bytes per element of the KV cache dtypes the planner can size
# (`vllm/config/cache.py`); per-token-head formats add one fp32 scale per head
# and token, NVFP4 one fp8 scale per 16 elements.
_KV_ELEM_BYTES = {
    "auto": 2.0,
    "float16": 2.0,
    "bfloat16": 2.0,
    "fp8": 1.0,
    "fp8_e4m3": 1.0,
    "fp8_e5m2": 1.0,
    "fp8_inc": 1.0,
    "fp8_ds_mla": 1.0,
    "nvfp4_ds_mla": 0.5,
    "int8_per_token_head": 1.0,
    "fp8_per_token_head": 1.0,
    "int4_per_token_head": 0.5,
    "nvfp4": 0.5625,
}
# Packed MLA entries per token and layer (`flashmla_sparse.py`): 512 fp8 NoPE +
# 16 B scales + 128 B bf16 RoPE = 656 B; NVFP4 352 B.
_MLA_PACKED = {"fp8_ds_mla": 656, "nvfp4_ds_mla": 352}
_ATTENTION_KINDS = ("full", "sliding", "chunked")


def kv_elem_bytes(kv_cache_dtype: str) -> float:
    """Bytes per stored K or V element for a `--kv-cache-dtype` value."""
    return _KV_ELEM_BYTES.get(kv_cache_dtype, 2.0)


def is_mla(arch: ModelArch) -> bool:
    return bool(arch.kv_lora_rank) and arch.qk_rope_head_dim is not None


def kv_heads_per_rank(arch: ModelArch, tp: int) -> int:
    """max(1, H_kv // T) (`config/model.py::get_num_kv_heads`); MLA: 1, replicated."""
    if is_mla(arch):
        return 1
    return max(1, arch.num_kv_heads // tp)


def attn_token_bytes(
    arch: ModelArch, tp: int, kv_dtype: str, era: Era, kind: str = "full"
) -> int:
    """KV bytes of one token in one attention layer of `kind` on one rank.

    GQA/MHA: H_kv_rank x (d_k + d_v) x b, with per-kind heads and head size
    where the model has them (Gemma 4 global layers). MLA: one latent of
    kv_lora_rank + qk_rope_head_dim values on every rank (V0 padded it to a
    multiple of 128: 1,280 B instead of 1,152 in log c14), or the packed
    fp8_ds_mla entry.
    """
    if is_mla(arch):
        if kv_dtype in _MLA_PACKED:
            return _MLA_PACKED[kv_dtype]
        width = (arch.kv_lora_rank or 0) + (arch.qk_rope_head_dim or 0)
        if era.mla_pad:
            width = -(-width // era.mla_pad) * era.mla_pad
        return int(width * kv_elem_bytes(kv_dtype))
    total_heads = arch.num_kv_heads
    d_k = arch.head_dim
    d_v = arch.v_head_dim if arch.v_head_dim is not None else arch.head_dim
    if arch.kv_heads_by_kind and kind in arch.kv_heads_by_kind:
        total_heads = arch.kv_heads_by_kind[kind]
    if arch.head_dim_by_kind and kind in arch.head_dim_by_kind:
        d_k = d_v = arch.head_dim_by_kind[kind]
    heads = max(1, total_heads // tp)
    size = heads * (d_k + d_v) * kv_elem_bytes(kv_dtype)
    if kv_dtype.endswith("_per_token_head"):
        size += heads * 2 * 4
    return int(math.ceil(size))


def stage_layer_counts(num_layers: int, pp: int) -> list[int]:
    """Layers per pipeline stage (`vllm/distributed/utils.py::get_pp_indices`):
    an even split, the remainder going to the stages before the last."""
    base = num_layers // pp
    parts = [base] * pp
    for i in range(2, num_layers % pp + 2):
        parts[-i] += 1
    return parts


@dataclass(frozen=True, slots=True)
class KindSpec:
    """The layers of one kind on one rank: count, bytes per token per layer
    (0 for state layers) and tokens per block after page unification."""

    kind: str
    layers: int
    token_bytes: int
    block_size: int
    need_kind: str  # the per-request rule: kind, or "full" without the hybrid manager


@dataclass(frozen=True, slots=True)
class KvLayout:
    """The KV cache of one rank of one pipeline stage."""

    block_size: int  # tokens per block of the full-attention (or first) kind
    page_bytes: int  # bytes of one block in one layer (unified page)
    specs: tuple[KindSpec, ...]
    groups: tuple[str, ...]  # the kind of each KV cache group
    group_size: int
    bytes_per_block: int
    full_token_bytes: int
    full_layers: int
    sliding_window: int
    chunk: int
    derived_tokens: bool
    v0: bool

    @property
    def bytes_per_token(self) -> int | None:
        """KV bytes one more token costs on this rank (full-attention layers)."""
        if self.full_layers == 0:
            return None
        return self.full_layers * self.full_token_bytes

    def blocks(self, kv_bytes: float) -> int:
        """floor(KV memory / bytes per block) (c.5)."""
        if kv_bytes <= 0 or self.bytes_per_block <= 0:
            return 0
        return int(kv_bytes // self.bytes_per_block)

    def need_blocks(self, spec: KindSpec, length: int, in_flight: int) -> int:
        """Blocks one request of `length` tokens needs in one group of a kind
        (`kv_cache_interface.py::max_memory_usage_bytes`)."""
        bs = spec.block_size
        if spec.need_kind == "full":
            return -(-length // bs)
        if spec.need_kind == "sliding":
            return -(-min(self.sliding_window - 1 + in_flight, length) // bs) + 1
        if spec.need_kind == "chunked":
            return -(-min(self.chunk + in_flight, length) // bs)
        return 1  # one state page per request for Mamba / linear layers

    def request_blocks(self, length: int, in_flight: int) -> int:
        """Blocks of the shared pool one request takes, over all groups."""
        if self.v0:
            return -(-length // self.block_size)
        total = 0
        for spec in self.specs:
            n_groups = -(-spec.layers // self.group_size)
            total += n_groups * self.need_blocks(spec, length, in_flight)
        return total

    def request_bytes(self, length: int, in_flight: int) -> int:
        """Bytes one request of `length` tokens needs, summed over layers; what
        vLLM's fit check and estimate_max_model_len compare with the budget."""
        if self.v0:
            return self.request_blocks(length, in_flight) * self.bytes_per_block
        total = 0
        for spec in self.specs:
            need = self.need_blocks(spec, length, in_flight)
            total += need * spec.layers * self.page_bytes
        return total

    def tokens(self, blocks: int, max_model_len: int, in_flight: int) -> int:
        """vLLM's 'GPU KV cache size: N tokens'.

        V0 and older V1: blocks // groups x block size (`kv_cache_utils.py` @
        bbf906a8, logs c69, c74); 0.34: floor(concurrency x max_model_len)
        (c.6)."""
        if self.v0:
            return blocks * self.block_size
        if self.derived_tokens:
            return int(
                self.concurrency(blocks, max_model_len, in_flight) * max_model_len
            )
        return blocks // max(1, len(self.groups)) * self.block_size

    def capacity(
        self, blocks: int, max_model_len: int, in_flight: int
    ) -> tuple[int, float, int]:
        """(`tokens`, `concurrency`, `request_bytes`) of `max_model_len` in one
        pass over the kinds: the planner asks for the three together on every
        evaluation."""
        if self.v0:
            need = -(-max_model_len // self.block_size)
            conc = blocks / need if need else 0.0
            return blocks * self.block_size, conc, need * self.bytes_per_block
        need = 0
        layer_blocks = 0
        size = self.group_size
        for spec in self.specs:
            n = self.need_blocks(spec, max_model_len, in_flight)
            need += -(-spec.layers // size) * n
            layer_blocks += n * spec.layers
        conc = blocks / need if need else 0.0
        if self.derived_tokens:
            tokens = int(conc * max_model_len)
        else:
            tokens = blocks // max(1, len(self.groups)) * self.block_size
        return tokens, conc, layer_blocks * self.page_bytes

    def concurrency(self, blocks: int, max_model_len: int, in_flight: int) -> float:
        """'Maximum concurrency for max_model_len tokens per request' (c.6)."""
        need = self.request_blocks(max_model_len, in_flight)
        return blocks / need if need else 0.0

    def read_bytes(self, context: int) -> int:
        """KV bytes a decode step reads for one sequence of `context` tokens:
        full layers the whole context, windows at most their window, state
        layers their state page."""
        total = 0
        for spec in self.specs:
            if spec.need_kind == "full":
                span = context
            elif spec.need_kind == "sliding":
                span = min(context, self.sliding_window)
            elif spec.need_kind == "chunked":
                span = min(context, self.chunk)
            else:
                total += spec.layers * self.page_bytes
                continue
            total += spec.layers * spec.token_bytes * span
        return total

    def max_len_fit(self, kv_bytes: float, in_flight: int, cap: int) -> int:
        """Largest length whose request fits in `kv_bytes` by binary search
        (`kv_cache_planning.py::estimate_max_model_len`); 0 if none does."""
        if not self.specs or self.request_bytes(1, in_flight) > kv_bytes:
            return 0
        if self.request_bytes(cap, in_flight) <= kv_bytes:
            return cap
        low, high = 1, cap
        while low < high:
            mid = (low + high + 1) // 2
            if self.request_bytes(mid, in_flight) <= kv_bytes:
                low = mid
            else:
                high = mid - 1
        return low


def layer_kinds(arch: ModelArch) -> tuple[str, ...]:
    """Kind of every layer as vLLM groups them (linear attention keeps a state
    page like Mamba)."""
    return _kinds(
        arch.layer_kinds,
        arch.num_layers,
        bool(arch.sliding_window),
        bool(arch.attention_chunk_size),
    )


@lru_cache(maxsize=128)
def _kinds(
    given: tuple[str, ...] | None, layers: int, window: bool, chunk: bool
) -> tuple[str, ...]:
    if given is not None and len(given) == layers:
        kinds = tuple("mamba" if k == "linear" else k for k in given)
    elif window:
        kinds = ("sliding",) * layers
    else:
        kinds = ("full",) * layers
    if not window:
        kinds = tuple("full" if k == "sliding" else k for k in kinds)
    if not chunk:
        kinds = tuple("full" if k == "chunked" else k for k in kinds)
    return kinds


def state_bytes(arch: ModelArch, tp: int) -> int:
    """One sequence's recurrent state in one Mamba/linear layer on one rank
    (heads split over TP)."""
    if arch.state_bytes_per_layer:
        total = arch.state_bytes_per_layer
    else:
        total = (arch.state_elems_per_layer or 0) * (arch.state_dtype_bytes or 2)
    return int(-(-total // max(1, tp)))


def cached_layout(
    arch: ModelArch,
    kinds: tuple[str, ...],
    tp: int,
    kv_dtype: str,
    block_size: int | None,
    era: Era,
    hybrid_manager: bool = True,
    facts: tuple | None = None,
) -> KvLayout:
    """`build_layout`, memoised on the facts a layout depends on (the planner
    runs on every keystroke with the same model). `facts` is
    `layout_facts(arch)`, which a caller may keep."""
    key = (
        kinds, tp, kv_dtype, block_size, era.name, era.block_size, era.mla_pad,
        hybrid_manager, facts or layout_facts(arch),
    )  # fmt: skip
    layout = _LAYOUTS.get(key)
    if layout is None:
        if len(_LAYOUTS) > 512:
            _LAYOUTS.clear()
        layout = build_layout(
            arch, kinds, tp, kv_dtype, block_size, era, hybrid_manager
        )
        _LAYOUTS[key] = layout
    return layout


_LAYOUTS: dict[tuple, KvLayout] = {}


def layout_facts(arch: ModelArch) -> tuple:
    """The facts of `arch` a KV layout depends on, as a hashable key."""
    return (
        arch.num_kv_heads, arch.head_dim, arch.v_head_dim, arch.kv_lora_rank,
        arch.qk_rope_head_dim, arch.sliding_window, arch.attention_chunk_size,
        arch.state_bytes_per_layer, arch.state_elems_per_layer,
        arch.state_dtype_bytes,
        tuple(sorted((arch.kv_heads_by_kind or {}).items())),
        tuple(sorted((arch.head_dim_by_kind or {}).items())),
    )  # fmt: skip


def build_layout(
    arch: ModelArch,
    kinds: tuple[str, ...],
    tp: int,
    kv_dtype: str,
    block_size: int | None,
    era: Era,
    hybrid_manager: bool = True,
) -> KvLayout:
    """Pages, groups and bytes per block for the layers of one stage on one rank.

    Groups (c.5, `kv_cache_utils.py`): each kind's layers are cut into groups
    of `group_size` layers, group_size = the largest kind's count when it is
    within 1.25x of the smallest, else the smallest; bytes per block =
    group_size x page. Pages are unified: kinds with smaller per-token bytes
    take more tokens per block, and a Mamba state page raises the attention
    block size (in steps of 16 tokens) until an attention page holds it.
    Without the hybrid KV manager (`--disable-hybrid-kv-cache-manager`)
    sliding and chunked layers are charged at full length (field case 21).
    """
    counts = Counter(kinds)
    counts.pop("none", None)
    token = {
        k: attn_token_bytes(arch, tp, kv_dtype, era, k)
        for k in counts
        if k in _ATTENTION_KINDS
    }
    state = state_bytes(arch, tp) if counts.get("mamba") else 0
    bs = block_size or era.block_size
    derived = era.name == V1_EXTENSIBLE
    if not counts:
        return KvLayout(bs, 0, (), (), 1, 0, 0, 0, 0, 0, derived, era.name == V0)
    ref = max(token.values()) if token else 0
    if state and ref and block_size is None and state > bs * ref:
        align = 16
        bs = align * -(-state // (align * ref))
    page = max(bs * ref, state)

    if era.name == V0:
        # V0 has one pool of identical layers: every layer is charged in full.
        layers = sum(counts.values())
        t = ref or 0
        spec = KindSpec("full", layers, t, bs, "full")
        return KvLayout(
            bs, bs * t, (spec,), ("full",), layers, bs * t * layers, t, layers,
            0, 0, False, True,
        )  # fmt: skip

    specs = []
    for kind, n in counts.items():
        t = token.get(kind, 0)
        need = "full" if not hybrid_manager and kind in ("sliding", "chunked") else kind
        specs.append(KindSpec(kind, n, t, page // t if t else bs, need))
    if len(counts) == 1:
        group_size = next(iter(counts.values()))
    else:
        low, high = min(counts.values()), max(counts.values())
        group_size = high if high < 1.25 * low else low
    groups = []
    for spec in specs:
        groups.extend([spec.kind] * -(-spec.layers // group_size))
    full = next((s for s in specs if s.kind == "full"), None)
    return KvLayout(
        block_size=full.block_size if full else specs[0].block_size,
        page_bytes=page,
        specs=tuple(specs),
        groups=tuple(groups),
        group_size=group_size,
        bytes_per_block=group_size * page,
        full_token_bytes=full.token_bytes if full else 0,
        full_layers=full.layers if full else 0,
        sliding_window=arch.sliding_window or 0,
        chunk=arch.attention_chunk_size or 0,
        derived_tokens=derived,
        v0=False,
    )
