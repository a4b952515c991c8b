"""The four form steps: which fields each shows, plus what each adds below them
(the resolved architecture, the GPU facts and host detection)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Static

from wizard_tui.schemas.facts import GpuSpec, ModelArch
from wizard_tui.tui.fields import (
    HARDWARE_FIELDS,
    MODEL_FIELDS,
    POLICY_FIELDS,
    WORKLOAD_FIELDS,
    FieldSpec,
)
from wizard_tui.tui.widgets.step_form import StepForm

DETECT_TIMEOUT_S = 10.0


def describe_model(arch: ModelArch | None, problem: str | None = None) -> str:
    """A few lines on the resolved architecture and where it came from."""
    if arch is None:
        return f"architecture: {problem}" if problem else "architecture: resolving..."
    params = arch.total_params / 1e9
    active = arch.active_params / 1e9
    size = f"{params:.1f}B params"
    if arch.num_experts:
        size += f", {active:.1f}B active ({arch.num_experts} experts)"
    layers = f"{arch.num_layers} layers, {arch.num_kv_heads} KV heads x {arch.head_dim}"
    if arch.kv_lora_rank:
        layers = f"{arch.num_layers} layers, MLA rank {arch.kv_lora_rank}"
    lines = [
        f"{arch.architecture or arch.model_type or arch.family}: {size}",
        layers,
        f"max length {arch.max_model_len:,}, weights {arch.weight_bytes / 2**30:.1f} GiB",
        f"from: {_short_source(arch.source)}"
        + (" (guessed from params_b)" if arch.guessed else ""),
    ]
    return "\n".join(lines)


def _short_source(source: str, limit: int = 60) -> str:
    """The source's name without its long provenance in brackets."""
    head = source.split(" (", 1)[0]
    return head if len(head) <= limit else head[: limit - 3] + "..."


def describe_gpu(gpu: GpuSpec | None) -> str:
    if gpu is None:
        return ""
    parts = [f"{gpu.name}: {gpu.cuda_total_gib:.1f} GiB (CUDA total)"]
    if gpu.bandwidth_gbs:
        parts.append(f"{gpu.bandwidth_gbs:,.0f} GB/s")
    if gpu.interconnect:
        parts.append(gpu.interconnect)
    return ", ".join(parts)


class ModelStep(StepForm):
    FIELDS = MODEL_FIELDS
    TITLE = "Model: what to serve"

    def compose_extra(self) -> ComposeResult:
        yield Static(describe_model(None), id="model-arch", classes="facts")

    def show_arch(self, arch: ModelArch | None, problem: str | None) -> None:
        self.query_one("#model-arch", Static).update(describe_model(arch, problem))

    def set_suggestions(self, ids: list[str]) -> None:
        self.query_one("#model-id", Input).suggester = SuggestFromList(
            ids, case_sensitive=False
        )


@dataclass(frozen=True)
class Detection:
    """What "detect this host" found, ready to apply to the profile."""

    gpu_name: str | None
    gpus: int
    vram_gb: float | None
    overhead_gb: float | None
    summary: str


class HardwareStep(StepForm):
    FIELDS = HARDWARE_FIELDS
    TITLE = "Hardware: where it runs"

    class Detected(Message):
        def __init__(self, detection: Detection) -> None:
            super().__init__()
            self.detection = detection

    def compose_after(self, spec: FieldSpec) -> ComposeResult:
        if spec.name == "gpu_name":
            yield Button("Detect this host", id="detect", compact=True)

    def compose_extra(self) -> ComposeResult:
        yield Static("", id="gpu-facts", classes="facts")

    gpu: GpuSpec | None = None
    gpu_problem: str | None = None
    gpu_names: list[str] = []

    def on_mount(self) -> None:
        self.show_gpu(self.gpu, self.gpu_problem)
        self.set_suggestions(self.gpu_names)

    def show_gpu(self, gpu: GpuSpec | None, problem: str | None = None) -> None:
        """Show the resolved GPU's facts, or why the GPU did not resolve (kept
        until the step is mounted)."""
        self.gpu = gpu
        self.gpu_problem = problem
        text = f"GPU: {problem}" if gpu is None and problem else describe_gpu(gpu)
        for facts in self.query("#gpu-facts").results(Static):
            facts.update(text)

    def set_suggestions(self, names: list[str]) -> None:
        """Complete GPU names from `names` (kept until the step is mounted)."""
        self.gpu_names = names
        for field in self.query("#gpu-name").results(Input):
            field.suggester = SuggestFromList(names, case_sensitive=False)

    @on(Button.Pressed, "#detect")
    def _detect_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.start_detect()

    def start_detect(self) -> None:
        self.query_one("#gpu-facts", Static).update("detecting GPUs on this host...")
        self.detect()

    @work(thread=True, exclusive=True, group="detect")
    def detect(self) -> None:
        """Run GPU detection off the event loop, with a timeout."""
        try:
            detection = detect_host(DETECT_TIMEOUT_S)
        except Exception as exc:  # detection must never take the app down
            detection = Detection(None, 0, None, None, f"detection failed: {exc}")
        self.app.from_worker(self._detected, detection)  # type: ignore[attr-defined]

    def _detected(self, detection: Detection) -> None:
        self.query_one("#gpu-facts", Static).update(detection.summary)
        if detection.gpus:
            self.post_message(self.Detected(detection))


def _get(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else getattr(item, key, None)


def detect_host(timeout: float) -> Detection:
    """Ask the catalog's detector for this host's GPUs and summarise them."""
    from wizard_tui.catalog import detect

    result = detect.detect_gpus(timeout)
    gpus = list(_get(result, "gpus") or [])
    if not gpus:
        message = _get(result, "message") or "no GPU found on this host"
        return Detection(None, 0, None, None, str(message))
    first = gpus[0]
    catalog_name = _get(first, "catalog_name")
    name = catalog_name or _get(first, "name")
    vram = None if catalog_name else _get(first, "cuda_total_gib")
    overhead = detect.overhead_gib_from(result)
    overhead = round(overhead, 2) if overhead else None
    summary = f"found {len(gpus)} x {_get(first, 'name')}"
    if overhead:
        summary += f", {overhead:.1f} GiB in use per GPU (set as overhead)"
    return Detection(name, len(gpus), vram, overhead, summary)


class WorkloadStep(StepForm):
    FIELDS = WORKLOAD_FIELDS
    TITLE = "Workload: what clients send"


class PolicyStep(StepForm):
    FIELDS = POLICY_FIELDS
    TITLE = "Policy & engine: margins and knobs"
