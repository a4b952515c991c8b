"""Ask for a file or folder path: save as, write the launch files."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class PathDialog(ModalScreen[Path | None]):
    """Dismisses with the path typed (Enter) or None (Esc).

    With `suffix`, a name without one of `suffixes` gets `suffix` added
    ("mine" -> "mine.yaml"); an existing folder gets the default's file name
    inside it. Folders that do not exist yet are accepted.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        default: str,
        *,
        suffix: str | None = None,
        suffixes: tuple[str, ...] = (),
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.default = default
        self.suffix = suffix
        self.suffixes = suffixes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text, classes="dialog-text", markup=False)
            yield Input(self.default, id="dialog-path", compact=True)
            yield Static("", id="dialog-error", classes="field-error")
            yield Static("Enter to accept, Esc to cancel", classes="facts")

    @on(Input.Submitted, "#dialog-path")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self._error("type a path")
            return
        path = Path(text).expanduser()
        if self.suffix and path.is_dir():
            # A folder given for a file: the file goes into it, under the
            # name the dialog offered.
            path = path / Path(self.default).name
        if self.suffix and path.suffix not in self.suffixes:
            path = path.with_name(path.name + self.suffix)
        # A missing folder is created on save (the user's profile folder does
        # not exist before the first save); a file in the way is refused.
        blocker = next(
            (p for p in (path.parent, *path.parent.parents) if p.exists()), None
        )
        if blocker is not None and not blocker.is_dir():
            self._error(f"{blocker} is a file, not a folder")
            return
        if self.suffix and path.is_dir():
            self._error(f"{path} is a folder; add a file name")
            return
        self.dismiss(path)

    def _error(self, message: str) -> None:
        note = self.query_one("#dialog-error", Static)
        note.update(message)
        note.display = True

    def action_cancel(self) -> None:
        self.dismiss(None)
