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
    def __init__(self, path: Path, label: str) -> None:
        super().__init__(Label(label, markup=False))
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

    def show_profiles(
        self, paths: list[Path], dirs: list[Path], missing: list[Path] | None = None
    ) -> None:
        """Replace the list with `paths` (found in `dirs`); `missing` are
        folders asked for that do not exist."""
        listing = self.query_one("#profile-list", ListView)
        listing.clear()
        stems = [path.stem for path in paths]
        listing.extend(
            # The same name in two folders: say which folder each one is in.
            ProfileItem(path, f"{path.stem} ({path.parent.name}/)")
            if stems.count(path.stem) > 1
            else ProfileItem(path, path.stem)
            for path in paths
        )
        if paths:
            listing.index = 0
        lines = [f"not found: {d}" for d in missing or ()]
        if not paths:
            shown = ", ".join(str(d) for d in dirs) or "(none)"
            lines.append(f"no profiles in {shown}")
        self.query_one("#profile-dirs", Static).update("\n".join(lines))

    def highlight(self, path: Path | None) -> None:
        """Put the highlight on `path`'s entry, when it is listed."""
        if path is None:
            return
        listing = self.query_one("#profile-list", ListView)
        wanted = path.absolute()
        for index, item in enumerate(listing.query(ProfileItem)):
            if item.path.absolute() == wanted:
                listing.index = index
                return

    @on(ListView.Selected, "#profile-list")
    def _chosen(self, event: ListView.Selected) -> None:
        event.stop()
        if isinstance(event.item, ProfileItem):
            self.post_message(self.OpenRequested(event.item.path))
