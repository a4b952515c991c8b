"""Host GPU detection against fake nvidia-smi / amd-smi scripts on PATH
(tests/data/fake_bin), with NVML made unimportable so the tools are used."""

from __future__ import annotations

import json
import shutil
import sys
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

import pytest

from wizard_tui.catalog import detect
from wizard_tui.catalog.detect import (
    NO_GPU_MESSAGE,
    detect_gpus,
    overhead_gib_from,
    render_detect,
)

FAKE_BIN = Path(__file__).parent / "data" / "fake_bin"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No NVML, no user config, no vLLM, and an empty PATH unless a test adds
    a fake tool."""
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml -> ImportError
    for variable in (
        "CUDA_VISIBLE_DEVICES",
        "HIP_VISIBLE_DEVICES",
        "ROCR_VISIBLE_DEVICES",
    ):
        monkeypatch.delenv(variable, raising=False)
    config = tmp_path / "config"
    config.mkdir()
    monkeypatch.setenv("VLLM_WIZARD_CONFIG_DIR", str(config))
    empty = tmp_path / "empty_bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(detect.metadata, "version", _no_vllm)


def _no_vllm(name: str) -> str:
    raise metadata.PackageNotFoundError(name)


def _use_fake(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Put the fake tools of tests/data/fake_bin/<name> alone on PATH (copied, so
    the executable bit is ours whatever the checkout kept)."""
    folder = tmp_path / f"bin_{name}"
    shutil.copytree(FAKE_BIN / name, folder)
    for tool in folder.iterdir():
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))


# ---------------------------------------------------------------- nvidia-smi


def test_two_h100_from_nvidia_smi(tmp_path: Path, monkeypatch) -> None:
    _use_fake("two_h100", tmp_path, monkeypatch)

    result = detect_gpus()

    assert result.source == "nvidia-smi"
    assert [g.index for g in result.gpus] == [0, 1]
    first, second = result.gpus
    assert first.name == "NVIDIA H100 80GB HBM3"
    assert (first.memory_total_mib, first.memory_used_mib, first.memory_free_mib) == (
        81559,
        0,
        81004,
    )
    assert second.memory_used_mib == 20480
    # The CUDA total is the catalog's, i.e. what vLLM logged on an H100 80GB
    # HBM3 (vllm_kv_logs.yaml c47: "Free memory on device (78.68/79.19 GiB)").
    assert first.cuda_total_gib == 79.19
    assert first.catalog_name == "H100 SXM"
    assert first.driver_version == "550.54.15"
    assert first.cuda_version == "12.4"
    assert first.compute_capability == "9.0"
    assert first.mig_mode == "Disabled"
    assert result.message == "2 GPUs found through nvidia-smi"


def test_overhead_is_the_busiest_gpus_used_memory(tmp_path, monkeypatch) -> None:
    _use_fake("two_h100", tmp_path, monkeypatch)

    # GPU 1 has 20480 MiB used by another process: 20480 / 1024 = 20.0 GiB.
    assert overhead_gib_from(detect_gpus()) == 20.0


def test_json_shape(tmp_path: Path, monkeypatch) -> None:
    _use_fake("two_h100", tmp_path, monkeypatch)
    monkeypatch.setattr(detect.metadata, "version", lambda name: "0.11.0")

    data = json.loads(render_detect(detect_gpus(), as_json=True))

    assert set(data) >= {"gpus", "vllm_version", "source", "message"}
    assert data["vllm_version"] == "0.11.0"
    assert data["source"] == "nvidia-smi"
    gpu = data["gpus"][1]
    for key in (
        "index",
        "name",
        "memory_total_mib",
        "memory_used_mib",
        "memory_free_mib",
        "cuda_total_gib",
        "driver_version",
        "cuda_version",
        "compute_capability",
        "mig_mode",
        "catalog_name",
    ):
        assert key in gpu
    assert gpu["memory_used_mib"] == 20480
    assert gpu["cuda_total_gib"] == 79.19


def test_text_table(tmp_path: Path, monkeypatch) -> None:
    _use_fake("two_h100", tmp_path, monkeypatch)

    text = render_detect(detect_gpus(), as_json=False)

    lines = text.splitlines()
    assert lines[0].split()[:2] == ["GPU", "NAME"]
    assert "NVIDIA H100 80GB HBM3" in lines[1] and "81559" in lines[1]
    assert "79.19" in lines[1] and "H100 SXM" in lines[1]
    assert "20480" in lines[2]
    assert "driver 550.54.15, CUDA 12.4" in text
    assert "vLLM: not installed" in text
    assert "\x1b[" not in text  # plain text, no colour codes


def test_unknown_card_gets_an_estimate(tmp_path: Path, monkeypatch) -> None:
    _use_fake("mixed", tmp_path, monkeypatch)

    result = detect_gpus()

    rtx3090, rtx2080 = result.gpus
    # vllm_kv_logs.yaml c01: total_gpu_memory=23.58GiB on an RTX 3090.
    assert rtx3090.cuda_total_gib == 23.58 and rtx3090.catalog_name == "RTX 3090"
    assert rtx3090.mig_mode is None  # "[N/A]" on GeForce cards
    # Not in the catalog: (11264 MiB - 512 MiB reserved) / 1024 = 10.50 GiB.
    assert rtx2080.catalog_name is None
    assert rtx2080.cuda_total_gib == 10.5
    assert "estimated" in rtx2080.cuda_total_source
    assert "not in the catalog: NVIDIA GeForce RTX 2080 Ti" in result.message
    assert result.gpus[0].cuda_version == "12.2"


def test_old_driver_without_compute_cap(tmp_path: Path, monkeypatch) -> None:
    _use_fake("old_driver", tmp_path, monkeypatch)

    result = detect_gpus()

    (gpu,) = result.gpus
    assert gpu.name == "Tesla V100-SXM2-32GB"
    assert gpu.compute_capability is None and gpu.mig_mode is None
    assert gpu.cuda_version is None  # the header has no "CUDA Version"
    # vllm_kv_logs.yaml c35: total_gpu_memory (31.74GiB) on a V100 32GB.
    assert gpu.cuda_total_gib == 31.74
    assert result.source == "nvidia-smi"


def test_hanging_nvidia_smi_times_out(tmp_path: Path, monkeypatch) -> None:
    _use_fake("hang", tmp_path, monkeypatch)

    result = detect_gpus(timeout=0.5)

    assert result.gpus == ()
    assert result.source == "none"
    assert result.message.startswith(NO_GPU_MESSAGE)
    assert "nvidia-smi did not answer within 0.5 s" in result.message


def test_no_tools_means_no_gpu() -> None:
    result = detect_gpus()

    assert result.gpus == ()
    assert result.source == "none"
    assert result.message == NO_GPU_MESSAGE
    assert overhead_gib_from(result) == 0.0
    assert NO_GPU_MESSAGE in render_detect(result, as_json=False)
    assert json.loads(render_detect(result, as_json=True)) == {
        "gpus": [],
        "vllm_version": None,
        "source": "none",
        "message": NO_GPU_MESSAGE,
    }


def test_vllm_version_from_metadata_without_import(monkeypatch) -> None:
    asked: list[str] = []

    def fake_version(name: str) -> str:
        asked.append(name)
        return "0.34.0"

    monkeypatch.setattr(detect.metadata, "version", fake_version)

    result = detect_gpus()

    assert result.vllm_version == "0.34.0"
    assert asked == ["vllm"]
    assert "vllm" not in sys.modules
    assert "vLLM: 0.34.0" in render_detect(result, as_json=False)


def test_cuda_visible_devices_keeps_what_vllm_sees(tmp_path, monkeypatch) -> None:
    _use_fake("two_h100", tmp_path, monkeypatch)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")

    result = detect_gpus()

    assert [g.index for g in result.gpus] == [1]
    assert "CUDA_VISIBLE_DEVICES=1: 1 of 2 visible" in result.message
    assert overhead_gib_from(result) == 20.0  # GPU 1's 20480 MiB


def test_cuda_visible_devices_empty_hides_all(tmp_path, monkeypatch) -> None:
    _use_fake("two_h100", tmp_path, monkeypatch)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")

    result = detect_gpus()

    assert result.gpus == () and result.source == "none"
    assert "0 of 2 visible" in result.message


def test_cuda_visible_devices_stops_at_invalid_entry(tmp_path, monkeypatch) -> None:
    _use_fake("two_h100", tmp_path, monkeypatch)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,-1,1")

    assert [g.index for g in detect_gpus().gpus] == [0]


def test_cuda_visible_devices_uuids_are_not_applied(tmp_path, monkeypatch) -> None:
    _use_fake("two_h100", tmp_path, monkeypatch)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-8f3c")

    result = detect_gpus()

    assert len(result.gpus) == 2
    assert "not applied" in result.message


def test_catalog_card_with_other_memory_is_estimated(tmp_path, monkeypatch) -> None:
    # An "RTX 3090" reporting 12288 MiB is not the catalog's 24 GB card.
    folder = tmp_path / "odd"
    folder.mkdir()
    script = folder / "nvidia-smi"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$#" -eq 0 ]; then exit 0; fi\n'
        'echo "0, NVIDIA GeForce RTX 3090, 12288, 0, 12000, 535.1, 8.6, [N/A]"\n'
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))

    (gpu,) = detect_gpus().gpus

    # (12288 - 512) / 1024 = 11.5 GiB, and no catalog row claimed.
    assert gpu.cuda_total_gib == 11.5
    assert gpu.catalog_name is None
    assert "does not match" in gpu.cuda_total_source


# ---------------------------------------------------------------- AMD


def test_amd_smi_mi300x(tmp_path: Path, monkeypatch) -> None:
    _use_fake("amd", tmp_path, monkeypatch)

    result = detect_gpus()

    assert result.source == "amd-smi"
    (gpu,) = result.gpus
    assert gpu.vendor == "amd" and gpu.catalog_name == "MI300X"
    assert gpu.memory_total_mib == 196608 and gpu.memory_used_mib == 283
    # ROCm PyTorch reports 191.98 GiB on an MI300X (the catalog's figure).
    assert gpu.cuda_total_gib == 191.98
    assert gpu.compute_capability == "gfx942"
    assert gpu.driver_version == "6.8.5"


def test_rocm_smi_mi250_gcds(tmp_path: Path, monkeypatch) -> None:
    _use_fake("rocm", tmp_path, monkeypatch)

    result = detect_gpus()

    assert result.source == "rocm-smi"
    assert [g.index for g in result.gpus] == [0, 1]
    first, second = result.gpus
    assert first.catalog_name == "MI250" and first.vendor == "amd"
    # 68702699520 B / 2^20 = 65520 MiB; 10960896 B = 10 MiB; 8589934592 B = 8 GiB.
    assert first.memory_total_mib == 65520 and first.memory_used_mib == 10
    assert first.memory_free_mib == 65510
    assert first.cuda_total_gib == 63.98  # the catalog's MI250 GCD
    assert first.compute_capability == "gfx90a"
    assert first.driver_version == "6.3.6"
    assert overhead_gib_from(result) == 8.0


# ---------------------------------------------------------------- NVML


class _FakeNvml(SimpleNamespace):
    """The few pynvml calls detection makes, for one H200 as NVML reports it."""


def _fake_pynvml(used_bytes: int) -> _FakeNvml:
    # 143771 MiB: the H200's nvidia-smi total (vllm_kv_logs.yaml c14).
    total = 143771 * 2**20
    memory = SimpleNamespace(total=total, used=used_bytes, free=total - used_bytes)
    return _FakeNvml(
        nvmlInit=lambda: None,
        nvmlShutdown=lambda: None,
        nvmlSystemGetDriverVersion=lambda: "570.86.15",
        nvmlSystemGetCudaDriverVersion=lambda: 12080,
        nvmlDeviceGetCount=lambda: 1,
        nvmlDeviceGetHandleByIndex=lambda index: ("handle", index),
        nvmlDeviceGetName=lambda handle: b"NVIDIA H200",
        nvmlDeviceGetMemoryInfo=lambda handle: memory,
        nvmlDeviceGetCudaComputeCapability=lambda handle: (9, 0),
        nvmlDeviceGetMigMode=lambda handle: (0, 0),
    )


def test_nvml_when_importable(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml(used_bytes=512 * 2**20))

    result = detect_gpus()

    assert result.source == "nvml"
    (gpu,) = result.gpus
    assert gpu.memory_total_mib == 143771 and gpu.memory_used_mib == 512
    # vllm_kv_logs.yaml c14: total_gpu_memory (139.81GiB) on an H200.
    assert gpu.cuda_total_gib == 139.81 and gpu.catalog_name == "H200"
    assert gpu.cuda_version == "12.8"
    assert gpu.compute_capability == "9.0" and gpu.mig_mode == "Disabled"
    assert overhead_gib_from(result) == 0.5  # 512 MiB / 1024


def test_nvml_v2_memory_and_mig_note(monkeypatch) -> None:
    nvml = _fake_pynvml(used_bytes=0)
    asked: list[object] = []
    v2 = SimpleNamespace(total=143771 * 2**20, used=5 * 2**20, free=143000 * 2**20)

    def memory_info(handle: object, version: object = None) -> object:
        asked.append(version)
        return v2

    nvml.nvmlMemory_v2 = "v2"
    nvml.nvmlDeviceGetMemoryInfo = memory_info
    nvml.nvmlDeviceGetMigMode = lambda handle: (1, 1)
    monkeypatch.setitem(sys.modules, "pynvml", nvml)

    result = detect_gpus()

    assert asked == ["v2"]
    assert result.gpus[0].memory_used_mib == 5
    assert result.gpus[0].mig_mode == "Enabled"
    assert "MIG is on" in result.message and "hardware.vram_gb" in result.message


def test_nvml_init_failure_falls_back_to_nvidia_smi(tmp_path, monkeypatch) -> None:
    nvml = _fake_pynvml(0)

    def broken() -> None:
        raise RuntimeError("NVML Shared Library Not Found")

    nvml.nvmlInit = broken
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    _use_fake("two_h100", tmp_path, monkeypatch)

    assert detect_gpus().source == "nvidia-smi"


def test_bad_user_catalog_does_not_break_detection(tmp_path, monkeypatch) -> None:
    (tmp_path / "config" / "gpus.yaml").write_text("gpus: [unclosed\n")
    _use_fake("two_h100", tmp_path, monkeypatch)

    result = detect_gpus()

    # Without a usable catalog the CUDA total is estimated from nvidia-smi:
    # (81559 - 512) / 1024 = 79.147 -> 79.15 GiB.
    assert result.gpus[0].cuda_total_gib == 79.15
    assert result.gpus[0].catalog_name is None
