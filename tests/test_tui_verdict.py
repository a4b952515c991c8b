"""The fit panel's words and bar, from hand-made plans (no app running).

Each expected string is worked out from the plan's own figures in a comment.
"""

from __future__ import annotations

from tests.test_tui_fixtures import fixed_plan
from wizard_tui.schemas.plan import WhatIf
from wizard_tui.schemas.profile import Profile
from wizard_tui.tui import verdict

PROFILE = Profile.model_validate(
    {
        "model": {"id": "meta-llama/Llama-3.1-8B-Instruct", "max_model_len": 8192},
        "workload": {"prompt_tokens": 1024, "gen_tokens": 512, "concurrency": 16},
    }
)


def test_fits_verdict_in_words() -> None:
    plan = fixed_plan(True)
    # max_concurrency 6.5 -> 6 whole sequences of max_model_len 8192 = 8k;
    # kv_cache_gib 3.25 -> "3.2" (round half to even) GiB.
    assert verdict.verdict(plan, PROFILE) == (
        "fits: 6 sequences of 8k, 3.2 GiB KV per GPU"
    )


def test_does_not_start_says_shortfall() -> None:
    plan = fixed_plan(False)
    # One full request needs 65,536 B x 8192 tokens = 0.5 GiB of KV; there is
    # -1.5 GiB: short by 0.5 - (-1.5) = 2.0 GiB.
    assert verdict.shortfall_gib(plan, PROFILE) == 2.0
    assert verdict.verdict(plan, PROFILE) == ("does not fit: short by 2.0 GiB per GPU")


def test_workload_shortfall_when_vllm_starts() -> None:
    plan = fixed_plan(True).model_copy(update={"fits": False})
    plan.workload.concurrency_fit = 34
    profile = PROFILE.model_copy(
        update={"workload": PROFILE.workload.model_copy(update={"concurrency": 64})}
    )
    # 64 x (1024 + 512) x 65,536 B = 6.0 GiB needed, 3.25 GiB there: 2.75 short.
    assert verdict.shortfall_gib(plan, profile) == 2.75
    assert verdict.verdict(plan, profile) == (
        "does not fit: 34 of 64 requests at once, short by 2.8 GiB per GPU"
    )


def test_memory_bar_fills_width_with_letters() -> None:
    plan = fixed_plan(True)
    bar = verdict.memory_bar(plan, 40).plain
    assert len(bar) == 40
    # Weights 14.96 of 22.05 GiB: 27.1 of 40 cells; the letters come in
    # vLLM's order and each non-zero part shows.
    assert bar.startswith("W" * 27)
    assert [c for i, c in enumerate(bar) if i == 0 or bar[i - 1] != c] == list("WANGK.")


def test_memory_bar_tiny_width_is_exact() -> None:
    for width in (6, 7, 10, 13):
        assert len(verdict.memory_bar(fixed_plan(False), width).plain) == width


def test_legend_names_every_part() -> None:
    lines = verdict.legend(fixed_plan(True), 36)
    joined = "  ".join(lines)
    for part in ("W weights 15.0", "A act 0.5", "G graphs 0.9", "K KV 3.2"):
        assert part in joined
    assert all(len(line) <= 36 for line in lines)


def test_tokens_short() -> None:
    assert verdict.tokens_short(8192) == "8k"
    assert verdict.tokens_short(131072) == "128k"
    assert verdict.tokens_short(1536) == "1.5k"
    assert verdict.tokens_short(1000) == "1,000"


def test_short_hint_condenses_planner_effect() -> None:
    effect = (
        "KV cache 53,248 -> 293,632 tokens (+451%), max concurrency 6.50x -> "
        "35.84x; starts"
    )
    assert verdict.short_hint("gpus: 2 with tp_size 2", effect) == (
        "gpus: 2 with tp_size 2: KV +451%, 35.84x max concurrency, starts"
    )
    assert verdict.short_hint("fp8 KV", "2.0x tokens") == "fp8 KV: 2.0x tokens"


def test_panel_text_order_and_stale() -> None:
    plan = fixed_plan(True)
    plan.what_if.append(WhatIf(change="third", effect="x"))
    plan.what_if.append(WhatIf(change="fourth", effect="y"))
    text = verdict.panel_text(plan, PROFILE, width=38, stale="GPUs is invalid").plain
    lines = text.splitlines()
    assert lines[0].startswith("fits: ")
    assert lines[1] == "stale: GPUs is invalid"
    assert "KV 53,248 tokens, 6.5x 8k" in lines
    assert "max_model_len that fits: 53,184" in lines
    # Three what-if hints at most.
    assert "> third: x" in lines and "> fourth: y" not in lines


def test_workload_line() -> None:
    plan = fixed_plan(True)
    assert verdict.workload_line(plan, PROFILE) == (
        "workload: all 16 requests of 1.5k fit (room for 34)"
    )


def test_shortfall_when_weights_exceed_the_budget() -> None:
    plan = fixed_plan(False)
    plan.per_gpu.weights_gib = 61.02
    plan.per_gpu.kv_cache_gib = 0.0  # a planner may floor KV at zero
    # Left for KV: 19.85 - (61.02 + 0.5 + 0.2 + 0.94) = -42.81 GiB; one
    # request of 8192 tokens needs 8192 x 65,536 B = 0.5 GiB: short by 43.31.
    assert round(verdict.shortfall_gib(plan, PROFILE), 2) == 43.31
    assert verdict.verdict(plan, PROFILE) == "does not fit: short by 43.3 GiB per GPU"


def test_other_memory_has_its_own_letter() -> None:
    # A 0.34 plan keeps a margin inside the budget (other_gib): it is not
    # non-torch memory, and the legend must not add it there.
    plan = fixed_plan(True)
    per_gpu = plan.per_gpu.model_copy(update={"non_torch_gib": 0.25, "other_gib": 1.98})
    plan = plan.model_copy(update={"per_gpu": per_gpu})
    joined = "  ".join(verdict.legend(plan, 36))
    assert "N non-torch 0.2" in joined and "O other 2.0" in joined
    assert "O" in verdict.memory_bar(plan, 40).plain


def test_idle_gpus_are_said() -> None:
    from wizard_tui.schemas.profile import Profile

    # One L4 planned (TP 1), three given: 3 - 1 x 1 x DP 1 = 2 idle.
    profile = Profile.model_validate(
        {"model": {"id": "meta-llama/Llama-3.1-8B-Instruct"},
         "hardware": {"gpu_name": "L4", "gpus": 3}}
    )  # fmt: skip
    text = verdict.panel_text(fixed_plan(True), profile, width=38).plain
    assert "2 of 3 GPUs idle" in text


def test_short_forms_cut_on_words_and_round_alike() -> None:
    text = "gpu_memory_utilization 0.90 withholds 2.20 GiB that 0.34 would use"
    short = verdict.short_warning(text, 36)
    # The flag name gives way to what the warning says.
    assert short == "util 0.90 withholds 2.20 GiB that..." and len(short) <= 36
    # 65,535 / 1024 = 63.999 -> "64k", like 65,536.
    assert verdict.tokens_short(65_535) == verdict.tokens_short(65_536) == "64k"
