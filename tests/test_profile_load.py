"""Loading a teammate's file: every kind of bad input is refused cleanly.

Each refusal must name the file, the line where there is one, the field, and
what is allowed; and the CLI must turn it into exit 2 with one message and no
traceback (tested in test_cli.py).
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from wizard_tui.profiles import (
    MAX_PROFILE_BYTES,
    ProfileError,
    load_profile,
    read_profile,
)

DATA = Path(__file__).parent / "data"
BUNDLED = Path(__file__).parent.parent / "profiles"

GOOD = textwrap.dedent(
    """\
    profile_version: 1
    model:
      id: meta-llama/Llama-3.1-8B-Instruct
      max_model_len: 8192
    hardware:
      gpu_name: L4
      gpus: 1
    workload:
      prompt_tokens: 512
      gen_tokens: 256
      concurrency: 4
    policy:
      gpu_memory_utilization: 0.9
    """
)


def write(tmp_path: Path, text: str | bytes, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def refuse(path: Path) -> str:
    with pytest.raises(ProfileError) as info:
        read_profile(path)
    message = str(info.value)
    assert str(path) in message, message
    assert "Traceback" not in message
    return message


def test_good_profile_loads(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, GOOD))
    assert profile.model.id == "meta-llama/Llama-3.1-8B-Instruct"
    assert profile.model.max_model_len == 8192
    assert profile.policy.gpu_memory_utilization == 0.9


def test_bom_is_fine(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, b"\xef\xbb\xbf" + GOOD.encode()))
    assert profile.hardware.gpu_name == "L4"


def test_compat_sample_loads_with_notes() -> None:
    # Written by the original vllm-wizard tool: quantization "none" means "the
    # checkpoint decides" (null), its 1.15 fragmentation factor is honoured.
    loaded = read_profile(DATA / "compat" / "vllm-wizard-sample.yaml")
    p = loaded.profile
    assert p.model.id == "meta-llama/Llama-2-7b-hf"
    assert p.model.quantization is None
    assert p.policy.fragmentation_factor == 1.15
    assert p.policy.gpu_memory_utilization == 0.9
    assert p.hardware.gpu_name == "RTX 4090"
    assert any("quantization" in note and "None" in note for note in loaded.notes)


def test_legacy_dtype_values_normalised(tmp_path: Path) -> None:
    text = GOOD.replace(
        "  max_model_len: 8192\n",
        "  max_model_len: 8192\n  dtype: bf16\n  kv_cache_dtype: fp8_e4m3fn\n",
    )
    loaded = read_profile(write(tmp_path, text))
    assert loaded.profile.model.dtype == "bfloat16"
    assert loaded.profile.model.kv_cache_dtype == "fp8_e4m3"
    assert any("'bf16' normalised to 'bfloat16'" in n for n in loaded.notes)
    assert any("'fp8_e4m3fn' normalised to 'fp8_e4m3'" in n for n in loaded.notes)


def test_int8_quantization_refused_with_hint(tmp_path: Path) -> None:
    text = GOOD.replace(
        "  max_model_len: 8192\n", "  max_model_len: 8192\n  quantization: int8\n"
    )
    message = refuse(write(tmp_path, text))
    assert "model.quantization" in message
    assert "W8A8" in message and "fp8" in message


def test_kebab_vllm_args_normalised(tmp_path: Path) -> None:
    text = (
        GOOD
        + "outputs:\n  vllm_args:\n    max-num-seqs: 64\n    --enforce-eager: true\n"
    )
    loaded = read_profile(write(tmp_path, text))
    assert loaded.profile.outputs.vllm_args == {
        "max_num_seqs": 64,
        "enforce_eager": True,
    }


def test_bundled_profiles_load() -> None:
    files = sorted(BUNDLED.glob("*.yaml"))
    assert len(files) >= 6
    for path in files:
        assert read_profile(path).profile.engine.vllm_version == "0.34"


# --- bad input, one test per kind ------------------------------------------


def test_binary_bytes(tmp_path: Path) -> None:
    message = refuse(write(tmp_path, b"model:\n  id: x\x00\x01\x02\n"))
    assert "binary" in message


def test_non_utf8(tmp_path: Path) -> None:
    message = refuse(write(tmp_path, "model:\n  id: caf\xe9\n".encode("latin-1")))
    assert "UTF-8" in message and ":2:" in message


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    message = refuse(
        write(tmp_path, "model:\n  id: x\n  max_model_len: [1, 2\nhardware: {}\n")
    )
    assert "YAML syntax error" in message
    assert f"{tmp_path / 'p.yaml'}:" in message


def test_alias_bomb(tmp_path: Path) -> None:
    bomb = (
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    )
    message = refuse(write(tmp_path, bomb))
    assert "anchors" in message and ":1:" in message


def test_plain_alias(tmp_path: Path) -> None:
    text = GOOD + "outputs:\n  vllm_args: &args {max_num_seqs: 4}\nengine: *args\n"
    assert "not allowed" in refuse(write(tmp_path, text))


@pytest.mark.parametrize(
    "text",
    [
        "model: !!python/object/apply:os.system ['touch pwned']\n",
        "model:\n  id: !!python/name:os.system\n",
        "model: !custom {id: x}\n",
        "model:\n  id: !!binary aGVsbG8=\n",
    ],
)
def test_python_and_custom_tags(tmp_path: Path, text: str) -> None:
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        message = refuse(write(tmp_path, text))
    finally:
        os.chdir(cwd)
    assert "tag" in message
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("- model\n- hardware\n", "a list"),
        ("just a string\n", "a single value"),
        ("42\n", "a single value"),
    ],
)
def test_top_level_not_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    message = refuse(write(tmp_path, text))
    assert "mapping" in message and kind in message


@pytest.mark.parametrize("text", ["", "\n\n  \n", "# only a comment\n", "---\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    message = refuse(write(tmp_path, text))
    assert "empty" in message or "no YAML document" in message


def test_future_version(tmp_path: Path) -> None:
    message = refuse(
        write(tmp_path, GOOD.replace("profile_version: 1", "profile_version: 7"))
    )
    assert "profile_version: 7" in message and "newer" in message and ":1:" in message


@pytest.mark.parametrize("value", ['"one"', "1.5", "true", "-3", "0"])
def test_non_numeric_or_bad_version(tmp_path: Path, value: str) -> None:
    message = refuse(
        write(tmp_path, GOOD.replace("profile_version: 1", f"profile_version: {value}"))
    )
    assert "profile_version" in message


@pytest.mark.parametrize(
    ("old", "new", "field", "expect"),
    [
        (
            "max_model_len: 8192",
            'max_model_len: "8192"',
            "model.max_model_len",
            "valid integer",
        ),
        (
            "max_model_len: 8192",
            "max_model_len: true",
            "model.max_model_len",
            "valid integer",
        ),
        # YAML 1.1 reads an unquoted yes as true: refused as such, not as 1.
        ("gpus: 1", "gpus: yes", "hardware.gpus", "read by YAML as a boolean"),
        (
            "gpu_memory_utilization: 0.9",
            "gpu_memory_utilization: .nan",
            "policy.gpu_memory_utilization",
            "finite",
        ),
        (
            "gpu_memory_utilization: 0.9",
            "gpu_memory_utilization: .inf",
            "policy.gpu_memory_utilization",
            "finite",
        ),
        (
            "max_model_len: 8192",
            "max_model_len: " + "9" * 40,
            "model.max_model_len",
            "less than or equal",
        ),
        (
            "gpu_memory_utilization: 0.9",
            "gpu_memory_utilization: 1.0e+40",
            "policy.gpu_memory_utilization",
            "less than or equal",
        ),
    ],
)
def test_wrong_types(
    tmp_path: Path, old: str, new: str, field: str, expect: str
) -> None:
    message = refuse(write(tmp_path, GOOD.replace(old, new)))
    assert field in message and expect in message
    assert "allowed:" in message


@pytest.mark.parametrize(
    ("old", "new", "field", "line"),
    [
        ("max_model_len: 8192", "max_model_len: -5", "model.max_model_len", 4),
        ("gpus: 1", "gpus: 0", "hardware.gpus", 7),
        (
            "gpu_memory_utilization: 0.9",
            "gpu_memory_utilization: 1.2",
            "policy.gpu_memory_utilization",
            13,
        ),
        ("prompt_tokens: 512", "prompt_tokens: -1", "workload.prompt_tokens", 9),
    ],
)
def test_out_of_range(
    tmp_path: Path, old: str, new: str, field: str, line: int
) -> None:
    message = refuse(write(tmp_path, GOOD.replace(old, new)))
    assert f"p.yaml:{line}: {field}:" in message
    assert "allowed:" in message


def test_tp_above_gpu_count(tmp_path: Path) -> None:
    message = refuse(write(tmp_path, GOOD.replace("gpus: 1", "gpus: 1\n  tp_size: 4")))
    assert "hardware.tp_size" in message and "TP 4" in message and "gpus = 1" in message
    assert "p.yaml:8:" in message  # the tp_size line


def test_unknown_enum_lists_allowed(tmp_path: Path) -> None:
    text = GOOD.replace(
        "  max_model_len: 8192\n", "  max_model_len: 8192\n  kv_cache_dtype: fp9\n"
    )
    message = refuse(write(tmp_path, text))
    assert "model.kv_cache_dtype" in message and "'fp9'" in message
    assert "'fp8'" in message and "'auto'" in message


def test_unknown_key_did_you_mean(tmp_path: Path) -> None:
    message = refuse(write(tmp_path, GOOD.replace("max_model_len:", "max_modle_len:")))
    assert "model.max_modle_len: unknown key" in message
    assert "did you mean model.max_model_len" in message
    assert "p.yaml:4:" in message


def test_misspelt_section(tmp_path: Path) -> None:
    message = refuse(write(tmp_path, GOOD.replace("hardware:", "hardwere:")))
    assert "hardwere: unknown key" in message and "did you mean hardware" in message


def test_duplicate_keys(tmp_path: Path) -> None:
    message = refuse(write(tmp_path, GOOD + "model:\n  id: other/model\n"))
    assert "duplicate key" in message and "line 2" in message


def test_oversized_file(tmp_path: Path) -> None:
    big = GOOD + "# " + "x" * MAX_PROFILE_BYTES + "\n"
    message = refuse(write(tmp_path, big))
    assert "too large" in message


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "dir.yaml"
    folder.mkdir()
    assert "folder" in refuse(folder)


def test_missing_file(tmp_path: Path) -> None:
    assert "no such file" in refuse(tmp_path / "nope.yaml")


def test_unreadable_file_as_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root can read mode-000 files, so the permission error is simulated at
    # the open() the loader makes; the message is what a user would see.
    path = write(tmp_path, GOOD)

    def deny(self: Path, *args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", deny)
    assert "permission denied" in refuse(path)


def test_null_model_section_reported(tmp_path: Path) -> None:
    message = refuse(write(tmp_path, "profile_version: 1\nmodel:\n"))
    assert "model" in message and "p.yaml:2:" in message


# --- found by a newcomer trying to break the CLI -------------------------------


def test_file_must_name_model_and_gpu(tmp_path: Path) -> None:
    # The schema's defaults seed new profiles in the app; a file that leaves
    # the model or the GPU out must not be planned for a stand-in.
    message = refuse(write(tmp_path, "hardware:\n  gpus: 8\nmodel: {}\n"))
    assert "model.id: missing" in message
    assert "hardware.gpu_name: missing" in message
    message = refuse(write(tmp_path, "profile_version: 1\n"))
    assert "model: missing" in message


def test_engine_knobs_in_vllm_args_checked(tmp_path: Path) -> None:
    for knob, value, expect in [
        ("pipeline_parallel_size", "0", "from 1"),
        ("pipeline_parallel_size", "two", "whole number"),
        ("max_num_seqs", "0", "from 1"),
        ("block_size", "7", "allowed"),
        ("kv_cache_memory_bytes", "-5", "20G"),
        ("enforce_eager", "1", "true or false"),
    ]:
        message = refuse(
            write(tmp_path, GOOD + f"outputs:\n  vllm_args:\n    {knob}: {value}\n")
        )
        assert (
            "outputs.vllm_args" in message and knob in message and expect in message
        ), message


def test_vllm_args_that_have_a_profile_field_refused(tmp_path: Path) -> None:
    message = refuse(
        write(tmp_path, GOOD + "outputs:\n  vllm_args:\n    tensor_parallel_size: 8\n")
    )
    assert "hardware.tp_size" in message


def test_pipeline_times_tensor_within_gpus(tmp_path: Path) -> None:
    text = GOOD + "outputs:\n  vllm_args:\n    pipeline_parallel_size: 4\n"
    message = refuse(write(tmp_path, text))
    assert "TP 1 x PP 4 = 4 GPUs is more than hardware.gpus = 1" in message


def test_version_written_as_number_explained(tmp_path: Path) -> None:
    message = refuse(write(tmp_path, GOOD + "engine:\n  vllm_version: 0.10\n"))
    assert (
        "engine.vllm_version" in message and "'0.10'" in message and "quotes" in message
    )


def test_yaml_spelling_in_messages(tmp_path: Path) -> None:
    message = refuse(
        write(tmp_path, GOOD.replace("profile_version: 1", "profile_version: true"))
    )
    assert "profile_version: true is not a whole number (allowed: 1)" in message
    message = refuse(
        write(tmp_path, GOOD.replace("concurrency: 4", 'concurrency: "4"'))
    )
    assert "YAML read it as text" in message
    # 1e3 is a float in YAML 1.2 (and here): a float is not a whole number.
    message = refuse(
        write(tmp_path, GOOD.replace("concurrency: 4", "concurrency: 1e3"))
    )
    assert "1000.0: Input should be a valid integer (allowed: a whole number" in message


def test_section_given_as_list(tmp_path: Path) -> None:
    message = refuse(write(tmp_path, "model: [1]\nhardware: {gpu_name: L4}\n"))
    assert "model: must be a mapping of fields" in message
    assert "ModelSection" not in message


def test_empty_path() -> None:
    with pytest.raises(ProfileError, match="no profile file name given"):
        read_profile("")


@pytest.mark.parametrize(
    "text",
    [
        "[" * 500 + "]" * 500,
        "x: " + "[" * 500 + "]" * 500,
        "\n".join(" " * i + "a:" for i in range(600)),
    ],
    ids=["brackets", "brackets-under-key", "indentation"],
)
def test_deep_nesting_refused_before_the_parser_recurses(
    tmp_path: Path, text: str
) -> None:
    # PyYAML composes nodes recursively: without the event-level depth check
    # these raised RecursionError (a traceback, exit 1) instead of exit 2.
    assert "nested too deeply for a profile (allowed: up to" in refuse(
        write(tmp_path, text)
    )


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        # YAML 1.1 reads these as other numbers than they look: 0100000 is
        # octal 32768, 0x2 is 2, 0o2 is 2, 1:30 is 1*60+30 = 90.
        (
            "max_model_len: 8192",
            "max_model_len: 0100000",
            "model.max_model_len: 0100000 is read by YAML as octal",
        ),
        ("gpus: 1", "gpus: 0x2", "hardware.gpus: 0x2 is read by YAML as hexadecimal"),
        ("gpus: 1", "gpus: 0o2", "hardware.gpus: 0o2 is read by YAML as octal"),
        ("gpus: 1", "gpus: 1:30", "hardware.gpus: 1:30 is read by YAML as a base-60"),
        # An unquoted `no` is YAML 1.1's false: a GPU named "no" is not meant.
        (
            "gpu_name: L4",
            "gpu_name: no",
            "hardware.gpu_name: no is read by YAML as a boolean",
        ),
    ],
)
def test_yaml_11_misreadings_refused(
    tmp_path: Path, old: str, new: str, expect: str
) -> None:
    message = refuse(write(tmp_path, GOOD.replace(old, new)))
    assert expect in message
    line = GOOD.splitlines().index("  " + old.strip()) + 1
    assert f"p.yaml:{line}:" in message


def test_dates_stay_text(tmp_path: Path) -> None:
    # Not datetime.date(2001, 12, 14): the user's own spelling is shown.
    message = refuse(write(tmp_path, GOOD + "engine:\n  vllm_version: 2001-12-14\n"))
    assert "engine.vllm_version: '2001-12-14'" in message


def test_yaml_12_exponent_is_a_number(tmp_path: Path) -> None:
    # YAML 1.1 needs a dot (9.0e-1); 9e-1 would have been the text '9e-1'.
    text = GOOD.replace("gpu_memory_utilization: 0.9", "gpu_memory_utilization: 9e-1")
    assert load_profile(write(tmp_path, text)).policy.gpu_memory_utilization == 0.9


def test_enum_choices_listed_once(tmp_path: Path) -> None:
    message = refuse(
        write(tmp_path, GOOD.replace("max_model_len: 8192", "kv_cache_dtype: fp9"))
    )
    assert (
        "model.kv_cache_dtype: 'fp9': not one of the choices (allowed: 'auto'"
        in message
    )
    assert message.count("'bfloat16'") == 1


def test_merge_keys_refused(tmp_path: Path) -> None:
    text = GOOD.replace("  gpus: 1\n", "  gpus: 1\n  <<: {tp_size: 1}\n")
    assert "YAML merge keys (<<) are not allowed" in refuse(write(tmp_path, text))


def test_too_long_text_says_the_limit(tmp_path: Path) -> None:
    text = GOOD.replace("gpu_name: L4", "gpu_name: " + "x" * 200)
    assert "(allowed: text of at most 128 characters)" in refuse(write(tmp_path, text))
