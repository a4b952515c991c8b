"""The GPU catalog: CUDA totals against vLLM's own logs, fuzzy names, the
user's gpus.yaml merged over the built-ins."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from wizard_tui.catalog.errors import ResolutionError
from wizard_tui.catalog.gpus import (
    GpuCatalogError,
    find_gpu,
    gpu_catalog,
    gpu_names,
)

DATA = Path(__file__).parent / "data"
LOGS = yaml.safe_load((DATA / "vllm_gpu_memory_logs.yaml").read_text())


@pytest.fixture(autouse=True)
def _config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets an empty config folder: never the user's own."""
    folder = tmp_path / "config"
    folder.mkdir()
    monkeypatch.setenv("VLLM_WIZARD_CONFIG_DIR", str(folder))
    return folder


# ---------------------------------------------------------------- memory vs logs


@pytest.mark.parametrize("case", LOGS, ids=[case["id"] for case in LOGS])
def test_smi_name_gets_the_cuda_total_vllm_logged(case: dict) -> None:
    # Each case is a vLLM startup log (tests/data/vllm_gpu_memory_logs.yaml,
    # copied from vllm_kv_logs.yaml): the total it printed is the reference.
    logged = case["gpu_total_memory_gib"]
    assert f"{logged:.2f}" in case["quote_excerpt"]

    gpu = find_gpu(case["smi_name"])

    assert abs(gpu.cuda_total_gib - logged) / logged <= 0.005


def test_h100_sxm_is_the_log_figure() -> None:
    # c47: "Free memory on device (78.68/79.19 GiB)" on an H100 80GB HBM3.
    assert find_gpu("NVIDIA H100 80GB HBM3").cuda_total_gib == 79.19
    assert "c47" in find_gpu("H100").memory_source


def test_h200_and_rtx3090_cite_their_cases() -> None:
    # c14: total_gpu_memory (139.81GiB) on H200; c01: 23.58GiB on an RTX 3090.
    assert find_gpu("NVIDIA H200").cuda_total_gib == 139.81
    assert "c14" in find_gpu("H200").memory_source
    assert find_gpu("NVIDIA GeForce RTX 3090").cuda_total_gib == 23.58
    assert "c01" in find_gpu("3090").memory_source


def test_catalog_covers_the_required_gpus() -> None:
    required = [
        "Tesla T4", "V100 16GB", "V100 32GB", "NVIDIA A10", "NVIDIA A10G",
        "NVIDIA A30", "NVIDIA A40", "NVIDIA A100-PCIE-40GB",
        "NVIDIA A100-SXM4-40GB", "NVIDIA A100 80GB PCIe",
        "NVIDIA A100-SXM4-80GB", "NVIDIA L4", "NVIDIA L40", "NVIDIA L40S",
        "NVIDIA H100 PCIe", "NVIDIA H100 80GB HBM3", "NVIDIA H100 NVL",
        "NVIDIA H200", "NVIDIA H20", "GH200", "NVIDIA B200", "B300", "GB200",
        "NVIDIA GeForce RTX 3090", "NVIDIA GeForce RTX 4090",
        "NVIDIA GeForce RTX 5090", "NVIDIA RTX A6000",
        "NVIDIA RTX 6000 Ada Generation", "RTX PRO 6000",
        "AMD Instinct MI210", "MI250", "AMD Instinct MI300X",
        "AMD Instinct MI325X", "AMD Instinct MI355X",
    ]  # fmt: skip
    found = {find_gpu(name).name for name in required}
    assert len(found) == len(required)  # each name a different card
    assert len(gpu_catalog()) >= 30


def test_every_row_is_complete_and_consistent() -> None:
    for gpu in gpu_catalog():
        assert gpu.memory_source and gpu.source, gpu.name
        assert gpu.bandwidth_gbs > 0 and gpu.bf16_tflops > 0, gpu.name
        assert gpu.smi_names, gpu.name
        # FP8 support goes with a dense FP8 figure, FP4 with an FP4 figure.
        assert gpu.fp8 == (gpu.fp8_tflops is not None), gpu.name
        assert gpu.fp4 == (gpu.fp4_tflops is not None), gpu.name
        if gpu.vendor == "nvidia":
            # FP8 tensor cores arrived with compute capability 8.9 (Ada).
            major, minor = (int(p) for p in gpu.compute_capability.split("."))
            assert gpu.fp8 == ((major, minor) >= (8, 9)), gpu.name
            assert gpu.fp4 == (major >= 10), gpu.name


def test_names_and_aliases_are_unambiguous() -> None:
    # A name, nvidia-smi name or alias written exactly always finds its own row.
    for gpu in gpu_catalog():
        for text in (gpu.name, *gpu.smi_names, *gpu.aliases):
            assert find_gpu(text).name == gpu.name, text


def test_gpu_names_for_completion() -> None:
    names = gpu_names()
    assert names[0] == "T4"
    assert "H100 SXM" in names and "MI300X" in names
    assert len(names) == len(set(names))


# ---------------------------------------------------------------- fuzzy matching


@pytest.mark.parametrize(
    "text",
    [
        "h100",
        "H100",
        "H100-SXM-80GB",
        "NVIDIA H100 80GB HBM3",
        "nvidia h100 80gb hbm3",
        "H100 SXM5 80GB",
        "h100_sxm",
        "H100SXM",
    ],
)
def test_h100_spellings_resolve_to_h100_sxm(text: str) -> None:
    assert find_gpu(text).name == "H100 SXM"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rtx4090", "RTX 4090"),
        ("GeForce RTX 4090", "RTX 4090"),
        ("4090", "RTX 4090"),
        ("A100 SXM 80GB", "A100 80GB SXM"),
        ("a100-pcie-40gb", "A100 40GB PCIe"),
        ("NVIDIA A100-SXM4-80GB", "A100 80GB SXM"),
        ("H100 PCIe", "H100 PCIe"),
        ("h100 nvl", "H100 NVL"),
        ("L40", "L40"),
        ("l40s", "L40S"),
        ("A10", "A10"),
        ("Tesla T4", "T4"),
        ("V100 32GB", "V100 32GB"),
        ("AMD Instinct MI300X OAM", "MI300X"),
        ("mi300x", "MI300X"),
        ("AMD Instinct MI250X/MI250", "MI250"),
        ("NVIDIA RTX PRO 6000 Blackwell Server Edition", "RTX PRO 6000"),
        ("GH200", "GH200"),
        ("NVIDIA GH200 144G HBM3e", "GH200 144GB"),
        ("NVIDIA GB300", "GB300"),
        ("NVIDIA B300 SXM6 AC", "B300"),
        # Extra words the tools print are dropped when nothing matches as is.
        ("NVIDIA A100-SXM4-80GB-LS", "A100 80GB SXM"),
        ("AMD INSTINCT MI250 (MCM) OAM AC MBA", "MI250"),
        ("MI300X-O", "MI300X"),
    ],
)
def test_fuzzy_names(text: str, expected: str) -> None:
    assert find_gpu(text).name == expected


def test_bare_a100_is_ambiguous_and_lists_candidates() -> None:
    with pytest.raises(ResolutionError) as info:
        find_gpu("a100")
    error = info.value
    assert error.field == "hardware.gpu_name"
    assert error.value == "a100"
    for name in ("A100 40GB PCIe", "A100 40GB SXM", "A100 80GB PCIe", "A100 80GB SXM"):
        assert name in error.message
    assert "write one of them" in error.message


def test_memory_narrows_but_form_factor_still_ambiguous() -> None:
    with pytest.raises(ResolutionError) as info:
        find_gpu("A100 80GB")
    assert "A100 80GB PCIe, A100 80GB SXM" in info.value.message
    assert "40GB" not in info.value.message


def test_unknown_gpu_suggests_and_points_to_vram_gb() -> None:
    with pytest.raises(ResolutionError) as info:
        find_gpu("H10O")
    assert "did you mean" in info.value.message
    assert "H100 SXM" in info.value.message
    assert "hardware.vram_gb" in info.value.message


def test_laptop_card_is_not_the_desktop_card() -> None:
    # The RTX 4090 Laptop GPU has 16 GB, not the desktop card's 24 GB.
    with pytest.raises(ResolutionError, match="unknown GPU"):
        find_gpu("NVIDIA GeForce RTX 4090 Laptop GPU")


def test_empty_name_is_an_error() -> None:
    with pytest.raises(ResolutionError):
        find_gpu("  ")


@pytest.mark.parametrize("text", ["my L4 card", "xx H100", "banana L40S"])
def test_unknown_words_before_the_chip_are_not_dropped(text: str) -> None:
    # Words after the chip are a tool's suffix ("A100-SXM4-80GB-LS"); words
    # before it mean another name than the catalog's.
    with pytest.raises(ResolutionError, match="unknown GPU"):
        find_gpu(text)


def test_vendor_word_alone_names_no_card() -> None:
    with pytest.raises(ResolutionError, match="names no card"):
        find_gpu("NVIDIA")


# ---------------------------------------------------------------- user gpus.yaml


def test_user_file_adds_a_gpu_and_overrides_a_field(_config_dir: Path) -> None:
    (_config_dir / "gpus.yaml").write_text(
        "gpus:\n"
        "  - name: My Lab Card\n"
        "    smi_names: ['NVIDIA Lab Card 48GB']\n"
        "    cuda_total_gib: 47.25\n"
        "    bandwidth_gbs: 1000\n"
        "  - name: h100 sxm\n"  # same card as the built-in, other spelling
        "    cuda_total_gib: 79.0\n"
    )

    lab = find_gpu("NVIDIA Lab Card 48GB")
    h100 = find_gpu("H100")

    assert lab.name == "My Lab Card" and lab.cuda_total_gib == 47.25
    assert "user file" in lab.source
    assert "My Lab Card" in gpu_names()
    # Only the field the user set changes; the rest stays built-in.
    assert h100.cuda_total_gib == 79.0
    assert "user file" in h100.memory_source
    assert h100.bandwidth_gbs == 3350
    assert h100.name == "H100 SXM"
    assert len([g for g in gpu_catalog() if g.name == "H100 SXM"]) == 1


def test_user_file_edit_is_seen_without_restart(_config_dir: Path) -> None:
    path = _config_dir / "gpus.yaml"
    path.write_text("gpus:\n  - {name: T4, cuda_total_gib: 14.75}\n")
    assert find_gpu("T4").cuda_total_gib == 14.75

    path.write_text("gpus:\n  - {name: T4, cuda_total_gib: 14.58, memory_source: x}\n")

    assert find_gpu("T4").cuda_total_gib == 14.58


def test_bad_user_field_names_file_row_and_field(_config_dir: Path) -> None:
    path = _config_dir / "gpus.yaml"
    path.write_text("gpus:\n  - name: Broken\n    cuda_total_gib: -3\n")

    with pytest.raises(GpuCatalogError) as info:
        gpu_catalog()

    text = str(info.value)
    assert str(path) in text
    assert "gpus[0].cuda_total_gib" in text
    assert isinstance(info.value, ResolutionError)


def test_unknown_user_field_is_named(_config_dir: Path) -> None:
    (_config_dir / "gpus.yaml").write_text(
        "gpus:\n  - {name: X1, cuda_total_gib: 10, vram: 12}\n"
    )
    with pytest.raises(GpuCatalogError, match=r"gpus\[0\]\.vram"):
        gpu_catalog()


def test_invalid_yaml_names_the_line(_config_dir: Path) -> None:
    (_config_dir / "gpus.yaml").write_text("gpus:\n  - name: [unclosed\n")
    with pytest.raises(GpuCatalogError, match="not valid YAML at line"):
        gpu_catalog()


def test_user_file_rejects_python_tags(_config_dir: Path) -> None:
    # safe_load only: a YAML tag that would build a Python object is an error.
    (_config_dir / "gpus.yaml").write_text("gpus: !!python/object:os.system {}\n")
    with pytest.raises(GpuCatalogError):
        gpu_catalog()


def test_user_file_without_name_or_with_extra_key(_config_dir: Path) -> None:
    path = _config_dir / "gpus.yaml"
    path.write_text("gpus:\n  - {cuda_total_gib: 10}\n")
    with pytest.raises(GpuCatalogError, match=r"gpus\[0\]\.name"):
        gpu_catalog()

    path.write_text("gpu:\n  - {name: X, cuda_total_gib: 10}\n")
    with pytest.raises(GpuCatalogError, match="gpu: unknown key"):
        gpu_catalog()


def test_empty_user_file_changes_nothing(_config_dir: Path) -> None:
    (_config_dir / "gpus.yaml").write_text("# nothing yet\n")
    assert find_gpu("H100").cuda_total_gib == 79.19


def test_completion_offers_the_gpu_a_bare_name_means_first() -> None:
    from wizard_tui.catalog.gpus import completion_names

    names = completion_names()
    first_h100 = next(n for n in names if n.lower().startswith("h100"))
    # What completion shows for "h100" is what the plan uses for "h100".
    assert first_h100 == find_gpu("h100").name == "H100 SXM"
    assert sorted(names) == sorted(gpu_names())
