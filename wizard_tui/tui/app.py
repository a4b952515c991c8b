"""The Textual app: holds the current profile as one immutable value and the last
plan made for it; everything else is drawn from those two.

State flows one way. A step form posts `StepForm.Edited` with a whole new
profile; the app replaces its profile, a watcher starts a plan in a worker
thread, and the result is handed down to the fit panel and the steps. Loading,
detection and the command palette replace the profile the same way and then ask
every form to show it.
"""

from __future__ import annotations

import asyncio
import difflib
import functools
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.reactive import var
from textual.widgets import ContentSwitcher

from wizard_tui.profiles.convert import new_profile
from wizard_tui.schemas.profile import HardwareSection, PolicySection, Profile
from wizard_tui.tui.commands import WizardCommands
from wizard_tui.tui.dialogs import ConfirmDialog, HelpDialog, PathDialog, TextDialog
from wizard_tui.tui.dialogs.text import diff_text
from wizard_tui.tui.fields import ALL_FIELDS
from wizard_tui.tui.planning import PlanOutcome, compute_plan
from wizard_tui.tui.screens import WizardScreen
from wizard_tui.tui.steps import STEPS, HardwareStep, ModelStep, ReviewStep, make_step
from wizard_tui.tui.steps.forms import Detection
from wizard_tui.tui.widgets.fit_panel import FitPanel
from wizard_tui.tui.widgets.sidebar import Sidebar
from wizard_tui.tui.widgets.step_bar import StepBar
from wizard_tui.tui.widgets.step_form import StepForm

if TYPE_CHECKING:
    from wizard_tui.profiles import LoadedProfile

log = logging.getLogger(__name__)

STEP_IDS = tuple(step_id for step_id, _, _ in STEPS)
INLINE_PLAN_S = 0.008
"""A plan faster than this (seconds) may run on the event loop next time."""


class WizardApp(App[None]):
    """`vllm-wizard-tui`: edit a profile step by step and watch the verdict."""

    CSS_PATH = "app.tcss"
    TITLE = "vLLM wizard"
    COMMANDS = App.COMMANDS | {WizardCommands}
    BINDINGS = [
        Binding("f1", "help", "Help"),
        *(
            Binding(key, f"go('{step_id}')", title, show=False)
            for step_id, title, key in STEPS
        ),
        Binding("ctrl+pagedown", "next_step(1)", "Next step", show=False),
        Binding("ctrl+pageup", "next_step(-1)", "Previous step", show=False),
        Binding("ctrl+o", "profiles", "Profiles"),
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("ctrl+r", "revert", "Revert"),
        Binding("ctrl+d", "diff", "Diff", priority=True),
    ]

    profile: var[Profile] = var(Profile, init=False)
    """The current profile; replaced whole, never changed in place."""

    def __init__(
        self,
        profile_path: str | Path | None = None,
        profiles_dirs: list[Path] | None = None,
        mouse: bool = True,
    ) -> None:
        super().__init__()
        self.profile_path = Path(profile_path) if profile_path else None
        self.extra_dirs = list(profiles_dirs or [])
        self.mouse = mouse
        self.path: Path | None = None
        """The file the profile was loaded from or last saved to."""
        self.fingerprint: str | None = None
        self.baseline = new_profile()
        """The profile as on disk (or as new): the profile is dirty when it
        differs."""
        self.outcome: PlanOutcome | None = None
        """The last plan made for a valid profile (may be for an older one)."""
        self.invalid: dict[str, dict[str, str]] = {}
        """Field errors by step id, while a step's widgets are invalid."""
        self.profile_paths: list[Path] = []
        self.gpu_names: list[str] = []
        self.step = "model"
        self._screen_ready = False
        self._pending: list[tuple[Any, tuple[Any, ...]]] = []
        self._inline_ok = False
        self._mount_lock = asyncio.Lock()
        """Plan on the event loop: the last plan was fast and only workload or
        policy fields changed since (no model or GPU to resolve)."""
        self._missing_told = False
        self.plans_started = 0
        self.plans_shown = 0
        self.set_reactive(WizardApp.profile, self.baseline)

    # ----------------------------------------------------------------- layout

    def get_default_screen(self) -> WizardScreen:
        self.wizard = WizardScreen(self.profile, self.size.width)
        return self.wizard

    def on_mount(self) -> None:
        # Start the slow parts (reading the file, the first plan with its cold
        # catalogs, the folder scans) while the screen is still being built;
        # their results wait in `_pending` until it is ready.
        if self.profile_path is not None:
            self.open_profile(self.profile_path)
        else:
            self._start_plan()

    def on_ready(self) -> None:
        self._screen_ready = True
        self._refresh_bar()
        pending, self._pending = self._pending, []
        for callback, args in pending:
            _unless_gone(callback, *args)
        self.call_after_refresh(self._focus_step)
        # The folder scan and the completion lists are not needed for the
        # first verdict: started after the first paint, their threads do not
        # compete with building the screen and the first plan.
        self.set_timer(0.05, self._start_background_scans)

    def _start_background_scans(self) -> None:
        self.scan_profiles()
        self.load_suggestions()

    async def _ensure_step(self, step_id: str) -> None:
        """Mount step `step_id` if it is not there yet, showing the current
        profile and what is known (GPU names, the last plan's facts).

        The wizard screen composes every step (the DOM ids of CONTRACT.md
        exist from the start); this only rebuilds a step that was removed.
        Building the steps after the first paint was tried: it saved no
        measurable start-up time and raced with quitting early."""
        async with self._mount_lock:
            switcher = self.wizard.query_one("#steps", ContentSwitcher)
            if switcher.query_children(f"#{step_id}"):
                return
            step = make_step(step_id, self.profile)
            await switcher.add_content(step)
            if isinstance(step, HardwareStep):
                step.set_suggestions(self.gpu_names)
                step.show_gpu(self.outcome.gpu if self.outcome else None)

    @property
    def dirty(self) -> bool:
        """Changes not on disk: a changed profile, or a half-typed invalid field."""
        return self.profile != self.baseline or bool(self.invalid)

    async def action_quit(self) -> None:
        """Quit, asking first when there are unsaved changes (ctrl+q)."""
        if self.dirty:
            self._confirm_then("Quit and discard the unsaved changes?", self.exit)
        else:
            self.exit()

    def forms(self) -> list[StepForm]:
        return list(self.wizard.query(StepForm))

    def _focus_step(self) -> None:
        pane = self.wizard.query_one(f"#{self.step}")
        for widget in pane.query("Input, Select, Switch, Button"):
            if widget.focusable:
                widget.focus()
                return

    def _refresh_bar(self) -> None:
        bar = self.wizard.query_one(StepBar)
        bar.current = self.step
        bar.file_label = self.path.name if self.path else "new profile"
        bar.dirty = self.dirty
        self.sub_title = bar.file_label + (" *" if self.dirty else "")

    # ------------------------------------------------------------------ steps

    async def action_go(self, step_id: str) -> None:
        """Show step `step_id` and focus its first field."""
        if step_id not in STEP_IDS:
            return
        await self._ensure_step(step_id)
        self.step = step_id
        self.wizard.query_one("#steps", ContentSwitcher).current = step_id
        self._refresh_bar()
        if step_id == "review":
            self._show_review()
        self._focus_step()

    async def action_next_step(self, delta: int) -> None:
        index = (STEP_IDS.index(self.step) + delta) % len(STEP_IDS)
        await self.action_go(STEP_IDS[index])

    def action_help(self) -> None:
        focused = self.focused
        field_help = None
        for spec in ALL_FIELDS:
            if focused is not None and focused.id == spec.dom_id:
                field_help = f"{spec.label} ({spec.section}.{spec.name}): "
                field_help += spec.description
        self.push_screen(HelpDialog(field_help))

    def action_profiles(self) -> None:
        """Show the profiles (or hide them, when shown below 110 columns)."""
        self.wizard.toggle_class("-sidebar")
        if self.wizard.has_class("-sidebar") or self.wizard.has_class("-wide"):
            self.wizard.query_one("#profile-list").focus()
        else:
            self._focus_step()

    # -------------------------------------------------------- profile changes

    @on(StepForm.Edited)
    def _form_edited(self, event: StepForm.Edited) -> None:
        if event.base != self.profile:
            return  # made from a profile replaced since (a load, a detection)
        step_id = event.form.id or ""
        self.invalid.pop(step_id, None)
        if event.profile == self.profile:
            self._refresh_bar()  # valid again, as before: only the marker changes
        self.profile = event.profile
        for form in self.forms():
            form.rebase(self.profile)
        self._show_outcome()

    @on(StepForm.Invalid)
    def _form_invalid(self, event: StepForm.Invalid) -> None:
        self.invalid[event.form.id or ""] = event.errors
        self._refresh_bar()
        self._show_outcome()

    def replace_profile(self, profile: Profile) -> None:
        """Put `profile` in place from outside the forms and show it in them."""
        self.invalid.clear()
        self.profile = profile
        for form in self.forms():
            form.show(profile)
        self._show_outcome()

    def watch_profile(self) -> None:
        if self._screen_ready:
            self._refresh_bar()
        self._start_plan()

    def _start_plan(self) -> None:
        """Plan the current profile: on the event loop when that is known to be
        quick (the planner itself takes about a millisecond), else in a thread
        so that resolving a new model id never blocks typing."""
        self.plans_started += 1
        profile = self.profile
        last = self.outcome.profile if self.outcome else None
        same_facts = last is not None and (
            last.model == profile.model and last.hardware == profile.hardware
        )
        if self._screen_ready and self._inline_ok and same_facts:
            start = time.perf_counter()
            outcome = compute_plan(profile)
            self._inline_ok = time.perf_counter() - start < INLINE_PLAN_S
            self._planned(outcome)
        else:
            self.plan_profile(profile)

    @work(thread=True, exclusive=True, group="plan")
    def plan_profile(self, profile: Profile) -> None:
        """Plan in a thread so a slow model resolution never blocks typing."""
        start = time.perf_counter()
        outcome = compute_plan(profile)
        self._inline_ok = time.perf_counter() - start < INLINE_PLAN_S
        self.from_worker(self._planned, outcome)

    def _planned(self, outcome: PlanOutcome) -> None:
        if outcome.profile != self.profile:
            return  # a newer profile is being planned
        if outcome.plan is not None or self.outcome is None:
            self.outcome = outcome
        else:
            # Keep the last plan, but show the new problem and the new facts.
            self.outcome = PlanOutcome(
                self.outcome.profile,
                outcome.request or self.outcome.request,
                self.outcome.plan,
                outcome.problem,
            )
        self.plans_shown += 1
        model = self.wizard.query_one(ModelStep)
        model.show_arch(outcome.model, outcome.problem if not outcome.model else None)
        for hardware in self.wizard.query(HardwareStep):
            gpu_problem = outcome.problem or ""
            hardware.show_gpu(
                outcome.gpu,
                gpu_problem if gpu_problem.startswith("hardware.") else None,
            )
        self._show_outcome()

    def _stale_reason(self) -> str | None:
        """Why the plan shown is not the current profile's: the first invalid
        field ('<field> on <step> is invalid'), or the newer profile's problem
        (a model id that does not resolve), or a plan still being made."""
        for step_id, errors in self.invalid.items():
            field = next(iter(errors))
            return f"{_label(field)} on {_title(step_id)} is invalid"
        outcome = self.outcome
        if outcome and outcome.plan is not None and outcome.profile != self.profile:
            return outcome.problem or "re-planning..."
        return None

    def _show_outcome(self) -> None:
        panel = self.wizard.query_one(FitPanel)
        outcome = self.outcome
        stale = self._stale_reason()
        if outcome is None:
            panel.show(None, None, stale=stale, problem=None)
        else:
            panel.show(
                outcome.plan, outcome.profile, stale=stale, problem=outcome.problem
            )
        if self.step == "review":
            self._show_review()

    def _show_review(self) -> None:
        outcome = self.outcome
        review = self.wizard.query_one(ReviewStep)
        review.stale = self._stale_reason()
        if outcome is None:
            review.show_plan(self.profile, None, "planning...")
        else:
            review.show_plan(outcome.profile, outcome.plan, outcome.problem)

    async def detect_host(self) -> None:
        """Go to the Hardware step and detect this host's GPUs."""
        await self.action_go("hardware")
        self.wizard.query_one(HardwareStep).start_detect()

    @on(HardwareStep.Detected)
    def _detected(self, event: HardwareStep.Detected) -> None:
        self.apply_detection(event.detection)

    def apply_detection(self, found: Detection) -> None:
        """Fill GPU name, count and overhead from the host's GPUs."""
        hw = self.profile.hardware
        tp = hw.tp_size if hw.tp_size and hw.tp_size <= found.gpus else None
        per_node = hw.gpus_per_node if (hw.gpus_per_node or 0) <= found.gpus else None
        hardware = HardwareSection.model_validate(
            {
                **hw.model_dump(),
                "gpu_name": found.gpu_name,
                "gpus": found.gpus,
                "vram_gb": found.vram_gb,
                "tp_size": tp,
                "gpus_per_node": per_node,
            }
        )
        policy = PolicySection.model_validate(
            {**self.profile.policy.model_dump(), "overhead_gb": found.overhead_gb}
        )
        self._replace_sections(hardware=hardware, policy=policy)

    def switch_gpu(self, name: str) -> None:
        """Use catalog GPU `name` (its own memory figure)."""
        hw = self.profile.hardware.model_copy(
            update={"gpu_name": name, "vram_gb": None}
        )
        self._replace_sections(hardware=HardwareSection.model_validate(hw.model_dump()))
        self.notify(f"GPU: {name}")

    def _replace_sections(self, **sections: object) -> None:
        data = {
            name: getattr(self.profile, name)
            for name in ("model", "hardware", "workload", "policy", "engine", "outputs")
        }
        data.update(sections)
        try:
            profile = Profile.model_validate(
                {"profile_version": self.profile.profile_version, **data}
            )
        except ValueError as exc:
            self.notify(str(exc), severity="error", title="not applied")
            return
        self.replace_profile(profile)

    # ------------------------------------------------------------- profiles

    @work(thread=True, exclusive=True, group="scan")
    def scan_profiles(self) -> None:
        """List the profile folders off the event loop."""
        from wizard_tui.profiles import list_profiles, profile_dirs

        dirs = profile_dirs(self.extra_dirs)
        paths = list_profiles(dirs)
        missing = [d for d in self.extra_dirs if not d.is_dir()]
        self.from_worker(self._scanned, paths, dirs, missing)

    def _scanned(
        self, paths: list[Path], dirs: list[Path], missing: list[Path]
    ) -> None:
        self.profile_paths = paths
        sidebar = self.wizard.query_one(Sidebar)
        sidebar.show_profiles(paths, dirs, missing)
        sidebar.highlight(self.path)
        if missing and not self._missing_told:
            self._missing_told = True
            self.notify(
                ", ".join(str(d) for d in missing),
                title="--profiles-dir not found",
                severity="warning",
            )

    @work(thread=True, group="suggest")
    def load_suggestions(self) -> None:
        """Model ids (catalog and local HF cache) and GPU names for completion."""
        ids: list[str] = []
        names: list[str] = []
        try:
            from wizard_tui.catalog.gpus import completion_names

            names = completion_names()
        except Exception as exc:
            log.warning("GPU names unavailable: %s", exc)
        for module, func in (
            ("wizard_tui.catalog.model_catalog", "catalog_ids"),
            ("wizard_tui.catalog.hf_cache", "cached_model_ids"),
        ):
            try:
                imported = __import__(module, fromlist=[func])
                ids.extend(i for i in getattr(imported, func)() if i not in ids)
            except Exception as exc:
                log.warning("model ids from %s unavailable: %s", module, exc)
        self.from_worker(self._suggestions, ids, names)

    def _suggestions(self, ids: list[str], names: list[str]) -> None:
        self.gpu_names = names
        self.wizard.query_one(ModelStep).set_suggestions(ids)
        for hardware in self.wizard.query(HardwareStep):
            hardware.set_suggestions(names)

    @on(Sidebar.OpenRequested)
    def _open_requested(self, event: Sidebar.OpenRequested) -> None:
        self.request_open(event.path)

    def request_open(self, path: Path) -> None:
        """Open `path`, asking first when there are unsaved changes."""
        if not self.dirty:
            self.open_profile(path)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.open_profile(path)

        self.push_screen(
            ConfirmDialog(f"Discard unsaved changes and open {path.name}?"), answered
        )

    @work(thread=True, exclusive=True, group="open")
    def open_profile(self, path: Path) -> None:
        """Read `path` in a thread; a bad file becomes a notification."""
        from wizard_tui.profiles import ProfileError, read_profile

        try:
            loaded = read_profile(path)
        except ProfileError as exc:
            message = str(exc)
            self.from_worker(self._open_failed, path, message)
            return
        except Exception as exc:  # an unreadable file must not end the app
            self.from_worker(self._open_failed, path, f"{path}: {exc}")
            return
        # Plan it here too: on start-up this overlaps the cold catalogs with
        # building the screen.
        self.from_worker(self._opened, loaded, compute_plan(loaded.profile))

    def _open_failed(self, path: Path, message: str) -> None:
        if len(message) > 600:
            message = message[:600] + "..."
        self.notify(
            message, title=f"cannot open {path.name}", severity="error", timeout=12
        )
        if self.outcome is None and self.plans_started == 0:
            self._start_plan()

    def _opened(
        self, loaded: LoadedProfile, outcome: PlanOutcome | None = None
    ) -> None:
        self.path = loaded.path
        self.fingerprint = loaded.fingerprint
        self.baseline = loaded.profile
        self.wizard.query_one(Sidebar).highlight(self.path)
        self.replace_profile(loaded.profile)
        if outcome is not None:
            self._planned(outcome)
        self._refresh_bar()
        if self.wizard.has_class("-sidebar") and self.wizard.has_class("-narrow"):
            self.wizard.remove_class("-sidebar")
            self._focus_step()
        notes = loaded.notes
        text = f"opened {self.path.name}"
        if notes:
            text += "\n" + "\n".join(notes[:4])
        self.notify(text, timeout=5)

    def action_save(self) -> None:
        if self.invalid:
            step, errors = next(iter(self.invalid.items()))
            field, message = next(iter(errors.items()))
            self.notify(
                f"fix {field} on the {step} step first: {message}",
                title="not saved",
                severity="error",
            )
            return
        if self.path is None:
            self.action_save_as()
            return
        self.save_to(self.path, self.fingerprint, overwrite=False)

    def action_save_as(self) -> None:
        from wizard_tui.profiles import user_profiles_dir

        folder = self.path.parent if self.path else user_profiles_dir()
        name = self.path.name if self.path else _suggest_name(self.profile)
        default = str(folder / name)

        def chosen(path: Path | None) -> None:
            if path is None:
                return
            if path.exists():

                def answered(yes: bool | None) -> None:
                    if yes:
                        self.save_to(path, None, overwrite=True)

                self.push_screen(
                    ConfirmDialog(f"{path} exists. Overwrite it?", "Overwrite"),
                    answered,
                )
            else:
                self.save_to(path, None, overwrite=False)

        self.push_screen(
            PathDialog(
                "Save profile as", default, suffix=".yaml", suffixes=(".yaml", ".yml")
            ),
            chosen,
        )

    @work(thread=True, group="save")
    def save_to(self, path: Path, fingerprint: str | None, overwrite: bool) -> None:
        """Write the profile atomically (the profiles module's save)."""
        from wizard_tui.profiles import ProfileConflict, save_profile

        profile = self.profile
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            new = save_profile(
                profile, path, expected_fingerprint=fingerprint, overwrite=overwrite
            )
        except ProfileConflict as exc:
            self.from_worker(self._conflict, path, str(exc))
            return
        except Exception as exc:
            self.from_worker(
                self.notify, f"{path}: {exc}", title="not saved", severity="error"
            )
            return
        self.from_worker(self._saved, path, new, profile)

    def _conflict(self, path: Path, message: str) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.save_to(path, None, overwrite=True)

        message = message.replace(" (nothing was written)", "")
        self.push_screen(ConfirmDialog(f"{message}\n\nOverwrite it anyway?"), answered)

    def _saved(self, path: Path, fingerprint: str, profile: Profile) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self.baseline = profile
        self._refresh_bar()
        self.notify(f"saved {path}")
        self.scan_profiles()

    def action_revert(self) -> None:
        if self.path is None:
            if self.dirty:
                self._confirm_then("Discard all changes?", self._reset_new)
            return
        path = self.path
        if self.dirty:
            self._confirm_then(
                f"Discard changes and reload {path.name}?",
                lambda: self.open_profile(path),
            )
        else:
            self.open_profile(path)

    def _reset_new(self) -> None:
        self.replace_profile(self.baseline)
        self._refresh_bar()

    def _confirm_then(self, question: str, then: Callable[[], object]) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                then()

        self.push_screen(ConfirmDialog(question), answered)

    def action_diff(self) -> None:
        from wizard_tui.profiles import dump_profile

        if self.path is None:
            self.notify("a new profile has no file to compare with yet")
            return
        try:
            on_disk = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            self.notify(f"{self.path}: {exc}", severity="error")
            return
        mine = dump_profile(self.profile, self.path.name)
        lines = list(
            difflib.unified_diff(
                on_disk.splitlines(),
                mine.splitlines(),
                f"{self.path.name} (on disk)",
                f"{self.path.name} (in the app)",
                lineterm="",
            )
        )
        body = diff_text(lines) if lines else "no differences: the file matches"
        self.push_screen(TextDialog(f"Diff: {self.path}", body))

    @on(ReviewStep.WriteRequested)
    def _write_requested(self, event: ReviewStep.WriteRequested) -> None:
        files = event.files
        stem = self.path.stem if self.path else "launch"
        default = str(Path.cwd() / f"{stem}-launch")

        def chosen(folder: Path | None) -> None:
            if folder is not None:
                self.write_files(folder, files)

        self.push_screen(
            PathDialog("Write the launch files to folder", default), chosen
        )

    @work(thread=True, group="write")
    def write_files(self, folder: Path, files: dict[str, str]) -> None:
        """Write the launch files all or nothing, keeping a .bak of each file
        replaced (the same writer as `vllm-wizard generate`)."""
        from wizard_tui.profiles.store import FileSetError, write_launch_files

        try:
            replaced = write_launch_files(folder, files)
        except FileSetError as exc:
            self.from_worker(
                self.notify,
                f"{exc.path}: {exc.reason} (nothing was written)",
                title="not written",
                severity="error",
            )
            return
        kept = f"; {len(replaced)} replaced, each kept as .bak" if replaced else ""
        self.from_worker(self.notify, f"wrote {len(files)} files to {folder}{kept}")

    def from_worker(
        self, callback: Callable[..., object], *args: object, **kwargs: object
    ) -> None:
        """Hand a worker's result to `callback(*args, **kwargs)` on the event
        loop.

        A worker may finish while the app shuts down (its widgets already
        gone, or its loop closed): the result is then dropped.
        """
        if kwargs:
            callback = functools.partial(callback, **kwargs)

        def deliver() -> None:
            if not self._screen_ready:
                self._pending.append((callback, args))
            else:
                _unless_gone(callback, *args)

        try:
            self.call_from_thread(deliver)
        except RuntimeError:
            log.debug("dropped a worker result after the app closed")

    # -------------------------------------------------------------- running

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """`App.run`, with mouse capture as chosen when the app was made."""
        kwargs.setdefault("mouse", self.mouse)
        return super().run(*args, **kwargs)


def _unless_gone(callback: Any, *args: Any) -> None:
    """Run `callback`, unless the widgets it updates are gone: the app is
    shutting down while a worker's result arrives."""
    try:
        callback(*args)
    except NoMatches:
        log.debug("dropped a result: the app is closing")


def _label(dom_id: str) -> str:
    for spec in ALL_FIELDS:
        if spec.dom_id == dom_id:
            return spec.label
    return dom_id


def _title(step_id: str) -> str:
    return next((title for sid, title, _ in STEPS if sid == step_id), step_id)


def _suggest_name(profile: Profile) -> str:
    model = profile.model.id.rstrip("/").split("/")[-1].lower()
    gpu = (profile.hardware.gpu_name or "gpu").lower().replace("nvidia ", "")
    raw = f"{model}-{profile.hardware.gpus}x-{gpu}"
    return "".join(c if c.isalnum() or c in ".-" else "-" for c in raw) + ".yaml"
