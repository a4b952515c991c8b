"""The built-in model catalog shipped as package data (data/models/).

Entries are config.json-shaped, so `arch_from_config` reads a catalog entry
exactly as it reads a downloaded config. See data/models/catalog.yaml for the
entry format and data/models/README.md for where the data came from.
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

_MAX_BASE_DEPTH = 8

# The packaged catalogs are our own data; libyaml's safe loader reads them
# several times faster than the pure-Python one (start-up of the app).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class CatalogModel:
    """One catalog entry with its base chain applied."""

    model_id: str
    config: dict[str, Any]
    source: str
    quant_config: dict[str, Any] | None = None


def _data_dir() -> Path:
    return Path(str(resources.files("wizard_tui.catalog").joinpath("data", "models")))


@functools.lru_cache(maxsize=1)
def _entries() -> dict[str, dict[str, Any]]:
    """All entries by lower-cased id: copied config folders, then catalog.yaml."""
    root = _data_dir()
    out: dict[str, dict[str, Any]] = {}
    configs = root / "configs"
    if configs.is_dir():
        for folder in sorted(configs.iterdir()):
            if (folder / "config.json").is_file():
                model_id = folder.name.replace("--", "/", 1)
                out[model_id.lower()] = {"id": model_id, "folder": folder}
    data = (
        yaml.load(
            (root / "catalog.yaml").read_text(encoding="utf-8"), Loader=_SAFE_LOADER
        )
        or {}
    )
    for model_id, entry in (data.get("models") or {}).items():
        out[model_id.lower()] = {"id": model_id, **entry}
    return out


@functools.lru_cache(maxsize=1)
def catalog_ids() -> list[str]:
    """Every model id the catalog knows, sorted case-insensitively (for the
    TUI's completion)."""
    return sorted((e["id"] for e in _entries().values()), key=str.lower)


@functools.lru_cache(maxsize=1)
def _by_name() -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for key, entry in _entries().items():
        names.setdefault(key.rsplit("/", 1)[-1], []).append(entry["id"])
    return names


def _folder_entry(folder: Path) -> tuple[dict[str, Any], dict[str, Any] | None]:
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    quant_path = folder / "hf_quant_config.json"
    quant = (
        json.loads(quant_path.read_text(encoding="utf-8"))
        if quant_path.is_file()
        else None
    )
    return config, quant


@functools.lru_cache(maxsize=256)
def _resolve(key: str, depth: int = 0) -> CatalogModel | None:
    entry = _entries().get(key)
    if entry is None or depth > _MAX_BASE_DEPTH:
        return None
    if "folder" in entry:
        config, quant = _folder_entry(entry["folder"])
        source = f"built-in catalog: {entry['id']}'s config.json from its HF repo"
        return CatalogModel(entry["id"], config, source, quant)
    quant = None
    if "base" in entry:
        base = _resolve(str(entry["base"]).lower(), depth + 1)
        if base is None:
            return None
        config = copy.deepcopy(base.config)
        quant = None if entry.get("no_quant_file") else base.quant_config
    else:
        config = copy.deepcopy(entry.get("config") or {})
    for name in entry.get("unset") or ():
        config.pop(name, None)
        if isinstance(config.get("text_config"), dict):
            config["text_config"].pop(name, None)
    for name, value in (entry.get("set") or {}).items():
        target = config
        if (
            isinstance(config.get("text_config"), dict)
            and name in config["text_config"]
        ):
            target = config["text_config"]
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
    source = f"built-in catalog: {entry.get('source', 'no source given')}"
    return CatalogModel(entry["id"], config, source, quant)


def lookup(model_id: str) -> CatalogModel | None:
    """The catalog entry for ``model_id`` (case-insensitive; a bare name such
    as "Llama-3.1-8B-Instruct" matches when only one org has it). The result
    is shared: callers must not modify its dicts."""
    key = model_id.strip().lower()
    found = _resolve(key)
    if found is not None:
        return found
    if "/" not in key:
        candidates = _by_name().get(key, [])
        if len(candidates) == 1:
            return _resolve(candidates[0].lower())
    return None
