"""The command-line surface: exit codes and messages of CONTRACT.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wizard_tui.cli import main

DATA = Path(__file__).parent / "data"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wizard_tui.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_schema_is_json_schema_with_descriptions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "vllm-wizard-tui profile"
    model = schema["$defs"]["ModelSection"]["properties"]
    assert (
        "max-model-len" in model["max_model_len"]["description"].lower()
        or "tokens" in model["max_model_len"]["description"]
    )
    # every field of every section is documented
    for name, section in schema["$defs"].items():
        for field, spec in section.get("properties", {}).items():
            assert spec.get("description"), f"{name}.{field} has no description"


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\x01binary",
        b"model: [unclosed\n",
        b"a: &x 1\nb: *x\n",
        b"model: !!python/object/apply:os.system ['echo hi']\n",
        b"- a\n- b\n",
        b"",
        b"profile_version: 99\n",
        b"model:\n  id: x\n  max_model_len: -1\n",
        b"model:\n  id: x\n  max_modl_len: 5\n",
    ],
)
def test_plan_bad_profile_exit_2_one_message(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    result = run_cli("plan", "--profile", str(path), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert str(path) in result.stderr
    assert result.stderr.startswith("vllm-wizard: ")


def test_plan_missing_file(tmp_path: Path) -> None:
    result = run_cli("plan", "--profile", str(tmp_path / "none.yaml"))
    assert result.returncode == 2 and "no such file" in result.stderr


def test_generate_bad_profile_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("model:\n  id: x\n  gpus: 2\n")
    out = tmp_path / "out"
    result = run_cli(
        "generate", "--profile", str(path), "--emit", "command", "--out", str(out)
    )
    assert result.returncode == 2
    assert not out.exists()


def test_override_is_validated(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "model:\n  id: Qwen/Qwen3-8B\nhardware:\n  gpu_name: H100\n  gpus: 1\n"
    )
    result = run_cli("plan", "--profile", str(path), "--tp", "4")
    assert result.returncode == 2
    assert "hardware.tp_size" in result.stderr and "Traceback" not in result.stderr


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "plan" in capsys.readouterr().out


def test_generate_empty_out_and_emit_refused(tmp_path: Path) -> None:
    profile = Path(__file__).parent.parent / "profiles" / "llama-3.1-8b-1x-l4.yaml"
    result = run_cli("generate", "--profile", str(profile), "--out", "")
    assert result.returncode == 2 and "--out: empty" in result.stderr
    result = run_cli(
        "generate",
        "--profile",
        str(profile),
        "--emit",
        "",
        "--out",
        str(tmp_path / "o"),
    )
    assert result.returncode == 2 and "--emit: empty" in result.stderr
    assert not (tmp_path / "o").exists()


def test_override_error_names_no_file_line(tmp_path: Path) -> None:
    profile = Path(__file__).parent.parent / "profiles" / "llama-3.1-8b-1x-l4.yaml"
    result = run_cli("plan", "--profile", str(profile), "--gpus", "0")
    assert result.returncode == 2
    assert "(with command-line overrides): hardware.gpus: 0:" in result.stderr


BUNDLED_L4 = Path(__file__).parent.parent / "profiles" / "llama-3.1-8b-1x-l4.yaml"


def test_generate_writes_nothing_when_one_file_cannot_be_written(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    (out / "docker_run.sh").mkdir(parents=True)  # in the way of the 2nd file
    result = run_cli(
        "generate", "--profile", str(BUNDLED_L4), "--emit", "command,docker,k8s",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 2
    assert "docker_run.sh: is in the way" in result.stderr
    assert "nothing was written" in result.stderr
    # serve_command.sh, the first in order, was not left behind.
    assert sorted(p.name for p in out.iterdir()) == ["docker_run.sh"]


def test_generate_keeps_a_backup_of_what_it_replaces(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "serve_command.sh").write_text("# my own edits\n")
    args = (
        "generate",
        "--profile",
        str(BUNDLED_L4),
        "--emit",
        "command",
        "--out",
        str(out),
    )
    result = run_cli(*args)
    assert result.returncode == 0
    assert (out / "serve_command.sh.bak").read_text() == "# my own edits\n"
    assert "replaced" in result.stderr and "serve_command.sh.bak" in result.stderr
    # The same files again: nothing replaced, the backup of the user's file stays.
    again = run_cli(*args)
    assert again.returncode == 0 and "replaced" not in again.stderr
    assert (out / "serve_command.sh.bak").read_text() == "# my own edits\n"


def test_generate_never_overwrites_the_profile_it_reads(tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    original = BUNDLED_L4.read_bytes() + b"# a teammate's comment\n"
    profile.write_bytes(original)
    result = run_cli(
        "generate", "--profile", str(profile), "--emit", "profile,command",
        "--out", str(tmp_path), "--max-model-len", "4096",
    )  # fmt: skip
    assert result.returncode == 2
    assert "would replace the profile being read" in result.stderr
    assert profile.read_bytes() == original
    assert not (tmp_path / "serve_command.sh").exists()


def test_generate_says_the_verdict(tmp_path: Path) -> None:
    result = run_cli(
        "generate", "--profile", str(BUNDLED_L4), "--emit", "command",
        "--out", str(tmp_path / "o"), "--gpu-memory-utilization", "0.05",
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("does not fit")


def test_generate_nothing_to_emit_creates_no_folder(tmp_path: Path) -> None:
    # ray_cluster.sh is only for plans across nodes; this one is one L4.
    out = tmp_path / "o"
    result = run_cli(
        "generate", "--profile", str(BUNDLED_L4), "--emit", "ray", "--out", str(out)
    )
    assert result.returncode == 0
    assert "nothing to write" in result.stderr and not out.exists()


def test_resolution_errors_name_the_line_or_the_flag(tmp_path: Path) -> None:
    text = BUNDLED_L4.read_text().replace("gpu_name: NVIDIA L4", "gpu_name: banana")
    path = tmp_path / "p.yaml"
    path.write_text(text)
    line = text.splitlines().index("  gpu_name: banana") + 1
    result = run_cli("plan", "--profile", str(path))
    assert result.returncode == 2
    assert f"p.yaml:{line}: hardware.gpu_name: 'banana': unknown GPU" in result.stderr
    # The file says L4; a wrong --gpu is the command line's fault, not the file's.
    result = run_cli("plan", "--profile", str(BUNDLED_L4), "--gpu", "banana")
    assert "(with command-line overrides): hardware.gpu_name: 'banana'" in result.stderr


def test_a_loose_gpu_name_says_which_catalog_gpu_it_became() -> None:
    result = run_cli("plan", "--profile", str(BUNDLED_L4), "--gpu", "L4 card")
    assert result.returncode == 0
    assert (
        "note: hardware: 'L4 card' is the catalog's L4 (22.05 GiB CUDA total)"
        in result.stdout
    )
    # An nvidia-smi name is exact: no note.
    result = run_cli("plan", "--profile", str(BUNDLED_L4))
    assert "note: hardware:" not in result.stdout


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        (
            "gpu_name: NVIDIA L4",
            "gpu_name: ''",
            "hardware.gpu_name: '': must be a GPU name",
        ),
        # YAML's own escapes put a newline and an ESC into the values.
        ("gpu_name: NVIDIA L4", r'gpu_name: "L4\nrm -rf /"', "must be a GPU name"),
        (
            "id: meta-llama/Llama-3.1-8B-Instruct",
            r'id: "org/m\e[2J"',
            r"model.id: 'org/m\x1b[2J'",
        ),
    ],
)
def test_control_characters_and_empty_names_refused(
    tmp_path: Path, old: str, new: str, expect: str
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(BUNDLED_L4.read_text().replace(old, new))
    result = run_cli("plan", "--profile", str(path))
    assert result.returncode == 2 and expect in result.stderr
    assert "catalog is not available" not in result.stderr


@pytest.mark.parametrize(
    "path",
    [*sorted((Path(__file__).parent.parent / "profiles").glob("*.yaml")),
     DATA / "compat" / "vllm-wizard-sample.yaml"],
    ids=lambda p: p.name,
)  # fmt: skip
def test_plan_json_has_the_contract_keys(path: Path) -> None:
    result = run_cli("plan", "--profile", str(path), "--json")
    data = json.loads(result.stdout)
    assert result.returncode == (0 if data["fits"] else 1)
    for key in ("fits", "vllm_starts", "blockers", "warnings", "engine_version",
                "tp_size", "pp_size", "max_concurrency", "max_model_len_fit",
                "what_if", "explanations"):  # fmt: skip
        assert key in data, key
    g = data["per_gpu"]
    terms = ("weights_gib", "activation_gib", "non_torch_gib", "cuda_graph_gib",
             "kv_cache_gib", "other_gib")  # fmt: skip
    # CONTRACT.md: usable = weights + activation + non_torch + graphs + KV + other.
    assert sum(g[t] for t in terms) == pytest.approx(g["usable_gib"], abs=0.02)
    assert {"tokens", "blocks", "block_size", "bytes_per_token"} <= set(
        data["kv_cache"]
    )
    assert "concurrency_fit" in data["workload"]
    for name in ("itl_ms", "ttft_ms", "decode_tok_s_per_seq", "decode_tok_s_total",
                 "prefill_tok_s"):  # fmt: skip
        assert data["speed"][name] == sorted(data["speed"][name])


def test_exit_code_survives_a_reader_that_goes_away(tmp_path: Path) -> None:
    # `plan ... | true`: the reader closes the pipe; the exit code must still
    # say "does not fit" (1) or "no plan" (2), never 0.
    def piped(*args: str) -> int:
        script = (
            f"{sys.executable} -m wizard_tui.cli {' '.join(args)} 2>&1 | true; "
            "exit ${PIPESTATUS[0]}"
        )
        return subprocess.run(["bash", "-c", script], timeout=120).returncode

    profile = str(BUNDLED_L4)
    assert (
        piped(
            "plan", "--profile", profile, "--model", "meta-llama/Llama-3.1-70B-Instruct"
        )
        == 1
    )
    assert piped("plan", "--profile", profile, "--gpus", "0") == 2
    assert piped("plan", "--profile", profile, "--json") == 0


@pytest.mark.parametrize(
    "key", ["HF_TOKEN", "API_KEY", "apiKey", "access_token", "ssl_keyfile_password"]
)
def test_secrets_under_any_spelling_are_never_written_or_echoed(
    tmp_path: Path, key: str
) -> None:
    text = BUNDLED_L4.read_text().replace(
        "vllm_args: {}", f"vllm_args:\n    {key}: s3cr3tVALUE"
    )
    path = tmp_path / "p.yaml"
    path.write_text(text)
    out = tmp_path / "o"
    result = run_cli(
        "generate", "--profile", str(path), "--emit", "command,docker,compose,k8s,profile,json",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0
    assert "s3cr3tVALUE" not in result.stdout + result.stderr
    assert not any("s3cr3tVALUE" in f.read_text() for f in out.iterdir())
    assert "s3cr3tVALUE" not in run_cli("plan", "--profile", str(path), "--json").stdout


def test_a_folder_in_the_way_of_a_backup_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "serve_command.sh").write_text("# mine\n")
    (out / "serve_command.sh.bak").mkdir()
    result = run_cli(
        "generate", "--profile", str(BUNDLED_L4), "--emit", "command", "--out", str(out)
    )
    assert (
        result.returncode == 2
        and "serve_command.sh.bak: is in the way" in result.stderr
    )
    assert (out / "serve_command.sh").read_text() == "# mine\n"
