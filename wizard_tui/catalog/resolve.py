"""A profile becomes a `PlanRequest`: resolve the model and the GPU.

Model resolution order (first hit wins):
1. ``model.id`` is a local folder holding config.json (vLLM takes a path);
2. the Hugging Face cache, offline, at ``model.revision``;
3. the Hugging Face Hub, only when the caller allows network access;
4. the built-in catalog (package data);
5. ``model.params_b`` alone: a Llama-like layout is synthesised, marked
   ``guessed`` and announced loudly;
otherwise `ResolutionError`.
"""

from __future__ import annotations

import functools
import logging
import math
from pathlib import Path
from typing import Any

from wizard_tui.catalog import hf_cache, model_catalog
from wizard_tui.catalog.errors import ResolutionError
from wizard_tui.catalog.models import arch_from_config
from wizard_tui.schemas.facts import GpuSpec, ModelArch
from wizard_tui.schemas.plan import PlanRequest
from wizard_tui.schemas.profile import ModelSection, Profile

log = logging.getLogger(__name__)

_GUESS_VOCAB = 128_256
# Llama-family layouts the params_b guess starts from:
# (params_b, layers, hidden, heads, kv_heads, intermediate), from the released
# config.json files of Llama 3.2 1B/3B, 3.1 8B/70B/405B and Qwen2.5 14B/32B.
_GUESS_TEMPLATES = (
    (1.2, 16, 2048, 32, 8, 8192),
    (3.2, 28, 3072, 24, 8, 8192),
    (8.0, 32, 4096, 32, 8, 14336),
    (14.8, 48, 5120, 40, 8, 13824),
    (32.8, 64, 5120, 40, 8, 27648),
    (70.6, 80, 8192, 64, 8, 28672),
    (405.9, 126, 16384, 128, 8, 53248),
)


_ONLINE_QUANT = {
    # Per-tensor FP8 weights made while loading (vLLM fp8.py).
    "fp8": {"quant_method": "fp8", "activation_scheme": "dynamic"},
    # bitsandbytes 4-bit made while loading (vLLM before 0.34).
    "bitsandbytes": {"quant_method": "bitsandbytes", "load_in_4bit": True},
}


def _online_quant(
    section: ModelSection, config: dict[str, Any]
) -> dict[str, Any] | None:
    """The scheme vLLM applies while loading an unquantized checkpoint with
    `--quantization fp8` or `bitsandbytes`; other methods need a checkpoint
    quantized ahead of time, so they change nothing here."""
    scheme = _ONLINE_QUANT.get(section.quantization or "")
    if scheme is None:
        return None
    text = (
        config.get("text_config") if isinstance(config.get("text_config"), dict) else {}
    )
    if config.get("quantization_config") or text.get("quantization_config"):
        return None
    return scheme


def _from_files(
    files: hf_cache.ModelFiles, section: ModelSection, notes: list[str]
) -> ModelArch:
    online = _online_quant(section, files.config)
    if online:
        notes.append(
            "model: --quantization fp8 quantizes the bf16 weights to fp8 while loading"
        )
    try:
        arch = arch_from_config(
            files.config,
            model_id=section.id,
            source=files.source,
            quant_config=online or files.quant_config,
            index_total_size=None if online else files.index_total_size,
            dtype_override=section.dtype,
        )
    except ValueError as exc:
        raise ResolutionError("model.id", section.id, str(exc)) from exc
    limit = files.tokenizer_max_length
    if limit is not None and limit < arch.max_model_len:
        # vLLM caps the derived length by the tokenizer's model_max_length.
        notes.append(
            f"model: max length {arch.max_model_len} capped to the tokenizer's "
            f"model_max_length {limit}"
        )
        arch = arch.model_copy(update={"max_model_len": limit})
    return arch


@functools.lru_cache(maxsize=512)
def _catalog_arch(
    model_id: str, dtype: str, quantization: str | None
) -> tuple[ModelArch, tuple[str, ...]] | None:
    """The catalog entry's facts and notes, cached: the TUI resolves on every
    keystroke."""
    entry = model_catalog.lookup(model_id)
    if entry is None:
        return None
    section = ModelSection(id=model_id, dtype=dtype, quantization=quantization)
    files = hf_cache.ModelFiles(
        config=entry.config,
        folder=Path("."),
        source=entry.source,
        quant_config=entry.quant_config,
    )
    notes: list[str] = []
    arch = _from_files(files, section, notes)
    return arch, tuple(notes)


def guess_arch(model_id: str, params_b: float) -> ModelArch:
    """A Llama-like architecture with about ``params_b`` billion parameters:
    the nearest template's widths, with the layer count scaled to match.
    Marked ``guessed``; its KV figures are only a rough guide."""
    target = params_b * 1e9
    template = min(_GUESS_TEMPLATES, key=lambda t: abs(math.log(t[0] / params_b)))
    _, layers, hidden, heads, kv_heads, inter = template
    head_dim = hidden // heads
    per_layer = (
        hidden * heads * head_dim * 2  # q and o projections
        + hidden * kv_heads * head_dim * 2  # k and v projections
        + 3 * hidden * inter  # gated MLP
    )
    embeddings = 2 * _GUESS_VOCAB * hidden
    layers = max(1, round((target - embeddings) / per_layer))
    total = int(target)
    return ModelArch(
        model_id=model_id,
        source=(
            f"GUESSED from params_b={params_b:g}: a Llama-like layout "
            f"({layers} layers, hidden {hidden}, {kv_heads} KV heads of {head_dim}); "
            "point model.id at a folder with config.json for real figures"
        ),
        guessed=True,
        architecture="LlamaForCausalLM",
        model_type="llama",
        num_layers=layers,
        hidden_size=hidden,
        intermediate_size=inter,
        vocab_size=_GUESS_VOCAB,
        num_attention_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        max_model_len=8192,
        total_params=total,
        active_params=total,
        weight_bytes=2 * total,  # bf16
    )


def resolve_model_with_notes(
    section: ModelSection, *, allow_network: bool = False
) -> tuple[ModelArch, list[str]]:
    """`resolve_model`, plus the notes it made on the way (for the plan)."""
    notes: list[str] = []
    model_id = section.id
    folder = Path(model_id).expanduser()
    if folder.is_dir():
        files = hf_cache.from_folder(folder)
        if files is None:
            raise ResolutionError(
                "model.id",
                model_id,
                "this folder has no readable config.json; point model.id at the "
                "checkpoint folder that holds config.json",
            )
        return _from_files(files, section, notes), notes

    path_like = model_id.startswith(("/", ".", "~")) or model_id.count("/") > 1
    if not path_like:  # org/name, or a bare legacy name such as "gpt2"
        files = hf_cache.from_cache(model_id, section.revision)
        if files is None and allow_network:
            files = hf_cache.fetch_from_hub(model_id, section.revision)
        if files is not None:
            return _from_files(files, section, notes), notes

    found = _catalog_arch(model_id, section.dtype, section.quantization)
    if found is not None:
        arch, catalog_notes = found
        notes.extend(catalog_notes)
        if section.revision:
            notes.append(
                f"model: revision {section.revision!r} is not in the HF cache; "
                "using the built-in catalog's facts for this model"
            )
        return arch, notes

    if section.params_b is not None:
        arch = guess_arch(model_id, section.params_b)
        warning = (
            f"WARNING: {model_id} was not found locally, in the HF cache or the "
            f"catalog; its architecture is GUESSED from params_b={section.params_b:g}. "
            "KV cache and head counts may be far off."
        )
        log.warning(warning)
        notes.append(warning)
        return arch, notes

    if path_like:
        raise ResolutionError(
            "model.id",
            model_id,
            "no such folder on this machine; point model.id at the checkpoint "
            "folder that holds config.json, or set model.params_b",
        )
    raise ResolutionError(
        "model.id",
        model_id,
        "not found locally, in the HF cache or the catalog; set model.params_b or "
        "point model.id at a folder with config.json",
    )


def resolve_model(section: ModelSection, *, allow_network: bool = False) -> ModelArch:
    """The model's architecture facts, found in the order this module's
    docstring gives. Raises `ResolutionError` naming model.id and the fix."""
    return resolve_model_with_notes(section, allow_network=allow_network)[0]


def resolve_gpu(profile: Profile) -> tuple[GpuSpec, list[str]]:
    """The GPU: the catalog's entry for hardware.gpu_name, with
    hardware.vram_gb (GiB, CUDA total) replacing its memory when set; a
    name-less or unknown GPU is accepted when vram_gb is given."""
    hw = profile.hardware
    notes: list[str] = []
    try:
        from wizard_tui.catalog.gpus import find_gpu
    except ImportError:  # the GPU catalog ships separately
        find_gpu = None

    spec: GpuSpec | None = None
    if hw.gpu_name and find_gpu is not None:
        try:
            spec = find_gpu(hw.gpu_name)
            spelled = {n.lower() for n in (spec.name, *spec.smi_names, *spec.aliases)}
            if hw.gpu_name.lower() not in spelled:
                notes.append(
                    f"hardware: {hw.gpu_name!r} is the catalog's {spec.name} "
                    f"({spec.cuda_total_gib:g} GiB CUDA total)"
                )
        except ResolutionError:
            if hw.vram_gb is None:
                raise
            notes.append(
                f"hardware: {hw.gpu_name!r} is not in the GPU catalog; using "
                f"vram_gb = {hw.vram_gb:g} GiB without bandwidth or FLOP/s figures"
            )
    if hw.vram_gb is not None:
        if spec is None:
            return (
                GpuSpec(
                    name=hw.gpu_name or "custom GPU",
                    cuda_total_gib=hw.vram_gb,
                    memory_source="hardware.vram_gb",
                    source="profile",
                ),
                notes,
            )
        if abs(spec.cuda_total_gib - hw.vram_gb) > 1e-9:
            notes.append(
                f"hardware: vram_gb = {hw.vram_gb:g} GiB replaces the catalog's "
                f"{spec.cuda_total_gib:g} GiB for {spec.name}"
            )
        spec = spec.model_copy(
            update={"cuda_total_gib": hw.vram_gb, "memory_source": "hardware.vram_gb"}
        )
        return spec, notes
    if spec is None:
        raise ResolutionError(
            "hardware.gpu_name",
            hw.gpu_name,
            "the GPU catalog is not available; set hardware.vram_gb (GiB per GPU)",
        )
    return spec, notes


def build_request(profile: Profile, allow_network: bool = False) -> PlanRequest:
    """Resolve the profile's model and GPU into a `PlanRequest` whose notes say
    where the facts came from. Raises `ResolutionError`."""
    arch, notes = resolve_model_with_notes(profile.model, allow_network=allow_network)
    gpu, gpu_notes = resolve_gpu(profile)
    notes = [f"model facts: {arch.source}", *notes, *gpu_notes]
    return PlanRequest(profile=profile, model=arch, gpu=gpu, notes=tuple(notes))
