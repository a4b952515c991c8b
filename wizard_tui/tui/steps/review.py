"""The Review step: the plan with how each number was computed, and the launch
files, each with copy to clipboard (OSC 52, so it works over SSH) and
write-to-folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Static, TabbedContent, TabPane

from wizard_tui.schemas.plan import PlanResponse
from wizard_tui.schemas.profile import Profile
from wizard_tui.tui import verdict

LAUNCH_EMIT = ("command", "docker", "compose", "k8s", "profile")
"""Launch files shown on the Review step (`generate --emit` names)."""


def plan_report(plan: PlanResponse, profile: Profile, stale: str | None = None) -> Text:
    """Every number of the plan, each followed by how it was computed."""
    text = Text()
    if stale:
        text.append(
            f"stale: {stale}; this is the plan of the last valid profile\n",
            style="bold red",
        )
    text.append(verdict.verdict(plan, profile) + "\n", style="bold")
    for blocker in plan.blockers:
        text.append(f"blocker: {blocker}\n", style="red")
    for warning in plan.warnings:
        text.append(f"warning: {warning}\n", style="yellow")
    for note in plan.notes:
        # Provenance in brackets (URLs, commits) is long; the Model step and
        # `plan --json` carry it whole.
        if len(note) > 100:
            note = note.split(" (", 1)[0][:100] + "..."
        text.append(f"note: {note}\n", style="dim")
    g = plan.per_gpu
    rows = [
        ("total_gib", "CUDA total per GPU", f"{g.total_gib:.2f} GiB"),
        ("usable_gib", "budget vLLM requests", f"{g.usable_gib:.2f} GiB"),
        ("weights_gib", "weights per GPU", f"{g.weights_gib:.2f} GiB"),
        ("activation_gib", "activation peak", f"{g.activation_gib:.2f} GiB"),
        ("non_torch_gib", "non-torch memory", f"{g.non_torch_gib:.2f} GiB"),
        ("cuda_graph_gib", "CUDA graphs", f"{g.cuda_graph_gib:.2f} GiB"),
        ("other_gib", "other / margins", f"{g.other_gib:.2f} GiB"),
        ("kv_cache_gib", "KV cache per GPU", f"{g.kv_cache_gib:.2f} GiB"),
        ("kv_cache", "KV cache tokens", f"{plan.kv_cache.tokens:,}"),
        ("max_concurrency", "max concurrency", f"{plan.max_concurrency:.2f}x"),
        ("max_model_len_fit", "max_model_len that fits", f"{plan.max_model_len_fit:,}"),
        (
            "concurrency_fit",
            "workload requests that fit",
            f"{plan.workload.concurrency_fit:,} of {plan.workload.requested:,}",
        ),
        (
            "tp_size",
            "tensor / pipeline parallel",
            f"TP {plan.tp_size}, PP {plan.pp_size}",
        ),
    ]
    text.append("\n")
    for key, label, value in rows:
        text.append(f"{label}: ", style="bold")
        text.append(value + "\n")
        why = _explanation(plan, key)
        if why:
            text.append(f"  {why}\n", style="dim")
    speed = verdict.speed_line(plan)
    s = plan.speed
    if speed and len(s.itl_ms) != 3:
        text.append("\n" + speed + "\n", style="bold")
    elif speed:
        text.append("\nspeed: ", style="bold")
        text.append(speed + "\n")
        if len(s.itl_ms) == 3:
            text.append(
                f"  inter-token {s.itl_ms[0]:.1f}-{s.itl_ms[2]:.1f} ms "
                f"(typical {s.itl_ms[1]:.1f})\n",
                style="dim",
            )
    if plan.what_if:
        text.append("\nwhat if:\n", style="bold")
        for hint in plan.what_if:
            text.append(f"  {hint.change}: {hint.effect}\n")
    text.rstrip()
    return text


def _explanation(plan: PlanResponse, key: str) -> str:
    explanations = plan.explanations
    if key in explanations:
        return explanations[key]
    for name, sentence in explanations.items():
        if name.endswith(key) or key.startswith(name):
            return sentence
    return ""


def launch_files(profile: Profile, plan: PlanResponse) -> dict[str, str]:
    """The launch files for the plan, by file name; empty when the launch module
    is missing from this build."""
    try:
        from wizard_tui.launch import build_files
    except ImportError:
        return {}
    return build_files(profile, plan, list(LAUNCH_EMIT))


class ReviewStep(VerticalScroll, can_focus=False):
    """The plan in full and the launch files."""

    BINDINGS = [
        Binding("c", "copy", "Copy file"),
        Binding("w", "write", "Write files"),
    ]

    class WriteRequested(Message):
        """The user wants the launch files written to a folder."""

        def __init__(self, files: dict[str, str]) -> None:
            super().__init__()
            self.files = files

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.files: dict[str, str] = {}
        self.stale: str | None = None
        """Why the files are for an older profile (a field is invalid), if so."""

    def compose(self) -> ComposeResult:
        yield Static("Review: plan and launch files", classes="step-title")
        with Horizontal(id="review-actions"):
            yield Button("Copy file (c)", id="copy-file", compact=True)
            yield Button("Write files (w)", id="write-files", compact=True)
        with TabbedContent(id="review-tabs"), TabPane("plan", id="tab-plan"):
            yield Static("no plan yet", id="review-plan")

    def show_plan(
        self, profile: Profile, plan: PlanResponse | None, problem: str | None
    ) -> None:
        """Fill the step from the current profile and plan."""
        report = self.query_one("#review-plan", Static)
        if plan is None:
            report.update(problem or "no plan yet")
            self.files = {}
        else:
            report.update(plan_report(plan, profile, self.stale))
            try:
                self.files = launch_files(profile, plan)
            except Exception as exc:  # a launch bug must not hide the plan
                self.files = {}
                self.notify(f"launch files: {exc}", severity="error")
        self._show_files()

    def _show_files(self) -> None:
        tabs = self.query_one("#review-tabs", TabbedContent)
        wanted = {_pane_id(name): name for name in self.files}
        for pane in list(tabs.query(TabPane)):
            if pane.id != "tab-plan" and pane.id not in wanted:
                tabs.remove_pane(pane.id or "")
        for pane_id, name in wanted.items():
            found = tabs.query(f"#{pane_id}")
            if found:
                found.first().query_one(Static).update(self.files[name])
            else:
                body = Static(self.files[name], markup=False, classes="launch-file")
                scroller = ScrollableContainer(body, classes="launch-scroll")
                tabs.add_pane(TabPane(name, scroller, id=pane_id))

    def active_file(self) -> str | None:
        active = self.query_one("#review-tabs", TabbedContent).active
        for name in self.files:
            if _pane_id(name) == active:
                return name
        return next(iter(self.files), None)

    def _refuse_stale(self, what: str) -> bool:
        if self.stale:
            self.notify(
                f"{self.stale}: fix it first; the launch files are for the last "
                "valid profile",
                title=f"not {what}",
                severity="error",
            )
        return bool(self.stale)

    @on(Button.Pressed, "#copy-file")
    def action_copy(self) -> None:
        if self._refuse_stale("copied"):
            return
        name = self.active_file()
        if name is None:
            self.notify("no launch file to copy", severity="warning")
            return
        self.app.copy_to_clipboard(self.files[name])
        self.notify(f"copied {name} to the clipboard (OSC 52)")

    @on(Button.Pressed, "#write-files")
    def action_write(self) -> None:
        if self._refuse_stale("written"):
            return
        if not self.files:
            self.notify("no launch files to write", severity="warning")
            return
        self.post_message(self.WriteRequested(dict(self.files)))


def _pane_id(name: str) -> str:
    return "file-" + "".join(c if c.isalnum() else "-" for c in Path(name).name)
