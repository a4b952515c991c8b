"""F1: the keys, and what the focused field means (its pydantic description)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from wizard_tui.tui.dialogs.text import TextDialog

KEYS = (
    ("F2 .. F6", "go to step Model, Hardware, Workload, Policy & engine, Review"),
    ("^pgdn / ^pgup", "next / previous step"),
    ("tab / shift+tab", "next / previous field; right arrow takes a completion"),
    ("ctrl+o", "profiles sidebar (Enter loads the highlighted profile)"),
    ("ctrl+s", "save; the first save of a new profile asks for a file"),
    ("ctrl+r", "revert to the file on disk"),
    ("ctrl+d", "diff against the file on disk"),
    (
        "ctrl+p",
        "command palette: open profile, save as, go to step, switch GPU, "
        "detect this host",
    ),
    ("c / w", "on Review: copy the launch file (OSC 52) / write all files"),
    ("esc", "close a dialog, the palette or the sidebar"),
    ("ctrl+q", "quit (asks first when there are unsaved changes)"),
)


class HelpDialog(TextDialog):
    def __init__(self, field_help: str | None = None) -> None:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold", no_wrap=True)
        keys.add_column()
        for key, what in KEYS:
            keys.add_row(key, what)
        parts: list[Text | Table] = []
        if field_help:
            parts.append(Text(field_help + "\n"))
        parts.append(keys)
        parts.append(
            Text(
                "\nThe fit panel re-plans on every change. While a field is invalid "
                "it keeps the last valid plan, marked stale. Run with --no-mouse to "
                "leave the mouse to the terminal (select and copy text)."
            )
        )
        super().__init__("Help", Group(*parts))
