"""F1: the keys, and what the focused field means (its pydantic description)."""

from __future__ import annotations

from rich.text import Text

from wizard_tui.tui.dialogs.text import TextDialog

KEYS = (
    ("F2 .. F6", "go to step Model, Hardware, Workload, Policy & engine, Review"),
    ("^pgdn / ^pgup", "next / previous step"),
    ("tab / shift+tab", "next / previous field"),
    ("ctrl+o", "profiles sidebar (Enter loads the highlighted profile)"),
    ("ctrl+s", "save; the first save of a new profile asks for a file"),
    ("ctrl+r", "revert to the file on disk"),
    ("ctrl+d", "diff against the file on disk"),
    ("ctrl+p", "command palette: open profile, save, go to step, switch GPU"),
    ("c / w", "on Review: copy the launch file (OSC 52) / write all files to a folder"),
    ("ctrl+q", "quit"),
)


class HelpDialog(TextDialog):
    def __init__(self, field_help: str | None = None) -> None:
        body = Text()
        if field_help:
            body.append(field_help + "\n\n")
        for key, what in KEYS:
            body.append(f"{key:<16}", style="bold")
            body.append(f"{what}\n")
        body.append(
            "\nThe fit panel re-plans on every change. While a field is invalid it "
            "keeps the last valid plan, marked stale. Run with --no-mouse to leave "
            "the terminal's own mouse selection alone."
        )
        super().__init__("Help", body)
