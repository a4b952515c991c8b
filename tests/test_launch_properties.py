"""Properties: any text a profile holds reaches vLLM as one literal argument, and
every history row of flag_history.tsv is honoured for targets on both sides."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_launch_fixtures import (
    created_files,
    make_plan,
    make_profile,
    run_script,
    tsv_flags,
)
from wizard_tui.launch import build_files, serve_argv
from wizard_tui.launch.flags import flag_args, target_version

# Text a command line can carry: no NUL (argv is C strings) and no lone
# surrogates (not encodable as UTF-8).
ARG_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
    min_size=1,
    max_size=40,
)
HISTORY = (
    Path(__file__).parent.parent / "wizard_tui" / "launch" / "data" / "flag_history.tsv"
)


def _value_of(argv: list[str], option: str) -> str:
    """The one word after `option`, or its `option=value` form."""
    for i, word in enumerate(argv):
        if word == option:
            return argv[i + 1]
        if word.startswith(option + "="):
            return word[len(option) + 1 :]
    raise AssertionError(f"{option} not in {argv}")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=ARG_TEXT, template=ARG_TEXT, note=ARG_TEXT)
def test_any_text_reaches_vllm_literally(
    tmp_path_factory: pytest.TempPathFactory, name: str, template: str, note: str
) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    profile = make_profile(
        model={"id": "Qwen/Qwen3-8B"},
        outputs={
            "vllm_args": {
                "served_model_name": name,
                "chat_template": template,
                "hf_overrides": {"note": note},
            }
        },
    )
    plan = make_plan()
    script = build_files(profile, plan, ["command"])["serve_command.sh"]
    done, calls = run_script(script, tmp)
    assert done.returncode == 0, done.stderr
    argv = calls[0]["argv"]
    assert argv == serve_argv(profile, plan)[1:]
    assert _value_of(argv, "--served-model-name") == name
    assert _value_of(argv, "--chat-template") == template
    assert json.loads(_value_of(argv, "--hf-overrides")) == {"note": note}
    assert created_files(tmp, ("pwned",)) == []


def _history_rows() -> list[dict[str, str]]:
    lines = [
        line
        for line in HISTORY.read_text("utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    return list(csv.DictReader(lines, delimiter="\t"))


def _sample_value(name: str, history_type: str) -> object:
    """A value the flag takes: its first 0.34 choice, else one of its type."""
    row = tsv_flags().get("--" + name.replace("_", "-"))
    flag_type = row["type"] if row else history_type
    if row and row["choices"]:
        return row["choices"].split("|")[0]
    if flag_type in ("flag", "bool"):
        return True
    return {"int": 8, "float": 4.0}.get(flag_type, "x")


def _minor_before(version: str) -> str:
    major, minor = (int(p) for p in version.split(".")[:2])
    return f"{major}.{minor - 1}"


@pytest.mark.parametrize("row", _history_rows(), ids=lambda r: r["flag"])
def test_history_row_is_honoured(row: dict[str, str]) -> None:
    """Before `removed` the flag is written, from `removed` on it is not; the
    reverse for `added`. A `flag=value` row is about one choice."""
    name, _, choice = row["flag"].partition("=")
    value = choice or _sample_value(name, row["type"])

    def written(version: str) -> bool:
        target = target_version(version)
        if choice:
            try:
                return bool(flag_args(name, value, target))
            except ValueError:
                return False
        profile = make_profile(
            model={"id": "org/model"},
            engine={"vllm_version": version},
            outputs={"vllm_args": {name: value}},
        )
        option = "--" + name.replace("_", "-")
        return any(w.split("=")[0] == option for w in serve_argv(profile, make_plan()))

    assert row["added"] or row["removed"]
    if row["removed"]:
        assert written(_minor_before(row["removed"]))
        assert not written(row["removed"])
    if row["added"]:
        assert written(row["added"])
        assert not written(_minor_before(row["added"]))
