"""Detection of the GPUs of the host the user is on (``vllm-wizard detect``).

Tried in order: NVML through nvidia-ml-py (the optional ``nvml`` extra), then
``nvidia-smi --query-gpu``, then ``amd-smi`` and ``rocm-smi`` JSON. Every
command runs with a timeout, as an argv list without a shell, and a hung tool is
killed with its children. The installed vLLM version is read from package
metadata, without importing vLLM.

Each GPU reports nvidia-smi's memory (MiB) and the CUDA total (GiB, what vLLM
plans with): the catalog's figure when the name is a catalog GPU whose memory
agrees, else nvidia-smi's total minus an estimate of the reserved memory.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from importlib import metadata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from wizard_tui.catalog.errors import ResolutionError
from wizard_tui.catalog.gpus import find_gpu

__all__ = [
    "NO_GPU_MESSAGE",
    "DetectResult",
    "DetectedGpu",
    "detect_gpus",
    "overhead_gib_from",
    "render_detect",
]

log = logging.getLogger(__name__)

NO_GPU_MESSAGE = "no local GPU found: type the GPU name or vram_gb into the profile"

# nvidia-smi's memory.total exceeds CUDA's total by what the driver keeps back.
# Measured gaps (nvidia-smi MiB -> CUDA GiB x 1024): H100 SXM 81559 -> 81089
# (470), H200 143771 -> 143165 (606), L40S 46068 -> 45486 (582), RTX 3090
# 24576 -> 24146 (430), A100 40GB 40960 -> 40335 (625), A10G 23028 -> 22587
# (441), B200 183359 -> 182631 (728), RTX A6000 49140 -> 48676 (464); the
# median is about 512 MiB, within 0.25 GiB of each. ROCm keeps about 20 MiB
# (MI300X: 196608 MiB of HBM, 191.98 GiB total in PyTorch).
NVIDIA_RESERVED_ESTIMATE_MIB = 512
AMD_RESERVED_ESTIMATE_MIB = 20

_SMI_FIELDS = (
    "index",
    "name",
    "memory.total",
    "memory.used",
    "memory.free",
    "driver_version",
    "compute_cap",
    "mig.mode.current",
)
# Drivers older than about R510 reject compute_cap and may reject MIG mode.
_SMI_BASIC_FIELDS = _SMI_FIELDS[:6]

Source = Literal["nvml", "nvidia-smi", "amd-smi", "rocm-smi", "none"]


class DetectedGpu(BaseModel):
    """One local GPU as the host reports it. Memory in MiB (2^20 bytes) as
    nvidia-smi prints it; ``cuda_total_gib`` in GiB as vLLM logs it."""

    model_config = ConfigDict(frozen=True)

    index: int
    name: str
    vendor: Literal["nvidia", "amd", "other"] = "nvidia"
    memory_total_mib: int | None = None
    memory_used_mib: int | None = None
    memory_free_mib: int | None = None
    cuda_total_gib: float | None = None
    cuda_total_source: str = ""
    driver_version: str | None = None
    cuda_version: str | None = None
    compute_capability: str | None = None
    mig_mode: str | None = None
    catalog_name: str | None = None


class DetectResult(BaseModel):
    """What `detect_gpus` found, with where it came from and a line for users."""

    model_config = ConfigDict(frozen=True)

    gpus: tuple[DetectedGpu, ...] = ()
    vllm_version: str | None = None
    source: Source = "none"
    message: str = NO_GPU_MESSAGE

    def to_json_dict(self) -> dict[str, Any]:
        """``{"gpus": [...], "vllm_version", "source", "message"}`` (CONTRACT.md)."""
        return {
            "gpus": [gpu.model_dump(mode="json") for gpu in self.gpus],
            "vllm_version": self.vllm_version,
            "source": self.source,
            "message": self.message,
        }


def detect_gpus(timeout: float = 5.0) -> DetectResult:
    """Detect the host's GPUs and the installed vLLM version.

    ``timeout`` bounds each external command in seconds. Never raises for a
    missing or broken tool: the result then has no GPUs and a message that
    says what happened and that the user can type the GPU in.
    """
    vllm_version = installed_vllm_version()
    problems: list[str] = []

    gpus = _nvml_gpus(problems)
    source: Source = "nvml"
    if not gpus:
        gpus, source = _nvidia_smi_gpus(timeout, problems), "nvidia-smi"
    if not gpus:
        gpus, source = _amd_smi_gpus(timeout, problems), "amd-smi"
    if not gpus:
        gpus, source = _rocm_smi_gpus(timeout, problems), "rocm-smi"

    gpus, visible_note = _visible_only(gpus)
    if not gpus:
        if visible_note:
            problems.append(visible_note.strip(" ()"))
        message = NO_GPU_MESSAGE
        if problems:
            message += " (" + "; ".join(problems) + ")"
        return DetectResult(vllm_version=vllm_version, source="none", message=message)

    count = f"{len(gpus)} GPU" + ("" if len(gpus) == 1 else "s")
    message = f"{count} found through {source}{visible_note}"
    unknown = [g.name for g in gpus if g.catalog_name is None]
    if unknown:
        message += (
            f"; not in the catalog: {', '.join(sorted(set(unknown)))} "
            "(CUDA total estimated)"
        )
    if any(g.mig_mode == "Enabled" for g in gpus):
        message += (
            "; MIG is on: vLLM runs on one MIG instance, so set hardware.vram_gb "
            "to that instance's memory"
        )
    return DetectResult(
        gpus=tuple(gpus), vllm_version=vllm_version, source=source, message=message
    )


def _visible_only(gpus: list[DetectedGpu]) -> tuple[list[DetectedGpu], str]:
    """The GPUs vLLM would see: NVML and the smi tools list every GPU, but CUDA
    and ROCm honour ``CUDA_VISIBLE_DEVICES`` / ``HIP_VISIBLE_DEVICES``. Only
    lists of indices are applied; UUIDs or MIG ids are reported, not applied."""
    if not gpus:
        return gpus, ""
    names = ["CUDA_VISIBLE_DEVICES"]
    if gpus[0].vendor == "amd":
        names = ["HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", *names]
    variable = next((name for name in names if name in os.environ), None)
    if variable is None:
        return gpus, ""
    value = os.environ[variable]
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if parts and parts[0].upper().startswith(("GPU-", "MIG-")):
        return gpus, f" ({variable}={value} not applied: only indices are)"
    by_index = {gpu.index: gpu for gpu in gpus}
    kept: list[DetectedGpu] = []
    for part in parts:
        if not part.isdigit() or int(part) not in by_index:
            break  # CUDA reads the list up to its first invalid entry ("-1")
        kept.append(by_index[int(part)])
    return kept, f" ({variable}={value}: {len(kept)} of {len(gpus)} visible)"


def installed_vllm_version() -> str | None:
    """vLLM's version from package metadata (vLLM is not imported), or None."""
    try:
        return metadata.version("vllm")
    except metadata.PackageNotFoundError:
        return None
    except Exception:  # a broken install must not break detection
        log.debug("reading vllm metadata failed", exc_info=True)
        return None


def overhead_gib_from(result: DetectResult) -> float:
    """GiB already used on the busiest GPU (other processes), for
    ``policy.overhead_gb``: max over GPUs of used MiB / 1024, 0.0 when none."""
    used = [g.memory_used_mib for g in result.gpus if g.memory_used_mib is not None]
    if not used:
        return 0.0
    return round(max(used) / 1024, 2)


def render_detect(result: DetectResult, as_json: bool) -> str:
    """The result as indented JSON, or as a plain-text table (no colour)."""
    if as_json:
        return json.dumps(result.to_json_dict(), indent=2) + "\n"

    lines: list[str] = []
    if result.gpus:
        header = ("GPU", "NAME", "TOTAL MiB", "USED MiB", "FREE MiB", "CUDA GiB")
        header += ("CC", "MIG", "CATALOG")
        rows = [header]
        for gpu in result.gpus:
            cuda = "-" if gpu.cuda_total_gib is None else f"{gpu.cuda_total_gib:.2f}"
            rows.append(
                (
                    str(gpu.index),
                    gpu.name,
                    _cell(gpu.memory_total_mib),
                    _cell(gpu.memory_used_mib),
                    _cell(gpu.memory_free_mib),
                    cuda,
                    _cell(gpu.compute_capability),
                    _cell(gpu.mig_mode),
                    _cell(gpu.catalog_name),
                )
            )
        lines.extend(_table(rows, right_aligned={2, 3, 4, 5}))
        first = result.gpus[0]
        driver = f"driver {_cell(first.driver_version)}"
        if first.vendor == "nvidia":
            driver += f", CUDA {_cell(first.cuda_version)}"
        lines.append(driver)
        for gpu in result.gpus:
            if gpu.catalog_name is None or "estimated" in gpu.cuda_total_source:
                lines.append(f"GPU {gpu.index}: {gpu.cuda_total_source}")
    lines.append(result.message)
    lines.append(f"vLLM: {result.vllm_version or 'not installed'}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- CUDA total


def _cuda_total(
    name: str, total_mib: int | None, vendor: str
) -> tuple[float | None, str, str | None]:
    """(CUDA total GiB, how it was found, catalog name) for one detected GPU."""
    try:
        spec = find_gpu(name)
    except ResolutionError as exc:
        log.debug("GPU %r not matched in the catalog: %s", name, exc)
        spec = None

    if spec is not None:
        if total_mib is None:
            return spec.cuda_total_gib, f"catalog ({spec.name})", spec.name
        # The catalog figure must sit just under the reported total; a larger
        # gap means another variant or a partition, so estimate instead.
        gap_gib = total_mib / 1024 - spec.cuda_total_gib
        if -0.05 <= gap_gib <= max(1.0, 0.03 * spec.cuda_total_gib):
            return spec.cuda_total_gib, f"catalog ({spec.name})", spec.name

    if total_mib is None:
        return None, "unknown: the tool reported no memory total", None
    reserved = (
        AMD_RESERVED_ESTIMATE_MIB if vendor == "amd" else NVIDIA_RESERVED_ESTIMATE_MIB
    )
    gib = round((total_mib - reserved) / 1024, 2)
    why = f"estimated: {total_mib} MiB minus ~{reserved} MiB reserved"
    if spec is not None:
        # Not this catalog row's card (another memory size, or a partition):
        # leave catalog_name empty so callers use the estimate, not the row.
        why += (
            f"; the catalog's {spec.name} has {spec.cuda_total_gib} GiB, "
            "which does not match this card's total"
        )
    else:
        why += "; not in the catalog"
    return gib, why, None


# ---------------------------------------------------------------- NVML


def _nvml_gpus(problems: list[str]) -> list[DetectedGpu]:
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # NVMLError: no driver, no device, no library
        log.debug("NVML init failed: %s", exc)
        return []

    try:
        driver = _text(_try(pynvml.nvmlSystemGetDriverVersion))
        cuda = _cuda_version_from_int(_try(pynvml.nvmlSystemGetCudaDriverVersion))
        gpus: list[DetectedGpu] = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            name = _text(pynvml.nvmlDeviceGetName(handle)) or f"GPU {index}"
            # The v2 query leaves the driver's reserved memory out of "used",
            # as nvidia-smi does; v1 counts it on R510+ drivers.
            memory = None
            if hasattr(pynvml, "nvmlMemory_v2"):
                memory = _try(
                    pynvml.nvmlDeviceGetMemoryInfo, handle, pynvml.nvmlMemory_v2
                )
            memory = memory or _try(pynvml.nvmlDeviceGetMemoryInfo, handle)
            total, used, free = (
                (None, None, None)
                if memory is None
                else tuple(
                    int(v) // 2**20 for v in (memory.total, memory.used, memory.free)
                )
            )
            capability = _try(pynvml.nvmlDeviceGetCudaComputeCapability, handle)
            mig = _try(pynvml.nvmlDeviceGetMigMode, handle)
            gpus.append(
                _gpu(
                    index=index,
                    name=name,
                    vendor="nvidia",
                    total=total,
                    used=used,
                    free=free,
                    driver=driver,
                    cuda=cuda,
                    capability=(
                        f"{capability[0]}.{capability[1]}" if capability else None
                    ),
                    mig=None if mig is None else ("Enabled" if mig[0] else "Disabled"),
                )
            )
        return gpus
    except Exception as exc:
        problems.append(f"NVML failed: {exc}")
        return []
    finally:
        _try(pynvml.nvmlShutdown)


def _try(function: Any, *args: Any) -> Any:
    """``function(*args)``, or None when it raises (optional NVML queries)."""
    try:
        return function(*args)
    except Exception:
        return None


def _cuda_version_from_int(value: int | None) -> str | None:
    """NVML's CUDA driver version 12040 -> "12.4"."""
    if not value:
        return None
    return f"{value // 1000}.{(value % 1000) // 10}"


# ---------------------------------------------------------------- nvidia-smi


def _nvidia_smi_gpus(timeout: float, problems: list[str]) -> list[DetectedGpu]:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []

    fields = _SMI_FIELDS
    output = _run_tool([smi, _query(fields), _CSV], timeout, "nvidia-smi", problems)
    if output is None and problems and "not a valid field" in problems[-1]:
        problems.pop()
        fields = _SMI_BASIC_FIELDS
        output = _run_tool([smi, _query(fields), _CSV], timeout, "nvidia-smi", problems)
    if not output:
        return []

    header = _run_tool([smi], timeout, "nvidia-smi", [])
    match = re.search(r"CUDA Version:\s*([0-9.]+)", header or "")
    cuda = match.group(1) if match else None

    gpus: list[DetectedGpu] = []
    for row in csv.reader(output.splitlines(), skipinitialspace=True):
        if len(row) < len(fields):
            continue
        extra = len(row) - len(fields)  # a name with commas in it
        row = [row[0], ",".join(row[1 : 2 + extra]), *row[2 + extra :]]
        value = dict(zip(fields, (cell.strip() for cell in row), strict=True))
        index = _int(value["index"])
        if index is None:
            continue
        gpus.append(
            _gpu(
                index=index,
                name=value["name"],
                vendor="nvidia",
                total=_int(value["memory.total"]),
                used=_int(value["memory.used"]),
                free=_int(value["memory.free"]),
                driver=_na(value["driver_version"]),
                cuda=cuda,
                capability=_na(value.get("compute_cap", "")),
                mig=_na(value.get("mig.mode.current", "")),
            )
        )
    if not gpus and output.strip():
        problems.append("nvidia-smi printed nothing this tool could read")
    return gpus


_CSV = "--format=csv,noheader,nounits"


def _query(fields: tuple[str, ...]) -> str:
    return "--query-gpu=" + ",".join(fields)


# ---------------------------------------------------------------- AMD


def _amd_smi_gpus(timeout: float, problems: list[str]) -> list[DetectedGpu]:
    """amd-smi (ROCm 6+): ``static --asic --vram`` and ``metric --mem-usage``."""
    tool = shutil.which("amd-smi")
    if tool is None:
        return []
    static = _json_tool([tool, "static", "--json"], timeout, "amd-smi", problems)
    if static is None:
        return []
    metric = _json_tool([tool, "metric", "--json"], timeout, "amd-smi", problems)
    driver = _first(static, "driver", "version")

    usage: dict[int, dict[str, Any]] = {}
    for position, entry in enumerate(_entries(metric)):
        usage[_int(str(entry.get("gpu", position))) or position] = entry

    gpus: list[DetectedGpu] = []
    for position, entry in enumerate(_entries(static)):
        index = _int(str(entry.get("gpu", position)))
        index = position if index is None else index
        name = (
            _first(entry, "asic", "market_name")
            or _first(entry, "board", "product_name")
            or f"AMD GPU {index}"
        )
        total = _mib(_first(entry, "vram", "size"))
        mem = usage.get(index, {})
        total = _mib(_first(mem, "mem_usage", "total_vram")) or total
        used = _mib(_first(mem, "mem_usage", "used_vram"))
        free = _mib(_first(mem, "mem_usage", "free_vram"))
        if free is None and total is not None and used is not None:
            free = total - used
        gpus.append(
            _gpu(
                index=index,
                name=str(name),
                vendor="amd",
                total=total,
                used=used,
                free=free,
                driver=_first(entry, "driver", "version") or driver,
                cuda=None,
                capability=_first(entry, "asic", "target_graphics_version"),
                mig=None,
            )
        )
    return gpus


def _rocm_smi_gpus(timeout: float, problems: list[str]) -> list[DetectedGpu]:
    """rocm-smi (older ROCm): product name and VRAM bytes, keyed "card0"..."""
    tool = shutil.which("rocm-smi")
    if tool is None:
        return []
    argv = [tool, "--showproductname", "--showmeminfo", "vram", "--json"]
    data = _json_tool(argv, timeout, "rocm-smi", problems)
    if not isinstance(data, dict):
        return []
    driver = _first(data, "system", "Driver version")

    gpus: list[DetectedGpu] = []
    for card, info in data.items():
        match = re.fullmatch(r"card(\d+)", str(card))
        if match is None or not isinstance(info, dict):
            continue
        total_b = _int(str(info.get("VRAM Total Memory (B)", "")))
        used_b = _int(str(info.get("VRAM Total Used Memory (B)", "")))
        total = None if total_b is None else total_b // 2**20
        used = None if used_b is None else used_b // 2**20
        name = (
            info.get("Card Series")
            or info.get("Card series")
            or info.get("Card model", f"AMD GPU {match.group(1)}")
        )
        gpus.append(
            _gpu(
                index=int(match.group(1)),
                name=str(name),
                vendor="amd",
                total=total,
                used=used,
                free=None if total is None or used is None else total - used,
                driver=driver,
                cuda=None,
                capability=info.get("GFX Version"),
                mig=None,
            )
        )
    return gpus


def _entries(data: Any) -> Iterator[dict[str, Any]]:
    """amd-smi prints a list of per-GPU objects (or one object for one GPU)."""
    if isinstance(data, dict) and isinstance(data.get("gpu_data"), list):
        data = data["gpu_data"]
    if isinstance(data, dict):
        data = [data]
    if isinstance(data, list):
        yield from (entry for entry in data if isinstance(entry, dict))


def _first(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    if isinstance(data, str) and data.strip().upper() in ("N/A", "NA", ""):
        return None
    return data


def _mib(value: Any) -> int | None:
    """amd-smi memory: ``{"value": 196592, "unit": "MB"}`` or a bare number
    (amd-smi's "MB" are MiB)."""
    unit = "MB"
    if isinstance(value, dict):
        unit = str(value.get("unit", "MB")).upper()
        value = value.get("value")
    number = _int(str(value)) if value is not None else None
    if number is None:
        return None
    scale = {"B": 1 / 2**20, "KB": 1 / 1024, "MB": 1, "GB": 1024}.get(unit, 1)
    return int(number * scale)


# ---------------------------------------------------------------- shared helpers


def _gpu(
    *,
    index: int,
    name: str,
    vendor: Literal["nvidia", "amd"],
    total: int | None,
    used: int | None,
    free: int | None,
    driver: str | None,
    cuda: str | None,
    capability: str | None,
    mig: str | None,
) -> DetectedGpu:
    cuda_total, why, catalog_name = _cuda_total(name, total, vendor)
    return DetectedGpu(
        index=index,
        name=name,
        vendor=vendor,
        memory_total_mib=total,
        memory_used_mib=used,
        memory_free_mib=free,
        cuda_total_gib=cuda_total,
        cuda_total_source=why,
        driver_version=driver,
        cuda_version=cuda,
        compute_capability=capability,
        mig_mode=mig,
        catalog_name=catalog_name,
    )


def _run_tool(
    argv: list[str], timeout: float, label: str, problems: list[str]
) -> str | None:
    """stdout of ``argv``, or None with the reason appended to ``problems``."""
    try:
        code, out, err = _run(argv, timeout)
    except subprocess.TimeoutExpired:
        problems.append(f"{label} did not answer within {timeout:g} s")
        return None
    except OSError as exc:
        problems.append(f"{label} could not run: {exc.strerror or exc}")
        return None
    if code != 0:
        text = (err.strip() or out.strip()).splitlines()
        detail = text[0] if text else f"exit status {code}"
        if "no devices were found" not in detail.lower():
            problems.append(f"{label} failed: {detail}")
        return None
    return out


def _json_tool(argv: list[str], timeout: float, label: str, problems: list[str]) -> Any:
    out = _run_tool(argv, timeout, label, problems)
    if out is None:
        return None
    try:
        return json.loads(out)
    except json.JSONDecodeError:
        problems.append(f"{label} printed something other than JSON")
        return None


def _run(argv: list[str], timeout: float) -> tuple[int, str, str]:
    """Run ``argv`` (no shell) in its own process group; on timeout kill the
    whole group, so a tool stuck in a child process cannot keep us waiting."""
    process = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        process.communicate()
        raise
    return process.returncode, out, err


def _kill_group(process: subprocess.Popen[str]) -> None:
    if hasattr(os, "killpg"):
        try:
            os.killpg(process.pid, signal.SIGKILL)
            return
        except OSError:
            pass
    process.kill()


def _int(text: str) -> int | None:
    try:
        return int(float(text))
    except (TypeError, ValueError):
        return None


def _na(text: str) -> str | None:
    """nvidia-smi's "[N/A]" / "N/A" / "" -> None."""
    text = text.strip()
    return None if text in ("", "N/A", "[N/A]", "[Not Supported]") else text


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def _table(rows: list[tuple[str, ...]], right_aligned: set[int]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(widths[i]) if i in right_aligned else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    return lines
