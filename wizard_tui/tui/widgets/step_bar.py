"""One row naming the steps with their keys, the current one marked in words
(brackets) as well as colour, and the profile file with its dirty marker."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static


class StepBar(Static):
    """`[F2 Model]  F3 Hardware ...   qwen3.yaml *unsaved`."""

    current: reactive[str] = reactive("model")
    file_label: reactive[str] = reactive("new profile")
    dirty: reactive[bool] = reactive(False)

    def __init__(self, steps: tuple[tuple[str, str, str], ...], **kwargs: Any):
        super().__init__(**kwargs)
        self.steps = steps

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        narrow = self.size.width < 100
        for index, (step_id, title, key) in enumerate(self.steps):
            label = title.split(" ")[0] if narrow else title
            item = f"{key.upper()} {label}"
            if index:
                text.append(" ")
            if step_id == self.current:
                text.append(f"[{item}]", style="bold reverse")
            else:
                text.append(f" {item} ", style="dim")
        marker = " *unsaved" if self.dirty else ""
        room = self.size.width - text.cell_len - 2
        right = f"{self.file_label}{marker}"
        if room > 4:
            if len(right) > room:
                right = "..." + right[-(room - 3) :]
            text.append(" " * (room - len(right) + 2))
            text.append(right, style="bold" if self.dirty else "")
        return text
