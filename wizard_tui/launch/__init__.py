"""Launch files for a plan: `vllm serve` argv, shell scripts, compose, Kubernetes.

Public API (the CLI's `generate` and the TUI's Review step call these):

- `serve_argv(profile, plan)`: ["vllm", "serve", <model>, flags...]
- `build_files(profile, plan, emit, profile_yaml=...)`: file name -> text
- `launch_warnings(profile, plan, emit)`: what the files leave out, and why

Only flags and values the target vLLM release accepts are written
(`wizard_tui.launch.flags`); nothing from a profile can become shell code.
"""

from __future__ import annotations

from wizard_tui.launch.files import FILE_NAMES, build_files, launch_warnings
from wizard_tui.launch.serve import ServeCommand, build_serve, serve_argv

__all__ = [
    "FILE_NAMES",
    "ServeCommand",
    "build_files",
    "build_serve",
    "launch_warnings",
    "serve_argv",
]
