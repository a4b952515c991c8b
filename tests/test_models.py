"""config.json -> ModelArch, checked against the real config files in
tests/data/hf_configs (values written out by hand from each file, with the
arithmetic where vLLM derives them) and against small configs that pin one
rule of vLLM's reading each (VLLM_MEMORY.md c.8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wizard_tui.catalog.models import arch_from_config, derived_max_len, head_size

CONFIGS = Path(__file__).parent / "data" / "hf_configs"


def load(folder: str):
    config = json.loads((CONFIGS / folder / "config.json").read_text())
    quant_path = CONFIGS / folder / "hf_quant_config.json"
    quant = json.loads(quant_path.read_text()) if quant_path.is_file() else None
    model_id = folder.replace("--", "/", 1)
    return arch_from_config(
        config, model_id=model_id, source="test", quant_config=quant
    )


# (folder, layers, KV heads vLLM uses, head size, derived max length)
# Read from each config.json. Derived values:
# - MLA (DeepSeek V3/R1/V3.2, Kimi K2.x, GLM-5.x): one latent "KV head" of
#   kv_lora_rank + qk_rope_head_dim = 512 + 64 = 576, whatever head_dim says.
# - no head_dim: hidden / heads, e.g. Llama-3.1-8B 4096 / 32 = 128.
# - Nemotron-NAS 49B: num_key_value_heads is null; 64 heads / n_heads_in_group 8
#   = 8 KV heads in every attention block.
# - Nemotron-3-Ultra: no num_hidden_layers; len(layers_block_type) = 108.
# - RoPE: llama3 / yarn factors are already in max_position_embeddings.
SHARED_CONFIGS = [
    ("MiniMaxAI--MiniMax-M2.5", 62, 8, 128, 196608),
    ("MiniMaxAI--MiniMax-M2.7", 62, 8, 128, 204800),
    ("MiniMaxAI--MiniMax-M3", 60, 4, 128, 1048576),
    ("Qwen--Qwen3-0.6B", 28, 8, 128, 40960),
    ("Qwen--Qwen3-1.7B", 28, 8, 128, 40960),
    ("Qwen--Qwen3-235B-A22B", 94, 4, 128, 40960),
    ("Qwen--Qwen3-235B-A22B-FP8", 94, 4, 128, 40960),
    ("Qwen--Qwen3-30B-A3B", 48, 4, 128, 40960),
    ("Qwen--Qwen3-30B-A3B-FP8", 48, 4, 128, 40960),
    ("Qwen--Qwen3-32B", 64, 8, 128, 40960),
    ("Qwen--Qwen3-32B-FP8", 64, 8, 128, 40960),
    ("Qwen--Qwen3-32B-FP8-Static-PerTensor", 64, 8, 128, 40960),
    ("Qwen--Qwen3-8B", 36, 8, 128, 40960),
    ("Qwen--Qwen3-Coder-480B-A35B-Instruct", 62, 8, 128, 262144),
    ("Qwen--Qwen3-VL-235B-A22B-Instruct", 94, 4, 128, 262144),
    ("Qwen--Qwen3-VL-2B-Instruct", 28, 8, 128, 262144),
    ("Qwen--Qwen3-VL-30B-A3B-Instruct", 48, 4, 128, 262144),
    ("Qwen--Qwen3-VL-32B-Instruct", 64, 8, 128, 262144),
    ("Qwen--Qwen3-VL-32B-Thinking", 64, 8, 128, 262144),
    ("Qwen--Qwen3-VL-4B-Instruct", 36, 8, 128, 262144),
    ("Qwen--Qwen3-VL-8B-Instruct", 36, 8, 128, 262144),
    ("Qwen--Qwen3.5-122B-A10B", 48, 2, 256, 262144),
    ("Qwen--Qwen3.5-27B", 64, 4, 256, 262144),
    ("Qwen--Qwen3.5-35B-A3B", 40, 2, 256, 262144),
    ("Qwen--Qwen3.5-397B-A17B", 60, 2, 256, 262144),
    ("XiaomiMiMo--MiMo-7B-Base", 36, 8, 128, 32768),
    ("XiaomiMiMo--MiMo-V2-Flash", 48, 4, 192, 262144),
    ("deepseek-ai--DeepSeek-R1", 61, 1, 576, 163840),
    ("deepseek-ai--DeepSeek-V3", 61, 1, 576, 163840),
    ("deepseek-ai--DeepSeek-V3.2", 61, 1, 576, 163840),
    ("deepseek-ai--DeepSeek-V4-Flash", 43, 1, 512, 1048576),
    ("deepseek-ai--DeepSeek-V4-Pro", 61, 1, 512, 1048576),
    ("google--gemma-4-26B-A4B", 30, 8, 256, 262144),
    ("meta-llama--Llama-4-Maverick-17B-128E-Instruct", 48, 8, 128, 1048576),
    ("meta-llama--Llama-4-Scout-17B-16E-Instruct", 48, 8, 128, 10485760),
    ("meta-llama--Meta-Llama-3.1-405B", 126, 8, 128, 131072),  # 16384 / 128
    ("meta-llama--Meta-Llama-3.1-70B", 80, 8, 128, 131072),  # 8192 / 64
    ("meta-llama--Meta-Llama-3.1-8B", 32, 8, 128, 131072),  # 4096 / 32
    ("mistralai--Mixtral-8x22B-v0.1", 56, 8, 128, 65536),  # 6144 / 48
    ("mistralai--Mixtral-8x7B-v0.1", 32, 8, 128, 32768),  # 4096 / 32
    ("moonshotai--Kimi-K2-Instruct", 61, 1, 576, 131072),
    ("moonshotai--Kimi-K2.5", 61, 1, 576, 262144),
    ("moonshotai--Kimi-K3", 93, 1, 576, 1048576),
    ("nvidia--DeepSeek-V3.1-NVFP4", 61, 1, 576, 163840),
    ("nvidia--DeepSeek-V3.2-NVFP4", 61, 1, 576, 163840),
    ("nvidia--DeepSeek-V4-Flash-NVFP4", 43, 1, 512, 1048576),
    ("nvidia--DeepSeek-V4-Pro-NVFP4", 61, 1, 512, 1048576),
    ("nvidia--GLM-5-NVFP4", 78, 1, 576, 202752),
    ("nvidia--GLM-5.1-NVFP4", 78, 1, 576, 202752),
    ("nvidia--GLM-5.2-NVFP4", 78, 1, 576, 1048576),
    ("nvidia--Gemma-4-26B-A4B-NVFP4", 30, 8, 256, 262144),
    ("nvidia--Gemma-4-31B-IT-NVFP4", 60, 16, 256, 262144),
    ("nvidia--Kimi-K2.5-NVFP4", 61, 1, 576, 262144),
    ("nvidia--Kimi-K2.6-NVFP4", 61, 1, 576, 262144),
    ("nvidia--Kimi-K2.7-Code-NVFP4", 61, 1, 576, 262144),
    ("nvidia--Llama-3.1-70B-Instruct-FP8", 80, 8, 128, 131072),
    ("nvidia--Llama-3_3-Nemotron-Super-49B-v1", 80, 8, 128, 131072),
    ("nvidia--MiniMax-M2.5-NVFP4", 62, 8, 128, 196608),
    ("nvidia--MiniMax-M2.7-NVFP4", 62, 8, 128, 196608),
    ("nvidia--MiniMax-M3-NVFP4", 60, 4, 128, 1048576),
    ("nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16", 52, 2, 128, 262144),
    ("nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-NVFP4", 52, 2, 128, 262144),
    ("nvidia--NVIDIA-Nemotron-3-Super-120B-A12B-FP8", 88, 2, 128, 262144),
    ("nvidia--NVIDIA-Nemotron-3-Super-120B-A12B-NVFP4", 88, 2, 128, 262144),
    ("nvidia--NVIDIA-Nemotron-3-Ultra-550B-A55B-BF16", 108, 2, 128, 262144),
    ("nvidia--NVIDIA-Nemotron-3-Ultra-550B-A55B-FP8", 108, 2, 128, 262144),
    ("nvidia--NVIDIA-Nemotron-3-Ultra-550B-A55B-NVFP4", 108, 2, 128, 262144),
    ("nvidia--NVIDIA-Nemotron-3.5-Lightning-30B-A3B-NVFP4", 52, 2, 128, 1048576),
    ("nvidia--Nemotron-H-56B-Base-8K", 118, 8, 128, 8192),  # 8192 / 64
    ("nvidia--Qwen3-235B-A22B-NVFP4", 94, 4, 128, 40960),
    ("nvidia--Qwen3.5-122B-A10B-NVFP4", 48, 2, 256, 262144),
    ("nvidia--Qwen3.5-397B-A17B-NVFP4", 60, 2, 256, 262144),
    ("nvidia--Qwen3.6-27B-NVFP4", 64, 4, 256, 262144),
    ("nvidia--Qwen3.6-35B-A3B-NVFP4", 40, 2, 256, 262144),
    ("openai--gpt-oss-120b", 36, 8, 64, 131072),
    ("openai--gpt-oss-20b", 24, 8, 64, 131072),
    ("sgl-project--DeepSeek-V4-Flash-FP8", 43, 1, 512, 1048576),
    ("sgl-project--DeepSeek-V4-Pro-FP8", 61, 1, 512, 1048576),
    ("stepfun-ai--Step-3.7-Flash", 45, 8, 128, 65536),
    ("stepfun-ai--Step-3.7-Flash-FP8", 45, 8, 128, 65536),
    ("zai-org--GLM-5", 78, 1, 576, 202752),
    ("zai-org--GLM-5-FP8", 78, 1, 576, 202752),
    ("zai-org--GLM-5.1", 78, 1, 576, 202752),
    ("zai-org--GLM-5.1-FP8", 78, 1, 576, 202752),
    ("zai-org--GLM-5.2", 78, 1, 576, 1048576),
    ("zai-org--GLM-5.2-FP8", 78, 1, 576, 1048576),
]


def test_the_table_covers_every_shared_config() -> None:
    folders = sorted(p.name for p in CONFIGS.iterdir() if p.is_dir())
    assert [row[0] for row in SHARED_CONFIGS] == folders
    assert len(folders) == 86


@pytest.mark.parametrize(
    ("folder", "layers", "kv_heads", "head", "max_len"),
    SHARED_CONFIGS,
    ids=[row[0] for row in SHARED_CONFIGS],
)
def test_shared_config_geometry(
    folder: str, layers: int, kv_heads: int, head: int, max_len: int
) -> None:
    arch = load(folder)
    assert (arch.num_layers, arch.num_kv_heads, arch.head_dim, arch.max_model_len) == (
        layers,
        kv_heads,
        head,
        max_len,
    )
    assert arch.weight_bytes > 0
    assert 0 < arch.active_params <= arch.total_params


# Published sizes (model cards / the repo names), in billions: total and, for
# MoE models, active. Vision towers are not counted by the extractor, so the
# multimodal rows use their text model's size.
PUBLISHED_PARAMS = [
    ("meta-llama--Meta-Llama-3.1-8B", 8.03, None),
    ("meta-llama--Meta-Llama-3.1-70B", 70.6, None),
    ("meta-llama--Meta-Llama-3.1-405B", 405.9, None),
    ("mistralai--Mixtral-8x7B-v0.1", 46.7, 12.9),
    ("mistralai--Mixtral-8x22B-v0.1", 141.0, 39.0),
    ("Qwen--Qwen3-0.6B", 0.6, None),
    ("Qwen--Qwen3-8B", 8.2, None),
    ("Qwen--Qwen3-32B", 32.8, None),
    ("Qwen--Qwen3-30B-A3B", 30.5, 3.3),
    ("Qwen--Qwen3-235B-A22B", 235.0, 22.0),
    ("Qwen--Qwen3-Coder-480B-A35B-Instruct", 480.0, 35.0),
    ("Qwen--Qwen3.5-397B-A17B", 397.0, 17.0),
    ("Qwen--Qwen3.5-122B-A10B", 122.0, 10.0),
    ("deepseek-ai--DeepSeek-V3", 671.0, 37.0),
    ("moonshotai--Kimi-K2-Instruct", 1026.0, 32.0),
    ("openai--gpt-oss-120b", 116.8, 5.1),
    ("openai--gpt-oss-20b", 20.9, 3.6),
    ("meta-llama--Llama-4-Scout-17B-16E-Instruct", 107.8, 17.0),
    ("meta-llama--Llama-4-Maverick-17B-128E-Instruct", 400.0, 17.0),
    ("nvidia--NVIDIA-Nemotron-3-Super-120B-A12B-FP8", 120.0, 12.0),
    ("nvidia--Nemotron-H-56B-Base-8K", 56.0, None),
    ("nvidia--Llama-3_3-Nemotron-Super-49B-v1", 49.9, None),
    ("zai-org--GLM-5", 744.0, 40.0),
]


@pytest.mark.parametrize(
    ("folder", "total_b", "active_b"),
    PUBLISHED_PARAMS,
    ids=[row[0] for row in PUBLISHED_PARAMS],
)
def test_parameter_counts_match_published_sizes(
    folder: str, total_b: float, active_b: float | None
) -> None:
    arch = load(folder)
    assert arch.total_params / 1e9 == pytest.approx(total_b, rel=0.02)
    # Active counts are rounded in the names ("A3B"), and model cards count
    # them with or without the embedding table: 15% is what that allows.
    if active_b is not None:
        assert arch.active_params / 1e9 == pytest.approx(active_b, rel=0.15)
    else:
        assert arch.active_params == arch.total_params - (
            0 if arch.tie_word_embeddings else arch.vocab_size * arch.hidden_size
        )


def test_llama_31_8b_parameters_exactly() -> None:
    # embed 128256 x 4096 = 525,336,576 (and the same untied lm_head);
    # per layer: q 4096^2 + k,v 2 x 4096 x 1024 + o 4096^2 = 41,943,040,
    # MLP 3 x 4096 x 14336 = 176,160,768, two norms 8,192 -> 218,112,000;
    # 2 x 525,336,576 + 32 x 218,112,000 + final norm 4,096 = 8,030,261,248.
    arch = load("meta-llama--Meta-Llama-3.1-8B")
    assert arch.total_params == 8_030_261_248
    # bf16: 2 bytes each = 16,060,522,496 B ("16.06 GB").
    assert arch.weight_bytes == 16_060_522_496
    assert arch.weight_bytes_exact is False


def test_deepseek_v3_mla_and_moe_facts() -> None:
    arch = load("deepseek-ai--DeepSeek-V3")
    assert arch.kv_lora_rank == 512 and arch.qk_rope_head_dim == 64
    assert arch.family == "mla-moe"
    assert (arch.num_experts, arch.num_experts_per_tok) == (256, 8)
    assert (arch.num_shared_experts, arch.first_k_dense) == (1, 3)
    assert arch.moe_intermediate_size == 2048
    assert arch.quant is not None and arch.quant.method == "fp8"
    assert arch.quant.group_size == 128
    # fp8 [128,128] blocks: ~1 byte per parameter plus bf16 embeddings/lm_head
    # (2 x 129280 x 7168 x 2 B = 3.7 GB) -> 671B params in about 673 GB.
    assert arch.weight_bytes / 1e9 == pytest.approx(673, rel=0.01)


def test_gpt_oss_alternates_sliding_and_full_layers() -> None:
    arch = load("openai--gpt-oss-120b")
    assert arch.layer_kinds is not None
    assert arch.layer_kinds[:4] == ("sliding", "full", "sliding", "full")
    assert arch.layer_kinds.count("full") == 18
    assert arch.sliding_window == 128
    assert arch.quant is not None and arch.quant.method == "mxfp4"
    assert arch.checkpoint_dtype == "bfloat16"


def test_qwen35_gated_delta_layers_and_state_size() -> None:
    arch = load("Qwen--Qwen3.5-35B-A3B")
    assert arch.layer_kinds is not None
    # layer_types: every 4th layer full attention -> 10 full, 30 linear.
    assert arch.layer_kinds.count("full") == 10
    assert arch.layer_kinds.count("linear") == 30
    assert arch.layer_kinds[3] == "full"
    # conv state: (kernel 4 - 1) x (2 x 16 x 128 + 32 x 128) = 3 x 8192 = 24,576;
    # recurrent state: 32 value heads x 128 x 128 = 524,288 -> 548,864 elements.
    assert arch.state_elems_per_layer == 548_864
    # conv in bf16, SSM state in mamba_ssm_dtype float32:
    # 24,576 x 2 + 524,288 x 4 = 2,146,304 B per sequence per layer.
    assert arch.state_bytes_per_layer == 2_146_304
    assert arch.family == "hybrid-moe"


def test_nemotron_h_pattern_and_mamba_state() -> None:
    arch = load("nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16")
    kinds = arch.layer_kinds
    assert kinds is not None
    pattern = "MEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEMEM*EMEMEMEME"
    assert len(kinds) == len(pattern) == 52
    assert kinds.count("full") == pattern.count("*") == 6
    assert kinds.count("mamba") == pattern.count("M") == 23
    assert kinds.count("none") == pattern.count("E") == 23
    # Mamba2: inner 64 heads x 64 = 4096; conv (4 - 1) x (4096 + 2 x 8 x 128)
    # = 18,432; SSM 64 x 64 x 128 = 524,288 elements.
    assert arch.state_elems_per_layer == 18_432 + 524_288
    # mamba_ssm_cache_dtype float32: 18,432 x 2 + 524,288 x 4 = 2,134,016 B.
    assert arch.state_bytes_per_layer == 2_134_016


def test_gemma4_global_layers_have_their_own_geometry() -> None:
    arch = load("google--gemma-4-26B-A4B")
    assert arch.layer_kinds is not None
    assert arch.layer_kinds.count("full") == 5 and arch.sliding_window == 1024
    assert arch.head_dim_by_kind == {"full": 512}
    assert arch.kv_heads_by_kind == {"full": 2}
    assert arch.tie_word_embeddings is True


def test_llama4_chunked_attention_with_every_fourth_layer_global() -> None:
    arch = load("meta-llama--Llama-4-Scout-17B-16E-Instruct")
    assert arch.layer_kinds is not None
    assert arch.layer_kinds[:4] == ("chunked", "chunked", "chunked", "full")
    assert arch.attention_chunk_size == 8192


def test_mimo_v2_sliding_layers_use_their_own_kv_heads() -> None:
    arch = load("XiaomiMiMo--MiMo-V2-Flash")
    assert arch.layer_kinds is not None
    assert arch.layer_kinds[0] == "full" and arch.layer_kinds[1] == "sliding"
    assert arch.kv_heads_by_kind == {"sliding": 8}
    assert arch.v_head_dim == 128


def test_modelopt_quant_from_hf_quant_config() -> None:
    arch = load("nvidia--Llama-3.1-70B-Instruct-FP8")
    assert arch.quant is not None
    assert (arch.quant.method, arch.quant.weight_format) == ("modelopt", "fp8")
    nvfp4 = load("nvidia--Qwen3-235B-A22B-NVFP4")
    assert nvfp4.quant is not None
    assert (nvfp4.quant.method, nvfp4.quant.group_size) == ("modelopt_fp4", 16)


# --- one rule each ------------------------------------------------------------

BASE = {"num_hidden_layers": 2, "hidden_size": 1024, "num_attention_heads": 16}


def arch(**extra):
    return arch_from_config({**BASE, **extra}, model_id="x/y", source="test")


def test_text_config_nesting_and_top_level_dtype() -> None:
    nested = {"model_type": "llava", "torch_dtype": "float16", "text_config": BASE}
    got = arch_from_config(nested, model_id="x/y", source="t")
    assert got.num_layers == 2 and got.checkpoint_dtype == "float16"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"kv_lora_rank": 512, "qk_rope_head_dim": 64, "head_dim": 128}, 576),
        ({"head_dim": 96}, 96),
        ({"head_dim": 0, "hidden_size_per_head": 80}, 80),
        ({}, 64),  # 1024 / 16
    ],
)
def test_head_size_precedence(extra: dict, expected: int) -> None:
    assert head_size({**BASE, **extra}, 16, 1024) == expected


@pytest.mark.parametrize(
    "key",
    [
        "n_head_kv",
        "num_kv_heads",
        "num_key_value_heads",
        "multi_query_group_num",
        "num_attention_groups",
    ],
)
def test_kv_head_aliases(key: str) -> None:
    assert arch(**{key: 4}).num_kv_heads == 4


def test_kv_heads_default_to_attention_heads() -> None:
    assert arch().num_kv_heads == 16


@pytest.mark.parametrize(
    ("cfg", "expected"),
    [
        ({"max_position_embeddings": 8192, "seq_length": 4096}, 4096),  # smallest
        ({}, 2048),  # nothing found
        (
            {
                "max_position_embeddings": 4096,
                "rope_scaling": {"type": "linear", "factor": 4},
            },
            16384,
        ),
        (
            {
                "max_position_embeddings": 4096,
                "rope_scaling": {"rope_type": "dynamic", "factor": 2.0},
            },
            8192,
        ),
        (
            {
                "max_position_embeddings": 131072,
                "rope_scaling": {"rope_type": "llama3", "factor": 8},
            },
            131072,
        ),
        (
            {
                "max_position_embeddings": 131072,
                "rope_scaling": {"type": "yarn", "factor": 32},
            },
            131072,
        ),
        (
            {
                "max_position_embeddings": 131072,
                "rope_scaling": {"type": "longrope", "factor": 32},
            },
            131072,
        ),
    ],
)
def test_derived_max_len(cfg: dict, expected: int) -> None:
    assert derived_max_len(cfg) == expected


def test_gemma3_rope_factor_is_not_applied_again() -> None:
    cfg = {
        "max_position_embeddings": 131072,
        "rope_scaling": {"rope_type": "linear", "factor": 8},
    }
    assert derived_max_len(cfg, "gemma3_text") == 131072


def test_gemma2_alternates_and_gemma3_uses_the_pattern() -> None:
    g2 = arch(model_type="gemma2", sliding_window=4096, max_position_embeddings=8192)
    assert g2.layer_kinds == ("sliding", "full")
    g3 = arch_from_config(
        {
            **BASE,
            "num_hidden_layers": 12,
            "sliding_window": 1024,
            "sliding_window_pattern": 6,
            "max_position_embeddings": 131072,
        },
        model_id="x/y",
        source="t",
    )
    assert g3.layer_kinds is not None
    assert [i for i, k in enumerate(g3.layer_kinds) if k == "full"] == [5, 11]


def test_window_covering_the_whole_context_is_full_attention() -> None:
    # Qwen2 ships sliding_window 131072 with use_sliding_window false.
    got = arch(sliding_window=32768, max_position_embeddings=32768)
    assert got.layer_kinds is None and got.sliding_window is None
    got = arch(
        sliding_window=4096, use_sliding_window=False, max_position_embeddings=32768
    )
    assert got.layer_kinds is None


def test_dtype_override_and_fp32_checkpoints() -> None:
    assert (
        arch(torch_dtype="float32").weight_bytes
        == arch(torch_dtype="bfloat16").weight_bytes
    )
    half = arch(torch_dtype="bfloat16").weight_bytes
    assert (
        arch_from_config(
            BASE, model_id="x", source="t", dtype_override="float"
        ).weight_bytes
        == 2 * half
    )


def test_exact_total_size_wins_over_the_computed_figure() -> None:
    got = arch_from_config(BASE, model_id="x", source="t", index_total_size=123_456)
    assert got.weight_bytes == 123_456 and got.weight_bytes_exact
    assert (
        got.weight_bytes_computed is not None and got.weight_bytes_computed != 123_456
    )


def test_config_without_sizes_is_an_error() -> None:
    with pytest.raises(ValueError, match="num_hidden_layers"):
        arch_from_config({"model_type": "x"}, model_id="x/y", source="t")
