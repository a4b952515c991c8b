"""build_files: the file set, compose and Kubernetes YAML, multi-node docker,
plan.json and profile.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.test_launch_fixtures import (
    created_files,
    make_plan,
    make_profile,
    run_script,
    scenarios,
)
from wizard_tui.launch import FILE_NAMES, build_files, launch_warnings, serve_argv
from wizard_tui.launch.files import app_name

MARKERS = ("pwned", "pwned2", "pwned3", "pwned4")


def _undollar(words: list[str]) -> list[str]:
    """Compose and Kubernetes read `$$` as `$`."""
    return [w.replace("$$", "$") for w in words]


def test_file_names_follow_the_contract() -> None:
    profile, plan = scenarios()["multi_node"]
    files = build_files(profile, plan, list(FILE_NAMES), profile_yaml="x: 1\n")
    assert list(files) == [
        "serve_command.sh",
        "docker_run.sh",
        "docker-compose.yaml",
        "k8s.yaml",
        "ray_cluster.sh",
        "profile.yaml",
        "plan.json",
    ]


def test_unknown_emit_name_is_a_value_error() -> None:
    profile, plan = scenarios()["single_gpu"]
    with pytest.raises(ValueError, match="outputs.emit"):
        build_files(profile, plan, ["command", "helm"])


def test_plan_json_is_the_plan_dump() -> None:
    profile, plan = scenarios()["single_gpu"]
    text = build_files(profile, plan, ["json"])["plan.json"]
    assert json.loads(text) == plan.model_dump(mode="json")
    assert text.startswith('{\n  "fits": true')


def test_profile_yaml_is_the_text_passed_in() -> None:
    profile, plan = scenarios()["single_gpu"]
    text = "# mine\nprofile_version: 1\n"
    assert build_files(profile, plan, ["profile"], profile_yaml=text) == {
        "profile.yaml": text
    }


def test_profile_yaml_without_text_round_trips() -> None:
    profile, plan = scenarios()["multi_gpu"]
    text = build_files(profile, plan, ["profile"])["profile.yaml"]
    from wizard_tui.profiles import profile_from_text

    assert profile_from_text(text).profile == profile


@pytest.mark.parametrize(("name", "gpus"), [("single_gpu", 1), ("multi_gpu", 8)])
def test_compose_reserves_tp_times_pp_gpus(name: str, gpus: int) -> None:
    profile, plan = scenarios()[name]
    doc = yaml.safe_load(build_files(profile, plan, ["compose"])["docker-compose.yaml"])
    (service,) = doc["services"].values()
    (device,) = service["deploy"]["resources"]["reservations"]["devices"]
    assert device == {"driver": "nvidia", "count": gpus, "capabilities": ["gpu"]}
    assert service["image"] == "vllm/vllm-openai:v0.34.0"
    assert _undollar(service["command"]) == serve_argv(profile, plan)[2:]
    assert "http://localhost:8000/health" in " ".join(service["healthcheck"]["test"])
    assert service["ipc"] == "host"
    assert service["ports"] == ["8000:8000"]
    assert service["environment"] == ["HF_TOKEN"]  # taken from the shell by name


def test_compose_escapes_dollars_from_the_profile() -> None:
    profile, plan = scenarios()["hostile"]
    doc = yaml.safe_load(build_files(profile, plan, ["compose"])["docker-compose.yaml"])
    (service,) = doc["services"].values()
    command = service["command"]
    # Every '$' from the profile is doubled, so compose interpolates nothing.
    assert "$(touch pwned)" not in " ".join(command).replace("$$", "")
    assert _undollar(command) == serve_argv(profile, plan)[2:]


def test_k8s_single_node_deployment_and_service() -> None:
    profile, plan = scenarios()["multi_gpu"]
    text = build_files(profile, plan, ["k8s"])["k8s.yaml"]
    deployment, service = yaml.safe_load_all(text)
    assert deployment["kind"] == "Deployment"
    assert service["kind"] == "Service"
    name = "llama-3-1-70b-instruct-vllm-server"
    assert deployment["metadata"]["name"] == service["metadata"]["name"] == name
    assert "never 'vllm'" in text and "VLLM_PORT" in text
    spec = deployment["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["resources"]["limits"] == {"nvidia.com/gpu": 8}  # TP 4 x PP 2
    assert container["image"] == "vllm/vllm-openai:v0.34.0"
    assert _undollar(container["args"]) == serve_argv(profile, plan)[2:]
    assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": 8000}
    assert {"name": "dshm", "mountPath": "/dev/shm"} in container["volumeMounts"]
    assert {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}} in (
        spec["volumes"]
    )
    (env,) = [e for e in container["env"] if e["name"] == "HF_TOKEN"]
    assert env["valueFrom"]["secretKeyRef"]["name"] == "hf-token"
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


def test_k8s_escapes_dollars_from_the_profile() -> None:
    profile, plan = scenarios()["hostile"]
    text = build_files(profile, plan, ["k8s"])["k8s.yaml"]
    deployment, _ = yaml.safe_load_all(text)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    # Kubernetes expands $(VAR) in args and reads $$ as $: all '$' are doubled.
    assert all("$" not in a.replace("$$", "") for a in container["args"])
    assert _undollar(container["args"]) == serve_argv(profile, plan)[2:]


@pytest.mark.parametrize(
    ("model_id", "name"),
    [
        ("vllm/vllm", "vllm-vllm-server"),
        ("Qwen/Qwen3-8B", "qwen3-8b-vllm-server"),
        ("org/7B.model_v2", "m-7b-model-v2-vllm-server"),
    ],
)
def test_app_names_are_dns_labels_never_vllm(model_id: str, name: str) -> None:
    assert app_name(model_id) == name
    assert app_name(model_id) != "vllm"
    assert len(name) <= 63


def test_k8s_multi_node_leader_worker_set(tmp_path: Path) -> None:
    profile, plan = scenarios()["multi_node"]
    text = build_files(profile, plan, ["k8s"])["k8s.yaml"]
    lws, service = yaml.safe_load_all(text)
    assert lws["apiVersion"] == "leaderworkerset.x-k8s.io/v1"
    assert lws["kind"] == "LeaderWorkerSet"
    template = lws["spec"]["leaderWorkerTemplate"]
    assert template["size"] == 2  # TP 8 x PP 2 = 16 GPUs over nodes of 8
    leader = template["leaderTemplate"]["spec"]["containers"][0]
    worker = template["workerTemplate"]["spec"]["containers"][0]
    gpus = [c["resources"]["limits"]["nvidia.com/gpu"] for c in (leader, worker)]
    assert sum(gpus) == 16
    assert leader["readinessProbe"]["httpGet"]["path"] == "/health"
    assert service["spec"]["selector"]["role"] == "leader"

    # Run the pods' bash scripts with stand-ins, as Kubernetes would after
    # turning '$$' into '$'.
    env = {"VLLM_HOST_IP": "10.1.0.5", "LWS_LEADER_ADDRESS": "leader.svc"}
    leader_script = _undollar(leader["args"])[0]
    assert leader["command"] == ["/bin/bash", "-c"]
    done, calls = run_script(leader_script, tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert calls == [
        {
            "prog": "ray",
            "argv": ["start", "--head", "--port=6379", "--node-ip-address=10.1.0.5"],
        },
        {"prog": "vllm", "argv": serve_argv(profile, plan)[1:]},
    ]
    done, calls = run_script(_undollar(worker["args"])[0], tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert calls == [
        {
            "prog": "ray",
            "argv": [
                "start",
                "--address=leader.svc:6379",
                "--node-ip-address=10.1.0.5",
                "--block",
            ],
        }
    ]


def test_docker_multi_node_roles(tmp_path: Path) -> None:
    profile, plan = scenarios()["multi_node"]
    text = build_files(profile, plan, ["docker"])["docker_run.sh"]
    env = {"VLLM_HOST_IP": "10.0.0.1"}
    done, calls = run_script(text, tmp_path, "head", env=env)
    assert done.returncode == 0, done.stderr
    (call,) = calls
    argv = call["argv"]
    assert argv[:8] == [
        "run",
        "--rm",
        "--gpus",
        "all",
        "--ipc=host",
        "--network=host",
        "-v",
        f"{tmp_path / 'home'}/.cache/huggingface:/root/.cache/huggingface",
    ]
    assert argv[-5:-1] == [
        "--entrypoint",
        "/bin/bash",
        "vllm/vllm-openai:v0.34.0",
        "-c",
    ]
    assert "-e" in argv and "HF_TOKEN" in argv and "VLLM_HOST_IP" in argv
    # The container's own script, run with stand-ins: Ray head, then vLLM.
    done, calls = run_script(argv[-1], tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert [c["prog"] for c in calls] == ["ray", "vllm"]
    assert calls[1]["argv"] == serve_argv(profile, plan)[1:]

    done, calls = run_script(text, tmp_path, "worker", "10.0.0.1", env=env)
    assert done.returncode == 0, done.stderr
    argv = calls[0]["argv"]
    assert "RAY_HEAD_IP=10.0.0.1" in argv
    done, calls = run_script(argv[-1], tmp_path, env={**env, "RAY_HEAD_IP": "10.0.0.1"})
    assert calls[0]["argv"][:2] == ["start", "--address=10.0.0.1:6379"]


def test_hostile_multi_node_files_run_nothing(tmp_path: Path) -> None:
    profile = make_profile(
        model={"id": "deepseek-ai/DeepSeek-V3"},
        hardware={"gpu_name": "H100 SXM", "gpus": 16, "gpus_per_node": 8},
        outputs={
            "vllm_args": {
                "pipeline_parallel_size": 2,
                "served_model_name": "$(touch pwned) `touch pwned2` '\"",
                "chat_template": "a\n$(touch pwned3)\n",
            }
        },
    )
    plan = make_plan(tp_size=8, pp_size=2, max_model_len=16384, max_concurrency=3.4)
    files = build_files(profile, plan, ["docker", "ray", "k8s"])
    env = {"VLLM_HOST_IP": "10.0.0.1"}
    _, calls = run_script(files["docker_run.sh"], tmp_path, "head", env=env)
    _, inner = run_script(calls[0]["argv"][-1], tmp_path, env=env)
    assert inner[1]["argv"] == serve_argv(profile, plan)[1:]
    _, calls = run_script(files["ray_cluster.sh"], tmp_path, "head", env=env)
    assert calls[1]["argv"] == serve_argv(profile, plan)[1:]
    lws, _ = yaml.safe_load_all(files["k8s.yaml"])
    leader = lws["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["spec"]
    _, calls = run_script(
        _undollar(leader["containers"][0]["args"])[0], tmp_path, env=env
    )
    assert calls[1]["argv"] == serve_argv(profile, plan)[1:]
    assert created_files(tmp_path, MARKERS) == []


def test_warnings_for_ray_on_one_node_and_compose_across_nodes() -> None:
    profile, plan = scenarios()["single_gpu"]
    assert any(
        "ray_cluster.sh is not written" in w
        for w in launch_warnings(profile, plan, ["ray"])
    )
    profile, plan = scenarios()["multi_node"]
    warnings = launch_warnings(profile, plan, ["compose"])
    assert any(w.startswith("compose:") for w in warnings)


@pytest.mark.parametrize("name", ["single_gpu", "multi_gpu", "multi_node"])
def test_yaml_has_no_anchors(name: str) -> None:
    profile, plan = scenarios()[name]
    for text in build_files(profile, plan, ["k8s", "compose"]).values():
        assert "&id" not in text and "*id" not in text


def test_yaml_keeps_unicode_readable() -> None:
    profile, plan = scenarios()["hostile"]
    text = build_files(profile, plan, ["compose"])["docker-compose.yaml"]
    assert "模型" in text


def test_custom_port_reaches_every_file(tmp_path: Path) -> None:
    profile = make_profile(
        model={"id": "Qwen/Qwen3-8B"}, outputs={"vllm_args": {"port": 9001}}
    )
    plan = make_plan()
    files = build_files(profile, plan, ["docker", "compose", "k8s"])
    assert serve_argv(profile, plan)[-2:] == ["--port", "9001"]
    _, calls = run_script(files["docker_run.sh"], tmp_path)
    argv = calls[0]["argv"]
    assert argv[argv.index("-p") + 1] == "9001:9001"
    (service,) = yaml.safe_load(files["docker-compose.yaml"])["services"].values()
    assert service["ports"] == ["9001:9001"]
    assert "http://localhost:9001/health" in service["healthcheck"]["test"][-1]
    deployment, svc = yaml.safe_load_all(files["k8s.yaml"])
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["ports"][0]["containerPort"] == 9001
    assert container["readinessProbe"]["httpGet"]["port"] == 9001
    assert svc["spec"]["ports"][0]["targetPort"] == 9001


def test_bad_port_is_left_out() -> None:
    profile = make_profile(
        model={"id": "Qwen/Qwen3-8B"}, outputs={"vllm_args": {"port": 70000}}
    )
    assert "--port" not in serve_argv(profile, make_plan())
    assert any("not a TCP port" in w for w in launch_warnings(profile, make_plan()))


def test_launch_imports_no_ui_modules() -> None:
    import subprocess
    import sys

    code = (
        "import sys, wizard_tui.launch; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_compose_mounts_a_hostile_local_model(tmp_path: Path) -> None:
    from tests.test_launch_fixtures import hostile_model_dir

    folder = hostile_model_dir(tmp_path)
    profile, plan = scenarios(folder)["local_path"]
    doc = yaml.safe_load(build_files(profile, plan, ["compose"])["docker-compose.yaml"])
    (service,) = doc["services"].values()
    mount = _undollar([service["volumes"][1]])[0]
    assert mount == f"{folder.resolve()}:/model:ro"
    assert service["command"][0] == "/model"
    assert _undollar(service["command"][-2:]) == ["--served-model-name", str(folder)]


def test_local_path_with_colon_cannot_be_mounted(tmp_path: Path) -> None:
    folder = tmp_path / "a:b"
    folder.mkdir()
    profile = make_profile(model={"id": str(folder)})
    assert build_files(profile, make_plan(), ["command"])  # fine without docker
    with pytest.raises(ValueError, match="model.id"):
        build_files(profile, make_plan(), ["docker"])


def test_uneven_multi_node_split_asks_for_no_idle_gpu() -> None:
    # TP 4 x PP 3 = 12 GPUs on nodes of 8: three hosts of 4 (one pipeline
    # stage each), not two of 8 (16 asked for, 4 idle).
    profile = make_profile(
        model={"id": "meta-llama/Llama-3.1-70B-Instruct"},
        hardware={"gpu_name": "H100", "gpus": 12, "gpus_per_node": 8, "tp_size": 4},
        outputs={"vllm_args": {"pipeline_parallel_size": 3}},
    )
    plan = make_plan(tp_size=4, pp_size=3)
    text = build_files(profile, plan, ["k8s"])["k8s.yaml"]
    lws, _ = yaml.safe_load_all(text)
    template = lws["spec"]["leaderWorkerTemplate"]
    assert template["size"] == 3
    pods = [
        template[t]["spec"]["containers"][0]
        for t in ("leaderTemplate", "workerTemplate")
    ]
    assert [c["resources"]["limits"]["nvidia.com/gpu"] for c in pods] == [4, 4]


def test_secrets_stay_out_of_the_profile_and_the_warnings() -> None:
    profile = make_profile(
        model={"id": "Qwen/Qwen3-8B"},
        hardware={"gpu_name": "H100", "gpus": 1},
        outputs={"vllm_args": {"api_key": "sk-SECRET1", "hf_token": "hf_SECRET2"}},
    )
    plan = make_plan()
    files = build_files(profile, plan, ["command", "profile"])
    assert not any("SECRET" in text for text in files.values())
    warnings = launch_warnings(profile, plan, ["command", "profile"])
    assert not any("SECRET" in w for w in warnings)
    assert any("hf_token left out: a secret" in w for w in warnings)
    # hf_token: true only says "use the stored token": it is kept.
    stored = make_profile(
        model={"id": "Qwen/Qwen3-8B"},
        hardware={"gpu_name": "H100", "gpus": 1},
        outputs={"vllm_args": {"hf_token": True}},
    )
    assert "--hf-token" in serve_argv(stored, plan)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        # vLLM 0.34's parser refuses "level" (unexpected keyword argument)
        # and takes "mode" (the oracle run of this session).
        ({"level": 3}, '{"mode":3}'),
        (
            '{"level": 3, "cudagraph_capture_sizes": [1, 2]}',
            '{"mode":3,"cudagraph_capture_sizes":[1,2]}',
        ),
        (3, None),
    ],
)
def test_compilation_config_as_034_takes_it(value: object, written: str | None) -> None:
    profile = make_profile(
        model={"id": "Qwen/Qwen3-8B"},
        hardware={"gpu_name": "H100", "gpus": 1},
        outputs={"vllm_args": {"compilation_config": value}},
    )
    argv = serve_argv(profile, make_plan())
    if written is None:
        assert "--compilation-config" not in argv
        assert any(
            "takes a JSON object" in w for w in launch_warnings(profile, make_plan())
        )
    else:
        assert argv[argv.index("--compilation-config") + 1] == written


def test_data_parallel_beyond_a_node_becomes_replicas() -> None:
    # DP 2 x TP 8 = 16 GPUs on nodes of 8: no pod can ask for 16; two pods of
    # 8, one engine each, behind the one Service.
    profile = make_profile(
        model={"id": "meta-llama/Llama-3.1-70B-Instruct"},
        hardware={"gpu_name": "H100", "gpus": 16, "gpus_per_node": 8, "tp_size": 8},
        outputs={"vllm_args": {"data_parallel_size": 2}},
    )
    plan = make_plan(tp_size=8, data_parallel_size=2)
    deployment, _service = yaml.safe_load_all(
        build_files(profile, plan, ["k8s"])["k8s.yaml"]
    )
    assert deployment["spec"]["replicas"] == 2
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 8
    assert "--data-parallel-size" not in container["args"]
    # With expert parallelism the ranks are one engine: not split into pods.
    ep = profile.model_copy(
        update={"outputs": profile.outputs.model_copy(
            update={"vllm_args": {"data_parallel_size": 2, "enable_expert_parallel": True}}
        )}
    )  # fmt: skip
    deployment, _service = yaml.safe_load_all(
        build_files(ep, plan, ["k8s"])["k8s.yaml"]
    )
    assert deployment["spec"]["replicas"] == 1
