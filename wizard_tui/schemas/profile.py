"""The profile: a vLLM deployment described in one small YAML file.

Every field's description names its unit and meaning; the descriptions double
as the in-app help and as the JSON Schema that `vllm-wizard schema` prints.
The field list is the one in CONTRACT.md (the original vllm-wizard tool's
format, version 1, plus optional sections that all default so old files load).

Values the original tool wrote that vLLM does not accept (`bf16`, `fp8_e4m3fn`,
quantization `none`) are normalised here, before validation, and each change is
reported as a note when a list is passed in the validation context under
``"notes"`` (see ``wizard_tui.profiles``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

PROFILE_VERSION = 1
"""The newest profile format this code writes and reads."""

NEWEST_VLLM_VERSION = "0.34"
OLDEST_VLLM_VERSION = "0.6"

DTYPES = ("auto", "half", "float16", "bfloat16", "float", "float32")
"""`--dtype` choices of vLLM 0.34 (vllm/config/model.py)."""

KV_CACHE_DTYPES = (
    "auto",
    "float16",
    "bfloat16",
    "fp8",
    "fp8_e4m3",
    "fp8_e5m2",
    "fp8_inc",
    "fp8_ds_mla",
    "nvfp4_ds_mla",
    "int8_per_token_head",
    "fp8_per_token_head",
    "int4_per_token_head",
    "nvfp4",
)
"""The `--kv-cache-dtype` choices of vLLM 0.34 that the planner can size
(vllm/config/cache.py; the TurboQuant/Octave research formats are left out
because their page layout is not documented well enough to plan)."""

QUANTIZATIONS = (
    "awq",
    "awq_marlin",
    "gptq",
    "gptq_marlin",
    "fp8",
    "compressed-tensors",
    "modelopt",
    "modelopt_fp4",
    "mxfp4",
    "moe_wna16",
    "bitsandbytes",
    "gguf",
    "torchao",
    "quark",
    "fbgemm_fp8",
    "experts_int8",
)
"""Quantization methods a profile may name. `bitsandbytes` and `gguf` exist only
before vLLM 0.34; the planner blocks them on 0.34."""

EMIT_NAMES = ("command", "docker", "compose", "k8s", "ray", "profile", "json")
INTERCONNECTS = ("unknown", "pcie", "nvlink", "infiniband", "ethernet")
MODES = ("throughput", "latency", "balanced")

_DTYPE_ALIASES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}
_KV_DTYPE_ALIASES = {
    "fp8_e4m3fn": "fp8_e4m3",
    "fp8_e5m2fn": "fp8_e5m2",
    "fp16": "float16",
    "bf16": "bfloat16",
}
_VERSION_RE = re.compile(r"^\d+\.\d+(\.\d+)?([.+-]?[0-9A-Za-z.+-]*)?$")

# Upper bounds keep a hostile or mistyped number (40 digits) from reaching the
# planner's arithmetic; each is far above anything a real deployment uses.
_MAX_TOKENS = 100_000_000
_MAX_GPUS = 4096
_MAX_GIB = 100_000.0


def _note(info: ValidationInfo, field: str, old: Any, new: Any) -> None:
    notes = info.context.get("notes") if isinstance(info.context, dict) else None
    if notes is not None:
        notes.append(f"{field}: {old!r} normalised to {new!r}")


def _has_control(text: str) -> bool:
    """C0/C1 control characters (newline, tab, ESC, NUL ...): never part of a
    model id or GPU name, and unsafe to echo into a terminal or a script."""
    return any(unicodedata.category(c) == "Cc" for c in text)


class _Section(BaseModel):
    """Strict sections: text is not a number, a boolean is not a number."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        allow_inf_nan=False,
        validate_default=False,
    )


class ModelSection(_Section):
    id: str = Field(
        "Qwen/Qwen3-8B",
        min_length=1,
        max_length=512,
        description=(
            "Model to serve: a Hugging Face repo id (org/name) or a local folder "
            "holding config.json, exactly as passed to `vllm serve`."
        ),
    )
    revision: str | None = Field(
        None,
        max_length=256,
        description="Hugging Face revision (branch, tag or commit); null = main.",
    )
    dtype: Literal[DTYPES] = Field(  # type: ignore[valid-type]
        "auto",
        description=(
            "Weight and activation dtype (vLLM --dtype); auto = the checkpoint's "
            "dtype (bf16 for fp32 checkpoints)."
        ),
    )
    quantization: Literal[QUANTIZATIONS] | None = Field(  # type: ignore[valid-type]
        None,
        description=(
            "Quantization method (vLLM --quantization); null = whatever the "
            "checkpoint declares, which vLLM detects by itself."
        ),
    )
    kv_cache_dtype: Literal[KV_CACHE_DTYPES] = Field(  # type: ignore[valid-type]
        "auto",
        description=(
            "KV cache element type (vLLM --kv-cache-dtype); auto = the model dtype "
            "(2 bytes), fp8 variants = 1 byte per element."
        ),
    )
    max_model_len: int | None = Field(
        None,
        ge=1,
        le=_MAX_TOKENS,
        description=(
            "Longest request in tokens (prompt + output), vLLM --max-model-len; "
            "null = the model's own maximum."
        ),
    )
    params_b: float | None = Field(
        None,
        gt=0,
        le=100_000,
        description=(
            "Parameter count in billions; used only when the model's config.json "
            "cannot be found (the architecture is then guessed)."
        ),
    )

    @field_validator("dtype", mode="before")
    @classmethod
    def _dtype_alias(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and value.lower() in _DTYPE_ALIASES:
            new = _DTYPE_ALIASES[value.lower()]
            _note(info, "model.dtype", value, new)
            return new
        return value

    @field_validator("kv_cache_dtype", mode="before")
    @classmethod
    def _kv_alias(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and value.lower() in _KV_DTYPE_ALIASES:
            new = _KV_DTYPE_ALIASES[value.lower()]
            _note(info, "model.kv_cache_dtype", value, new)
            return new
        return value

    @field_validator("quantization", mode="before")
    @classmethod
    def _quant_alias(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and value.lower() == "none":
            _note(info, "model.quantization", value, None)
            return None
        if isinstance(value, str) and value.lower() == "int8":
            raise ValueError(
                "vLLM has no 'int8' quantization method; use a W8A8 checkpoint "
                "(compressed-tensors, detected by itself: leave this null) or 'fp8'"
            )
        return value

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if value != value.strip() or _has_control(value):
            raise ValueError(
                "must be a Hugging Face repo id (org/name) or a folder path, "
                "without surrounding spaces or control characters"
            )
        return value


class HardwareSection(_Section):
    gpu_name: str | None = Field(
        "H100 SXM",
        max_length=128,
        description=(
            "GPU model, as nvidia-smi or amd-smi prints it or a catalog alias "
            "(e.g. 'H100', 'NVIDIA L40S'); null = give vram_gb instead."
        ),
    )
    gpus: int = Field(
        1,
        ge=1,
        le=_MAX_GPUS,
        description="GPUs the deployment uses in all; TP x PP must not exceed it.",
    )

    @field_validator("gpu_name")
    @classmethod
    def _gpu_name_shape(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or _has_control(value)):
            raise ValueError(
                "must be a GPU name such as 'H100' or 'NVIDIA L40S' on one line "
                "(or null, with vram_gb in GiB per GPU)"
            )
        return value

    gpus_per_node: int | None = Field(
        None,
        ge=1,
        le=1024,
        description=(
            "GPUs in one node; a plan with TP x PP above it spans nodes (Ray). "
            "null = all `gpus` on one node."
        ),
    )
    vram_gb: float | None = Field(
        None,
        gt=0,
        le=_MAX_GIB,
        description=(
            "Memory of one GPU in GiB (2^30 bytes) as CUDA reports it (the figure "
            "vLLM logs, not nvidia-smi's larger total); null = from the catalog."
        ),
    )
    interconnect: Literal[INTERCONNECTS] = Field(  # type: ignore[valid-type]
        "unknown",
        description=(
            "Link between GPUs; used for the tensor-parallel all-reduce cost in "
            "speed estimates. unknown = the catalog's value for this GPU."
        ),
    )
    tp_size: int | None = Field(
        None,
        ge=1,
        le=_MAX_GPUS,
        description=(
            "Tensor-parallel size (vLLM --tensor-parallel-size); null = auto: the "
            "smallest valid TP that makes vLLM start."
        ),
    )


class WorkloadSection(_Section):
    prompt_tokens: int = Field(
        512, ge=1, le=_MAX_TOKENS, description="Typical prompt length in tokens."
    )
    gen_tokens: int = Field(
        256, ge=1, le=_MAX_TOKENS, description="Typical output length in tokens."
    )
    concurrency: int = Field(
        4,
        ge=1,
        le=1_000_000,
        description="Requests in flight at the same time that must fit at once.",
    )
    streaming: bool = Field(
        True, description="Clients stream tokens (affects only the advice shown)."
    )
    mode: Literal[MODES] = Field(  # type: ignore[valid-type]
        "balanced",
        description=(
            "throughput, latency or balanced: shapes the engine knobs "
            "(max_num_seqs, max_num_batched_tokens) suggested and written when "
            "vllm_args leaves them unset."
        ),
    )


class PolicySection(_Section):
    gpu_memory_utilization: float | None = Field(
        None,
        gt=0,
        le=1,
        description=(
            "Fraction of each GPU's CUDA total that vLLM may use (vLLM "
            "--gpu-memory-utilization) for everything it holds: weights, "
            "activations, CUDA graphs (charged from 0.21) and the KV cache, which "
            "takes the rest; a smaller, quantized model shows as more KV tokens, "
            "not as less memory used. null = the target version's default "
            "(0.90 up to 0.19, 0.92 from 0.22; 1.0 with 0.34's extensible cache)."
        ),
    )
    overhead_gb: float | None = Field(
        None,
        ge=0,
        le=_MAX_GIB,
        description=(
            "GiB per GPU held by other processes or reserved by you; unavailable "
            "to vLLM and counted in its free-memory check. null = 0."
        ),
    )
    fragmentation_factor: float = Field(
        1.0,
        ge=1.0,
        le=10.0,
        description=(
            "Multiplies the workload's KV need when judging 'fits' (1.0 = none); "
            "vLLM's own figures never include it."
        ),
    )
    headroom_gb: float = Field(
        0.0,
        ge=0,
        le=_MAX_GIB,
        description=(
            "GiB per GPU that must stay unallocated after vLLM's budget and the "
            "overhead; 'fits' is false when it does not."
        ),
    )


class EngineSection(_Section):
    vllm_version: str | None = Field(
        None,
        max_length=64,
        description=(
            "vLLM version the plan targets (0.6 to 0.34), e.g. '0.34' or '0.11.0'; "
            "null = the newest supported."
        ),
    )

    @field_validator("vllm_version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        # YAML reads `0.34` as a float; a version is text. Keep the digits as
        # written only when they came as a string; a float loses `0.10` vs `0.1`.
        if isinstance(value, (float, int)) and not isinstance(value, bool):
            raise ValueError(
                f"YAML read this as the number {value}, which loses digits (0.10 "
                "becomes 0.1); write the version in quotes as spelled, e.g. '0.10' "
                "or '0.34'"
            )
        return value

    @field_validator("vllm_version")
    @classmethod
    def _version_shape(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _VERSION_RE.match(value):
            raise ValueError(
                f"{value!r} is not a version number (expected e.g. '0.34' or '0.11.0')"
            )
        if not version_supported(value):
            raise ValueError(
                f"vLLM {value} is outside the supported range "
                f"{OLDEST_VLLM_VERSION} to {NEWEST_VLLM_VERSION}"
            )
        return value


class OutputsSection(_Section):
    emit: list[Literal[EMIT_NAMES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["command", "profile"],
        max_length=len(EMIT_NAMES),
        description=(
            "Launch files `generate` writes: command, docker, compose, k8s, ray, "
            "profile, json."
        ),
    )
    vllm_args: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Extra `vllm serve` flags, snake_case names (kebab-case accepted), "
            "values as vLLM takes them (true/false for switches, null = vLLM's "
            "default, mappings for JSON flags); unknown flags are kept and warned "
            "about. Engine knobs the planner reads: pipeline_parallel_size, "
            "data_parallel_size, max_num_seqs, max_num_batched_tokens, block_size, "
            "enforce_eager, enable_chunked_prefill, kv_cache_memory_bytes."
        ),
    )

    @field_validator("vllm_args", mode="before")
    @classmethod
    def _snake_keys(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not re.fullmatch(
                r"-{0,2}[A-Za-z][A-Za-z0-9_-]*", key
            ):
                raise ValueError(
                    f"flag name {key!r} is not a vLLM flag name (allowed: letters, "
                    "digits, '_' and '-', starting with a letter)"
                )
            snake = key.lstrip("-").replace("-", "_")
            if snake != key:
                _note(info, f"outputs.vllm_args.{key}", key, snake)
            if snake in out:
                raise ValueError(f"flag {snake!r} is given twice")
            out[snake] = item
        return out

    @field_validator("vllm_args")
    @classmethod
    def _plain_values(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, item in value.items():
            _check_plain(item, f"vllm_args.{key}")
            if key in _OWN_FIELDS:
                raise ValueError(
                    f"{key} belongs in {_OWN_FIELDS[key]}, not in vllm_args "
                    "(the planner and the launch files read it from there)"
                )
            if key in _KNOB_RULES and item is not None:
                _KNOB_RULES[key](key, item)
        return value

    @field_validator("emit")
    @classmethod
    def _unique_emit(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("names each emit entry once")
        return value


# vllm_args keys that have a profile field of their own.
_OWN_FIELDS = {
    "model": "model.id",
    "revision": "model.revision",
    "dtype": "model.dtype",
    "quantization": "model.quantization",
    "kv_cache_dtype": "model.kv_cache_dtype",
    "max_model_len": "model.max_model_len",
    "tensor_parallel_size": "hardware.tp_size",
    "gpu_memory_utilization": "policy.gpu_memory_utilization",
}


def _whole(low: int, high: int) -> Any:
    def check(key: str, item: Any) -> None:
        if (
            isinstance(item, bool)
            or not isinstance(item, int)
            or not low <= item <= high
        ):
            raise ValueError(
                f"{key}: {_yaml_text(item)} is not allowed (allowed: a whole number "
                f"from {low} to {high:,})"
            )

    return check


def _block_size(key: str, item: Any) -> None:
    _whole(8, 2048)(key, item)
    if item % 8:
        raise ValueError(
            f"{key}: {item} is not allowed (allowed: a multiple of 8, e.g. 16 or 64; "
            "vLLM's attention kernels page the cache in such blocks)"
        )


_SIZE_RE = re.compile(r"^\d+(\.\d+)?\s*[kKmMgGtT]?[iI]?[bB]?$")


def _byte_size(key: str, item: Any) -> None:
    if isinstance(item, str) and _SIZE_RE.match(item.strip()):
        return
    if isinstance(item, bool) or not isinstance(item, int) or item < 1:
        raise ValueError(
            f"{key}: {_yaml_text(item)} is not allowed (allowed: a whole number "
            "> 0, or text with a k/M/G suffix like '16k' or '20G')"
        )


def _flag(key: str, item: Any) -> None:
    if not isinstance(item, bool):
        raise ValueError(
            f"{key}: {_yaml_text(item)} is not allowed (allowed: true or false)"
        )


_KNOB_RULES = {
    "pipeline_parallel_size": _whole(1, 1024),
    "data_parallel_size": _whole(1, 4096),
    "max_num_seqs": _whole(1, 1_000_000),
    "max_num_batched_tokens": _byte_size,
    "block_size": _block_size,
    "kv_cache_memory_bytes": _byte_size,
    "enforce_eager": _flag,
    "enable_chunked_prefill": _flag,
    "enable_prefix_caching": _flag,
}
"""Checks for the engine knobs the planner reads from vllm_args."""


def _yaml_text(value: Any) -> str:
    """A value as the user wrote it in YAML (null, true), not as Python shows it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)


def _check_plain(item: Any, where: str, depth: int = 0) -> None:
    """vllm_args values are JSON-like data: nothing else may hide in them."""
    if depth > 8:
        raise ValueError(f"{where} is nested too deeply")
    if item is None or isinstance(item, (bool, int, str)):
        if isinstance(item, int) and abs(item) > 10**18:
            raise ValueError(f"{where}: {item} is out of range")
        return
    if isinstance(item, float):
        if item != item or item in (float("inf"), float("-inf")):
            raise ValueError(f"{where}: NaN and infinity are not allowed")
        return
    if isinstance(item, list):
        for sub in item:
            _check_plain(sub, where, depth + 1)
        return
    if isinstance(item, dict):
        for k, sub in item.items():
            if not isinstance(k, str):
                raise ValueError(f"{where}: keys must be text")
            _check_plain(sub, f"{where}.{k}", depth + 1)
        return
    raise ValueError(f"{where}: {type(item).__name__} values are not allowed")


class Profile(_Section):
    """A whole profile file (format version 1)."""

    profile_version: int = Field(
        PROFILE_VERSION,
        ge=1,
        le=PROFILE_VERSION,
        description="Format version of this file; this program writes 1.",
    )
    model: ModelSection = Field(default_factory=ModelSection)
    hardware: HardwareSection = Field(default_factory=HardwareSection)
    workload: WorkloadSection = Field(default_factory=WorkloadSection)
    policy: PolicySection = Field(default_factory=PolicySection)
    engine: EngineSection = Field(default_factory=EngineSection)
    outputs: OutputsSection = Field(default_factory=OutputsSection)

    @model_validator(mode="after")
    def _parallel_within_gpus(self) -> Profile:
        hw = self.hardware
        args = self.outputs.vllm_args
        pp = pipeline_size(args)
        dp = data_parallel_size(args)
        tp = hw.tp_size or 1
        if tp * pp * dp > hw.gpus:
            where = (
                "hardware.tp_size"
                if hw.tp_size is not None and hw.tp_size > 1
                else "outputs.vllm_args"
            )
            parts = f"TP {tp} x PP {pp}" + (f" x DP {dp}" if dp > 1 else "")
            raise ValueError(
                f"{where}: {parts} = {tp * pp * dp} GPUs is more than hardware.gpus "
                f"= {hw.gpus} (allowed: TP x PP x DP <= gpus; raise hardware.gpus "
                "or lower the sizes)"
            )
        if hw.gpus_per_node is not None and hw.gpus_per_node > hw.gpus:
            raise ValueError(
                f"hardware.gpus_per_node: {hw.gpus_per_node} is more than "
                f"hardware.gpus = {hw.gpus} (allowed: 1 to {hw.gpus})"
            )
        if hw.gpu_name is None and hw.vram_gb is None:
            raise ValueError(
                "hardware: give gpu_name (a catalog GPU) or vram_gb (GiB per GPU)"
            )
        return self


def pipeline_size(vllm_args: dict[str, Any]) -> int:
    """PP size from `vllm_args` (pipeline_parallel_size), 1 when absent or bad."""
    value = vllm_args.get("pipeline_parallel_size", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return 1
    return value


def data_parallel_size(vllm_args: dict[str, Any]) -> int:
    """DP size from `vllm_args` (data_parallel_size), 1 when absent or bad."""
    value = vllm_args.get("data_parallel_size", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return 1
    return value


def parse_version(text: str) -> tuple[int, int, int]:
    """'0.10.1.1' -> (0, 10, 1); 'main' and unparsable text -> the newest."""
    parts = re.findall(r"\d+", text)[:3]
    if len(parts) < 2:
        major, minor = (int(x) for x in NEWEST_VLLM_VERSION.split("."))
        return (major, minor, 0)
    nums = [int(p) for p in parts] + [0] * (3 - len(parts))
    return (nums[0], nums[1], nums[2])


def version_supported(text: str) -> bool:
    low = parse_version(OLDEST_VLLM_VERSION)
    high = parse_version(NEWEST_VLLM_VERSION)
    return low[:2] <= parse_version(text)[:2] <= high[:2]
