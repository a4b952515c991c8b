"""Model and GPU facts for the planner tests, built from config.json numbers.

Each builder repeats the config.json fields it uses (the file is in
tests/data/hf_configs or named in tests/data/vllm_kv_logs.yaml's
model_config_key); weight bytes are parameters x bytes per parameter, with the
parameter counts of model_facts.yaml. The tests below check the KV bytes per
token these facts imply against the field cases' and logs' own arithmetic.
"""

from __future__ import annotations

from typing import Any

from wizard_tui.schemas import GpuSpec, ModelArch, PlanRequest, Profile, QuantInfo

GIB = 1 << 30


def llama_31_8b() -> ModelArch:
    # config.json: 32 layers, hidden 4096, intermediate 14336, vocab 128256,
    # 32 heads, 8 KV heads, head_dim 128, max_position_embeddings 131072;
    # 8,030,261,248 params x 2 B (bf16).
    return ModelArch(
        model_id="meta-llama/Llama-3.1-8B-Instruct", source="test", model_type="llama",
        num_layers=32, hidden_size=4096, intermediate_size=14336, vocab_size=128256,
        num_attention_heads=32, num_kv_heads=8, head_dim=128, max_model_len=131072,
        total_params=8_030_261_248, active_params=7_504_924_672,
        weight_bytes=16_060_522_496,
    )  # fmt: skip


def llama_2_7b() -> ModelArch:
    # MHA: 32 layers, 32 heads = 32 KV heads, head_dim 128, intermediate 11008,
    # vocab 32000, max 4096, fp16; 6,738,415,616 params x 2 B.
    return ModelArch(
        model_id="meta-llama/Llama-2-7b-hf", source="test", model_type="llama",
        num_layers=32, hidden_size=4096, intermediate_size=11008, vocab_size=32000,
        num_attention_heads=32, num_kv_heads=32, head_dim=128, max_model_len=4096,
        checkpoint_dtype="float16", total_params=6_738_415_616,
        active_params=6_607_343_616, weight_bytes=13_476_831_232,
    )  # fmt: skip


def llama_31_405b() -> ModelArch:
    # 126 layers, hidden 16384, 128 heads, 8 KV heads, head_dim 128.
    return ModelArch(
        model_id="meta-llama/Meta-Llama-3.1-405B", source="test", model_type="llama",
        num_layers=126, hidden_size=16384, intermediate_size=53248,
        vocab_size=128256, num_attention_heads=128, num_kv_heads=8, head_dim=128,
        max_model_len=131072, total_params=405_853_388_800,
        active_params=403_752_042_496, weight_bytes=811_706_777_600,
    )  # fmt: skip


def qwen25_7b() -> ModelArch:
    # 28 layers, hidden 3584, intermediate 18944, vocab 152064, 28 heads,
    # 4 KV heads, head_dim 128, max 32768; 7,615,616,512 params x 2 B.
    return ModelArch(
        model_id="Qwen/Qwen2.5-7B-Instruct", source="test", model_type="qwen2",
        num_layers=28, hidden_size=3584, intermediate_size=18944, vocab_size=152064,
        num_attention_heads=28, num_kv_heads=4, head_dim=128, max_model_len=32768,
        total_params=7_615_616_512, active_params=7_070_619_136,
        weight_bytes=15_231_233_024,
    )  # fmt: skip


def qwen3_8b() -> ModelArch:
    # 36 layers, hidden 4096, intermediate 12288, vocab 151936, 32 heads,
    # 8 KV heads, head_dim 128, max 40960; 8,190,726,144 params x 2 B.
    return ModelArch(
        model_id="Qwen/Qwen3-8B", source="test", model_type="qwen3",
        num_layers=36, hidden_size=4096, intermediate_size=12288, vocab_size=151936,
        num_attention_heads=32, num_kv_heads=8, head_dim=128, max_model_len=40960,
        total_params=8_190_726_144, active_params=7_568_396_288,
        weight_bytes=16_381_452_288,
    )  # fmt: skip


def qwen3_0_6b() -> ModelArch:
    # 28 layers, hidden 1024 (1024/16 heads = 64) but head_dim 128, 8 KV heads.
    return ModelArch(
        model_id="Qwen/Qwen3-0.6B", source="test", model_type="qwen3",
        num_layers=28, hidden_size=1024, intermediate_size=3072, vocab_size=151936,
        num_attention_heads=16, num_kv_heads=8, head_dim=128, max_model_len=40960,
        tie_word_embeddings=True, total_params=596_042_752,
        active_params=596_042_752, weight_bytes=1_192_085_504,
    )  # fmt: skip


def qwen3_14b_awq() -> ModelArch:
    # Qwen3-14B: 40 layers, hidden 5120, intermediate 17408, 40 heads, 8 KV
    # heads, head_dim 128, vocab 151936, max 40960; AWQ 4-bit, group 128.
    return ModelArch(
        model_id="Qwen/Qwen3-14B-AWQ", source="test", model_type="qwen3",
        num_layers=40, hidden_size=5120, intermediate_size=17408, vocab_size=151936,
        num_attention_heads=40, num_kv_heads=8, head_dim=128, max_model_len=40960,
        checkpoint_dtype="float16",
        quant=QuantInfo(method="awq", bits=4, group_size=128, zero_point=True),
        total_params=14_768_296_960, active_params=13_990_384_640,
        weight_bytes=9_976_555_520,
    )  # fmt: skip


def mixtral_8x7b() -> ModelArch:
    # 32 layers, hidden 4096, 8 experts of 14336, top-2, 8 KV heads, vocab 32000.
    return ModelArch(
        model_id="mistralai/Mixtral-8x7B-Instruct-v0.1", source="test",
        model_type="mixtral", family="moe", num_layers=32, hidden_size=4096,
        intermediate_size=14336, vocab_size=32000, num_attention_heads=32,
        num_kv_heads=8, head_dim=128, max_model_len=32768, num_experts=8,
        num_experts_per_tok=2, moe_intermediate_size=14336,
        total_params=46_702_792_704, active_params=12_748_853_248,
        weight_bytes=93_405_585_408,
    )  # fmt: skip


def deepseek_v2_lite() -> ModelArch:
    # MLA: 27 layers, kv_lora_rank 512, qk_rope_head_dim 64, 16 heads; 64
    # experts of 1408, top-6, 2 shared, first_k_dense_replace 1; vocab 102400.
    return ModelArch(
        model_id="deepseek-ai/DeepSeek-V2-Lite-Chat", source="test",
        model_type="deepseek_v2", family="mla-moe", num_layers=27, hidden_size=2048,
        intermediate_size=10944, vocab_size=102400, num_attention_heads=16,
        num_kv_heads=1, head_dim=576, max_model_len=163840, kv_lora_rank=512,
        qk_rope_head_dim=64, num_experts=64, num_experts_per_tok=6,
        moe_intermediate_size=1408, num_shared_experts=2, first_k_dense=1,
        total_params=15_706_484_224, active_params=2_451_435_008,
        weight_bytes=31_412_968_448,
    )  # fmt: skip


def gpt_oss(layers: int = 24, experts: int = 32) -> ModelArch:
    # gpt-oss-20b (24 layers, 32 experts) / -120b (36 layers, 128 experts):
    # layer_types alternate sliding_attention (window 128) / full_attention,
    # 8 KV heads, head_dim 64, 64 heads, hidden 2880, vocab 201088, MXFP4.
    big = layers == 36
    return ModelArch(
        model_id="openai/gpt-oss-120b" if big else "openai/gpt-oss-20b",
        source="test", model_type="gpt_oss", family="swa-moe", num_layers=layers,
        hidden_size=2880, intermediate_size=2880, vocab_size=201088,
        num_attention_heads=64, num_kv_heads=8, head_dim=64, max_model_len=131072,
        layer_kinds=("sliding", "full") * (layers // 2), sliding_window=128,
        num_experts=experts, num_experts_per_tok=4, moe_intermediate_size=2880,
        quant=QuantInfo(method="mxfp4", bits=4, group_size=32),
        total_params=116_789_232_960 if big else 20_908_050_240,
        active_params=5_131_494_720 if big else 3_607_406_400,
        weight_bytes=65_168_968_320 if big else 13_747_850_880,
    )  # fmt: skip


def gemma3_12b() -> ModelArch:
    # 48 layers, sliding_window 1024 with every 6th layer global (40 sliding +
    # 8 full), 8 KV heads, head_dim 256, hidden 3840, vocab 262208, tied.
    kinds = tuple("full" if (i + 1) % 6 == 0 else "sliding" for i in range(48))
    return ModelArch(
        model_id="google/gemma-3-12b-it", source="test", model_type="gemma3_text",
        family="swa", num_layers=48, hidden_size=3840, intermediate_size=15360,
        vocab_size=262208, num_attention_heads=16, num_kv_heads=8, head_dim=256,
        max_model_len=131072, layer_kinds=kinds, sliding_window=1024,
        tie_word_embeddings=True, total_params=11_765_640_960,
        active_params=11_765_640_960, weight_bytes=23_531_281_920,
    )  # fmt: skip


def qwen35_27b() -> ModelArch:
    # Hybrid: 64 layers, full_attention_interval 4 (16 full + 48 gated-delta
    # linear layers), 4 KV heads of 256; state per linear layer 3,207,168 B
    # (conv 3 x 10240 x 2 B + 48 heads x 128 x 128 x 4 B... from the catalog).
    kinds = tuple("full" if (i + 1) % 4 == 0 else "linear" for i in range(64))
    return ModelArch(
        model_id="Qwen/Qwen3.5-27B", source="test", model_type="qwen3_5_text",
        family="hybrid", num_layers=64, hidden_size=5120, intermediate_size=17408,
        vocab_size=248320, num_attention_heads=24, num_kv_heads=4, head_dim=256,
        max_model_len=262144, layer_kinds=kinds, state_elems_per_layer=817152,
        state_dtype_bytes=4, state_bytes_per_layer=3_207_168,
        total_params=26_895_990_272, active_params=25_624_591_872,
        weight_bytes=53_791_980_544,
    )  # fmt: skip


def gpu(
    name: str = "H100 SXM",
    total: float = 79.19,
    *,
    fp8: bool = True,
    cc: str = "9.0",
    link: str = "nvlink",
    bandwidth: float = 3350.0,
    tflops: float = 989.0,
) -> GpuSpec:
    """A GPU with the CUDA total a vLLM log printed (79.19 GiB for H100 80GB in
    logs c47-c81; 23.58 GiB for RTX 3090 in c01)."""
    return GpuSpec(
        name=name, cuda_total_gib=total, fp8=fp8, compute_capability=cc,
        interconnect=link, bandwidth_gbs=bandwidth, bf16_tflops=tflops,
        fp8_tflops=tflops * 2 if fp8 else None,
    )  # fmt: skip


H100 = gpu()
RTX3090 = gpu("RTX 3090", 23.58, fp8=False, cc="8.6", link="pcie", bandwidth=936,
              tflops=71)  # fmt: skip
RTX4090 = gpu("RTX 4090", 23.52, fp8=True, cc="8.9", link="pcie", bandwidth=1008,
              tflops=165)  # fmt: skip
A100_80 = gpu("A100 80GB SXM", 79.25, fp8=False, cc="8.0", bandwidth=2039,
              tflops=312)  # fmt: skip


def request(
    arch: ModelArch,
    device: GpuSpec = H100,
    *,
    version: str | None = "0.19.0",
    tp: int | None = 1,
    gpus: int | None = None,
    util: float | None = None,
    max_model_len: int | None = None,
    kv_dtype: str = "auto",
    quantization: str | None = None,
    args: dict[str, Any] | None = None,
    workload: dict[str, Any] | None = None,
    policy: dict[str, Any] | None = None,
    fitted_seqs: bool = False,
) -> PlanRequest:
    """A PlanRequest for `arch` on `device` with the given settings.

    The vLLM logs these tests replicate come from a plain `vllm serve`, which
    keeps vLLM's default max_num_seqs; the planner (for the launch files)
    caps an unset one at what fits. So, in balanced mode, max_num_seqs is
    pinned to vLLM's default unless `args` sets it or `fitted_seqs` asks for
    the planner's own choice."""
    args = dict(args or {})
    mode = (workload or {}).get("mode", "balanced")
    if not fitted_seqs and mode == "balanced" and "max_num_seqs" not in args:
        from wizard_tui.planner import eras

        era = eras.era_for(version)
        seqs, _ = eras.default_batch_limits(era, device.name, device.cuda_total_gib)
        args["max_num_seqs"] = seqs
    pp = int(args.get("pipeline_parallel_size", 1))
    profile = Profile.model_validate(
        {
            "model": {
                "id": arch.model_id,
                "max_model_len": max_model_len,
                "kv_cache_dtype": kv_dtype,
                "quantization": quantization,
            },
            "hardware": {
                "gpu_name": device.name,
                "gpus": gpus or (tp or 1) * pp,
                "tp_size": tp,
            },
            "workload": workload or {},
            "policy": {"gpu_memory_utilization": util, **(policy or {})},
            "engine": {"vllm_version": version},
            "outputs": {"vllm_args": args},
        }
    )
    return PlanRequest(profile=profile, model=arch, gpu=device)


def test_kv_bytes_per_token_from_configs() -> None:
    """The builders carry the geometry the field cases compute by hand."""
    from wizard_tui.planner import run_plan

    cases = [
        # Llama-3.1-8B: 32 x 8 x 128 x 2 (K,V) x 2 B = 131,072 (field case 1).
        (llama_31_8b(), 131_072),
        # Llama-2-7B MHA: 32 x 32 x 128 x 2 x 2 = 524,288 (model_facts.yaml).
        (llama_2_7b(), 524_288),
        # Qwen2.5-7B: 28 x 4 x 128 x 2 x 2 = 57,344 = 56 KiB (field case 14).
        (qwen25_7b(), 57_344),
        # Qwen3-0.6B: 28 x 8 x 128 x 2 x 2 = 114,688 = 112 KiB (field case 19).
        (qwen3_0_6b(), 114_688),
        # Llama-3.1-405B: 126 x 8 x 128 x 2 x 2 = 516,096 = 504 KiB (case 16).
        (llama_31_405b(), 516_096),
    ]
    for arch, expected in cases:
        resp = run_plan(request(arch, gpu("big", 4000.0), max_model_len=4096))
        assert resp.kv_cache.bytes_per_token == expected, arch.model_id
