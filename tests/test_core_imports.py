"""The core (schemas, profiles, catalog, planner) never loads a UI library.

Each module is imported in a fresh interpreter, so nothing imported by another
test can hide a leak.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

CORE = [
    "wizard_tui.schemas",
    "wizard_tui.profiles",
    "wizard_tui.catalog",
    "wizard_tui.planner",
    "wizard_tui.launch",
    "wizard_tui.cli",
]


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_no_ui(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{module} loaded {result.stdout.strip()}"
