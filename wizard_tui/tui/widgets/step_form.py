"""A wizard step's form: one row per profile field, errors shown inline.

The form never changes the profile. It receives the current profile from the
app (`rebase` after its own edits, `show` when the profile was replaced from
elsewhere) and, on every change, posts either `Edited` with the new profile or
`Invalid` with pydantic's messages by widget id.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, Switch

from wizard_tui.schemas.profile import Profile
from wizard_tui.tui.fields import FieldSpec, apply_values, field_error

_CHOICE_LABELS = {
    ("model", "quantization"): "from checkpoint",
    ("vllm_args", "block_size"): "auto",
}


def _options(spec: FieldSpec, value: str) -> list[tuple[str, str]]:
    """A select's choices from the schema; a value from a file that is not
    one of them (vllm_args are free-form) is listed too, so it shows and the
    form can say what is wrong with it instead of failing to draw."""
    label = _CHOICE_LABELS.get((spec.section, spec.name), "auto")
    options = [(str(c), str(c)) for c in spec.choices()]
    if spec.optional:
        options.insert(0, (label, ""))
    if value not in {v for _, v in options}:
        options.append((f"{value} (not allowed)", value))
    return options


class PydanticValidator(Validator):
    """A Textual validator that asks the field's pydantic model (one source of
    truth) and reports pydantic's message."""

    def __init__(self, spec: FieldSpec) -> None:
        super().__init__()
        self.spec = spec

    def validate(self, value: str) -> ValidationResult:
        message = field_error(self.spec, self.spec.parse(value))
        return self.failure(message) if message else self.success()


class StepForm(VerticalScroll, can_focus=False):
    """Base class of the Model, Hardware, Workload and Policy steps."""

    FIELDS: ClassVar[tuple[FieldSpec, ...]] = ()
    TITLE: ClassVar[str] = ""

    class Edited(Message):
        """The user changed a field and the whole profile is valid."""

        def __init__(self, form: StepForm, base: Profile, profile: Profile) -> None:
            super().__init__()
            self.form = form
            self.base = base
            """The profile the edit was made to."""
            self.profile = profile

    class Invalid(Message):
        """The user changed a field and the profile is not valid."""

        def __init__(self, form: StepForm, errors: dict[str, str]) -> None:
            super().__init__()
            self.form = form
            self.errors = errors

    def __init__(self, profile: Profile, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.profile = profile
        self.errors: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static(self.TITLE, classes="step-title")
        for spec in self.FIELDS:
            with Horizontal(classes="field-row"):
                yield Label(spec.label, classes="field-label")
                yield self._make_widget(spec)
                if spec.kind == "switch":
                    state = "on" if spec.display(spec.current(self.profile)) else "off"
                    yield Label(
                        state, id=f"{spec.dom_id}-state", classes="switch-state"
                    )
            yield Static("", id=f"{spec.dom_id}-error", classes="field-error")
            yield from self.compose_after(spec)
        yield from self.compose_extra()

    def compose_after(self, spec: FieldSpec) -> ComposeResult:
        """Widgets placed right after a field's row (a button, a hint)."""
        yield from ()

    def compose_extra(self) -> ComposeResult:
        """Widgets placed below the fields."""
        yield from ()

    def _make_widget(self, spec: FieldSpec) -> Widget:
        value = spec.display(spec.current(self.profile))
        tooltip = spec.description
        if spec.kind == "switch":
            return Switch(value=value, id=spec.dom_id, tooltip=tooltip)
        if spec.kind == "select":
            return Select(
                _options(spec, value),
                value=value,
                allow_blank=False,
                compact=True,
                id=spec.dom_id,
                tooltip=tooltip,
            )
        return Input(
            value=value,
            placeholder=spec.placeholder,
            validators=[PydanticValidator(spec)],
            validate_on=["changed"],
            compact=True,
            id=spec.dom_id,
            tooltip=tooltip,
            # A model id is replaced more often than edited: focusing it
            # selects it, so typing starts a new id (End keeps it to edit).
            # Numbers keep the cursor at their end.
            select_on_focus=spec.kind == "text",
        )

    def raw_values(self) -> dict[str, Any]:
        """The widgets' contents by widget id."""
        raw: dict[str, Any] = {}
        for spec in self.FIELDS:
            widget = self.query_one(f"#{spec.dom_id}")
            value = widget.value  # type: ignore[attr-defined]
            raw[spec.dom_id] = "" if value is Select.BLANK else value
        return raw

    def rebase(self, profile: Profile) -> None:
        """Take `profile` as the value the widgets are compared against."""
        self.profile = profile

    def show(self, profile: Profile) -> None:
        """Show `profile` in the widgets (it was replaced: loaded, detected)."""
        self.profile = profile
        for spec in self.FIELDS:
            widget = self.query_one(f"#{spec.dom_id}")
            value = spec.display(spec.current(profile))
            with widget.prevent(Input.Changed, Select.Changed, Switch.Changed):
                if isinstance(widget, Select):
                    widget.set_options(_options(spec, value))
                if widget.value != value:  # type: ignore[attr-defined]
                    widget.value = value  # type: ignore[attr-defined]
                if isinstance(widget, Input):
                    # Numbers are edited at their end; a long model id reads
                    # best from its organisation.
                    widget.cursor_position = 0 if spec.kind == "text" else len(value)
                if isinstance(widget, Switch):
                    self._show_switch(spec, value)
        self._show_errors({})

    def _show_switch(self, spec: FieldSpec, on: bool) -> None:
        """Say the switch's state in words, so it reads without colour."""
        self.query_one(f"#{spec.dom_id}-state", Label).update("on" if on else "off")

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Switch.Changed)
    def _field_changed(self, event: Message) -> None:
        event.stop()
        if isinstance(event, Switch.Changed):
            for spec in self.FIELDS:
                if spec.dom_id == event.switch.id:
                    self._show_switch(spec, event.value)
        self.check()

    def check(self) -> None:
        """Validate the widgets against the current profile and post the result."""
        was_invalid = bool(self.errors)
        candidate = apply_values(self.profile, self.FIELDS, self.raw_values())
        self._show_errors(candidate.errors)
        if candidate.profile is None:
            self.post_message(self.Invalid(self, candidate.errors))
        elif candidate.profile != self.profile or was_invalid:
            # Also when nothing changed but an error went away: the app then
            # drops this step from its list of invalid steps.
            self.post_message(self.Edited(self, self.profile, candidate.profile))

    def _show_errors(self, errors: dict[str, str]) -> None:
        # Only fields whose message changed are touched: restyling every
        # field on each keystroke (or each load) is what costs time here.
        before, self.errors = self.errors, errors
        for dom_id in set(before) | set(errors):
            message = errors.get(dom_id, "")
            if before.get(dom_id, "") == message:
                continue
            note = self.query_one(f"#{dom_id}-error", Static)
            note.update(message)
            note.display = bool(message)
            self.query_one(f"#{dom_id}").set_class(bool(message), "-invalid")
