"""Show a block of text: the diff against the file on disk."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def diff_text(lines: list[str]) -> Text:
    """A unified diff with + and - lines styled (the signs carry the meaning)."""
    text = Text()
    for line in lines:
        style = ""
        if line.startswith("+") and not line.startswith("+++"):
            style = "green"
        elif line.startswith("-") and not line.startswith("---"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        text.append(line.rstrip("\n") + "\n", style=style)
    text.rstrip()
    return text


class TextDialog(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,enter", "close", "Close")]

    def __init__(self, title: str, body: RenderableType) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide"):
            yield Static(self.title_text, classes="dialog-text", markup=False)
            with VerticalScroll(id="dialog-body"):
                yield Static(self.body, markup=False)
            yield Static("Esc to close", classes="facts")

    def action_close(self) -> None:
        self.dismiss(None)
