"""The planner: pure functions from a `PlanRequest` to a `PlanResponse`.

No I/O, no UI, no YAML: model and GPU facts are resolved before and passed in.
It reproduces vLLM's own memory accounting, version by version (the reference
is VLLM_MEMORY.md; ids like ``c47`` are logs in tests/data/vllm_kv_logs.yaml).

Eras and defaults (`wizard_tui.planner.eras`):

========================  =========================================  =====  =====  ======  ==========================================
era (versions)            KV budget                                  util   block  graphs  source
========================  =========================================  =====  =====  ======  ==========================================
V0 (0.6 - 0.7)            u*M - (weights + activation peak)          0.90   16     not     vllm/worker/worker.py (V0); logs c01, c02,
                          - non-torch; profiled batch =                            charged c32; field case 1
                          max(max_model_len, 2048), 512 when
                          chunked prefill (auto above 32K)
V1 profile-only           R - weights - activation - non-torch,      0.90   16     not     gpu_worker.py @ 0012cf69 / 35d5cda1;
(0.8 - 0.20)              R = u*M; free-memory check at startup                    charged logs c47-c78 (0.19: exact), c83-c90
                          (0.9+); activation = max(forward pass,                   (0.11), c80/c81 (0.16 -> 0.17 drop),
                          sampler warm-up: 4 / 38.9 / 15.5 B per                   c92-c96 (0.10.1)
                          max_num_seqs x vocab to 0.10 / 0.11-0.16
                          / from 0.17)
V1 with graph profiling   same minus the CUDA-graph estimate         0.90,  16     charged VLLM_MEMORY.md c.1-c.2; backport#34
(0.21 - 0.33)                                                        0.92                  (graph profiling default from 0.21);
                                                                     (0.22+)               aiconfigurator util table (0.22 -> 0.92)
0.34 extensible KV cache  min(R - used, free - max(1 GiB, 0.75 P))   1.0    64     charged vllm 0.34.0 sdist: config/cache.py,
                          - P; no startup refusal; tokens derived                          extensible_kv_cache.py, kv_cache_utils.py
                          as concurrency x max_model_len                                   (VLLM_MEMORY.md c.3, c.6, c.9)
========================  =========================================  =====  =====  ======  ==========================================

Batch defaults (max_num_seqs / max_num_batched_tokens, API server): V0 256 /
max(max_model_len, 2048); V1 0.8.0-0.8.3 1024 everywhere (vllm#16551); from
0.8.4 1024 / 8,192 on >= 70 GiB non-A100 GPUs, else 256 / 2,048 (PR#16158,
logs c40, c47); 0.34 adds 1024 / 16,384 at >= 160 GiB (engine/arg_utils.py).
"""

from __future__ import annotations

import logging

from wizard_tui.schemas import PlanRequest, PlanResponse

log = logging.getLogger(__name__)

__all__ = ["PlannerUnavailable", "run_plan", "sweep"]


class PlannerUnavailable(RuntimeError):
    """Kept for callers written against the stub; `run_plan` no longer raises it."""


def run_plan(request: PlanRequest) -> PlanResponse:
    """Plan one deployment: per-GPU memory, KV cache, verdict, advice, speed.

    Pure and fast. Never raises on a valid request: every reason vLLM would not
    start is a blocker in the response.
    """
    from wizard_tui.planner.plan import plan

    try:
        return plan(request)
    except Exception as exc:  # a planner bug must not take the app down
        log.exception("planner failed")
        return _failed(request, exc)


def sweep(request: PlanRequest, gpus, tps=(1, 2, 4, 8), kv_dtypes=("auto", "fp8")):  # noqa: ANN001, ANN201
    """Starts? and KV tokens for every GPU x TP x KV dtype (see `plan.sweep`)."""
    from wizard_tui.planner.plan import sweep as _sweep

    return _sweep(request, list(gpus), tuple(tps), tuple(kv_dtypes))


def _failed(request: PlanRequest, exc: Exception) -> PlanResponse:
    from wizard_tui.schemas.plan import KvCache, PerGpu, Speed, WorkloadFit

    zero = [0.0, 0.0, 0.0]
    total = request.gpu.cuda_total_gib
    return PlanResponse(
        fits=False,
        vllm_starts=False,
        blockers=[
            f"the planner could not evaluate this profile ({exc!r}); please "
            "report it with the profile"
        ],  # fmt: skip
        engine_version=request.profile.engine.vllm_version or "0.34",
        tp_size=request.profile.hardware.tp_size or 1,
        pp_size=1,
        per_gpu=PerGpu(
            total_gib=total,
            usable_gib=0,
            weights_gib=0,
            activation_gib=0,
            non_torch_gib=0,
            cuda_graph_gib=0,
            other_gib=0,
            kv_cache_gib=0,
        ),  # fmt: skip
        kv_cache=KvCache(tokens=0, blocks=0, block_size=16, bytes_per_token=None),
        max_concurrency=0.0,
        max_model_len=request.profile.model.max_model_len or 0,
        max_model_len_fit=0,
        workload=WorkloadFit(concurrency_fit=0),
        speed=Speed(
            itl_ms=zero,
            ttft_ms=zero,
            decode_tok_s_per_seq=zero,
            decode_tok_s_total=zero,
            prefill_tok_s=zero,
        ),  # fmt: skip
        gpu_name=request.gpu.name,
        model_source=request.model.source,
        notes=list(request.notes),
    )
