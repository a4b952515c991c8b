"""Generated scripts run with bash and stand-in `vllm`/`docker`/`ray` on PATH:
the recorded argv must equal the intended list, and nothing may execute."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_launch_fixtures import (
    created_files,
    hostile_model_dir,
    make_plan,
    make_profile,
    run_script,
    scenarios,
)
from wizard_tui.launch import build_files, build_serve, serve_argv
from wizard_tui.launch.files import CONTAINER_MODEL_DIR, HF_CACHE

MARKERS = ("pwned", "pwned2", "pwned3", "pwned4", "x")


def _script(profile, plan, emit: str) -> str:
    files = build_files(profile, plan, [emit])
    (text,) = files.values()
    return text


@pytest.mark.parametrize("name", sorted(scenarios()))
def test_serve_command_runs_the_intended_argv(name: str, tmp_path: Path) -> None:
    profile, plan = scenarios()[name]
    done, calls = run_script(_script(profile, plan, "command"), tmp_path)
    assert done.returncode == 0, done.stderr
    assert calls == [{"prog": "vllm", "argv": serve_argv(profile, plan)[1:]}]
    assert created_files(tmp_path, MARKERS) == []


def test_hostile_values_reach_vllm_literally(tmp_path: Path) -> None:
    profile, plan = scenarios()["hostile"]
    done, calls = run_script(_script(profile, plan, "command"), tmp_path)
    assert done.returncode == 0, done.stderr
    argv = calls[0]["argv"]
    args = profile.outputs.vllm_args
    assert argv[argv.index("--served-model-name") + 1] == args["served_model_name"]
    assert argv[argv.index("--chat-template") + 1] == args["chat_template"]
    assert "\n" in args["chat_template"]  # the newline survived, inside one word
    assert "--tool-parser-plugin=-x $(touch pwned4)" in argv
    assert created_files(tmp_path, MARKERS) == []


def test_local_model_path_with_hostile_name(tmp_path: Path) -> None:
    folder = hostile_model_dir(tmp_path)
    profile, plan = scenarios(folder)["local_path"]
    done, calls = run_script(_script(profile, plan, "command"), tmp_path)
    assert done.returncode == 0, done.stderr
    assert calls[0]["argv"][1] == str(folder)
    assert created_files(tmp_path, MARKERS) == []


@pytest.mark.parametrize("name", ["single_gpu", "multi_gpu", "hostile"])
def test_docker_run_argv(name: str, tmp_path: Path) -> None:
    profile, plan = scenarios()[name]
    done, calls = run_script(_script(profile, plan, "docker"), tmp_path)
    assert done.returncode == 0, done.stderr
    serve = build_serve(profile, plan)
    gpus = (
        "all"
        if serve.gpus == (profile.hardware.gpus_per_node or profile.hardware.gpus)
        else None
    )
    home = tmp_path / "home"
    assert calls == [
        {
            "prog": "docker",
            "argv": [
                "run",
                "--rm",
                "--gpus",
                gpus,
                "--ipc=host",
                "-p",
                "8000:8000",
                "-v",
                f"{home}/.cache/huggingface:{HF_CACHE}",
                "-e",
                "HF_TOKEN",
                "vllm/vllm-openai:v0.34.0",
                # The image's entrypoint is `vllm serve`: the model comes first.
                *serve_argv(profile, plan)[2:],
            ],
        }
    ]
    assert "serve" not in calls[0]["argv"]
    assert created_files(tmp_path, MARKERS) == []


def test_docker_gpu_subset_is_a_device_list(tmp_path: Path) -> None:
    profile = make_profile(
        model={"id": "Qwen/Qwen3-8B"}, hardware={"gpu_name": "H100 SXM", "gpus": 4}
    )
    done, calls = run_script(_script(profile, make_plan(tp_size=2), "docker"), tmp_path)
    argv = calls[0]["argv"]
    # docker reads --gpus as CSV: the quotes keep "device=0,1" one field.
    assert argv[argv.index("--gpus") + 1] == '"device=0,1"'


def test_docker_token_never_in_file(tmp_path: Path, monkeypatch) -> None:
    profile, plan = scenarios()["single_gpu"]
    text = _script(profile, plan, "docker")
    assert "-e HF_TOKEN " in text or "-e HF_TOKEN \\" in text
    assert "HF_TOKEN=" not in text


def test_docker_mounts_a_local_model(tmp_path: Path) -> None:
    folder = hostile_model_dir(tmp_path)
    profile, plan = scenarios(folder)["local_path"]
    done, calls = run_script(_script(profile, plan, "docker"), tmp_path)
    assert done.returncode == 0, done.stderr
    argv = calls[0]["argv"]
    assert f"{folder.resolve()}:{CONTAINER_MODEL_DIR}:ro" in argv
    image = argv.index("vllm/vllm-openai:v0.34.0")
    assert argv[image + 1] == CONTAINER_MODEL_DIR
    # Clients keep using the name serve_command.sh would give: the host path.
    assert argv[-2:] == ["--served-model-name", str(folder)]
    assert created_files(tmp_path, MARKERS) == []


def test_docker_tag_follows_the_target_version() -> None:
    profile = make_profile(
        model={"id": "Qwen/Qwen3-8B"}, engine={"vllm_version": "0.11.0"}
    )
    assert "vllm/vllm-openai:v0.11.0" in _script(profile, make_plan(), "docker")
    profile = make_profile(
        model={"id": "Qwen/Qwen3-8B"}, engine={"vllm_version": "0.10.1.1"}
    )
    assert "vllm/vllm-openai:v0.10.1.1" in _script(profile, make_plan(), "docker")


def test_ray_cluster_head_and_worker(tmp_path: Path) -> None:
    profile, plan = scenarios()["multi_node"]
    text = _script(profile, plan, "ray")
    env = {"VLLM_HOST_IP": "10.0.0.1"}
    done, calls = run_script(text, tmp_path, "head", env=env)
    assert done.returncode == 0, done.stderr
    assert calls == [
        {
            "prog": "ray",
            "argv": ["start", "--head", "--port=6379", "--node-ip-address=10.0.0.1"],
        },
        {"prog": "vllm", "argv": serve_argv(profile, plan)[1:]},
    ]
    assert "--distributed-executor-backend" in calls[1]["argv"]

    env = {"VLLM_HOST_IP": "10.0.0.2"}
    done, calls = run_script(text, tmp_path, "worker", "10.0.0.1", env=env)
    assert done.returncode == 0, done.stderr
    assert calls == [
        {
            "prog": "ray",
            "argv": [
                "start",
                "--address=10.0.0.1:6379",
                "--node-ip-address=10.0.0.2",
                "--block",
            ],
        }
    ]


def test_ray_cluster_refuses_a_missing_role(tmp_path: Path) -> None:
    profile, plan = scenarios()["multi_node"]
    done, calls = run_script(
        _script(profile, plan, "ray"), tmp_path, env={"VLLM_HOST_IP": "10.0.0.1"}
    )
    assert done.returncode == 2
    assert calls == []


def test_ray_file_only_for_plans_across_nodes() -> None:
    profile, plan = scenarios()["single_gpu"]
    assert build_files(profile, plan, ["ray"]) == {}


@pytest.mark.parametrize("emit", ["command", "docker", "ray"])
def test_scripts_start_with_shebang_strict_mode_and_header(emit: str) -> None:
    profile, plan = scenarios()["multi_node"]
    text = _script(profile, plan, emit)
    lines = text.splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert lines[1] == "set -euo pipefail"
    header = "\n".join(lines[2:6])
    assert "deepseek-ai/DeepSeek-V3" in header
    assert "vLLM 0.34" in header


def test_header_comment_cannot_break_out(tmp_path: Path) -> None:
    folder = tmp_path / "m\u2028$(touch pwned)"
    folder.mkdir()
    profile = make_profile(model={"id": str(folder)})
    text = _script(profile, make_plan(), "command")
    comment = [line for line in text.splitlines() if line.startswith("# Model:")]
    assert len(comment) == 1 and "\u2028" not in comment[0]
    done, _ = run_script(text, tmp_path)
    assert done.returncode == 0
    assert created_files(tmp_path, MARKERS) == []
