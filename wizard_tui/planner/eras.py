"""vLLM accounting eras and the defaults that changed between versions.

Each constant names the log or source file it was read from; the full table is
in the package docstring (`wizard_tui.planner`). Ids like ``c47`` are entries
of ``tests/data/vllm_kv_logs.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from wizard_tui.schemas.profile import NEWEST_VLLM_VERSION, parse_version

V0 = "v0"
V1_PROFILE = "v1-profile"
V1_GRAPHS = "v1-graphs"
V1_EXTENSIBLE = "v1-extensible"


@dataclass(frozen=True, slots=True)
class Era:
    """How one vLLM version sizes its KV cache, and its defaults."""

    version: tuple[int, int, int]
    name: str
    label: str
    default_util: float
    block_size: int
    graphs_charged: bool
    checks_free_memory: bool
    # Activation peak coefficients (fitted on the logs, see activation_gib).
    fwd_bytes_per_token_elem: float
    logits_bytes_per_elem: float
    # Non-torch memory per GPU, GiB (NCCL/cuBLAS/custom all-reduce buffers).
    non_torch_tp1: float
    non_torch_tp_multi: float
    non_torch_pp_only: float
    tokens_derived: bool
    mla_pad: int

    @property
    def text(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


@lru_cache(maxsize=64)
def era_for(version: str | None) -> Era:
    """The era of a vLLM version text ('0.19.0', '0.34'); None = the newest."""
    v = parse_version(version or NEWEST_VLLM_VERSION)
    minor = v[:2]
    if minor < (0, 8):
        # V0 engine: KV = u*M - peak torch (weights + activations) - non-torch;
        # graphs captured after sizing (vllm/worker/worker.py, logs c01/c02/c32).
        return Era(
            v, V0, "V0 engine (profile, graphs outside the budget)",
            0.90, 16, False, False, 1.0, 4.0, 0.2, 2.0, 0.2, False, 128,
        )  # fmt: skip
    if minor < (0, 17):
        # V1 profile-only. Up to 0.10 the sampler warm-up held about one fp32
        # [max_num_seqs x vocab] copy (logs c92, c93, c96 at 0.10.1: activation
        # + non-torch 0.55-0.86 GiB); 0.11-0.16 about 38.9 B per element
        # (c83-c89 at 0.11, c80 at 0.16). See memory.activation_bytes.
        logits = 38.9 if minor >= (0, 11) else 4.0
        return Era(
            v, V1_PROFILE, "V1 profile-only (graphs outside the budget)",
            0.90, 16, False, minor >= (0, 9), 1.25, logits, 0.13, 0.55, 0.07,
            False, 0,
        )  # fmt: skip
    if minor < (0, 21):
        # 0.17 cut the activation peak ~60% (c80 -> c81); 0.19 logs c47-c78.
        nt1 = 0.25 if minor >= (0, 19) else 0.13
        nt_multi = 2.1 if minor >= (0, 19) else 0.55
        return Era(
            v, V1_PROFILE, "V1 profile-only (graphs outside the budget)",
            0.90, 16, False, True, 1.25, 15.5, nt1, nt_multi, 0.07, False, 0,
        )  # fmt: skip
    if minor < (0, 34):
        # Graph memory estimated and charged from v0.21 (VLLM_MEMORY.md c.2);
        # default util 0.92 from v0.22 (c.1).
        util = 0.92 if minor >= (0, 22) else 0.90
        return Era(
            v, V1_GRAPHS, "V1 with CUDA-graph profiling (graphs charged)",
            util, 16, True, True, 1.25, 15.5, 0.25, 2.1, 0.07, False, 0,
        )  # fmt: skip
    # 0.34: extensible KV cache on by default, u = 1.0, block size 64, tokens
    # derived from concurrency (VLLM_MEMORY.md c.1, c.3, c.6, c.9).
    return Era(
        v, V1_EXTENSIBLE, "0.34 extensible KV cache (u = 1.0, margin >= 1 GiB)",
        1.0, 64, True, False, 1.25, 15.5, 0.25, 2.1, 0.07, True, 0,
    )  # fmt: skip


def default_batch_limits(era: Era, gpu_name: str, total_gib: float) -> tuple[int, int]:
    """(max_num_seqs, max_num_batched_tokens) vLLM's API server picks by itself.

    V0: 256 sequences; the token budget is set later from max_model_len
    (`v0_batched_tokens`). V1 0.8.0-0.8.3: 1024 everywhere (vllm#16551); from
    0.8.4 by device (PR#16158); 0.34's rule by memory (`engine/arg_utils.py`):
    >= 160 GiB -> 1024 / 16,384; >= 70 GiB and not A100/GB10 -> 1024 / 8,192;
    otherwise 256 / 2,048.
    """
    if era.name == V0:
        return 256, 0
    name = gpu_name.lower()
    big = total_gib >= 70 and "a100" not in name and "gb10" not in name
    if era.version[:3] < (0, 8, 4):
        return 1024, 8192 if big else 2048
    if era.name == V1_EXTENSIBLE and total_gib >= 160:
        return 1024, 16384
    if big:
        return 1024, 8192
    return 256, 2048


def v0_batched_tokens(max_model_len: int, chunked: bool | None) -> tuple[int, bool]:
    """V0's max_num_batched_tokens and whether chunked prefill is on.

    V0 switched chunked prefill on by itself above 32K tokens (field case 1,
    log c22: budget 512); without it the budget is max(max_model_len, 2048), so
    the profiled batch grows with max_model_len (`vllm/config.py`, V0).
    """
    if chunked is None:
        chunked = max_model_len > 32768
    if chunked:
        return 512, True
    return max(max_model_len, 2048), False


def capture_sizes(max_num_seqs: int, era: Era) -> int:
    """How many CUDA-graph batch sizes vLLM captures.

    V1: 1, 2, 4, then multiples of 8 to 256, then multiples of 16 up to
    min(2 x max_num_seqs, 512) (`config/vllm.py::_set_cudagraph_sizes`).
    V0: 1, 2, 4 and multiples of 8 up to min(max_num_seqs, 256).
    """
    return _capture_sizes(max_num_seqs, era.name == V0)


@lru_cache(maxsize=256)
def _capture_sizes(max_num_seqs: int, v0: bool) -> int:
    top = min(max_num_seqs, 256) if v0 else min(2 * max_num_seqs, 512)
    n = sum(1 for s in (1, 2, 4) if s <= top)
    n += min(top, 256) // 8
    if top > 256:
        n += (top - 256) // 16
    return n
