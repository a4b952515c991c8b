"""The GPU catalog: built-in rows shipped as package data (``data/gpus.yaml``),
merged with the user's own ``gpus.yaml``, and a forgiving lookup by the names
people type and nvidia-smi / amd-smi print.

Memory is the CUDA total in GiB (what vLLM logs as total_gpu_memory); each row
says where its figure comes from (``memory_source``).

The user file lives in the user's config folder (platformdirs
``user_config_dir("vllm-wizard-tui")``, or ``$VLLM_WIZARD_CONFIG_DIR``). It holds
``gpus:``, a list of rows with the fields of `GpuSpec`. A row whose name is a
built-in GPU's overrides only the fields it sets; a new name adds a GPU.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from wizard_tui.catalog.errors import ResolutionError
from wizard_tui.schemas.facts import GpuSpec

# The packaged catalogs are our own data; libyaml's safe loader reads them
# several times faster than the pure-Python one (start-up of the app).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

__all__ = [
    "CONFIG_DIR_ENV",
    "GpuCatalogError",
    "completion_names",
    "find_gpu",
    "gpu_catalog",
    "gpu_names",
    "user_config_dir",
    "user_gpus_file",
]

log = logging.getLogger(__name__)

APP_NAME = "vllm-wizard-tui"
CONFIG_DIR_ENV = "VLLM_WIZARD_CONFIG_DIR"
USER_FILE_NAME = "gpus.yaml"
PROFILE_FIELD = "hardware.gpu_name"

# Words that name the vendor or a product line, not the card: ignored in lookups.
_VENDOR_WORDS = frozenset(
    {"nvidia", "geforce", "tesla", "amd", "instinct", "radeon", "gpu", "graphics"}
)


# Words that make a name another product than the catalog row with its chip
# ("RTX 4090 Laptop GPU" has 16 GB): never dropped to find a match.
_OTHER_PRODUCT_WORDS = frozenset({"laptop", "mobile", "notebook", "embedded"})


class GpuCatalogError(ResolutionError):
    """A user ``gpus.yaml`` that cannot be used; names the file, row and field."""

    def __init__(self, path: Path, where: str, message: str) -> None:
        self.path = path
        super().__init__(where, str(path), message)

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.message}"


def user_config_dir() -> Path:
    """The user's config folder: ``$VLLM_WIZARD_CONFIG_DIR`` or platformdirs'."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_dir as _platform_config_dir

    return Path(_platform_config_dir(APP_NAME))


def user_gpus_file() -> Path:
    """Where the user's GPU rows are read from (the file need not exist)."""
    return user_config_dir() / USER_FILE_NAME


def gpu_catalog() -> list[GpuSpec]:
    """All known GPUs: the built-ins, then the user's additions, in file order.

    Cached per user file (path, mtime and size), so editing the file is seen
    without a restart. Raises `GpuCatalogError` for a bad user file.
    """
    return list(_catalog_for(*_user_file_stamp()))


def gpu_names() -> list[str]:
    """Catalog names, in catalog order, for completion in the TUI."""
    return [gpu.name for gpu in gpu_catalog()]


def completion_names() -> list[str]:
    """Catalog names in the order completion should offer them: a row that a
    bare chip name means ("H100" is the H100 SXM) before its siblings, so the
    completion shown for "h100" is the GPU the plan will use."""

    def rank(name: str) -> int:
        try:
            return 0 if find_gpu(name.split()[0]).name == name else 1
        except ResolutionError:
            return 1

    return sorted(gpu_names(), key=rank)


def find_gpu(name: str) -> GpuSpec:
    """The catalog GPU that ``name`` means.

    Case, spaces, dashes and vendor words ("NVIDIA", "GeForce", "AMD Instinct")
    do not matter; memory sizes ("80GB") and form factors ("SXM", "PCIe")
    narrow the choice. An exact name, nvidia-smi name or alias wins outright,
    which is how bare names get their documented default ("H100" = H100 SXM).

    Raises `ResolutionError` on ``hardware.gpu_name`` when the name matches
    several GPUs (listing them) or none (with a did-you-mean).
    """
    index = _index_for(*_user_file_stamp())
    query = _tokens(name)
    if not query:
        raise ResolutionError(
            PROFILE_FIELD,
            name,
            "names no card, only a vendor or product line; write the card, such as "
            "H100 or L40S",
        )

    exact = index.by_key.get("".join(query))
    if exact is not None and len(exact) == 1:
        return exact[0]

    candidates = _candidates(index, query)
    if not candidates and not set(query) & _OTHER_PRODUCT_WORDS:
        # Tool names carry words no row has ("A100-SXM4-80GB-LS", "MI250 (MCM)
        # OAM AC MBA"): keep the chip, size and form-factor words and retry.
        # Only words after the chip are dropped: "my L4 card" or "xx H100"
        # is not a tool's spelling of a catalog GPU, and is refused.
        first = next(
            (
                i
                for i, t in enumerate(query)
                if _identifies(t) and _token_known(index, t)
            ),
            len(query),
        )
        lead_known = all(_token_known(index, t) for t in query[:first])
        core = tuple(t for t in query if _identifies(t) and _token_known(index, t))
        if (
            lead_known
            and core
            and core != query
            and any(c.isdigit() for c in "".join(core))
        ):
            exact = index.by_key.get("".join(core))
            if exact is not None and len(exact) == 1:
                return exact[0]
            candidates = _candidates(index, core)
    if exact is not None and len(exact) > 1 and not candidates:
        candidates = list(exact)

    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        listed = ", ".join(gpu.name for gpu in candidates)
        raise ResolutionError(
            PROFILE_FIELD,
            name,
            f"{name!r} matches several GPUs: {listed}; write one of them",
        )
    raise ResolutionError(PROFILE_FIELD, name, _unknown_message(index, name))


# ---------------------------------------------------------------- lookup helpers


class _Index:
    """Lookup tables over one catalog snapshot."""

    def __init__(self, gpus: tuple[GpuSpec, ...]) -> None:
        self.gpus = gpus
        self.by_key: dict[str, tuple[GpuSpec, ...]] = {}
        self.tokens: dict[str, frozenset[str]] = {}
        self.display: dict[str, str] = {}
        for gpu in gpus:
            token_set: set[str] = set()
            for text in (gpu.name, *gpu.smi_names, *gpu.aliases):
                tokens = _tokens(text)
                token_set.update(tokens)
                key = "".join(tokens)
                if not key:
                    continue
                found = self.by_key.get(key, ())
                if gpu not in found:
                    self.by_key[key] = (*found, gpu)
                self.display.setdefault(key, gpu.name)
            self.tokens[gpu.name] = frozenset(token_set)
        self.all_tokens = frozenset().union(*self.tokens.values()) if gpus else set()


def _tokens(text: str) -> tuple[str, ...]:
    """Lower-case words of a GPU name without vendor words; sizes read "80gb"."""
    out: list[str] = []
    for word in re.split(r"[^a-z0-9]+", text.lower()):
        if not word or word in _VENDOR_WORDS:
            continue
        size = re.fullmatch(r"(\d+)(?:gb|gib|g)", word)
        if size:
            word = f"{int(size.group(1))}gb"
        elif word.isdigit() and len(word) <= 3:
            word = f"{int(word)}gb"  # "A100 80" means 80 GB
        out.append(word)
    return tuple(out)


def _token_matches(query: str, token: str) -> bool:
    """``sxm`` matches ``sxm4``/``sxm5``; anything else must be equal."""
    if query == token:
        return True
    return query.isalpha() and token.startswith(query) and token[len(query) :].isdigit()


def _identifies(token: str) -> bool:
    """Chip names and sizes carry a digit; form factors are these words."""
    return any(c.isdigit() for c in token) or token in ("sxm", "pcie", "nvl")


def _token_known(index: _Index, query: str) -> bool:
    return any(_token_matches(query, t) for t in index.all_tokens)


def _candidates(index: _Index, query: tuple[str, ...]) -> list[GpuSpec]:
    return [
        gpu
        for gpu in index.gpus
        if all(any(_token_matches(q, t) for t in index.tokens[gpu.name]) for q in query)
    ]


def _unknown_message(index: _Index, name: str) -> str:
    key = "".join(_tokens(name))
    close = difflib.get_close_matches(key, list(index.display), n=6, cutoff=0.6)
    names: list[str] = []
    for match in close:
        display = index.display[match]
        if display not in names:
            names.append(display)
    hint = f"did you mean {', '.join(names[:3])}? If not, set" if names else "set"
    return (
        f"unknown GPU; {hint} hardware.vram_gb to its memory in GiB "
        f"(the CUDA total vLLM logs), or add it to {user_gpus_file()}"
    )


# ---------------------------------------------------------------- loading


def _user_file_stamp() -> tuple[str, tuple[int, int] | None]:
    path = user_gpus_file()
    try:
        stat = path.stat()
    except OSError:
        return str(path), None
    return str(path), (stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _catalog_for(path: str, stamp: tuple[int, int] | None) -> tuple[GpuSpec, ...]:
    rows = _builtin_rows()
    if stamp is not None:
        rows = _merge(rows, Path(path))
    return tuple(rows)


@lru_cache(maxsize=8)
def _index_for(path: str, stamp: tuple[int, int] | None) -> _Index:
    return _Index(_catalog_for(path, stamp))


@lru_cache(maxsize=1)
def _builtin_rows() -> tuple[GpuSpec, ...]:
    text = (
        resources.files("wizard_tui.catalog")
        .joinpath("data", "gpus.yaml")
        .read_text(encoding="utf-8")
    )
    data = yaml.load(text, Loader=_SAFE_LOADER)
    # The packaged file is ours: a bad row is a bug, so let pydantic's error out.
    return tuple(GpuSpec(**row) for row in data["gpus"])


def _merge(builtins: tuple[GpuSpec, ...], path: Path) -> tuple[GpuSpec, ...]:
    """Built-ins with the user's rows over them (same name: fields override)."""
    merged: dict[str, GpuSpec] = {"".join(_tokens(g.name)): g for g in builtins}
    for position, row in enumerate(_read_user_rows(path)):
        where = f"gpus[{position}]"
        if not isinstance(row, dict):
            raise GpuCatalogError(path, where, "each GPU must be a mapping of fields")
        name = row.get("name")
        if not isinstance(name, str) or not _tokens(name):
            raise GpuCatalogError(path, f"{where}.name", "a GPU needs a name")
        key = "".join(_tokens(name))
        base = merged.get(key)
        fields: dict[str, Any] = base.model_dump() if base is not None else {}
        fields.update(row)
        if base is not None:
            fields["name"] = (
                base.name
            )  # "h100 sxm" overrides "H100 SXM", keeps its name
        if "memory_source" not in row and (base is None or "cuda_total_gib" in row):
            fields["memory_source"] = f"user file {path}"
        if base is None and "source" not in row:
            fields["source"] = f"user file {path}"
        try:
            merged[key] = GpuSpec(**fields)
        except ValidationError as exc:
            error = exc.errors()[0]
            loc = ".".join(str(part) for part in error["loc"])
            label = f"{where}.{loc}" if loc else where
            raise GpuCatalogError(path, label, f"{error['msg']} ({name})") from None
        log.debug("GPU %s from %s", name, path)
    return tuple(merged.values())


def _read_user_rows(path: Path) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GpuCatalogError(path, "file", f"cannot be read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise GpuCatalogError(path, "file", f"not valid YAML{at}: {problem}") from None
    if data is None:
        return []
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        extra = sorted(str(k) for k in data if k != "gpus")
        if extra:
            raise GpuCatalogError(
                path, extra[0], "unknown key; the file holds only 'gpus:', a list"
            )
        rows = data.get("gpus") or []
        if not isinstance(rows, list):
            raise GpuCatalogError(path, "gpus", "must be a list of GPUs")
        return rows
    raise GpuCatalogError(path, "file", "must hold 'gpus:', a list of GPUs")
