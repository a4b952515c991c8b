"""How fast the planner runs: median microseconds of `run_plan`, and a sweep of
every catalog GPU x TP 1/2/4/8 x KV dtype auto/fp8.

Usage: python bench/plan_speed.py [LOGS_YAML]   (default tests/data/vllm_kv_logs.yaml)

The logs file only supplies which models to time (one per family, resolved
through the catalog). Targets: median run_plan <= 100 us for a dense model
(well under 1 ms at least); the sweep within 50 ms.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from accuracy import DEFAULT, resolve_arch  # noqa: E402

from wizard_tui.planner import run_plan, sweep  # noqa: E402
from wizard_tui.schemas import GpuSpec, PlanRequest, Profile  # noqa: E402

H100 = GpuSpec(name="H100 SXM", cuda_total_gib=79.19, bandwidth_gbs=3350,
               bf16_tflops=989, fp8=True, compute_capability="9.0",
               interconnect="nvlink")  # fmt: skip


def _request(arch, version: str | None, gpus: int = 8) -> PlanRequest:
    profile = Profile.model_validate(
        {
            "model": {
                "id": arch.model_id,
                "max_model_len": min(8192, arch.max_model_len),
            },
            "hardware": {"gpu_name": "H100 SXM", "gpus": gpus, "tp_size": None},
            "engine": {"vllm_version": version},
        }
    )
    return PlanRequest(profile=profile, model=arch, gpu=H100)


def _median_us(req: PlanRequest, runs: int = 2000) -> float:
    for _ in range(50):
        run_plan(req)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run_plan(req)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def _median_cold_us(req: PlanRequest, runs: int = 500) -> float:
    """Each call with a fresh copy of the model facts, so nothing memoised per
    model and GPU object (`plan.Context.shared`) is reused: a plan for a
    model the session has not planned before. Copies are made untimed."""
    reqs = [req.model_copy(update={"model": req.model.model_copy()})
            for _ in range(runs)]  # fmt: skip
    times = []
    for r in reqs:
        start = time.perf_counter()
        run_plan(r)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def _median_keystroke_us(req: PlanRequest, runs: int = 1000) -> float:
    """Each call with another max_model_len (as when typing in that field):
    the model and GPU facts are the same objects, the engine settings new, so
    no configuration evaluated before is reused. Requests are built untimed."""
    base = req.profile
    reqs = []
    for i in range(runs):
        model = base.model.model_copy(update={"max_model_len": 6000 + 7 * i})
        profile = base.model_copy(update={"model": model})
        reqs.append(req.model_copy(update={"profile": profile}))
    times = []
    for r in reqs:
        start = time.perf_counter()
        run_plan(r)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def _catalog_gpus() -> list[GpuSpec]:
    try:
        from wizard_tui.catalog.gpus import gpu_catalog

        return list(gpu_catalog())
    except Exception:  # noqa: BLE001 - the catalog is optional here
        return [H100]


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT
    cases = yaml.safe_load(path.read_text())
    by_family: dict[str, object] = {}
    for case in cases:
        arch = resolve_arch(case["model"], case.get("model_config_key"))
        if arch is not None and arch.family not in by_family:
            by_family[arch.family] = arch
    print("# run_plan median over 2,000 runs (auto TP on 8x H100, max_model_len 8192)")
    dense_us = None
    for family, arch in sorted(by_family.items()):
        for version in ("0.6.4", "0.19.0", "0.34"):
            us = _median_us(_request(arch, version), runs=1000)
            if family == "dense" and version == "0.34":
                dense_us = us
            print(f"  {family:9} {arch.model_id[:40]:40} vLLM {version:7} {us:8.1f} us")
    if dense_us is not None:
        print(f"dense model, vLLM 0.34: median {dense_us:.1f} us (target <= 100 us)")
    dense = by_family.get("dense")
    if dense is not None:
        typed = _median_keystroke_us(_request(dense, "0.34"))
        print(f"dense model, vLLM 0.34, a new max_model_len each call: median "
              f"{typed:.1f} us")  # fmt: skip
        cold = _median_cold_us(_request(dense, "0.34"))
        print(f"dense model, vLLM 0.34, first plan for a new model object: median "
              f"{cold:.1f} us")  # fmt: skip

    gpus = _catalog_gpus()
    arch = by_family.get("dense")
    if arch is None:
        return 0
    req = _request(arch, "0.34")
    cells = len(gpus) * 4 * 2
    for label, fn in (
        ("sweep()", lambda: sweep(req, gpus)),
        ("sweep(), new model object",
         lambda: sweep(req.model_copy(update={"model": req.model.model_copy()}),
                       gpus)),
        ("run_plan per cell", lambda: _full_sweep(req, gpus)),
        # A fresh copy of the model each time: nothing memoised is reused.
        ("run_plan per cell, new model object",
         lambda: _full_sweep(req.model_copy(update={"model": req.model.model_copy()}),
                             gpus)),
    ):  # fmt: skip
        fn()
        times = []
        for _ in range(5):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        print(f"{label}: {len(gpus)} GPUs x TP 1/2/4/8 x KV auto/fp8 = {cells} "
              f"cells in {statistics.median(times) * 1e3:.1f} ms (target 50 ms)")  # fmt: skip
    return 0


def _full_sweep(req: PlanRequest, gpus: list[GpuSpec]) -> None:
    for device in gpus:
        for tp in (1, 2, 4, 8):
            for dtype in ("auto", "fp8"):
                prof = req.profile.model_copy(
                    update={
                        "hardware": req.profile.hardware.model_copy(
                            update={"tp_size": tp, "gpus": 8}
                        ),
                        "model": req.profile.model.model_copy(
                            update={"kv_cache_dtype": dtype}
                        ),
                    }
                )
                run_plan(PlanRequest(profile=prof, model=req.model, gpu=device))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
