"""The profile sidebar: the profiles found in the profile folders, and the
load, save, save as, revert and diff actions."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Button, Label, ListItem, ListView, Static


class ProfileItem(ListItem):
    def __init__(self, path: Path) -> None:
        super().__init__(Label(path.stem, markup=False))
        self.path = path
        self.tooltip = str(path)


class Sidebar(Vertical):
    """Lists profile files; posts `OpenRequested` when one is chosen."""

    BINDINGS = [Binding("escape", "app.profiles", "Close", show=False)]

    class OpenRequested(Message):
        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    def compose(self) -> ComposeResult:
        yield Static("Profiles", classes="sidebar-title")
        yield ListView(id="profile-list")
        yield Static("", id="profile-dirs", classes="facts")
        yield Button("Save  ^s", id="save", compact=True)
        yield Button("Save as", id="save-as", compact=True)
        yield Button("Revert ^r", id="revert", compact=True)
        yield Button("Diff  ^d", id="diff", compact=True)

    def show_profiles(self, paths: list[Path], dirs: list[Path]) -> None:
        """Replace the list with `paths` (found in `dirs`)."""
        listing = self.query_one("#profile-list", ListView)
        listing.clear()
        listing.extend(ProfileItem(path) for path in paths)
        if paths:
            listing.index = 0
        if not paths:
            shown = ", ".join(str(d) for d in dirs) or "(none)"
            self.query_one("#profile-dirs", Static).update(f"no profiles in {shown}")
        else:
            self.query_one("#profile-dirs", Static).update("")

    @on(ListView.Selected, "#profile-list")
    def _chosen(self, event: ListView.Selected) -> None:
        event.stop()
        if isinstance(event.item, ProfileItem):
            self.post_message(self.OpenRequested(event.item.path))
