"""Properties that must hold for any model and setting (hypothesis).

More memory, a higher utilisation or an FP8 KV cache never give fewer KV
tokens; a larger TP never puts more weight on one GPU; no valid request makes
the planner raise. Batch knobs are pinned where a test varies memory, since
vLLM's own defaults change with the GPU's size.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_planner_archs import GIB, gpu, request
from wizard_tui.planner import memory, run_plan
from wizard_tui.schemas import ModelArch, PlanRequest, PlanResponse, Profile

VERSIONS = ("0.6.4", "0.8.2", "0.11.0", "0.17.0", "0.19.0", "0.24.0", "0.34")
KINDS = ("full", "sliding", "chunked", "mamba", "linear", "none")


@st.composite
def archs(draw) -> ModelArch:
    kv_heads = draw(st.sampled_from([1, 2, 4, 8, 16, 32]))
    group = draw(st.sampled_from([1, 2, 4, 8]))
    heads = kv_heads * group
    head_dim = draw(st.sampled_from([64, 128, 256]))
    layers = draw(st.integers(1, 96))
    hidden = draw(st.sampled_from([512, 2048, 4096, 8192]))
    vocab = draw(st.integers(1000, 262_144))
    params = draw(st.integers(10_000_000, 500_000_000_000))
    bytes_per = draw(st.sampled_from([0.5, 1.0, 2.0]))
    mla = draw(st.booleans()) and draw(st.booleans())
    moe = draw(st.booleans())
    kinds = None
    if draw(st.booleans()):
        kinds = tuple(draw(st.lists(st.sampled_from(KINDS), min_size=layers,
                                    max_size=layers)))  # fmt: skip
    return ModelArch(
        model_id="prop/model", source="hypothesis", num_layers=layers,
        hidden_size=hidden, intermediate_size=hidden * 3, vocab_size=vocab,
        num_attention_heads=heads, num_kv_heads=kv_heads, head_dim=head_dim,
        max_model_len=draw(st.sampled_from([2048, 8192, 32768, 131072])),
        kv_lora_rank=512 if mla else None, qk_rope_head_dim=64 if mla else None,
        layer_kinds=kinds, sliding_window=draw(st.sampled_from([None, 128, 4096])),
        attention_chunk_size=draw(st.sampled_from([None, 8192])),
        state_bytes_per_layer=draw(st.sampled_from([None, 1_000_000, 3_207_168])),
        num_experts=8 if moe else None, num_experts_per_tok=2 if moe else None,
        moe_intermediate_size=hidden if moe else None,
        total_params=params, active_params=params // (4 if moe else 1),
        weight_bytes=int(params * bytes_per),
    )  # fmt: skip


PINNED = {"max_num_seqs": 256, "max_num_batched_tokens": 4096}
FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@FAST
@given(archs(), st.sampled_from(VERSIONS), st.floats(8, 200), st.floats(1, 100))
def test_more_memory_never_fewer_tokens(arch, version, total, extra) -> None:
    small = run_plan(request(arch, gpu("a", total), version=version, util=0.9,
                             max_model_len=2048, args=PINNED))  # fmt: skip
    big = run_plan(request(arch, gpu("a", total + extra), version=version,
                           util=0.9, max_model_len=2048, args=PINNED))  # fmt: skip
    assert big.kv_cache.tokens >= small.kv_cache.tokens


@FAST
@given(archs(), st.sampled_from(VERSIONS), st.floats(0.3, 0.95), st.floats(0.01, 0.3))
def test_higher_util_never_fewer_tokens(arch, version, util, step) -> None:
    high_util = min(1.0, util + step)
    low = run_plan(request(arch, gpu("a", 80.0), version=version, util=util,
                           max_model_len=2048, args=PINNED))  # fmt: skip
    high = run_plan(request(arch, gpu("a", 80.0), version=version, util=high_util,
                            max_model_len=2048, args=PINNED))  # fmt: skip
    assert high.kv_cache.tokens >= low.kv_cache.tokens


@FAST
@given(archs(), st.sampled_from(VERSIONS), st.floats(10, 200))
def test_fp8_kv_never_fewer_tokens(arch, version, total) -> None:
    auto = run_plan(request(arch, gpu("a", total), version=version,
                            max_model_len=2048, args=PINNED))  # fmt: skip
    fp8 = run_plan(request(arch, gpu("a", total), version=version,
                           max_model_len=2048, kv_dtype="fp8",
                           args=PINNED))  # fmt: skip
    assert fp8.kv_cache.tokens >= auto.kv_cache.tokens


@FAST
@given(archs(), st.sampled_from([1, 2, 4, 8, 16]), st.sampled_from([1, 2, 4]))
def test_larger_tp_never_more_weight_per_gpu(arch, tp, pp) -> None:
    from wizard_tui.planner.kv import stage_layer_counts

    pp = min(pp, arch.num_layers)
    counts = stage_layer_counts(arch.num_layers, pp)
    one = memory.stage_weight_bytes(arch, counts, tp)
    two = memory.stage_weight_bytes(arch, counts, tp * 2)
    assert max(two) <= max(one) + 1


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(
    archs(),
    st.sampled_from(VERSIONS + (None,)),
    st.floats(1, 300),
    st.integers(1, 16),
    st.one_of(st.none(), st.integers(1, 16)),
    st.one_of(st.none(), st.floats(0.05, 1.0)),
    st.one_of(st.none(), st.integers(1, 300_000)),
    st.sampled_from(["auto", "fp8", "fp8_ds_mla", "nvfp4", "int8_per_token_head"]),
    st.dictionaries(
        st.sampled_from(
            [
                "max_num_seqs",
                "max_num_batched_tokens",
                "block_size",
                "enforce_eager",
                "kv_cache_memory_bytes",
                "enable_chunked_prefill",
                "pipeline_parallel_size",
                "disable_hybrid_kv_cache_manager",
            ]
        ),
        st.one_of(
            st.integers(0, 1 << 34),
            st.booleans(),
            st.text(max_size=6),
            st.sampled_from(["8G", "512k", "1M"]),
        ),
    ),  # fmt: skip
    st.floats(0, 50),
)
def test_no_valid_request_raises(
    arch, version, total, gpus, tp, util, length, kv_dtype, args, overhead
) -> None:
    pp = args.get("pipeline_parallel_size")
    pp = pp if isinstance(pp, int) and not isinstance(pp, bool) and pp >= 1 else 1
    if tp is not None and tp * pp > gpus:
        tp = None
    if pp > gpus:
        args.pop("pipeline_parallel_size")
    try:
        profile = Profile.model_validate(
            {
                "model": {"id": "prop/model", "max_model_len": length,
                          "kv_cache_dtype": kv_dtype},
                "hardware": {"gpu_name": "x", "gpus": gpus, "tp_size": tp},
                "policy": {"gpu_memory_utilization": util, "overhead_gb": overhead},
                "engine": {"vllm_version": version},
                "outputs": {"vllm_args": args},
            }
        )  # fmt: skip
    except ValueError:
        return  # not a valid request
    req = PlanRequest(profile=profile, model=arch, gpu=gpu("x", total))
    resp = run_plan(req)
    assert not any("planner could not evaluate" in b for b in resp.blockers)
    assert resp.vllm_starts == (not resp.blockers)
    if resp.fits:
        assert resp.vllm_starts
    assert resp.kv_cache.tokens >= 0 and resp.kv_cache.blocks >= 0
    # The response is built without re-validation: it must validate as is.
    PlanResponse.model_validate_json(resp.model_dump_json())
    # Every speed figure is [low, typical, high], ascending (CONTRACT.md);
    # a plan that does not start has none (empty arrays).
    for name in ("itl_ms", "ttft_ms", "decode_tok_s_per_seq", "decode_tok_s_total",
                 "prefill_tok_s"):  # fmt: skip
        values = getattr(resp.speed, name)
        size = 3 if resp.vllm_starts else 0
        assert len(values) == size and values == sorted(values), (name, values)


def test_page_math_is_exact_for_a_round_budget() -> None:
    # 1 GiB at 128 KiB/token is exactly 8,192 tokens = 512 blocks of 16.
    from tests.test_planner_archs import llama_31_8b

    resp = run_plan(request(llama_31_8b(), gpu("a", 500.0), max_model_len=4096,
                            args={"kv_cache_memory_bytes": GIB}))  # fmt: skip
    assert (resp.kv_cache.blocks, resp.kv_cache.tokens) == (512, 8192)


@FAST
@given(
    archs(),
    st.sampled_from(VERSIONS),
    st.floats(8, 200),
    st.sampled_from([2048, 4096, 8192]),
    st.sampled_from([None, 0.6, 0.9]),
)
def test_memoised_plans_equal_fresh_ones(arch, version, total, length, util) -> None:
    # The planner memoises per model and GPU object (plan.Context.shared): a
    # plan made after others with the same objects must equal the first one,
    # and one made with fresh copies (nothing memoised).
    device = gpu("a", total)

    def plan(model, dev, max_len=length, u=util):
        return run_plan(request(model, dev, version=version, util=u,
                                max_model_len=max_len, tp=None, gpus=4,
                                args=PINNED)).model_dump()  # fmt: skip

    first = plan(arch, device)
    plan(arch, device, max_len=length // 2)
    plan(arch, device, u=0.5)
    again = plan(arch, device)
    fresh = plan(arch.model_copy(), device.model_copy())
    assert again == first
    assert fresh == first
