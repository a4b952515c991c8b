"""Local folders and a fake Hugging Face cache built in tmp_path.

The cache has huggingface_hub's layout: models--org--name/refs/<branch> holds
a commit hash, snapshots/<hash>/ holds the files. HF_HUB_CACHE / HF_HOME are
monkeypatched, so the user's own cache is never read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wizard_tui.catalog import hf_cache

LLAMA_8B = json.loads(
    (
        Path(__file__).parent
        / "data"
        / "hf_configs"
        / "meta-llama--Meta-Llama-3.1-8B"
        / "config.json"
    ).read_text()
)
REV_MAIN = "a" * 40
REV_OLD = "b" * 40


def make_cache(
    root: Path,
    repo: str,
    files: dict[str, dict],
    rev: str = REV_MAIN,
    ref: str = "main",
) -> Path:
    folder = root / ("models--" + repo.replace("/", "--"))
    snapshot = folder / "snapshots" / rev
    snapshot.mkdir(parents=True)
    for name, content in files.items():
        (snapshot / name).write_text(json.dumps(content))
    (folder / "refs").mkdir(exist_ok=True)
    (folder / "refs" / ref).write_text(rev)
    return snapshot


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "hub"
    root.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(root))
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    return root


def test_cache_dir_follows_hf_hub_cache_then_hf_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "a"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    assert hf_cache.hub_cache_dir() == tmp_path / "a"
    monkeypatch.delenv("HF_HUB_CACHE")
    assert hf_cache.hub_cache_dir() == tmp_path / "home" / "hub"


def test_config_found_in_the_cache(hub: Path) -> None:
    make_cache(hub, "org/tiny", {"config.json": LLAMA_8B})
    files = hf_cache.from_cache("org/tiny")
    assert files is not None
    assert files.config["num_hidden_layers"] == 32
    assert "HF cache" in files.source and "org/tiny" in files.source
    assert files.index_total_size is None


def test_index_total_size_read_from_the_snapshot(hub: Path) -> None:
    index = {"metadata": {"total_size": 16_060_522_496}, "weight_map": {}}
    make_cache(
        hub,
        "org/tiny",
        {"config.json": LLAMA_8B, "model.safetensors.index.json": index},
    )
    files = hf_cache.from_cache("org/tiny")
    assert files is not None and files.index_total_size == 16_060_522_496


def test_revision_is_honoured(hub: Path) -> None:
    old = dict(LLAMA_8B, num_hidden_layers=16)
    make_cache(hub, "org/tiny", {"config.json": LLAMA_8B})
    folder = hub / "models--org--tiny" / "snapshots" / REV_OLD
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(old))
    (hub / "models--org--tiny" / "refs" / "v1").write_text(REV_OLD)

    assert hf_cache.from_cache("org/tiny").config["num_hidden_layers"] == 32
    assert hf_cache.from_cache("org/tiny", "v1").config["num_hidden_layers"] == 16
    assert hf_cache.from_cache("org/tiny", REV_OLD).config["num_hidden_layers"] == 16
    assert hf_cache.from_cache("org/tiny", "no-such-branch") is None


def test_missing_and_invalid_ids_are_not_found(hub: Path) -> None:
    assert hf_cache.from_cache("org/absent") is None
    assert hf_cache.from_cache("not a repo id!") is None


def test_cached_model_ids(hub: Path) -> None:
    make_cache(hub, "org/tiny", {"config.json": LLAMA_8B})
    make_cache(hub, "Other/Model-2", {"config.json": LLAMA_8B})
    (hub / "datasets--org--data").mkdir()
    assert hf_cache.cached_model_ids() == ["Other/Model-2", "org/tiny"]


def test_cached_model_ids_without_a_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "nowhere"))
    assert hf_cache.cached_model_ids() == []


def test_local_folder_with_quant_file(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(LLAMA_8B))
    (tmp_path / "hf_quant_config.json").write_text(
        json.dumps(
            {"quantization": {"quant_algo": "FP8", "exclude_modules": ["lm_head"]}}
        )
    )
    files = hf_cache.from_folder(tmp_path)
    assert files is not None
    assert files.quant_config is not None and "local folder" in files.source


def test_folder_without_config(tmp_path: Path) -> None:
    assert hf_cache.from_folder(tmp_path) is None


def test_fetch_from_hub_reads_what_it_downloaded(
    hub: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # hf_hub_download is replaced by a stand-in that writes into the fake
    # cache, as the real one would; no network is involved.
    import huggingface_hub

    def fake_download(
        repo_id: str, filename: str, revision=None, cache_dir=None
    ) -> str:
        if filename != "config.json":
            raise FileNotFoundError(filename)
        if not (hub / "models--org--remote").exists():
            make_cache(Path(cache_dir), repo_id, {"config.json": LLAMA_8B})
        return str(hub / "models--org--remote" / "snapshots" / REV_MAIN / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    files = hf_cache.fetch_from_hub("org/remote")
    assert files is not None and "Hub" in files.source
    assert files.config["hidden_size"] == 4096
