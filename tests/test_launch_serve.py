"""The `vllm serve` argv: values, target-version filtering, and vLLM's verdicts."""

from __future__ import annotations

import json

import pytest

from tests.test_launch_fixtures import (
    ACCEPTED_EXAMPLES,
    REJECTED_EXAMPLES,
    VERDICTS,
    bool_flag_forms,
    choice_forms,
    load_verdicts,
    make_plan,
    make_profile,
    scenarios,
    tsv_flags,
)
from wizard_tui.launch import launch_warnings, serve_argv
from wizard_tui.launch.flags import FlagError, flag_args, target_version


def test_single_gpu_argv_is_exactly_the_plan() -> None:
    profile, plan = scenarios()["single_gpu"]
    # max_num_seqs: the plan's 12 (KV 400,000 tokens / max_model_len 32,768 =
    # 12.2 requests at once -> floor 12, the planner's cap), written as is.
    assert serve_argv(profile, plan) == [
        "vllm",
        "serve",
        "Qwen/Qwen3-8B",
        "--dtype",
        "bfloat16",
        "--kv-cache-dtype",
        "fp8",
        "--max-model-len",
        "32768",
        "--tensor-parallel-size",
        "1",
        "--gpu-memory-utilization",
        "0.9",
        "--max-num-seqs",
        "12",
        "--max-num-batched-tokens",
        "8192",
    ]


@pytest.mark.parametrize("name", sorted(scenarios()))
def test_oracle_accepted_every_generated_argv(name: str) -> None:
    """vLLM 0.34's own parser accepted each generated argv (recorded verdicts)."""
    profile, plan = scenarios()[name]
    argv = serve_argv(profile, plan)[1:]
    verdict = load_verdicts().get(json.dumps(argv, ensure_ascii=False))
    assert verdict is not None, "argv changed: record the oracle verdicts again"
    assert verdict["rc"] == 0, verdict["result"]


def test_oracle_kept_hostile_values_literal() -> None:
    """vLLM parsed each hostile value back to exactly the profile's text."""
    profile, plan = scenarios()["hostile"]
    args = profile.outputs.vllm_args
    verdict = load_verdicts()[
        json.dumps(serve_argv(profile, plan)[1:], ensure_ascii=False)
    ]
    parsed = verdict["result"]
    assert parsed["served_model_name"] == [args["served_model_name"]]
    assert parsed["chat_template"] == args["chat_template"]
    assert parsed["tool_parser_plugin"] == args["tool_parser_plugin"]
    assert parsed["hf_overrides"] == args["hf_overrides"]
    assert parsed["revision"] == "-main"
    # CompilationConfig is printed by repr(); the path keeps its newlines.
    path = args["compilation_config"]["debug_dump_path"]
    assert f"'debug_dump_path': PosixPath({path!r})" in parsed["compilation_config"]


def test_oracle_parsed_values_match_the_plan() -> None:
    profile, plan = scenarios()["multi_gpu"]
    argv = serve_argv(profile, plan)[1:]
    parsed = load_verdicts()[json.dumps(argv)]["result"]
    assert parsed["tensor_parallel_size"] == 4
    assert parsed["pipeline_parallel_size"] == 2
    assert parsed["enable_prefix_caching"] is True
    assert parsed["enable_chunked_prefill"] is False
    assert parsed["served_model_name"] == ["llama-70b", "default"]
    assert parsed["enable_log_requests"] is False  # from disable_log_requests: true
    assert parsed["trust_remote_code"] is False
    assert "'cudagraph_capture_sizes': [1, 2, 4]" in parsed["compilation_config"]


@pytest.mark.parametrize("argv", REJECTED_EXAMPLES, ids=lambda a: a[2])
def test_oracle_refuses_what_we_leave_out(argv: list[str]) -> None:
    assert load_verdicts()[json.dumps(argv)]["rc"] == 1


@pytest.mark.parametrize("name", sorted(scenarios()))
def test_every_flag_and_choice_is_in_the_tsv(name: str) -> None:
    profile, plan = scenarios()[name]
    argv = serve_argv(profile, plan)
    table = tsv_flags()
    for i, word in enumerate(argv[3:], start=3):
        if not word.startswith("--"):
            continue
        option, _, inline = word.partition("=")
        assert option in table, f"{option} is not a vllm serve flag of 0.34"
        choices = [c for c in table[option]["choices"].split("|") if c]
        if choices and "<" not in table[option]["choices"]:
            value = inline or argv[i + 1]
            assert value in choices, f"{option} {value!r} not in {choices}"


def test_prequantized_checkpoint_gets_no_quantization_flag() -> None:
    profile, plan = scenarios()["prequantized_same"]
    assert not any(w.startswith("--quantization") for w in serve_argv(profile, plan))
    # quantization left null: vLLM detects the checkpoint's method itself.
    profile = make_profile(model={"id": "Qwen/Qwen3-8B-AWQ"})
    assert "--quantization" not in serve_argv(profile, plan)


def test_marlin_override_of_awq_checkpoint_is_kept() -> None:
    profile, plan = scenarios()["prequantized_marlin"]
    argv = serve_argv(profile, plan)
    assert argv[argv.index("--quantization") + 1] == "awq_marlin"


def test_mismatched_quantization_is_left_out_with_a_warning() -> None:
    profile = make_profile(model={"id": "Qwen/Qwen3-8B-FP8", "quantization": "awq"})
    plan = make_plan(checkpoint_quantization="fp8")
    assert "--quantization" not in serve_argv(profile, plan)
    assert any("fp8-quantized" in w for w in launch_warnings(profile, plan))


def test_online_quantization_of_a_plain_checkpoint_is_written() -> None:
    profile, plan = scenarios()["online_fp8"]
    argv = serve_argv(profile, plan)
    assert argv[argv.index("--quantization") + 1] == "fp8"


def test_removed_flags_are_left_out_for_newer_targets() -> None:
    vllm_args = {
        "swap_space": 4,
        "use_v2_block_manager": True,
        "max_seq_len_to_capture": 8192,
        "enable_reasoning": True,
        "task": "embed",
        "not_a_flag": 1,
        "reasoning_parser": "qwen3",
    }
    profile = make_profile(outputs={"vllm_args": vllm_args})
    argv = serve_argv(profile, make_plan())
    for gone in (
        "--swap-space",
        "--use-v2-block-manager",
        "--max-seq-len-to-capture",
        "--enable-reasoning",
        "--task",
        "--not-a-flag",
    ):
        assert gone not in argv
    assert argv[argv.index("--reasoning-parser") + 1] == "qwen3"
    warnings = launch_warnings(profile, make_plan())
    assert any("swap_space" in w and "removed in vLLM 0.18" in w for w in warnings)
    assert any("not_a_flag" in w and "not a `vllm serve` flag" in w for w in warnings)
    assert len([w for w in warnings if "vllm_args" in w]) == 6


def test_flags_are_kept_for_targets_that_still_have_them() -> None:
    # swap_space left EngineArgs in 0.18.0 (unsloth-zoo#1210: in 0.15.0-0.17.1).
    profile = make_profile(
        engine={"vllm_version": "0.17.1"}, outputs={"vllm_args": {"swap_space": 4}}
    )
    argv = serve_argv(profile, make_plan(engine_version="0.17.1"))
    assert argv[argv.index("--swap-space") + 1] == "4"
    profile = make_profile(
        engine={"vllm_version": "0.18"}, outputs={"vllm_args": {"swap_space": 4}}
    )
    assert "--swap-space" not in serve_argv(profile, make_plan())


def test_flags_added_later_are_left_out_for_old_targets() -> None:
    # --enable-log-requests arrived with vLLM PR 21739 (0.10.2).
    profile = make_profile(
        engine={"vllm_version": "0.8.5"},
        outputs={"vllm_args": {"enable_log_requests": True, "task": "generate"}},
    )
    argv = serve_argv(profile, make_plan())
    assert "--enable-log-requests" not in argv
    assert argv[argv.index("--task") + 1] == "generate"  # removed only in 0.13


def test_disable_log_requests_between_its_removal_and_return() -> None:
    # Removed for 0.12 (PR 29402); 0.34's table lists it again as the negative
    # of --enable-log-requests.
    args = {"disable_log_requests": True}
    old = make_profile(engine={"vllm_version": "0.12"}, outputs={"vllm_args": args})
    assert "--disable-log-requests" not in serve_argv(old, make_plan())
    new = make_profile(outputs={"vllm_args": args})
    assert "--disable-log-requests" in serve_argv(new, make_plan())


def test_bitsandbytes_is_refused_on_034_only() -> None:
    profile = make_profile(model={"id": "org/model", "quantization": "bitsandbytes"})
    assert "--quantization" not in serve_argv(profile, make_plan())
    old = make_profile(
        model={"id": "org/model", "quantization": "bitsandbytes"},
        engine={"vllm_version": "0.10.1"},
    )
    argv = serve_argv(old, make_plan())
    assert argv[argv.index("--quantization") + 1] == "bitsandbytes"


def test_engine_knobs_are_exactly_the_plans() -> None:
    # The planner alone decides max_num_seqs (capped at what fits when
    # vllm_args leaves it unset): the launch writes plan.max_num_seqs as is,
    # with no second rule (3 here: 400,000 / 131,072 = 3.05 at once).
    profile, plan = scenarios()["long_context"]
    argv = serve_argv(profile, plan)
    assert argv[argv.index("--max-num-seqs") + 1] == "3"
    assert argv[argv.index("--max-num-batched-tokens") + 1] == "8192"
    # A plan made with a larger value (the profile's own) gets that value.
    argv = serve_argv(profile, make_plan(max_num_seqs=64))
    assert argv[argv.index("--max-num-seqs") + 1] == "64"
    # A vllm_args value the plan was not made with is left out, with a warning.
    stale = make_profile(
        model={"id": "Qwen/Qwen3-8B"},
        outputs={"vllm_args": {"max_num_seqs": 64}},
    )
    argv = serve_argv(stale, plan)
    assert argv[argv.index("--max-num-seqs") + 1] == "3"
    assert any(
        "max_num_seqs = 64 left out: the plan's max_num_seqs (3)" in w
        for w in launch_warnings(stale, plan)
    )


def test_no_plan_figure_writes_the_profiles_own_or_nothing() -> None:
    # A plan that gives no engine values (0) leaves them to vLLM's defaults.
    profile = make_profile(model={"id": "Qwen/Qwen3-8B"})
    plan = make_plan(max_concurrency=1171.9, max_num_seqs=0, max_num_batched_tokens=0)
    argv = serve_argv(profile, plan)
    assert "--max-num-seqs" not in argv
    assert "--max-num-batched-tokens" not in argv
    # Without a plan, vllm_args' values as given.
    own = make_profile(
        model={"id": "Qwen/Qwen3-8B"},
        outputs={"vllm_args": {"max_num_seqs": 8, "max_num_batched_tokens": "16k"}},
    )
    argv = serve_argv(own, None)
    assert argv[argv.index("--max-num-seqs") + 1] == "8"
    assert argv[argv.index("--max-num-batched-tokens") + 1] == "16k"


def test_engine_knobs_from_vllm_args_reach_the_plan_and_the_argv() -> None:
    # vllm_args' 8 and "16k" (16,000: lowercase k is decimal in vLLM's
    # human_readable_int) are what the planner plans with; the launch writes
    # the plan's figures, and no warning since they agree.
    profile = make_profile(
        model={"id": "Qwen/Qwen3-8B"},
        outputs={"vllm_args": {"max_num_seqs": 8, "max_num_batched_tokens": "16k"}},
    )
    plan = make_plan(max_num_seqs=8, max_num_batched_tokens=16_000)
    argv = serve_argv(profile, plan)
    assert argv[argv.index("--max-num-seqs") + 1] == "8"
    assert argv[argv.index("--max-num-batched-tokens") + 1] == "16000"
    assert not any("max_num" in w for w in launch_warnings(profile, plan))


def test_vllm_args_cannot_override_profile_fields() -> None:
    # tensor_parallel_size and model have profile fields of their own; the
    # profile refuses them in vllm_args, so the plan and the launch files can
    # never disagree about them.
    with pytest.raises(ValueError, match="hardware.tp_size"):
        make_profile(
            model={"id": "Qwen/Qwen3-8B"},
            hardware={"gpu_name": "H100 SXM", "gpus": 2},
            outputs={"vllm_args": {"tensor_parallel_size": 1}},
        )
    with pytest.raises(ValueError, match="model.id"):
        make_profile(
            model={"id": "Qwen/Qwen3-8B"},
            outputs={"vllm_args": {"model": "other/model"}},
        )


def test_secrets_are_never_written() -> None:
    profile = make_profile(
        model={"id": "Qwen/Qwen3-8B"},
        outputs={"vllm_args": {"hf_token": "hf_secret", "api_key": "sk-secret"}},
    )
    argv = serve_argv(profile, make_plan())
    assert not any("secret" in w for w in argv)
    assert len(launch_warnings(profile, make_plan())) == 2


def test_pipeline_size_written_only_above_one() -> None:
    profile, plan = scenarios()["single_gpu"]
    assert "--pipeline-parallel-size" not in serve_argv(profile, plan)


def test_multi_node_uses_ray_backend() -> None:
    profile, plan = scenarios()["multi_node"]
    argv = serve_argv(profile, plan)
    assert argv[argv.index("--distributed-executor-backend") + 1] == "ray"


def test_no_plan_uses_profile_values() -> None:
    profile = make_profile(
        model={"id": "Qwen/Qwen3-8B", "max_model_len": 4096},
        hardware={"gpu_name": "H100 SXM", "gpus": 2, "tp_size": 2},
    )
    assert serve_argv(profile, None) == [
        "vllm",
        "serve",
        "Qwen/Qwen3-8B",
        "--max-model-len",
        "4096",
        "--tensor-parallel-size",
        "2",
    ]


@pytest.mark.parametrize(
    "model_id",
    [
        "not a repo",
        "$(touch pwned)",
        "org/name/extra",
        "-rf",
        "org/na--me",
        "/no/such/dir",
    ],
)
def test_bad_model_id_is_a_value_error_naming_the_field(model_id: str) -> None:
    profile = make_profile(model={"id": model_id})
    with pytest.raises(ValueError, match="model.id"):
        serve_argv(profile, make_plan())


def test_existing_path_with_leading_dash_stays_a_path(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-model").mkdir()
    argv = serve_argv(make_profile(model={"id": "-model"}), make_plan())
    assert argv[2] == "./-model"


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("enforce_eager", True, ["--enforce-eager"]),
        ("enforce_eager", False, ["--no-enforce-eager"]),
        ("enable_prefix_caching", False, ["--disable-prefix-caching"]),
        ("disable_log_stats", False, []),  # a plain flag: False is its default
        ("served_model_name", "a", ["--served-model-name", "a"]),
        ("served_model_name", ["a", "b"], ["--served-model-name", "a", "b"]),
        ("middleware", ["m.a", "m.b"], ["--middleware", "m.a", "--middleware", "m.b"]),
        ("device_ids", [0, 1], ["--device-ids", "0,1"]),
        ("limit_mm_per_prompt", {"image": 2}, ["--limit-mm-per-prompt", '{"image":2}']),
        ("hf_overrides", {"x": "ü"}, ["--hf-overrides", '{"x":"ü"}']),
        ("max_model_len", "32k", ["--max-model-len", "32k"]),
        ("hf_token", True, ["--hf-token"]),
        ("block_size", None, []),
    ],
)
def test_vllm_args_conventions(name: str, value: object, words: list[str]) -> None:
    assert flag_args(name, value, target_version(None)) == words


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("block_size", "sixteen"),
        ("block_size", True),
        ("enforce_eager", "yes"),
        ("kv_cache_dtype", "fp8_e4m3fn"),
        ("dtype", "bf16"),
        ("gpu_memory_utilization", "0.9"),
        ("hf_token", "hf_abc"),
        ("served_model_name", ["-a", "b"]),
    ],
)
def test_vllm_args_values_vllm_would_refuse(name: str, value: object) -> None:
    with pytest.raises(FlagError):
        flag_args(name, value, target_version(None))


def test_batched_tokens_cover_max_model_len_when_chunking_is_off() -> None:
    # vLLM refuses max_num_batched_tokens < max_model_len without chunked
    # prefill (vllm/config/scheduler.py). The planner decides: left unset, it
    # plans with max(max_model_len 32,768, the default 8,192) = 32,768, and
    # the launch writes that; set to 4,096, the plan says vLLM will not start.
    from tests.test_planner_archs import qwen3_8b, request
    from wizard_tui.planner import run_plan

    off = {"enable_chunked_prefill": False}
    req = request(qwen3_8b(), max_model_len=32768, version="0.34", args=off)
    plan = run_plan(req)
    assert plan.max_num_batched_tokens == 32768
    argv = serve_argv(req.profile, plan)
    assert argv[argv.index("--max-num-batched-tokens") + 1] == "32768"
    short = request(qwen3_8b(), max_model_len=32768, version="0.34",
                    args={**off, "max_num_batched_tokens": 4096})  # fmt: skip
    refused = run_plan(short)
    assert not refused.vllm_starts
    assert any("max_num_batched_tokens (4096) is smaller than max_model_len "
               "(32768)" in b for b in refused.blockers)  # fmt: skip


def test_false_bools_for_old_targets_only_where_needed() -> None:
    old = target_version("0.8.5")
    # trust_remote_code defaults to False: nothing to say on an old release.
    assert flag_args("trust_remote_code", False, old) == []
    # enable_prefix_caching defaults to None (on in V1): argparse's own negative,
    # which 0.34 accepts too (recorded verdict).
    assert flag_args("enable_prefix_caching", False, old) == [
        "--no-enable-prefix-caching"
    ]
    verdict = load_verdicts()[json.dumps(ACCEPTED_EXAMPLES[0])]
    assert verdict["rc"] == 0 and verdict["result"]["enable_prefix_caching"] is False
    assert flag_args("trust_remote_code", False, target_version(None)) == [
        "--no-trust-remote-code"
    ]


def test_every_bool_flag_form_means_what_we_meant() -> None:
    """True/False of each 0.34 bool flag, as written, parsed by vLLM to that value."""
    doc = json.loads(VERDICTS.read_text("utf-8"))
    recorded = {(f["flag"], f["value"]): f for f in doc["bool_flag_forms"]}
    forms = bool_flag_forms()
    assert len(forms) > 150
    for name, value, words in forms:
        entry = recorded[(name, value)]
        assert entry["argv"][2:] == words, "forms changed: record the verdicts again"
        assert entry["rc"] == 0, entry["parsed"]
        assert entry["parsed"] is value, (name, value, words)


def test_every_listed_choice_is_accepted_by_vllm() -> None:
    """Each choice vllm_serve_flags.tsv lists, as the launch code writes it."""
    doc = json.loads(VERDICTS.read_text("utf-8"))
    recorded = {(f["flag"], f["value"]): f for f in doc["choice_forms"]}
    forms = choice_forms()
    assert len(forms) > 400
    for name, choice, words in forms:
        entry = recorded[(name, choice)]
        assert entry["argv"][2:] == words, "forms changed: record the verdicts again"
        assert entry["rc"] == 0, (name, choice)
