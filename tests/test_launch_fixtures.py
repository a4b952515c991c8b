"""Shared helpers for the launch tests: hand-built plans, scenario profiles,
running generated scripts with stand-in executables, and the oracle recorder.

Plans are built by hand (`make_plan`) so these tests do not depend on the
planner; the figures in them are the inputs under test, not planner output.

Record the oracle's verdicts again after a change to what the launch code
emits (needs vLLM 0.34's parser, /work/shared/tools/vllm_oracle):

    /work/venv/bin/python -m tests.test_launch_fixtures record
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from wizard_tui.schemas.plan import (
    KvCache,
    PerGpu,
    PlanResponse,
    Speed,
    WorkloadFit,
)
from wizard_tui.schemas.profile import Profile

DATA = Path(__file__).parent / "data"
FAKE_BIN = DATA / "fake_bin_launch"
VERDICTS = DATA / "oracle_verdicts.json"
FLAGS_TSV = (
    Path(__file__).parent.parent
    / "wizard_tui"
    / "launch"
    / "data"
    / "vllm_serve_flags.tsv"
)

HOSTILE = 'it\'s "$(touch pwned)" `touch pwned2` $HOME ; rm -rf x | ü 模型 ☃'
"""Quotes, command substitution, backticks, a variable, separators, Unicode."""
HOSTILE_NL = "line one\n$(touch pwned3)\nline 'three'"


def make_plan(**overrides: Any) -> PlanResponse:
    """A PlanResponse built by hand: an 8B-class model on one 79.2 GiB GPU.

    Defaults: TP 1, PP 1, max_model_len 32,768, KV 400,000 tokens, so
    max_concurrency = 400,000 / 32,768 = 12.2 (vLLM's formula); the
    planner's engine values are max_num_seqs 12 (an unset one capped at
    max(workload concurrency 4, floor(12.2)) = 12) and max_num_batched_tokens
    8,192. Scenarios that change the lengths give the max_num_seqs the
    planner would pick for them.
    """
    values: dict[str, Any] = {
        "fits": True,
        "vllm_starts": True,
        "engine_version": "0.34",
        "tp_size": 1,
        "pp_size": 1,
        "per_gpu": PerGpu(
            total_gib=79.19,
            usable_gib=71.27,
            weights_gib=15.27,
            activation_gib=1.2,
            non_torch_gib=0.15,
            cuda_graph_gib=0.5,
            other_gib=1.0,
            kv_cache_gib=53.15,
        ),
        "kv_cache": KvCache(
            tokens=400_000, blocks=6_250, block_size=64, bytes_per_token=131_072
        ),
        "max_concurrency": 400_000 / 32_768,
        "max_model_len": 32_768,
        "max_model_len_fit": 400_000,
        "workload": WorkloadFit(concurrency_fit=520),
        "speed": Speed(
            itl_ms=[1, 2, 3],
            ttft_ms=[1, 2, 3],
            decode_tok_s_per_seq=[1, 2, 3],
            decode_tok_s_total=[1, 2, 3],
            prefill_tok_s=[1, 2, 3],
        ),
        "gpu_name": "H100 SXM",
        "max_num_seqs": 12,
        "max_num_batched_tokens": 8_192,
    }
    values.update(overrides)
    return PlanResponse(**values)


def make_profile(**sections: dict[str, Any]) -> Profile:
    """A Profile from section dicts, e.g. make_profile(model={"id": ...})."""
    return Profile.model_validate(sections)


def scenarios(model_dir: Path | None = None) -> dict[str, tuple[Profile, PlanResponse]]:
    """Named (profile, plan) pairs the tests and the oracle recorder share.

    `model_dir`, when given, is a local model folder with a hostile name.
    """
    out: dict[str, tuple[Profile, PlanResponse]] = {
        "single_gpu": (
            make_profile(
                model={
                    "id": "Qwen/Qwen3-8B",
                    "dtype": "bfloat16",
                    "kv_cache_dtype": "fp8",
                    "max_model_len": 32768,
                },
                policy={"gpu_memory_utilization": 0.9},
            ),
            make_plan(),
        ),
        "multi_gpu": (
            make_profile(
                model={"id": "meta-llama/Llama-3.1-70B-Instruct"},
                hardware={"gpu_name": "H100 SXM", "gpus": 8, "tp_size": 4},
                workload={"mode": "throughput"},
                outputs={
                    "vllm_args": {
                        "pipeline_parallel_size": 2,
                        "enable_prefix_caching": True,
                        "enable_chunked_prefill": False,
                        "compilation_config": {"cudagraph_capture_sizes": [1, 2, 4]},
                        "served_model_name": ["llama-70b", "default"],
                        "disable_log_requests": True,
                        "trust_remote_code": False,
                    }
                },
            ),
            make_plan(
                tp_size=4,
                pp_size=2,
                max_model_len=8192,
                # 1,200,000 / 8,192 = 146.5 at once -> max_num_seqs 146;
                # chunked prefill off: max_num_batched_tokens is at least
                # max_model_len 8,192 (vllm/config/scheduler.py).
                max_concurrency=1_200_000 / 8192,
                max_num_seqs=146,
                max_num_batched_tokens=8192,
            ),
        ),
        "multi_node": (
            make_profile(
                model={"id": "deepseek-ai/DeepSeek-V3"},
                hardware={"gpu_name": "H100 SXM", "gpus": 16, "gpus_per_node": 8},
                outputs={"vllm_args": {"pipeline_parallel_size": 2}},
            ),
            # max(workload concurrency 4, floor(3.4)) = 4.
            make_plan(
                tp_size=8,
                pp_size=2,
                max_model_len=16384,
                max_concurrency=3.4,
                max_num_seqs=4,
            ),
        ),
        "hostile": (
            make_profile(
                model={"id": "Qwen/Qwen3-8B", "revision": "-main"},
                outputs={
                    "vllm_args": {
                        "served_model_name": HOSTILE,
                        "chat_template": HOSTILE_NL,
                        "tool_parser_plugin": "-x $(touch pwned4)",
                        "compilation_config": {"debug_dump_path": HOSTILE_NL},
                        "hf_overrides": {"note": HOSTILE},
                    }
                },
            ),
            make_plan(),
        ),
        "prequantized_same": (
            make_profile(model={"id": "Qwen/Qwen3-8B-AWQ", "quantization": "awq"}),
            make_plan(checkpoint_quantization="awq"),
        ),
        "prequantized_marlin": (
            make_profile(
                model={"id": "Qwen/Qwen3-8B-AWQ", "quantization": "awq_marlin"}
            ),
            make_plan(checkpoint_quantization="awq"),
        ),
        "online_fp8": (
            make_profile(model={"id": "Qwen/Qwen3-8B", "quantization": "fp8"}),
            make_plan(),
        ),
        "long_context": (
            make_profile(
                model={"id": "Qwen/Qwen3-8B", "max_model_len": 131072},
                workload={"concurrency": 2},
            ),
            # 400,000 / 131,072 = 3.05 -> max(concurrency 2, 3) = 3.
            make_plan(
                max_model_len=131072, max_concurrency=400_000 / 131072, max_num_seqs=3
            ),
        ),
    }
    if model_dir is not None:
        out["local_path"] = (
            make_profile(model={"id": str(model_dir)}),
            make_plan(),
        )
    return out


def hostile_model_dir(root: Path) -> Path:
    """A local model folder whose name holds quotes, $(...), backticks, Unicode."""
    folder = root / "models" / "it's $(touch pwned) `touch pwned2` ü 模型"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}", encoding="utf-8")
    return folder


def run_script(script: str, tmp: Path, *args: str, env: dict[str, str] | None = None):
    """Run `script` with bash, stand-ins for vllm/docker/ray first on PATH.

    Returns (completed process, list of recorded {"prog", "argv"}). HOME is a
    folder under `tmp`; the working folder is `tmp/work`.
    """
    bin_dir = tmp / "bin"
    if not bin_dir.exists():
        bin_dir.mkdir()
        for tool in ("vllm", "docker", "ray"):
            target = bin_dir / tool
            shutil.copyfile(FAKE_BIN / tool, target)
            target.chmod(0o755)
    work = tmp / "work"
    work.mkdir(exist_ok=True)
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    path = tmp / "script.sh"
    path.write_text(script, encoding="utf-8")
    record = tmp / "argv.jsonl"
    if record.exists():
        record.unlink()
    run_env = {
        "PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(home),
        "LAUNCH_ARGV_LOG": str(record),
        "LANG": "C.UTF-8",
    }
    run_env.update(env or {})
    done = subprocess.run(
        ["bash", str(path), *args],
        cwd=work,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    calls = []
    if record.exists():
        # split("\n"), not splitlines(): an argv may hold U+2028 and friends.
        lines = record.read_text("utf-8").split("\n")
        calls = [json.loads(line) for line in lines if line]
    return done, calls


def created_files(root: Path, names: tuple[str, ...]) -> list[Path]:
    """Files under `root` whose name is one of `names` (the hostile markers)."""
    return [p for p in root.rglob("*") if p.name in names]


def tsv_flags() -> dict[str, dict[str, str]]:
    """vllm_serve_flags.tsv read independently of the package: option -> row,
    each alias mapped to its row too."""
    lines = [
        line
        for line in FLAGS_TSV.read_text("utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    table: dict[str, dict[str, str]] = {}
    for row in csv.DictReader(lines, delimiter="\t"):
        table[row["flag"]] = row
        for alias in row["aliases"].split(","):
            if alias.strip().startswith("--"):
                table[alias.strip()] = row
    return table


def load_verdicts() -> dict[str, dict[str, Any]]:
    """oracle_verdicts.json: json.dumps(argv) -> {"argv", "rc", "result"}."""
    entries = json.loads(VERDICTS.read_text("utf-8"))["verdicts"]
    return {json.dumps(e["argv"], ensure_ascii=False): e for e in entries}


# Commands vLLM's parser must refuse, recorded to show the oracle is strict
# where we rely on it (flag removals, the original tool's dtype names). Its
# parser does not check --kv-cache-dtype or --quantization values (the engine
# does, later), so those are checked against the TSV's choices instead.
REJECTED_EXAMPLES = [
    ["serve", "Qwen/Qwen3-8B", "--swap-space", "4"],
    ["serve", "Qwen/Qwen3-8B", "--dtype", "bf16"],
    ["serve", "Qwen/Qwen3-8B", "--use-v2-block-manager"],
    ["serve", "Qwen/Qwen3-8B", "--max-seq-len-to-capture", "8192"],
    ["serve", "Qwen/Qwen3-8B", "--enable-reasoning"],
    ["serve", "Qwen/Qwen3-8B", "--task", "embed"],
    ["serve", "Qwen/Qwen3-8B", "--served-model-name", "-x"],
]


def bool_flag_forms() -> list[tuple[str, bool, list[str]]]:
    """(flag, value, words) for True and False of every bool and plain flag of
    0.34, as the launch code writes them (words empty: nothing written)."""
    from wizard_tui.launch.flags import flag_args, flag_table, target_version

    forms = []
    for name, spec in flag_table().items():
        if spec.kind not in ("bool", "flag"):
            continue
        for value in (True, False):
            words = flag_args(name, value, target_version(None))
            if words:
                forms.append((name, value, words))
    return forms


def choice_forms() -> list[tuple[str, str, list[str]]]:
    """(flag, choice, words) for every listed choice of every 0.34 flag."""
    from wizard_tui.launch.flags import flag_args, flag_table, target_version

    forms = []
    for name, spec in flag_table().items():
        if spec.kind in ("bool", "flag"):
            continue
        for choice in spec.choices:
            value = int(choice) if spec.kind == "int" else choice
            forms.append((name, choice, flag_args(name, value, target_version(None))))
    return forms


# Forms the launch code writes for older targets, checked on 0.34's parser.
ACCEPTED_EXAMPLES = [
    ["serve", "Qwen/Qwen3-8B", "--no-enable-prefix-caching"],
]

_BATCH_PARSER = r"""
import contextlib, io, json, os, sys
sys.path.insert(0, sys.argv[1])
import vllm.platforms as P
for k in list(P.builtin_platform_plugins):
    P.builtin_platform_plugins[k] = lambda: None
P.builtin_platform_plugins["cuda"] = lambda: "fakeplat.FakeCudaLikePlatform"
from vllm.entrypoints.common.cli_args import make_arg_parser
from vllm.utils.argparse_utils import FlexibleArgumentParser
out = []
shared = make_arg_parser(FlexibleArgumentParser(prog="vllm serve"))
jobs = json.load(sys.stdin)
for argv in jobs["fresh"] + jobs["shared"]:
    # The catalogue ("shared") reuses one parser: building one takes ~0.4 s.
    if argv in jobs["fresh"]:
        parser = make_arg_parser(FlexibleArgumentParser(prog="vllm serve"))
    else:
        parser = shared
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            ns = parser.parse_args(argv[1:])
    except SystemExit:
        lines = err.getvalue().strip().splitlines()
        out.append({"argv": argv, "rc": 1, "result": lines[-1] if lines else "rejected"})
        continue
    keep = {k: v for k, v in vars(ns).items() if v is not None}
    out.append({"argv": argv, "rc": 0, "result": json.loads(json.dumps(keep, default=str))})
print(json.dumps(out, ensure_ascii=False))
"""


def record_verdicts(oracle_dir: Path, venv: Path) -> None:
    """Parse every scenario's argv with vLLM 0.34's own parser and store the
    verdicts (the same steps as oracle_dir/parse_argv.py, in one process)."""
    from wizard_tui.launch import serve_argv

    argvs = [serve_argv(p, plan)[1:] for p, plan in scenarios().values()]
    argvs += REJECTED_EXAMPLES + ACCEPTED_EXAMPLES
    forms = bool_flag_forms()
    choices = choice_forms()
    catalogue = [["serve", "org/model", *words] for _, _, words in forms + choices]
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", _BATCH_PARSER, str(oracle_dir)],
        input=json.dumps({"fresh": argvs, "shared": catalogue}),
        capture_output=True,
        text=True,
        check=True,
    )
    parsed = json.loads(done.stdout.strip().splitlines()[-1])
    verdicts = parsed[: len(argvs)]
    checked = parsed[len(argvs) : len(argvs) + len(forms)]
    choice_checked = parsed[len(argvs) + len(forms) :]
    flag_forms = [
        {
            "flag": name,
            "value": value,
            "argv": v["argv"],
            "rc": v["rc"],
            "parsed": v["result"].get(name) if v["rc"] == 0 else v["result"],
        }
        for (name, value, _), v in zip(forms, checked, strict=True)
    ]
    choice_verdicts = [
        {"flag": name, "value": value, "argv": v["argv"], "rc": v["rc"]}
        for (name, value, _), v in zip(choices, choice_checked, strict=True)
    ]
    table = tsv_flags()
    for v in verdicts:
        if v["rc"] == 0:
            # Keep only what the argv set: the parsed values of its own flags.
            own = {"model_tag"}
            for word in v["argv"]:
                option = word.split("=")[0]
                row = table.get(option)
                if row is None and option.startswith("--no-"):
                    row = table.get("--" + option[5:])
                if row is not None:
                    own.add(row["flag"].lstrip("-").replace("-", "_"))
            v["result"] = {k: val for k, val in v["result"].items() if k in own}
    doc = {
        "source": (
            "vLLM 0.34.0's argument parser (make_arg_parser, FlexibleArgumentParser) "
            "on a CUDA-like stand-in platform, via /work/shared/tools/vllm_oracle; "
            "recorded by tests/test_launch_fixtures.py record"
        ),
        "verdicts": verdicts,
        "bool_flag_forms": flag_forms,
        "choice_forms": choice_verdicts,
    }
    VERDICTS.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", "utf-8")


if __name__ == "__main__" and sys.argv[1:2] == ["record"]:
    oracle = Path("/work/shared/tools/vllm_oracle")
    venv = Path(
        subprocess.run(
            [str(oracle / "setup.sh")], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    record_verdicts(oracle, venv)
    print(f"wrote {VERDICTS}")
