"""Model files on this machine: a local folder, or the Hugging Face cache.

Everything here is offline except `fetch_from_hub`, which only runs when the
caller allows network access (never in tests). The cache folder is read from
the environment on every call (``HF_HUB_CACHE``, else ``HF_HOME``/hub, else
huggingface_hub's default), so a changed environment takes effect at once.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CONFIG = "config.json"
INDEX = "model.safetensors.index.json"
QUANT = "hf_quant_config.json"
SINGLE = "model.safetensors"
TOKENIZER = "tokenizer_config.json"


@dataclass(frozen=True)
class ModelFiles:
    """What was found for one model: its parsed files and where they live."""

    config: dict[str, Any]
    folder: Path
    source: str
    quant_config: dict[str, Any] | None = None
    index_total_size: int | None = None
    tokenizer_max_length: int | None = None


def hub_cache_dir() -> Path:
    """The hub cache folder, honouring HF_HUB_CACHE and HF_HOME as
    huggingface_hub does (checked at call time, not import time)."""
    env = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if env:
        return Path(env).expanduser()
    home = os.environ.get("HF_HOME")
    if home:
        return Path(home).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "huggingface" / "hub"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.debug("cannot read %s: %s", path, exc)
        return None
    return data if isinstance(data, dict) else None


def _tokenizer_max(path: Path | None) -> int | None:
    """tokenizer_config.json's model_max_length, when it is a real length
    (tokenizers without one store a huge sentinel such as 1e30)."""
    data = _read_json(path) if path is not None and path.is_file() else None
    value = data.get("model_max_length") if data else None
    if isinstance(value, (int, float)) and 0 < value < 100_000_000:
        return int(value)
    return None


def _index_total(folder: Path) -> int | None:
    from wizard_tui.catalog.weights import exact_weight_bytes

    return exact_weight_bytes(folder)


def from_folder(path: str | Path, *, source: str | None = None) -> ModelFiles | None:
    """A local checkpoint folder with config.json (what `vllm serve PATH`
    takes), with hf_quant_config.json and the safetensors size when present."""
    folder = Path(path).expanduser()
    config = _read_json(folder / CONFIG) if (folder / CONFIG).is_file() else None
    if config is None:
        return None
    quant = _read_json(folder / QUANT) if (folder / QUANT).is_file() else None
    return ModelFiles(
        config=config,
        folder=folder,
        source=source or f"local folder {folder}",
        quant_config=quant,
        index_total_size=_index_total(folder),
        tokenizer_max_length=_tokenizer_max(folder / TOKENIZER),
    )


def _repo_cached(repo_id: str) -> bool:
    """Whether the cache holds any folder for this model repo at all.

    huggingface_hub's download module costs ~0.2 s to import (its HTTP stack),
    which would land on the app's first plan for every catalog model; one stat
    of the folder name it would look in (``models--org--name``) avoids that.
    """
    folder = "models--" + repo_id.replace("/", "--")
    try:
        return (hub_cache_dir() / folder).is_dir()
    except (OSError, ValueError):
        return False


def _cached_file(repo_id: str, filename: str, revision: str | None) -> Path | None:
    if not _repo_cached(repo_id):
        return None
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(
            repo_id, filename, cache_dir=hub_cache_dir(), revision=revision
        )
    except Exception as exc:  # invalid repo id, unreadable cache
        log.debug("cache lookup %s/%s failed: %s", repo_id, filename, exc)
        return None
    return Path(found) if isinstance(found, str) else None


def from_cache(repo_id: str, revision: str | None = None) -> ModelFiles | None:
    """The model's files in the HF cache at ``revision`` (default main), found
    with huggingface_hub's `try_to_load_from_cache`; None when not cached."""
    config_path = _cached_file(repo_id, CONFIG, revision)
    if config_path is None:
        return None
    config = _read_json(config_path)
    if config is None:
        return None
    snapshot = config_path.parent
    quant_path = _cached_file(repo_id, QUANT, revision)
    quant = _read_json(quant_path) if quant_path else None
    total = None
    index_path = _cached_file(repo_id, INDEX, revision)
    if index_path is not None:
        from wizard_tui.catalog.weights import exact_weight_bytes

        total = exact_weight_bytes(index_path.parent)
    else:
        single = _cached_file(repo_id, SINGLE, revision)
        if single is not None:
            from wizard_tui.catalog.weights import safetensors_tensor_bytes

            total = safetensors_tensor_bytes(single)
    rev = snapshot.name[:12]
    return ModelFiles(
        config=config,
        folder=snapshot,
        source=f"HF cache {hub_cache_dir()} ({repo_id} @ {rev})",
        quant_config=quant,
        index_total_size=total,
        tokenizer_max_length=_tokenizer_max(_cached_file(repo_id, TOKENIZER, revision)),
    )


def cached_model_ids() -> list[str]:
    """Model repo ids present in the HF cache, sorted.

    Reads only the cache folder's entry names (``models--org--name``, the
    layout huggingface_hub writes), not every file as `scan_cache_dir` does,
    so it stays fast on a large cache."""
    root = hub_cache_dir()
    try:
        entries = [e.name for e in os.scandir(root) if e.is_dir()]
    except OSError:
        return []
    ids = []
    for name in entries:
        if name.startswith("models--"):
            ids.append(name.removeprefix("models--").replace("--", "/"))
    return sorted(ids)


def fetch_from_hub(repo_id: str, revision: str | None = None) -> ModelFiles | None:
    """Download config.json (and the safetensors index and hf_quant_config.json
    when the repo has them) into the HF cache, then read them from there.
    Needs network access; returns None on any failure."""
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        return None
    try:
        hf_hub_download(repo_id, CONFIG, revision=revision, cache_dir=hub_cache_dir())
    except Exception as exc:
        log.info("cannot fetch %s from the Hub: %s", repo_id, exc)
        return None
    for optional in (INDEX, QUANT, TOKENIZER):
        try:
            hf_hub_download(
                repo_id, optional, revision=revision, cache_dir=hub_cache_dir()
            )
        except Exception:
            log.debug("%s has no %s", repo_id, optional)
    found = from_cache(repo_id, revision)
    if found is None:
        return None
    return ModelFiles(
        config=found.config,
        folder=found.folder,
        source=f"Hugging Face Hub ({repo_id}), fetched into the cache",
        quant_config=found.quant_config,
        index_total_size=found.index_total_size,
        tokenizer_max_length=found.tokenizer_max_length,
    )
