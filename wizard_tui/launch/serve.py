"""The `vllm serve` argument list for a profile and its plan.

Everything is built as a list of argv words; files render it with `shlex`
(see `wizard_tui.launch.files`). Only flags and values that the target vLLM
release accepts are written; everything left out is reported by
`launch_warnings`.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard_tui.launch.flags import (
    FlagError,
    Version,
    flag_args,
    target_version,
    version_text,
)
from wizard_tui.planner.plan import parse_size
from wizard_tui.schemas.plan import PlanResponse
from wizard_tui.schemas.profile import (
    NEWEST_VLLM_VERSION,
    Profile,
    data_parallel_size,
    pipeline_size,
)

AddFlag = Callable[[str, Any, str], None]
"""add(flag name, value, where it came from): append argv words or a warning."""

DEFAULT_PORT = 8000
"""`vllm serve --port` default (vllm_serve_flags.tsv)."""

_HF_REPO_ID = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$"
)
"""A Hugging Face repo id: org/name of letters, digits, '-', '_', '.', at most
96 characters each (huggingface_hub's repo id rules; '--' and '..' are refused
separately)."""

_DTYPE_NAMES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}
_KV_DTYPE_NAMES = {
    "fp8_e4m3fn": "fp8_e4m3",
    "fp8_e5m2fn": "fp8_e5m2",
    "fp16": "float16",
    "bf16": "bfloat16",
}
"""Names the original tool wrote -> vLLM's `--dtype`/`--kv-cache-dtype` names
(vllm/config/model.py, vllm/config/cache.py). Profiles are normalised on load;
this is a second line of defence for hand-built profiles."""

_QUANT_OVERRIDES = {
    ("awq", "awq_marlin"),
    ("gptq", "gptq_marlin"),
    ("awq", "moe_wna16"),
    ("gptq", "moe_wna16"),
}
"""(checkpoint quant_method, --quantization) pairs vLLM accepts although they
differ: the Marlin and MoE kernels for AWQ/GPTQ checkpoints
(vllm/model_executor/layers/quantization/*: override_quantization_method)."""

# vllm_args keys the profile's own sections or the plan decide; the same key in
# vllm_args is only checked against that decision.
_FROM_SECTIONS = {
    "model": "model.id",
    "tensor_parallel_size": "the plan's TP size",
    "pipeline_parallel_size": "the plan's PP size",
    "data_parallel_size": "the plan's DP size",
    "max_model_len": "the plan's max_model_len",
    "dtype": "model.dtype",
    "kv_cache_dtype": "model.kv_cache_dtype",
    "quantization": "model.quantization",
    "gpu_memory_utilization": "policy.gpu_memory_utilization",
    "revision": "model.revision",
}
_SECRETS = {
    "api_key": "set VLLM_API_KEY in the server's environment instead",
    "hf_token": "vLLM reads the token from the HF_TOKEN environment variable",
}


_SECRET_NAME = re.compile(
    r"(token|api_?key|password|secret|credential)$|password|secret"
)
"""Key names that hold a secret whatever their spelling (HF_TOKEN, apiKey,
access_token, ssl_keyfile_password ...); no `vllm serve` flag but --api-key
and --hf-token ends like this (allow_credentials and ssl_keyfile do not)."""


def is_secret(name: str, value: object) -> bool:
    """A vllm_args entry holding a secret (``hf_token: true`` only says "use
    the stored token" and is not one)."""
    if value is True:
        return False
    key = name.lower().replace("-", "_").lstrip("_")
    return key in _SECRETS or bool(_SECRET_NAME.search(key))


def without_secrets(profile: Profile) -> Profile:
    """`profile` with the secret vllm_args left out: the profile.yaml written
    beside the launch files is shared like them."""
    args = profile.outputs.vllm_args
    kept = {k: v for k, v in args.items() if not is_secret(k, v)}
    if kept == args:
        return profile
    outputs = profile.outputs.model_copy(update={"vllm_args": kept})
    return profile.model_copy(update={"outputs": outputs})


def _compilation_config(value: object, where: str, warnings: list[str]) -> object:
    """--compilation-config as vLLM 0.34's parser takes it: its `level` key is
    `mode` there (the oracle refuses `level`: "unexpected keyword argument"),
    and a bare number is not a config (vLLM's -O / --optimization-level is)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value  # vLLM's parser says what is wrong with it
    if isinstance(value, dict) and "level" in value:
        renamed = {("mode" if k == "level" else k): v for k, v in value.items()}
        if "mode" in value:
            warnings.append(f"{where}: 'level' left out: 'mode' is given too")
            renamed = {k: v for k, v in value.items() if k != "level"}
        else:
            warnings.append(f"{where}: 'level' written as 'mode', its name in 0.34")
        return renamed
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        warnings.append(
            f"{where} = {value!r} left out: vLLM 0.34 takes a JSON object here; "
            f"write {{mode: {value}}} or optimization_level: {value}"
        )
        return None
    return value


@dataclass(frozen=True)
class ServeCommand:
    """A `vllm serve` invocation and what the launch files need around it."""

    model: str
    """The model argument as vLLM gets it (repo id or path)."""
    args: tuple[str, ...]
    """argv words after the model."""
    version: Version
    """Target vLLM release."""
    port: int
    tp: int
    pp: int
    gpus_per_node: int
    dp: int = 1
    """Engine replicas (--data-parallel-size), each of TP x PP GPUs."""
    local_model: bool = False
    image_tag: str = ""
    """vllm/vllm-openai tag of the target, e.g. v0.34.0."""
    warnings: tuple[str, ...] = field(default=())

    @property
    def gpus(self) -> int:
        """GPUs one server uses: DP x TP x PP."""
        return self.dp * self.tp * self.pp

    @property
    def multi_node(self) -> bool:
        """True when TP x PP exceeds the GPUs of one node (a Ray cluster)."""
        return self.tp * self.pp > self.gpus_per_node

    @property
    def gpus_per_host(self) -> int:
        """GPUs each node (pod) of a multi-node plan holds: the most whole TP
        groups that fit a node and share the GPUs out evenly, so none asked
        for sits idle (TP 4 x PP 3 on nodes of 8: three hosts of 4, not two
        of 8). A TP wider than a node takes whole nodes."""
        fits = [
            k * self.tp
            for k in range(1, self.gpus_per_node // self.tp + 1)
            if self.gpus % (k * self.tp) == 0
        ]
        return max(fits) if fits else self.gpus_per_node

    @property
    def nodes(self) -> int:
        return math.ceil(self.gpus / self.gpus_per_host)

    @property
    def version_label(self) -> str:
        return version_text(self.version)

    def argv(self) -> list[str]:
        return ["vllm", "serve", self.model, *self.args]


def image_tag(version: str | None) -> str:
    """The vllm/vllm-openai tag for a version as the profile writes it: 'v' and
    the release number (v0.34.0, v0.10.1.1); '0.34' means its .0 release.
    A local suffix ('+cu128') is not part of any tag and is dropped."""
    text = (version or NEWEST_VLLM_VERSION).split("+", 1)[0]
    if re.fullmatch(r"\d+\.\d+", text):
        text += ".0"
    return "v" + text


def check_model_id(model_id: str) -> bool:
    """True for a local path, False for a Hugging Face repo id; else ValueError.

    A repo id is ``org/name`` (letters, digits, '-', '_', '.'); anything else
    must be an existing file or folder.
    """
    if (
        _HF_REPO_ID.match(model_id)
        and "--" not in model_id
        and ".." not in model_id
        and not model_id.endswith(".")
    ):
        return Path(model_id).exists()
    try:
        exists = Path(model_id).exists()
    except (OSError, ValueError):
        exists = False
    if not exists:
        raise ValueError(
            f"model.id: {model_id!r} is neither a Hugging Face repo id (org/name: "
            "letters, digits, '-', '_', '.') nor an existing path"
        )
    return True


def _model_word(model_id: str, local: bool) -> str:
    # A path starting with '-' would be read by vLLM's parser as an option.
    if local and model_id.startswith("-"):
        return os.path.join(".", model_id)
    return model_id


def build_serve(profile: Profile, plan: PlanResponse | None) -> ServeCommand:
    """The `vllm serve` command for `profile` as `plan` sized it.

    With no plan, the profile's own values are used (TP from hardware.tp_size
    or 1, max_model_len only when the profile sets it, no engine knobs).
    Raises ValueError naming model.id when the model id is not usable.
    """
    version = target_version(profile.engine.vllm_version)
    target = f"vLLM {version_text(version)}"
    warnings: list[str] = []
    args: list[str] = []
    vllm_args = dict(profile.outputs.vllm_args)
    model = profile.model
    hw = profile.hardware

    local = check_model_id(model.id)

    def add(name: str, value: Any, where: str) -> None:
        try:
            args.extend(flag_args(name, value, version))
        except FlagError as err:
            warnings.append(f"{where} = {value!r} left out for {target}: {err}")

    if model.revision:
        add("revision", model.revision, "model.revision")
    if model.dtype != "auto":
        add("dtype", _DTYPE_NAMES.get(model.dtype, model.dtype), "model.dtype")
    _add_quantization(profile, plan, add, warnings)
    if model.kv_cache_dtype != "auto":
        kv = _KV_DTYPE_NAMES.get(model.kv_cache_dtype, model.kv_cache_dtype)
        add("kv_cache_dtype", kv, "model.kv_cache_dtype")

    max_model_len = plan.max_model_len if plan else model.max_model_len
    if max_model_len:
        add("max_model_len", max_model_len, "max_model_len")
    tp = plan.tp_size if plan else (hw.tp_size or 1)
    pp = plan.pp_size if plan else pipeline_size(vllm_args)
    dp = plan.data_parallel_size if plan else data_parallel_size(vllm_args)
    add("tensor_parallel_size", tp, "tensor_parallel_size")
    if pp > 1:
        add("pipeline_parallel_size", pp, "pipeline_parallel_size")
    if dp > 1:
        add("data_parallel_size", dp, "data_parallel_size")
    if profile.policy.gpu_memory_utilization is not None:
        util = profile.policy.gpu_memory_utilization
        add("gpu_memory_utilization", util, "policy.gpu_memory_utilization")

    _add_engine_knobs(profile, plan, vllm_args, add, warnings)

    planned = {
        "tensor_parallel_size": tp,
        "pipeline_parallel_size": pp,
        "data_parallel_size": dp,
        "max_model_len": max_model_len,
        "model": model.id,
    }
    gpus_per_node = hw.gpus_per_node or hw.gpus
    multi_node = tp * pp > gpus_per_node
    port = DEFAULT_PORT
    for name, value in vllm_args.items():
        where = f"outputs.vllm_args.{name}"
        if name in ("max_num_seqs", "max_num_batched_tokens"):
            continue  # written by _add_engine_knobs
        if is_secret(name, value):
            warnings.append(
                f"{where} left out: a secret is never written into a "
                "launch file or the profile.yaml beside them; "
                + _SECRETS.get(name, "pass it to the server in its environment")
            )
            continue
        if name == "compilation_config" and version >= (0, 34, 0):
            value = _compilation_config(value, where, warnings)
            if value is None:
                continue
        if name in _FROM_SECTIONS:
            if name in planned and value == planned[name]:
                continue
            warnings.append(
                f"{where} = {value!r} left out: {_FROM_SECTIONS[name]} decides it"
            )
            continue
        if name == "distributed_executor_backend" and multi_node and value != "ray":
            warnings.append(
                f"{where} = {value!r} left out: a plan across nodes runs on Ray"
            )
            continue
        if name == "port":
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and (1 <= value <= 65535)
            ):
                port = value
            else:
                warnings.append(f"{where} = {value!r} left out: not a TCP port")
                continue
        add(name, value, where)

    if multi_node and "distributed_executor_backend" not in vllm_args:
        add("distributed_executor_backend", "ray", "distributed_executor_backend")
    if dp > 1 and dp * tp * pp > gpus_per_node:
        warnings.append(
            f"DP {dp} x TP {tp} x PP {pp} = {dp * tp * pp} GPUs exceed a node of "
            f"{gpus_per_node}: these files start every replica from one server; "
            "for replicas on several nodes run one server per node with "
            "--data-parallel-size-local and --data-parallel-address (vLLM's data "
            "parallel deployment guide)"
        )
    if multi_node and tp > gpus_per_node:
        warnings.append(
            f"TP {tp} spans nodes of {gpus_per_node} GPUs; vLLM's multi-node guide "
            "advises TP = GPUs per node and PP = number of nodes"
        )

    return ServeCommand(
        model=_model_word(model.id, local),
        args=tuple(args),
        version=version,
        port=port,
        tp=tp,
        pp=pp,
        dp=dp,
        gpus_per_node=gpus_per_node,
        local_model=local,
        image_tag=image_tag(profile.engine.vllm_version),
        warnings=tuple(warnings),
    )


def _add_quantization(
    profile: Profile,
    plan: PlanResponse | None,
    add: AddFlag,
    warnings: list[str],
) -> None:
    """--quantization only when vLLM would not find it in the checkpoint."""
    wanted = profile.model.quantization
    checkpoint = plan.checkpoint_quantization if plan else None
    if wanted is None or wanted == checkpoint:
        return  # vLLM reads the checkpoint's quantization_config by itself
    if checkpoint is not None and (checkpoint, wanted) not in _QUANT_OVERRIDES:
        warnings.append(
            f"model.quantization = {wanted!r} left out: the checkpoint is "
            f"{checkpoint}-quantized and vLLM refuses a different method (it "
            "detects the checkpoint's own)"
        )
        return
    add("quantization", wanted, "model.quantization")


def _add_engine_knobs(
    profile: Profile,
    plan: PlanResponse | None,
    vllm_args: dict[str, Any],
    add: AddFlag,
    warnings: list[str],
) -> None:
    """--max-num-seqs and --max-num-batched-tokens: exactly what the plan was
    made with (plan.max_num_seqs, plan.max_num_batched_tokens; the planner
    alone decides them: vllm_args, else the workload.mode default capped at
    what fits). Without a plan (or a plan that leaves one at 0), the
    vllm_args value as given."""
    for name in ("max_num_seqs", "max_num_batched_tokens"):
        given = vllm_args.get(name)
        planned = getattr(plan, name, 0) if plan is not None else 0
        where = f"outputs.vllm_args.{name}"
        if planned > 0:
            if given is not None and parse_size(given) != planned:
                warnings.append(
                    f"{where} = {given!r} left out: the plan's {name} "
                    f"({planned}) decides it"
                )
            add(name, planned, name)
        elif given is not None:
            add(name, given, where)


def serve_argv(profile: Profile, plan: PlanResponse | None) -> list[str]:
    """The argv of `vllm serve`: ["vllm", "serve", <model>, flags...].

    Raises ValueError naming model.id when the id is neither a Hugging Face
    repo id nor an existing path.
    """
    return build_serve(profile, plan).argv()
