"""The headless commands: plan, generate, detect, schema (CONTRACT.md).

Exit codes of `plan` and `generate`: 0 the plan fits; 1 a plan was made and
does not fit (the output is still complete); 2 no plan can be made. Exit 2
prints one short message on stderr naming the file, field and fix; never a
traceback, and nothing is written.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_FITS = 0
EXIT_DOES_NOT_FIT = 1
EXIT_NO_PLAN = 2


class CliError(Exception):
    """A user error: printed as one message, exit 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    # What the library logs (a guessed architecture, say) is also in the
    # plan's notes and warnings: print it once, there, not again as a log line.
    logging.getLogger("wizard_tui").addHandler(logging.NullHandler())
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_NO_PLAN
    try:
        return int(args.handler(args))
    except CliError as exc:
        _err(f"vllm-wizard: {exc}")
        return EXIT_NO_PLAN
    except KeyboardInterrupt:
        return 130


def _write(stream: Any, text: str) -> None:
    """Write to stdout/stderr; a reader that went away (`| head`, `| true`)
    loses the rest of the text, never the exit code."""
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        # Point the stream at /dev/null so Python's own flush at exit does not
        # fail again (the way Python's documentation handles SIGPIPE).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


def _out(text: str) -> None:
    _write(sys.stdout, text)


def _err(line: str) -> None:
    _write(sys.stderr, line + "\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vllm-wizard",
        description=(
            "Plan a vLLM deployment: will this model fit on these GPUs with this "
            "workload, and how do I launch it?"
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    plan = sub.add_parser(
        "plan", help="plan one profile (exit 0 fits, 1 does not, 2 error)"
    )
    plan.add_argument(
        "--profile", required=True, metavar="FILE", help="profile YAML file"
    )
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    _add_overrides(plan)
    plan.set_defaults(handler=_cmd_plan)

    gen = sub.add_parser("generate", help="write launch files for a profile")
    gen.add_argument(
        "--profile", required=True, metavar="FILE", help="profile YAML file"
    )
    gen.add_argument(
        "--emit",
        metavar="LIST",
        help="comma-separated: command,docker,compose,k8s,ray,profile,json "
        "(default: the profile's outputs.emit)",
    )
    gen.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    _add_overrides(gen)
    gen.set_defaults(handler=_cmd_generate)

    detect = sub.add_parser("detect", help="list this host's GPUs and vLLM version")
    detect.add_argument("--json", action="store_true", help="print JSON")
    detect.add_argument(
        "--timeout", type=float, default=5.0, help="seconds (default 5)"
    )
    detect.set_defaults(handler=_cmd_detect)

    schema = sub.add_parser("schema", help="print the JSON Schema of a profile")
    schema.set_defaults(handler=_cmd_schema)
    return parser


# Overrides: (flag, profile section, field, type). They are applied to the
# loaded profile and validated by the same schema as the file.
_OVERRIDES: list[tuple[str, str, str, type]] = [
    ("--model", "model", "id", str),
    ("--max-model-len", "model", "max_model_len", int),
    ("--kv-cache-dtype", "model", "kv_cache_dtype", str),
    ("--dtype", "model", "dtype", str),
    ("--gpu", "hardware", "gpu_name", str),
    ("--gpus", "hardware", "gpus", int),
    ("--tp", "hardware", "tp_size", int),
    ("--vram-gb", "hardware", "vram_gb", float),
    ("--concurrency", "workload", "concurrency", int),
    ("--gpu-memory-utilization", "policy", "gpu_memory_utilization", float),
    ("--vllm-version", "engine", "vllm_version", str),
]


def _add_overrides(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "overrides (applied to the profile, then validated)"
    )
    for flag, section, name, kind in _OVERRIDES:
        group.add_argument(
            flag, type=kind, dest=f"o_{section}_{name}", help=f"{section}.{name}"
        )


def _apply_overrides(profile: Any, args: argparse.Namespace, where: str) -> Any:
    from wizard_tui.profiles.loader import ProfileError, validate_profile

    data = profile.model_dump(mode="json")
    changed = False
    for _flag, section, name, _kind in _OVERRIDES:
        value = getattr(args, f"o_{section}_{name}", None)
        if value is not None:
            data[section][name] = value
            changed = True
    if not changed:
        return profile
    try:
        return validate_profile(data, f"{where} (with command-line overrides)")
    except ProfileError as exc:
        raise CliError(str(exc)) from None


def _load(path_text: str) -> Any:
    from wizard_tui.profiles import ProfileError, read_profile

    try:
        return read_profile(path_text)
    except ProfileError as exc:
        raise CliError(str(exc)) from None


def _where(args: argparse.Namespace, loaded: Any, field: str) -> str:
    """``file:line`` of a profile field, or the file "with command-line
    overrides" when a flag set that field."""
    section, _, name = field.partition(".")
    if getattr(args, f"o_{section}_{name}", None) is not None:
        return f"{args.profile} (with command-line overrides)"
    line = loaded.lines.get(tuple(field.split(".")))
    return f"{args.profile}:{line}" if line else args.profile


def _make_plan(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """Load, override, resolve and plan: (profile, request, plan)."""
    from wizard_tui.catalog import ResolutionError, build_request
    from wizard_tui.planner import PlannerUnavailable, run_plan

    loaded = _load(args.profile)
    profile = _apply_overrides(loaded.profile, args, args.profile)
    try:
        request = build_request(profile)
    except ResolutionError as exc:
        raise CliError(
            f"{_where(args, loaded, exc.field)}: {exc.field}: {exc.value!r}: {exc.message}"
        ) from None
    request = request.model_copy(
        update={"notes": tuple(loaded.notes) + tuple(request.notes)}
    )
    try:
        plan = run_plan(request)
    except PlannerUnavailable:
        raise CliError(
            f"{args.profile}: the profile is valid, but the planner is not available "
            "in this build"
        ) from None
    return profile, request, plan


def _cmd_plan(args: argparse.Namespace) -> int:
    profile, _request, plan = _make_plan(args)
    # The plan also says what the launch files would leave out, so `plan` and
    # `generate` never disagree silently about a flag.
    from wizard_tui.launch import launch_warnings

    try:
        extra = [w for w in launch_warnings(profile, plan) if w not in plan.warnings]
    except ValueError as exc:
        extra = [str(exc)]
    if extra:
        plan = plan.model_copy(update={"warnings": [*plan.warnings, *extra]})
    if args.json:
        _out(json.dumps(plan.model_dump(mode="json"), indent=2) + "\n")
    else:
        _out(render_plan_text(plan))
    return EXIT_FITS if plan.fits else EXIT_DOES_NOT_FIT


def _cmd_generate(args: argparse.Namespace) -> int:
    from wizard_tui.profiles.store import FileSetError, write_launch_files
    from wizard_tui.schemas.profile import EMIT_NAMES

    if not args.out.strip():
        raise CliError("--out: empty; give the folder to write the launch files into")
    profile, _request, plan = _make_plan(args)
    emit = profile.outputs.emit
    if args.emit is not None:
        emit = [name.strip() for name in args.emit.split(",") if name.strip()]
        if not emit:
            raise CliError(
                f"--emit: empty (allowed: a comma-separated list of {', '.join(EMIT_NAMES)})"
            )
        unknown = [name for name in emit if name not in EMIT_NAMES]
        if unknown:
            raise CliError(
                f"--emit: {', '.join(unknown)} not known "
                f"(allowed: {', '.join(EMIT_NAMES)})"
            )
    from wizard_tui.launch import build_files, launch_warnings

    try:
        files = build_files(profile, plan, list(emit))
        left_out = launch_warnings(profile, plan, list(emit))
    except ValueError as exc:
        raise CliError(f"{args.profile}: {exc}") from None
    out = Path(args.out)
    source = Path(args.profile).resolve()
    for name in files:
        if (out / name).resolve() == source:
            raise CliError(
                f"--out: writing {name} there would replace the profile being read "
                f"({args.profile}); give another folder (nothing was written)"
            )
    if not files:
        # e.g. --emit ray for a one-node plan: the warnings say why; the
        # folder is not created for nothing.
        for warning in dict.fromkeys([*plan.warnings, *left_out]):
            _err(f"warning: {warning}")
        _err(f"note: nothing to write for --emit {','.join(emit)}")
        return EXIT_FITS if plan.fits else EXIT_DOES_NOT_FIT
    try:
        replaced = write_launch_files(out, files)
    except FileSetError as exc:
        raise CliError(
            f"--out: cannot write {exc.path}: {exc.reason} (nothing was written)"
        ) from None
    for name in files:
        _out(f"{out / name}\n")
    _err(render_plan_text(plan).splitlines()[0])
    for path in replaced:
        _err(f"note: replaced {path} (the previous file is {path}.bak)")
    for warning in dict.fromkeys([*plan.warnings, *left_out]):
        _err(f"warning: {warning}")
    return EXIT_FITS if plan.fits else EXIT_DOES_NOT_FIT


def _cmd_detect(args: argparse.Namespace) -> int:
    from wizard_tui.catalog.detect import detect_gpus, render_detect

    result = detect_gpus(timeout=args.timeout)
    _out(render_detect(result, as_json=args.json).rstrip("\n") + "\n")
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from wizard_tui.schemas import Profile

    schema = Profile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "vllm-wizard-tui profile"
    _out(json.dumps(schema, indent=2) + "\n")
    return 0


def _gib(value: float) -> str:
    return f"{value:.2f} GiB"


def render_plan_text(plan: Any) -> str:
    """A plan as plain text for terminals and logs (no colour, any width)."""
    g = plan.per_gpu
    lines = []
    if plan.fits:
        verdict = (
            f"fits: {plan.workload.concurrency_fit} requests of the workload at once, "
            f"{_gib(g.kv_cache_gib)} KV per GPU"
        )
    elif plan.vllm_starts:
        verdict = "does not fit the workload (vLLM would start)"
    else:
        verdict = "does not fit: vLLM would not start"
    lines.append(verdict)
    for blocker in plan.blockers:
        lines.append(f"  blocker: {blocker}")
    lines.append(
        f"vLLM {plan.engine_version}, {plan.gpu_name}, TP {plan.tp_size} x PP {plan.pp_size}, "
        f"max_model_len {plan.max_model_len}"
    )
    lines.append(f"model: {plan.model_source}")
    lines.append("per GPU (GiB = 2^30 bytes, CUDA total):")
    for label, value in (
        ("total", g.total_gib),
        ("budget", g.usable_gib),
        ("weights", g.weights_gib),
        ("activation", g.activation_gib),
        ("non-torch", g.non_torch_gib),
        ("CUDA graphs", g.cuda_graph_gib),
        ("other", g.other_gib),
        ("KV cache", g.kv_cache_gib),
    ):
        lines.append(f"  {label:<12} {value:10.2f}")
    kv = plan.kv_cache
    lines.append(
        f"KV cache: {kv.tokens:,} tokens, {kv.blocks:,} blocks of {kv.block_size}; "
        f"max concurrency at {plan.max_model_len}: {plan.max_concurrency:.2f}x"
    )
    lines.append(f"largest max_model_len that starts: {plan.max_model_len_fit:,}")
    s = plan.speed
    if len(s.itl_ms) < 3 or len(s.ttft_ms) < 2 or len(s.decode_tok_s_total) < 2:
        lines.append(f"speed: {s.label}")  # the planner says why there is none
    else:
        lines.append(
            "speed (estimates, low/typical/high): "
            f"ITL {s.itl_ms[1]:.1f} ms ({s.itl_ms[0]:.1f}-{s.itl_ms[2]:.1f}), "
            f"TTFT {s.ttft_ms[1]:.0f} ms, {s.decode_tok_s_total[1]:.0f} tok/s total"
        )
    for warning in plan.warnings:
        lines.append(f"warning: {warning}")
    for item in plan.what_if:
        lines.append(f"what if {item.change}: {item.effect}")
    for note in plan.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
