"""How fast the wizard feels, measured headless (no terminal drawn).

Prints:
- start-up to the first verdict: from a fresh interpreter's first line to the
  fit panel showing "fits ..." / "does not fit ...", median of several runs;
  a bare Textual app's start-up to its first screen, measured the same way,
  for comparison;
- field change to panel: a key typed into the Workload step's concurrency
  field until the fit panel shows the new plan, median over many keystrokes,
  with the planner's own time (build_request + run_plan) alone beside it.

Run: python bench/tui_latency.py [--runs 5] [--keys 40] [--profile FILE]
Figures only; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PROFILE = REPO / "profiles" / "llama-3.1-8b-1x-l4.yaml"

_CHILD_WIZARD = """
import time; t0 = time.perf_counter()
import asyncio, sys
from wizard_tui.tui import WizardApp

async def main():
    app = WizardApp(sys.argv[1])
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.wizard.query_one("#fit-panel")
        # "no plan: planning..." is the placeholder before the first plan;
        # the clock stops at a verdict (or at a real reason there is none).
        while not panel.text.startswith(("fits", "does not fit", "no plan: ")) or (
            panel.text.startswith("no plan: planning")
        ):
            await asyncio.sleep(0.001)
        print(time.perf_counter() - t0)
        if panel.text.startswith("no plan"):
            print(panel.text, file=sys.stderr)

asyncio.run(main())
"""

_CHILD_BARE = """
import time; t0 = time.perf_counter()
import asyncio
from textual.app import App
from textual.widgets import Footer, Static

class Bare(App):
    def compose(self):
        yield Static("hello")
        yield Footer()

async def main():
    app = Bare()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        print(time.perf_counter() - t0)

asyncio.run(main())
"""


def child_seconds(code: str, *args: str) -> float:
    env = dict(os.environ, NO_COLOR="1")
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
    )
    if out.returncode:
        sys.exit(f"child failed:\n{out.stderr}")
    if out.stderr.strip():
        print("  child said:", out.stderr.strip().splitlines()[-1])
    return float(out.stdout.strip().splitlines()[-1])


async def keystroke_latency(profile: Path, keys: int) -> tuple[list[float], float]:
    from wizard_tui.tui import WizardApp

    app = WizardApp(profile)
    samples: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("f4")
        field = app.wizard.query_one("#concurrency")
        field.focus()
        await pilot.pause()
        field.action_end()
        panel = app.wizard.query_one("#fit-panel")
        for i in range(keys):
            # Alternate appending and deleting a digit: 16 -> 161 -> 16 ...
            # The key goes through Textual's own key handling (no Pilot waits).
            key = "backspace" if i % 2 else "1"
            shown = app.plans_shown
            before = panel.text
            start = time.perf_counter()
            app.simulate_key(key)
            while app.plans_shown == shown or panel.text == before:
                await asyncio.sleep(0)
            samples.append(time.perf_counter() - start)
            await pilot.pause()
        startup_plans = app.plans_started
    return samples, startup_plans


def planner_only(profile: Path, runs: int) -> list[float]:
    from wizard_tui.profiles import load_profile
    from wizard_tui.tui.planning import compute_plan

    base = load_profile(profile)
    times = []
    for i in range(runs):
        workload = base.workload.model_copy(update={"concurrency": 16 + i})
        changed = base.model_copy(update={"workload": workload})
        start = time.perf_counter()
        compute_plan(changed)
        times.append(time.perf_counter() - start)
    return times


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keys", type=int, default=40)
    parser.add_argument("--profile", type=Path, default=DEFAULT_PROFILE)
    args = parser.parse_args(argv)

    print(f"profile: {args.profile.name}, terminal 80x24, headless")
    bare = [child_seconds(_CHILD_BARE) for _ in range(args.runs)]
    wizard = [child_seconds(_CHILD_WIZARD, str(args.profile)) for _ in range(args.runs)]
    print(
        f"start-up, bare Textual app to first screen: median {ms(statistics.median(bare))}"
        f" (min {ms(min(bare))}, {args.runs} runs)"
    )
    print(
        f"start-up to first verdict:                  median "
        f"{ms(statistics.median(wizard))} (min {ms(min(wizard))}, {args.runs} runs)"
    )

    samples, _ = asyncio.run(keystroke_latency(args.profile, args.keys))
    samples.sort()
    p90 = samples[int(len(samples) * 0.9) - 1]
    print(
        f"field change to panel: median {ms(statistics.median(samples))}, "
        f"p90 {ms(p90)}, max {ms(samples[-1])} ({len(samples)} keystrokes)"
    )
    plan_times = planner_only(args.profile, max(args.keys, 20))
    print(
        f"  of which planning alone (build_request + run_plan): median "
        f"{ms(statistics.median(plan_times))}"
    )


if __name__ == "__main__":
    main()
