"""Pilot tests: each step driven by keys, the fit panel, the sidebar flows.

These run the real catalog and planner on the bundled profiles. Expected
values are worked out in the comments from the model's config.json and the
GPU's memory, not read back from the app.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Select, Switch

from tests.test_tui_fixtures import L4_PROFILE, panel_text, settle, tui_env
from wizard_tui.profiles import load_profile
from wizard_tui.tui import WizardApp

__all__ = ["tui_env"]  # the fixture, used by name

SIZE = (80, 24)


async def type_into(pilot, widget_id: str, text: str) -> None:  # noqa: ANN001
    """Focus a field, clear it and type `text` key by key, as a user would."""
    widget = pilot.app.wizard.query_one(f"#{widget_id}", Input)
    widget.focus()
    await pilot.pause()
    widget.action_end()
    await pilot.press(*["backspace"] * len(widget.value))
    await pilot.press(*list(text))
    await settle(pilot)


def current_step(app: WizardApp) -> str:
    return app.wizard.query_one("#steps").current or ""


async def test_opens_on_model_step_with_verdict(tui_env: Path) -> None:
    app = WizardApp(Path("profiles") / L4_PROFILE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert current_step(app) == "model"
        assert app.wizard.query_one("#model-id", Input).value == (
            "meta-llama/Llama-3.1-8B-Instruct"
        )
        # Llama-3.1-8B: 8.03e9 params x 2 bytes = 14.96 GiB of weights on a
        # 22 GiB L4 at utilization 0.9 (19.8 GiB budget); 16 requests of 1,536
        # tokens need 16 x 1536 x 65,536 B (fp8 KV: 32 layers x 8 heads x 128 x
        # K and V x 1 byte) = 1.5 GiB of KV: it fits.
        assert panel_text(app).startswith("fits: ")
        plan = app.outcome.plan
        assert plan.kv_cache.bytes_per_token == 32 * 8 * 128 * 2 * 1
        assert "32 layers, 8 KV heads x 128" in str(
            app.wizard.query_one("#model-arch").render()
        )


async def test_steps_keep_state_back_and_forth(tui_env: Path) -> None:
    app = WizardApp(Path("profiles") / L4_PROFILE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key, step in (
            ("f3", "hardware"),
            ("f4", "workload"),
            ("f5", "policy"),
            ("f6", "review"),
            ("f2", "model"),
        ):
            await pilot.press(key)
            await pilot.pause()
            assert current_step(app) == step
            assert app.wizard.query_one("#fit-panel").display

        # A half-typed invalid value survives a trip to another step.
        await pilot.press("f4")
        await type_into(pilot, "concurrency", "12x")
        await pilot.press("f2")
        await pilot.press("f4")
        assert app.wizard.query_one("#concurrency", Input).value == "12x"
        await pilot.press("ctrl+pagedown")
        assert current_step(app) == "policy"
        await pilot.press("ctrl+pageup", "ctrl+pageup")
        assert current_step(app) == "hardware"


async def test_edit_workload_changes_verdict(tui_env: Path) -> None:
    app = WizardApp(Path("profiles") / L4_PROFILE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert panel_text(app).startswith("fits: ")
        await pilot.press("f4")
        # 200 requests x 1,536 tokens x 65,536 B = 18.75 GiB of KV, more than
        # the L4's whole 19.8 GiB budget minus 15 GiB of weights.
        await type_into(pilot, "concurrency", "200")
        assert app.profile.workload.concurrency == 200
        assert app.dirty
        assert panel_text(app).startswith("does not fit: ")
        assert app.outcome.plan.workload.concurrency_fit < 200
        assert "*unsaved" in str(app.wizard.query_one("#step-bar").render())


async def test_invalid_field_shows_pydantic_message_and_stale_plan(
    tui_env: Path,
) -> None:
    app = WizardApp(Path("profiles") / L4_PROFILE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = app.profile
        await pilot.press("f3")
        await type_into(pilot, "gpus", "two")
        error = app.wizard.query_one("#gpus-error")
        # Pydantic's own message for a strict int field given text.
        assert "Input should be a valid integer" in str(error.render())
        assert app.wizard.query_one("#gpus", Input).has_class("-invalid")
        assert app.profile == before
        text = panel_text(app)
        assert text.startswith("fits: ")
        assert "stale" in text

        # The profile's cross-field rule: TP 4 x PP 1 needs 4 GPUs, there is 1.
        await type_into(pilot, "gpus", "1")
        await type_into(pilot, "tp-size", "4")
        tp_error = str(app.wizard.query_one("#tp-size-error").render())
        assert "more than hardware.gpus = 1" in tp_error

        await type_into(pilot, "tp-size", "")
        assert "stale" not in panel_text(app)
        assert app.profile.hardware.tp_size is None


async def test_model_step_selects_and_range(tui_env: Path) -> None:
    app = WizardApp(Path("profiles") / L4_PROFILE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.wizard.query_one("#kv-cache-dtype", Select).value = "auto"
        await settle(pilot)
        assert app.profile.model.kv_cache_dtype == "auto"
        # bf16 KV: 2 bytes per element, twice the fp8 figure.
        assert app.outcome.plan.kv_cache.bytes_per_token == 32 * 8 * 128 * 2 * 2

        await type_into(pilot, "max-model-len", "0")
        assert "greater than or equal to 1" in str(
            app.wizard.query_one("#max-model-len-error").render()
        )
        await type_into(pilot, "max-model-len", "")
        assert app.profile.model.max_model_len is None


async def test_policy_engine_knobs_go_to_vllm_args(tui_env: Path) -> None:
    app = WizardApp(Path("profiles") / L4_PROFILE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await type_into(pilot, "max-num-seqs", "32")
        app.wizard.query_one("#enforce-eager", Switch).value = True
        await settle(pilot)
        await type_into(pilot, "block-size", "32")
        assert app.profile.outputs.vllm_args == {
            "max_num_seqs": 32,
            "enforce_eager": True,
            "block_size": 32,
        }
        # enforce_eager: no CUDA graphs, so none are charged to the budget.
        assert app.outcome.plan.per_gpu.cuda_graph_gib == 0
        await type_into(pilot, "gpu-memory-utilization", "1.5")
        assert "less than or equal to 1" in str(
            app.wizard.query_one("#gpu-memory-utilization-error").render()
        )


async def test_detect_fills_hardware(tui_env: Path) -> None:
    app = WizardApp(Path("profiles") / L4_PROFILE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await pilot.click("#detect")
        await settle(pilot)
        # FakeDetect: 2 x H100 SXM, 1,536 MiB used = 1.5 GiB overhead.
        assert app.profile.hardware.gpu_name == "H100 SXM"
        assert app.profile.hardware.gpus == 2
        assert app.profile.policy.overhead_gb == 1.5
        assert app.wizard.query_one("#gpus", Input).value == "2"
        assert app.wizard.query_one("#overhead-gb", Input).value == "1.5"


async def test_sidebar_load_edit_save_reload(tui_env: Path) -> None:
    app = WizardApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        names = [p.name for p in app.profile_paths]
        assert L4_PROFILE in names
        listing = app.wizard.query_one("#profile-list")
        listing.focus()
        listing.index = names.index(L4_PROFILE)
        await pilot.press("enter")
        await settle(pilot)
        assert app.path == Path("profiles") / L4_PROFILE or app.path.name == L4_PROFILE
        assert app.profile.model.id == "meta-llama/Llama-3.1-8B-Instruct"
        assert not app.dirty

        await pilot.press("f4")
        await type_into(pilot, "concurrency", "8")
        assert app.dirty
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not app.dirty
        saved = load_profile(tui_env / "profiles" / L4_PROFILE)
        assert saved.workload.concurrency == 8
        assert saved.model == app.profile.model

        # Loading another file with unsaved changes asks first.
        await type_into(pilot, "concurrency", "9")
        listing.focus()
        listing.index = 0
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmDialog"
        await pilot.press("n")
        await settle(pilot)
        assert app.profile.workload.concurrency == 9

        # Revert reloads the saved file after confirming.
        await pilot.press("ctrl+r")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert app.profile.workload.concurrency == 8
        assert app.wizard.query_one("#concurrency", Input).value == "8"


async def test_bad_file_is_a_notification(tui_env: Path) -> None:
    bad = tui_env / "profiles" / "broken.yaml"
    bad.write_text("model:\n  id: x\nhardware:\n  gpus: -3\n", encoding="utf-8")
    app = WizardApp(bad)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("broken.yaml" in m and "gpus" in m for m in messages)
        assert app.path is None
        assert app.is_running

        # Binary garbage and a folder are refused the same way.
        junk = tui_env / "profiles" / "junk.yaml"
        junk.write_bytes(b"\x00\xff\xfe" * 100)
        app.open_profile(junk)
        await settle(pilot)
        app.open_profile(tui_env / "profiles")
        await settle(pilot)
        titles = [n.title for n in app._notifications]
        assert "cannot open junk.yaml" in titles
        assert "cannot open profiles" in titles
        assert app.is_running


async def test_save_conflict_asks_before_overwriting(tui_env: Path) -> None:
    path = tui_env / "profiles" / L4_PROFILE
    app = WizardApp(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await type_into(pilot, "concurrency", "5")
        path.write_text(path.read_text() + "\n# edited elsewhere\n")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "ConfirmDialog"
        await pilot.press("y")
        await settle(pilot)
        assert load_profile(path).workload.concurrency == 5
        assert not app.dirty


async def test_save_as_and_diff(tui_env: Path) -> None:
    app = WizardApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await type_into(pilot, "concurrency", "3")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert type(app.screen).__name__ == "PathDialog"
        field = app.screen.query_one("#dialog-path", Input)
        field.value = str(tui_env / "mine")
        await pilot.press("enter")
        await settle(pilot)
        target = tui_env / "mine.yaml"
        assert load_profile(target).workload.concurrency == 3
        assert app.path == target

        await type_into(pilot, "concurrency", "4")
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert type(app.screen).__name__ == "TextDialog"
        body = str(app.screen.query_one("#dialog-body Static").render())
        assert "-  concurrency: 3" in body and "+  concurrency: 4" in body
        await pilot.press("escape")


async def test_review_shows_launch_files_and_copies(tui_env: Path) -> None:
    app = WizardApp(Path("profiles") / L4_PROFILE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        review = app.wizard.query_one("#review")
        report = str(app.wizard.query_one("#review-plan").render())
        assert report.startswith("fits: ")
        assert "serve_command.sh" in review.files
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        await pilot.click("#copy-file")
        assert copied and copied[0] in review.files.values()

        await pilot.click("#write-files")
        await pilot.pause()
        app.screen.query_one("#dialog-path", Input).value = str(tui_env / "out")
        await pilot.press("enter")
        await settle(pilot)
        written = sorted(p.name for p in (tui_env / "out").iterdir())
        assert written == sorted(Path(n).name for n in review.files)


async def test_palette_switch_gpu_and_help(tui_env: Path) -> None:
    app = WizardApp(Path("profiles") / L4_PROFILE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.switch_gpu("H100 SXM")
        await settle(pilot)
        assert app.profile.hardware.gpu_name == "H100 SXM"
        assert app.wizard.query_one("#gpu-name", Input).value == "H100 SXM"
        await pilot.press("f2")
        await pilot.press("f1")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpDialog"
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "WizardScreen"


def test_main_refuses_missing_file(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    from wizard_tui.tui.__main__ import main

    assert main([str(tmp_path / "nope.yaml")]) == 2
    err = capsys.readouterr().err
    assert "nope.yaml: no such file" in err and err[-1] == "\n" and err.count("\n") == 1


def test_main_no_mouse(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from wizard_tui.tui import __main__ as entry

    seen: dict[str, object] = {}

    def fake_run(self, **kwargs):  # noqa: ANN001, ANN003, ANN202
        seen.update(kwargs)

    monkeypatch.setattr("wizard_tui.tui.app.WizardApp.run", fake_run)
    assert entry.main(["--no-mouse"]) == 0
    assert seen["mouse"] is False


async def test_command_palette_commands(tui_env: Path) -> None:
    app = WizardApp(Path("profiles") / L4_PROFILE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"go to step: review")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert current_step(app) == "review"

        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"switch gpu: h200")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.profile.hardware.gpu_name.startswith("H200")

        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"open profile: qwen2.5")
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        # Unsaved changes (the GPU switch): the open asks first.
        assert type(app.screen).__name__ == "ConfirmDialog"
        await pilot.press("y")
        await settle(pilot)
        assert app.path.name.startswith("qwen2.5-32b")


BAD_FILES = {
    "binary.yaml": b"\x00\x01\x02\xff" * 64,
    "latin1.yaml": "model:\n  id: caf\xe9\n".encode("latin-1"),
    "syntax.yaml": b"model:\n  id: [unclosed\n",
    "bomb.yaml": b"a: &a [x, x, x, x, x, x, x, x, x]\n"
    + b"".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n".encode()
        for i in range(8)
    ),
    "python-tag.yaml": b"model: !!python/object/apply:os.system ['true']\n",
    "list.yaml": b"- model\n- hardware\n",
    "empty.yaml": b"",
    "future.yaml": b"profile_version: 99\n",
    "unknown-key.yaml": b"model:\n  idd: x\n",
    "duplicate.yaml": b"model:\n  id: a\n  id: b\n",
    "huge.yaml": b"# " + b"x" * (300 * 1024) + b"\n",
    "tp-too-big.yaml": b"hardware:\n  gpus: 1\n  tp_size: 8\n",
}


async def test_every_bad_input_is_a_notification(tui_env: Path) -> None:
    folder = tui_env / "bad"
    folder.mkdir()
    for name, data in BAD_FILES.items():
        (folder / name).write_bytes(data)
    app = WizardApp(profiles_dirs=[folder])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        start = app.profile
        for name in BAD_FILES:
            app.clear_notifications()
            app.open_profile(folder / name)
            await settle(pilot)
            titles = [n.title for n in app._notifications]
            assert f"cannot open {name}" in titles, (name, titles)
            assert app.is_running
            assert app.profile == start
        # A file listed in the sidebar and deleted before it is opened.
        gone = folder / "empty.yaml"
        gone.unlink()
        app.open_profile(gone)
        await settle(pilot)
        assert app.is_running and app.path is None


async def test_completion_from_catalog_and_hf_cache(tui_env: Path) -> None:
    import os

    # huggingface_hub's cache layout: hub/models--{org}--{name}/snapshots/...
    cache = Path(os.environ["HF_HUB_CACHE"])
    (cache / "models--acme--tiny-llm" / "snapshots" / "abc").mkdir(parents=True)
    app = WizardApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        model = app.wizard.query_one("#model-id", Input)
        model.focus()
        model.value = ""
        await pilot.press(*"acme/ti")
        await settle(pilot)
        assert model._suggestion == "acme/tiny-llm"

        await pilot.press("f3")
        gpu = app.wizard.query_one("#gpu-name", Input)
        gpu.value = ""
        await pilot.press(*"H20")
        await settle(pilot)
        suggestion = gpu._suggestion
        assert suggestion.startswith("H20")
        await pilot.press("right")  # accept the suggestion
        await settle(pilot)
        assert gpu.value == suggestion
        assert app.profile.hardware.gpu_name == suggestion


async def test_first_save_goes_to_a_new_user_folder(tui_env: Path) -> None:
    import os

    from wizard_tui.profiles import user_profiles_dir

    folder = user_profiles_dir()
    assert folder == Path(os.environ["VLLM_WIZARD_PROFILES_DIR"])
    assert not folder.exists()
    app = WizardApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        default = app.screen.query_one("#dialog-path", Input).value
        # New profile: Qwen/Qwen3-8B on 1 x H100 SXM by default.
        assert default == str(folder / "qwen3-8b-1x-h100-sxm.yaml")
        await pilot.press("enter")
        await settle(pilot)
        assert load_profile(folder / "qwen3-8b-1x-h100-sxm.yaml") == app.profile
        assert app.path == folder / "qwen3-8b-1x-h100-sxm.yaml"
        # The sidebar lists it after the save.
        assert app.path in app.profile_paths


async def test_planner_unavailable_and_planner_bug(tui_env: Path, monkeypatch) -> None:  # noqa: ANN001
    import wizard_tui.planner as planner

    def unavailable(request):  # noqa: ANN001, ANN202
        raise planner.PlannerUnavailable("not in this build")

    monkeypatch.setattr(planner, "run_plan", unavailable)
    app = WizardApp(Path("profiles") / L4_PROFILE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert panel_text(app) == "no plan: planner not available"

        def broken(request):  # noqa: ANN001, ANN202
            raise ZeroDivisionError("division by zero")

        monkeypatch.setattr(planner, "run_plan", broken)
        await pilot.press("f4")
        await type_into(pilot, "concurrency", "3")
        assert panel_text(app) == "no plan: planner error: division by zero"
        assert app.is_running


async def test_engine_values_from_a_file_show_and_are_checked(tui_env: Path) -> None:
    path = tui_env / "profiles" / "knobs.yaml"
    text = (tui_env / "profiles" / L4_PROFILE).read_text()
    knobs = "vllm_args:\n    block_size: 24\n    max_num_batched_tokens: 16k"
    path.write_text(text.replace("vllm_args: {}", knobs))
    app = WizardApp(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.path == path
        await pilot.press("f5")
        assert app.wizard.query_one("#block-size", Input).value == "24"
        assert app.wizard.query_one("#max-num-batched-tokens", Input).value == "16k"
        # The schema's own rule for block_size: a multiple of 8. (Set in one
        # go: typing would pass through an empty field, a valid "unset".)
        app.wizard.query_one("#block-size", Input).value = "12"
        await settle(pilot)
        assert "a multiple of 8" in str(
            app.wizard.query_one("#block-size-error").render()
        )
        assert app.profile.outputs.vllm_args == {
            "block_size": 24,
            "max_num_batched_tokens": "16k",
        }


def notices(app: WizardApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def test_failed_save_and_write_are_notifications(tui_env: Path) -> None:
    # Both used to end the app with a TypeError from the worker's callback.
    app = WizardApp(Path("profiles") / L4_PROFILE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.save_to(Path("/proc/nope.yaml"), None, overwrite=False)
        await settle(pilot)
        assert any(n.startswith("not saved: /proc/nope.yaml") for n in notices(app))

        await pilot.press("f6")
        await settle(pilot)
        in_the_way = tui_env / "a-file"
        in_the_way.write_text("mine\n")
        await pilot.press("w")
        await pilot.pause()
        app.screen.query_one("#dialog-path", Input).value = str(in_the_way)
        await pilot.press("enter")
        await settle(pilot)
        assert any("is a file; give a folder" in n for n in notices(app))
        assert in_the_way.read_text() == "mine\n"
        assert app.is_running


async def test_quit_asks_when_there_are_unsaved_changes(tui_env: Path) -> None:
    app = WizardApp(Path("profiles") / L4_PROFILE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await type_into(pilot, "concurrency", "12x")  # invalid, but a change
        assert app.dirty
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmDialog"
        await pilot.press("n")
        await pilot.pause()
        assert app.is_running and type(app.screen).__name__ == "WizardScreen"
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    assert app.return_code == 0


async def test_stale_plan_is_not_copied_or_written(tui_env: Path) -> None:
    app = WizardApp(Path("profiles") / L4_PROFILE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await type_into(pilot, "gpus", "0")
        await pilot.press("f6")
        await settle(pilot)
        report = str(app.wizard.query_one("#review-plan").render())
        assert report.startswith("stale: GPUs on Hardware is invalid")
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        await pilot.press("c")
        await pilot.press("w")
        await pilot.pause()
        assert copied == []
        assert type(app.screen).__name__ == "WizardScreen"  # no folder dialog
        assert any(n.startswith("not copied: GPUs on Hardware") for n in notices(app))
        assert any(n.startswith("not written: GPUs on Hardware") for n in notices(app))


async def test_sidebar_names_folders_of_twins_and_highlights_the_open_profile(
    tui_env: Path,
) -> None:
    user = tui_env.parent / "user-profiles"
    user.mkdir()
    (user / L4_PROFILE).write_bytes((tui_env / "profiles" / L4_PROFILE).read_bytes())
    missing = tui_env / "no-such-folder"
    app = WizardApp(Path("profiles") / L4_PROFILE, profiles_dirs=[missing])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        listing = app.wizard.query_one("#profile-list")
        labels = [str(item.query_one("Label").render()) for item in listing.children]
        stem = Path(L4_PROFILE).stem
        assert f"{stem} (profiles/)" in labels and f"{stem} (user-profiles/)" in labels
        highlighted = listing.highlighted_child
        assert highlighted is not None
        assert highlighted.path.absolute() == (Path("profiles") / L4_PROFILE).absolute()
        assert any(
            n.startswith("--profiles-dir not found: ") and str(missing) in n
            for n in notices(app)
        )


async def test_save_as_into_an_existing_folder(tui_env: Path) -> None:
    folder = tui_env / "team"
    folder.mkdir()
    app = WizardApp(Path("profiles") / L4_PROFILE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.action_save_as()
        await pilot.pause()
        app.screen.query_one("#dialog-path", Input).value = str(folder)
        await pilot.press("enter")
        await settle(pilot)
        # Into the folder under the offered name, not a sibling "team.yaml".
        assert (folder / L4_PROFILE).is_file()
        assert not (tui_env / "team.yaml").exists()


async def test_review_refuses_files_of_an_older_profile(tui_env: Path) -> None:
    # A model id that does not resolve leaves the last plan (for the old
    # model) on screen: its launch files must not be copied as the new one's.
    app = WizardApp(Path("profiles") / L4_PROFILE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_into(pilot, "model-id", "foo/bar")
        await pilot.press("f6")
        await settle(pilot)
        report = str(app.wizard.query_one("#review-plan").render())
        assert report.startswith("stale: ")
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        await pilot.press("c")
        await pilot.pause()
        assert copied == []
        assert any(n.startswith("not copied: ") for n in notices(app))


async def test_unknown_gpu_is_said_on_the_hardware_step(tui_env: Path) -> None:
    app = WizardApp(Path("profiles") / L4_PROFILE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await type_into(pilot, "gpu-name", "banana")
        facts = str(app.wizard.query_one("#gpu-facts").render())
        assert facts.startswith("GPU: hardware.gpu_name: unknown GPU")
        await type_into(pilot, "gpu-name", "L4")
        assert str(app.wizard.query_one("#gpu-facts").render()).startswith(
            "L4: 22.1 GiB"
        )
