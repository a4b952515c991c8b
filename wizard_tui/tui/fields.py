"""The form fields of each wizard step, adapted from the profile's pydantic models.

The constraints live on the models in `wizard_tui.schemas.profile`; this module
only says which widget edits which field, turns the widget's text into a value
and asks pydantic whether the value is valid. The message the user sees under a
field is pydantic's own, so the file loader, the CLI and the form agree.

The engine knobs (`max_num_seqs`, `block_size` ...) live in the
`outputs.vllm_args` mapping; their rules are `OutputsSection`'s own checks of
those keys, so a field says what loading the saved file would say.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from wizard_tui.schemas.profile import (
    EngineSection,
    HardwareSection,
    ModelSection,
    OutputsSection,
    PolicySection,
    Profile,
    WorkloadSection,
)

Kind = Literal["text", "int", "float", "select", "switch"]

VLLM_ARGS = "vllm_args"
"""Pseudo-section name for keys of `outputs.vllm_args`."""

KNOB_HELP = {
    "max_num_seqs": "Sequences vLLM schedules at once (--max-num-seqs); empty = "
    "the planner's suggestion for the workload mode.",
    "max_num_batched_tokens": "Tokens per scheduler step "
    "(--max-num-batched-tokens), e.g. 8192 or '16k'; empty = the planner's "
    "suggestion.",
    "enforce_eager": "Run without CUDA graphs (--enforce-eager): no graph "
    "memory, slower decode.",
    "block_size": "Tokens per KV cache block (--block-size), a multiple of 8; "
    "empty = vLLM's choice.",
    "pipeline_parallel_size": "Pipeline-parallel size "
    "(--pipeline-parallel-size); TP x PP must not exceed hardware.gpus.",
}
"""Help for the `vllm serve` flags the wizard edits in `outputs.vllm_args`;
their rules live with the profile schema (`OutputsSection`)."""


SECTION_MODELS: dict[str, type[BaseModel]] = {
    "model": ModelSection,
    "hardware": HardwareSection,
    "workload": WorkloadSection,
    "policy": PolicySection,
    "engine": EngineSection,
    VLLM_ARGS: OutputsSection,
}


@dataclass(frozen=True)
class FieldSpec:
    """One form field: which profile value it edits and with which widget."""

    section: str
    name: str
    label: str
    kind: Kind
    placeholder: str = ""

    @property
    def dom_id(self) -> str:
        """The widget id: the field's name in kebab-case (CONTRACT.md)."""
        if (self.section, self.name) == ("model", "id"):
            return "model-id"
        return self.name.replace("_", "-")

    @property
    def model(self) -> type[BaseModel]:
        return SECTION_MODELS[self.section]

    @property
    def info(self) -> Any:
        return self.model.model_fields[self.name]

    @property
    def description(self) -> str:
        if self.section == VLLM_ARGS:
            return KNOB_HELP.get(self.name, "")
        return self.info.description or ""

    @property
    def optional(self) -> bool:
        if self.section == VLLM_ARGS:
            return True  # an empty field leaves the flag out
        return type(None) in typing.get_args(self.info.annotation)

    def choices(self) -> tuple[Any, ...]:
        """The allowed values of a select field, from its Literal annotation."""
        if self.section == VLLM_ARGS:
            return ()
        return tuple(_literal_values(self.info.annotation))

    def current(self, profile: Profile) -> Any:
        """The field's value in `profile`."""
        if self.section == VLLM_ARGS:
            return profile.outputs.vllm_args.get(self.name)
        return getattr(getattr(profile, self.section), self.name)

    def display(self, value: Any) -> Any:
        """The widget value that shows `value`."""
        if self.kind == "switch":
            return bool(value)
        if self.kind == "select":
            return "" if value is None else str(value)
        return "" if value is None else str(value)

    def parse(self, raw: Any) -> Any:
        """The value a widget's content stands for.

        Text that is not a number is passed on as text so that pydantic, not
        this function, says what is wrong with it.
        """
        if self.kind == "switch":
            if self.section == VLLM_ARGS and not raw:
                return None
            return bool(raw)
        if self.kind == "select":
            if raw in ("", None):
                return None
            for choice in self.choices():
                if str(choice) == raw:
                    return choice
            return raw
        text = str(raw).strip()
        if text == "" and self.optional:
            return None
        if self.kind == "int":
            try:
                return int(text.replace("_", "").replace(",", ""))
            except ValueError:
                return text
        if self.kind == "float":
            try:
                return float(text.replace("_", ""))
            except ValueError:
                return text
        return str(raw)


def _literal_values(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) is Literal:
        return list(typing.get_args(annotation))
    values: list[Any] = []
    for arg in typing.get_args(annotation):
        values.extend(_literal_values(arg))
    return values


def _spec(section: str, name: str, label: str, kind: Kind, hint: str = "") -> FieldSpec:
    return FieldSpec(section, name, label, kind, hint)


MODEL_FIELDS = (
    _spec("model", "id", "Model", "text", "org/name or folder"),
    _spec("model", "revision", "Revision", "text", "main"),
    _spec("model", "dtype", "Dtype", "select"),
    _spec("model", "quantization", "Quantization", "select"),
    _spec("model", "kv_cache_dtype", "KV dtype", "select"),
    _spec("model", "max_model_len", "Max model len", "int", "model's maximum"),
    _spec("model", "params_b", "Params (B)", "float", "from config.json"),
)
HARDWARE_FIELDS = (
    _spec("hardware", "gpu_name", "GPU", "text", "e.g. H100, L40S"),
    _spec("hardware", "gpus", "GPUs", "int"),
    _spec("hardware", "gpus_per_node", "GPUs per node", "int", "all on one node"),
    _spec("hardware", "vram_gb", "VRAM GiB", "float", "from catalog"),
    _spec("hardware", "interconnect", "Interconnect", "select"),
    _spec("hardware", "tp_size", "TP size", "int", "auto"),
    _spec(VLLM_ARGS, "pipeline_parallel_size", "PP size", "int", "1"),
)
WORKLOAD_FIELDS = (
    _spec("workload", "prompt_tokens", "Prompt tokens", "int"),
    _spec("workload", "gen_tokens", "Output tokens", "int"),
    _spec("workload", "concurrency", "Concurrency", "int"),
    _spec("workload", "streaming", "Streaming", "switch"),
    _spec("workload", "mode", "Mode", "select"),
)
POLICY_FIELDS = (
    _spec(
        "policy", "gpu_memory_utilization", "GPU mem util", "float", "version default"
    ),
    _spec("policy", "overhead_gb", "Overhead GiB", "float", "0"),
    _spec("policy", "fragmentation_factor", "Fragmentation", "float"),
    _spec("policy", "headroom_gb", "Headroom GiB", "float"),
    _spec(VLLM_ARGS, "max_num_seqs", "Max num seqs", "int", "planner's choice"),
    _spec(
        VLLM_ARGS, "max_num_batched_tokens", "Batched tokens", "int", "planner's choice"
    ),
    _spec(VLLM_ARGS, "enforce_eager", "Enforce eager", "switch"),
    _spec(VLLM_ARGS, "block_size", "Block size", "int", "vLLM's choice"),
    _spec("engine", "vllm_version", "vLLM version", "text", "newest (0.34)"),
)
ALL_FIELDS = MODEL_FIELDS + HARDWARE_FIELDS + WORKLOAD_FIELDS + POLICY_FIELDS


def field_error(spec: FieldSpec, value: Any) -> str | None:
    """Pydantic's message for `value` in this field alone, or None when valid."""
    data = {spec.name: value}
    if spec.section == VLLM_ARGS:
        if value is None:
            return None
        data = {"vllm_args": data}
    try:
        spec.model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            if error["loc"][:1] == (spec.name,):
                return _clean(error["msg"])
        return _clean(exc.errors(include_url=False)[0]["msg"])
    return None


def _clean(message: str) -> str:
    return message.removeprefix("Value error, ")


class Candidate:
    """The profile that a form's widgets describe, or what is wrong with it."""

    def __init__(self, profile: Profile | None, errors: dict[str, str]) -> None:
        self.profile = profile
        self.errors = errors
        """Messages by widget id; empty when `profile` is set."""


def apply_values(
    base: Profile, specs: tuple[FieldSpec, ...], raw: dict[str, Any]
) -> Candidate:
    """Build the profile with the widgets' raw values `raw` (by widget id).

    A field whose widget still shows the base value keeps the base value exactly
    (a file's `enforce_eager: false` is not dropped because another field
    changed). Section rules come from each section's model, cross-field rules
    (TP x PP within the GPU count) from `Profile`'s own validator.
    """
    updates: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for spec in specs:
        if spec.dom_id not in raw:
            continue
        current = spec.current(base)
        if raw[spec.dom_id] == spec.display(current):
            continue
        value = spec.parse(raw[spec.dom_id])
        message = field_error(spec, value)
        if message:
            errors[spec.dom_id] = message
        updates.setdefault(spec.section, {})[spec.name] = value
    if errors:
        return Candidate(None, errors)

    sections: dict[str, Any] = {
        "profile_version": base.profile_version,
        "model": base.model,
        "hardware": base.hardware,
        "workload": base.workload,
        "policy": base.policy,
        "engine": base.engine,
        "outputs": base.outputs,
    }
    for section, changes in updates.items():
        if section == VLLM_ARGS:
            args = dict(base.outputs.vllm_args)
            for key, value in changes.items():
                if value is None:
                    args.pop(key, None)
                else:
                    args[key] = value
            data = {**base.outputs.model_dump(), "vllm_args": args}
            try:
                sections["outputs"] = OutputsSection.model_validate(data)
            except ValidationError as exc:
                return Candidate(None, _errors_by_id(exc, "outputs", specs))
            continue
        data = getattr(base, section).model_dump()
        data.update(changes)
        try:
            sections[section] = SECTION_MODELS[section].model_validate(data)
        except ValidationError as exc:
            return Candidate(None, _errors_by_id(exc, section, specs))
    try:
        return Candidate(Profile.model_validate(sections), {})
    except ValidationError as exc:
        return Candidate(None, _errors_by_id(exc, "", specs))


def _errors_by_id(
    exc: ValidationError, section: str, specs: tuple[FieldSpec, ...]
) -> dict[str, str]:
    """Pin each pydantic error on the widget of the field it names."""
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        message = _clean(error["msg"])
        loc = tuple(str(part) for part in error["loc"])
        target = _spec_for(loc, section, message, specs)
        key = target.dom_id if target else specs[0].dom_id
        errors.setdefault(key, message)
    return errors


def _spec_for(
    loc: tuple[str, ...], section: str, message: str, specs: tuple[FieldSpec, ...]
) -> FieldSpec | None:
    dotted = ".".join(((section,) if section else ()) + loc)
    for spec in specs:
        name = f"{spec.section}.{spec.name}"
        if dotted == name or message.startswith(f"{name}:"):
            return spec
    # Cross-field messages name their field first ("hardware.tp_size: ...").
    head = message.split(":", 1)[0]
    for spec in specs:
        if head.endswith(spec.name) or (spec.section == head and spec.kind != "select"):
            return spec
    return None
