"""Modal dialogs; each returns a typed result (or None) when dismissed."""

from __future__ import annotations

from wizard_tui.tui.dialogs.confirm import ConfirmDialog
from wizard_tui.tui.dialogs.help import HelpDialog
from wizard_tui.tui.dialogs.path import PathDialog
from wizard_tui.tui.dialogs.text import TextDialog

__all__ = ["ConfirmDialog", "HelpDialog", "PathDialog", "TextDialog"]
