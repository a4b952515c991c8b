"""SVG snapshots at 80x24 (one at 120x40) that pin the wizard's layout.

The plan is the hand-made `fixed_outcome` (see test_tui_fixtures), and the
profile is written here, so the pictures change only when the layout does: not
with the planner's arithmetic, the bundled profiles, the clock, the host's GPUs
or its HF cache. Update them with `pytest --snapshot-update` after looking at
the new pictures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_tui_fixtures import fixed_outcome, settle, tui_env
from wizard_tui.profiles import save_profile
from wizard_tui.schemas.profile import Profile

__all__ = ["tui_env"]

SIZE = (80, 24)

PROFILE = {
    "model": {
        "id": "meta-llama/Llama-3.1-8B-Instruct",
        "kv_cache_dtype": "fp8",
        "max_model_len": 8192,
    },
    "hardware": {"gpu_name": "NVIDIA L4", "gpus": 1},
    "workload": {"prompt_tokens": 1024, "gen_tokens": 512, "concurrency": 16},
    "policy": {"gpu_memory_utilization": 0.9, "headroom_gb": 0.5},
    "engine": {"vllm_version": "0.34"},
}


@pytest.fixture
def snap_env(tui_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Only our own profile in ./profiles, and the fixed plan."""
    for old in (tui_env / "profiles").iterdir():
        old.unlink()
    path = tui_env / "profiles" / "llama-8b-l4.yaml"
    save_profile(Profile.model_validate(PROFILE), path)
    monkeypatch.setattr("wizard_tui.tui.app.compute_plan", fixed_outcome)
    return path


def make_app(path: Path | None):  # noqa: ANN201
    from wizard_tui.tui import WizardApp

    return WizardApp(path)


async def ready(pilot) -> None:  # noqa: ANN001
    await settle(pilot)
    pilot.app.clear_notifications()
    await pilot.pause()


async def type_into(pilot, widget_id: str, text: str) -> None:  # noqa: ANN001
    widget = pilot.app.wizard.query_one(f"#{widget_id}")
    widget.focus()
    widget.value = ""
    await pilot.press(*list(text))
    await settle(pilot)


def test_model_step_fits(snap_env: Path, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(make_app(snap_env), terminal_size=SIZE, run_before=ready)


def test_hardware_step(snap_env: Path, snap_compare) -> None:  # noqa: ANN001
    async def run_before(pilot) -> None:  # noqa: ANN001
        await ready(pilot)
        await pilot.press("f3")

    assert snap_compare(make_app(snap_env), terminal_size=SIZE, run_before=run_before)


def test_workload_does_not_fit(snap_env: Path, snap_compare) -> None:  # noqa: ANN001
    async def run_before(pilot) -> None:  # noqa: ANN001
        await ready(pilot)
        await pilot.press("f4")
        await type_into(pilot, "concurrency", "64")
        pilot.app.clear_notifications()

    assert snap_compare(make_app(snap_env), terminal_size=SIZE, run_before=run_before)


def test_policy_step(snap_env: Path, snap_compare) -> None:  # noqa: ANN001
    async def run_before(pilot) -> None:  # noqa: ANN001
        await ready(pilot)
        await pilot.press("f5")

    assert snap_compare(make_app(snap_env), terminal_size=SIZE, run_before=run_before)


def test_invalid_field_stale_plan(snap_env: Path, snap_compare) -> None:  # noqa: ANN001
    async def run_before(pilot) -> None:  # noqa: ANN001
        await ready(pilot)
        await pilot.press("f3")
        await type_into(pilot, "gpus", "two")

    assert snap_compare(make_app(snap_env), terminal_size=SIZE, run_before=run_before)


def test_cross_field_error(snap_env: Path, snap_compare) -> None:  # noqa: ANN001
    async def run_before(pilot) -> None:  # noqa: ANN001
        await ready(pilot)
        await pilot.press("f3")
        await type_into(pilot, "tp-size", "4")

    assert snap_compare(make_app(snap_env), terminal_size=SIZE, run_before=run_before)


def test_save_as_dialog(snap_env: Path, snap_compare) -> None:  # noqa: ANN001
    async def run_before(pilot) -> None:  # noqa: ANN001
        await ready(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        pilot.app.screen.query_one("#dialog-path").value = "profiles/mine.yaml"
        await pilot.pause()

    assert snap_compare(make_app(None), terminal_size=SIZE, run_before=run_before)


def test_confirm_discard_dialog(snap_env: Path, snap_compare) -> None:  # noqa: ANN001
    async def run_before(pilot) -> None:  # noqa: ANN001
        await ready(pilot)
        await pilot.press("f4")
        await type_into(pilot, "concurrency", "8")
        pilot.app.request_open(snap_env)
        await pilot.pause()

    assert snap_compare(make_app(snap_env), terminal_size=SIZE, run_before=run_before)


def test_review_step(snap_env: Path, snap_compare) -> None:  # noqa: ANN001
    async def run_before(pilot) -> None:  # noqa: ANN001
        await ready(pilot)
        await pilot.press("f6")
        await settle(pilot)

    assert snap_compare(make_app(snap_env), terminal_size=SIZE, run_before=run_before)


def test_help_dialog(snap_env: Path, snap_compare) -> None:  # noqa: ANN001
    async def run_before(pilot) -> None:  # noqa: ANN001
        await ready(pilot)
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(make_app(snap_env), terminal_size=SIZE, run_before=run_before)


def test_sidebar_open_at_80(snap_env: Path, snap_compare) -> None:  # noqa: ANN001
    async def run_before(pilot) -> None:  # noqa: ANN001
        await ready(pilot)
        await pilot.press("ctrl+o")
        await pilot.pause()

    assert snap_compare(make_app(snap_env), terminal_size=SIZE, run_before=run_before)


def test_wide_terminal_with_sidebar(snap_env: Path, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(make_app(snap_env), terminal_size=(120, 40), run_before=ready)
