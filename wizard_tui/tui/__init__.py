"""The Textual app. `WizardApp` is imported lazily so that `import wizard_tui.tui`
(for instance by the console script's argument parsing) stays cheap."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wizard_tui.tui.app import WizardApp

__all__ = ["WizardApp"]


def __getattr__(name: str) -> Any:
    if name == "WizardApp":
        from wizard_tui.tui.app import WizardApp

        return WizardApp
    raise AttributeError(name)
