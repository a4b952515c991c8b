"""`vllm-wizard-tui [PROFILE] [--profiles-dir DIR] [--no-mouse]`.

A PROFILE path that does not exist ends the program with exit status 2 and one
line on stderr, before the screen is taken over: a typo is cheaper to fix on the
command line. A file that exists but is not a valid profile opens the app on a
new profile, with a notification naming the file, the field and the problem.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="vllm-wizard-tui",
        description="Will this model fit on these GPUs under vLLM? An interactive "
        "wizard with a live fit verdict.",
        epilog="Keys: F1 help, F2-F6 steps, ctrl+s save, ctrl+p commands, ctrl+q quit.",
    )
    parser.add_argument("profile", nargs="?", type=Path, help="profile file to open")
    parser.add_argument(
        "--profiles-dir",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="another folder of profiles for the sidebar (repeatable)",
    )
    parser.add_argument(
        "--no-mouse",
        action="store_true",
        help="leave the mouse to the terminal (selection, copy) instead of the app",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the app; returns the exit status."""
    args = parse_args(argv)
    if args.profile is not None and not args.profile.exists():
        print(f"vllm-wizard-tui: {args.profile}: no such file", file=sys.stderr)
        return 2
    if args.profile is not None and args.profile.is_dir():
        print(
            f"vllm-wizard-tui: {args.profile}: is a folder; pass a profile file, "
            "or the folder with --profiles-dir",
            file=sys.stderr,
        )
        return 2

    from wizard_tui.tui.app import WizardApp

    app = WizardApp(
        args.profile, profiles_dirs=args.profiles_dir, mouse=not args.no_mouse
    )
    app.run(mouse=not args.no_mouse)
    return 0


if __name__ == "__main__":
    sys.exit(main())
