"""Screens: the wizard itself (dialogs live in `wizard_tui.tui.dialogs`)."""

from __future__ import annotations

from wizard_tui.tui.screens.wizard import WizardScreen

__all__ = ["WizardScreen"]
