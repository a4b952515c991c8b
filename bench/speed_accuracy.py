"""How close the planner's speed estimates come to measured vLLM speed.

Usage: python bench/speed_accuracy.py [SPEED_YAML]
       (default tests/data/vllm_speed_measurements.yaml)

Rows with explicit concurrency (max_concurrency or batch size) whose model and
GPU resolve are planned at that concurrency; the measured inter-token latency
(median ITL or TPOT, or 1000 / per-user tokens/s) is compared with the
planner's typical estimate and its [low, high] range. Target: batch-1 ITL
median error <= 20%. TTFT is reported where the row gives an input length.
"""

from __future__ import annotations

import re
import statistics
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from accuracy import resolve_arch  # noqa: E402

from wizard_tui.planner import run_plan  # noqa: E402
from wizard_tui.schemas import GpuSpec, PlanRequest, Profile  # noqa: E402

DEFAULT = ROOT / "tests" / "data" / "vllm_speed_measurements.yaml"


def _gpu(text: str) -> GpuSpec | None:
    try:
        from wizard_tui.catalog.gpus import find_gpu
    except ImportError:
        return None
    name = re.sub(r"\(.*?\)", "", text or "").strip()
    name = name.replace("141GB", "").replace("Blackwell Ultra", "B300")
    for candidate in (name, f"{name} SXM", name.split(" ")[-1] if name else ""):
        try:
            return find_gpu(candidate)
        except Exception:  # noqa: BLE001 - try the next spelling
            continue
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        m = re.search(r"(\d[\d,]*(?:\.\d+)?)\s*([kK]?)", value)
        if m:
            number = float(m.group(1).replace(",", ""))
            return int(number * (1000 if m.group(2) else 1))
    return None


def measured_itl(rep: dict[str, Any], gen: int | None = None) -> float | None:
    """Measured inter-token latency, ms; from end-to-end latency minus TTFT
    over the output tokens when only per-query tokens/s is given."""
    for key in ("median_itl_ms", "median_tpot_ms", "mean_itl_ms"):
        if isinstance(rep.get(key), (int, float)):
            return float(rep[key])
    intercept = rep.get("itl_intercept_ms")
    if isinstance(intercept, str):
        nums = [float(x) for x in re.findall(r"\d+\.\d+", intercept)]
        if nums:
            return sum(nums) / len(nums)
    e2e, first = rep.get("median_e2e_latency_ms"), rep.get("median_ttft_ms")
    if gen and isinstance(e2e, (int, float)) and isinstance(first, (int, float)):
        return (e2e - first) / max(1, gen - 1)
    for key in ("median_output_tok_s_per_query", "output_tok_s_per_user",
                "decode_tok_s_per_request"):  # fmt: skip
        value = rep.get(key)
        if isinstance(value, str):
            value = _int(value)
        if isinstance(value, (int, float)) and value > 0:
            return 1000.0 / float(value)
    return None


def _version(text: Any) -> str:
    m = re.search(r"(\d+)\.(\d+)", str(text or ""))
    if not m or (int(m.group(1)), int(m.group(2))) < (0, 6):
        return "0.6.0" if m else "0.34"
    return m.group(0)


def plan_row(row: dict[str, Any]) -> tuple[Any, int, str] | None:
    bench = row.get("benchmark") or {}
    conc = bench.get("max_concurrency") or bench.get("batch_size")
    if not isinstance(conc, int):
        return None
    arch = resolve_arch(row["model"], None)
    inner = re.search(r"\(([\w.-]+)\)", row["model"])
    if arch is None and inner:
        # "Qwen 3.5 397B (Qwen3.5-397B-A17B)": the repo name in parentheses.
        org = row["model"].split(" ")[0]
        arch = resolve_arch(f"{org}/{inner.group(1)}", None)
    device = _gpu(str(row.get("gpu") or ""))
    if arch is None or device is None:
        return None
    tp = int(row.get("tensor_parallel_size") or 1)
    prompt = _int(bench.get("input_len")) or 512
    gen = _int(bench.get("output_len")) or 256
    profile = Profile.model_validate(
        {
            "model": {"id": arch.model_id,
                      "max_model_len": min(arch.max_model_len,
                                           max(4096, 2 * (prompt + gen)))},
            "hardware": {"gpu_name": device.name, "gpus": tp, "tp_size": tp},
            "workload": {"prompt_tokens": prompt, "gen_tokens": gen,
                         "concurrency": conc},
            "engine": {"vllm_version": _version(row.get("vllm_version"))},
        }
    )  # fmt: skip
    resp = run_plan(PlanRequest(profile=profile, model=arch, gpu=device))
    return resp, conc, arch.family


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT
    rows = yaml.safe_load(path.read_text())
    batch1: list[float] = []
    others: list[float] = []
    inside = 0
    ttft: list[float] = []
    groups: dict[str, list[float]] = {}
    print(f"# {path}: {len(rows)} rows")
    for row in rows:
        rep = row.get("reported") or {}
        real = measured_itl(rep, _int((row.get("benchmark") or {}).get("output_len")))
        if real is None:
            continue
        planned = plan_row(row)
        if planned is None:
            print(f"  {row['id'][:44]:44} skipped: no concurrency, model or GPU")
            continue
        resp, conc, family = planned
        low, typical, high = resp.speed.itl_ms
        err = abs(typical - real) / real * 100
        inside += low <= real <= high
        (batch1 if conc == 1 else others).append(err)
        groups.setdefault(f"family {family}", []).append(err)
        groups.setdefault(f"vLLM {resp.engine_version}", []).append(err)
        line = (f"  {row['id'][:44]:44} c={conc:<4} ITL {typical:6.2f} ms "
                f"[{low:.2f}, {high:.2f}] vs {real:6.2f} ms ({err:5.1f}%)")  # fmt: skip
        if conc == 1 and isinstance(rep.get("median_ttft_ms"), (int, float)):
            t_err = abs(resp.speed.ttft_ms[1] - rep["median_ttft_ms"])
            t_err = t_err / rep["median_ttft_ms"] * 100
            ttft.append(t_err)
            line += (
                f"; TTFT {resp.speed.ttft_ms[1]:.0f} vs {rep['median_ttft_ms']:.0f} ms"
            )
        print(line)

    def summary(label: str, errs: list[float]) -> None:
        if errs:
            print(f"{label}: n={len(errs)} median error {statistics.median(errs):.1f}% "
                  f"max {max(errs):.1f}%")  # fmt: skip
        else:
            print(f"{label}: no rows")

    summary("batch-1 ITL (target median <= 20%)", batch1)
    summary("ITL at concurrency > 1", others)
    summary("batch-1 TTFT", ttft)
    for key in sorted(groups):
        summary(f"  ITL by {key}", groups[key])
    total = len(batch1) + len(others)
    print(f"measured ITL inside the [low, high] range: {inside}/{total}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
