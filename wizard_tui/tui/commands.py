"""Command palette (ctrl+p): open a profile, save, go to a step, switch GPU."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from wizard_tui.tui.app import WizardApp


class WizardCommands(Provider):
    """The wizard's own commands, fuzzy-matched by the palette."""

    def _commands(self) -> list[tuple[str, object, str]]:
        from wizard_tui.tui.steps import STEPS

        app: WizardApp = self.app  # type: ignore[assignment]
        commands: list[tuple[str, object, str]] = [
            ("Save profile", app.action_save, "write the profile to its file"),
            ("Save profile as...", app.action_save_as, "write to a new file"),
            ("Revert profile", app.action_revert, "reload the file from disk"),
            ("Diff against file", app.action_diff, "changes not yet saved"),
            ("Detect this host's GPUs", app.detect_host, "fill the Hardware step"),
        ]
        for step_id, title, key in STEPS:
            commands.append(
                (f"Go to step: {title}", partial(app.action_go, step_id), key.upper())
            )
        for path in app.profile_paths:
            commands.append(
                (
                    f"Open profile: {path.stem}",
                    partial(app.request_open, path),
                    str(path),
                )
            )
        for name in app.gpu_names:
            commands.append(
                (f"Switch GPU: {name}", partial(app.switch_gpu, name), "catalog GPU")
            )
        return commands

    async def discover(self) -> Hits:
        for title, callback, help_text in self._commands()[:10]:
            yield DiscoveryHit(title, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, help_text in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)  # type: ignore[arg-type]
