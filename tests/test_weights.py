"""Weight bytes: storage formats with their scales, exclude lists, exact sizes
from safetensors files, and computed totals against what vLLM loaded.

The reference figures are vLLM's own "Model loading took X GiB" (or "model
weights take X GiB") lines, copied from shared/data/vllm_kv_logs.yaml with
their case ids. Under tensor parallelism the log gives one GPU's share, so the
total is that figure times TP (which slightly overstates: some small tensors
are replicated on every rank)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from wizard_tui.catalog import resolve_model
from wizard_tui.catalog import weights as W
from wizard_tui.schemas.profile import ModelSection

GIB = 2**30


# --- storage formats -----------------------------------------------------------


def test_int4_group_128_with_zeros() -> None:
    # 4 bits = 0.5 B, fp16 scale 2 B / 128, packed 4-bit zero 0.5 B / 128.
    assert W.int_bytes(4, 128, True) == pytest.approx(0.5 + 2 / 128 + 0.5 / 128)
    assert W.int_bytes(4, 128, False) == pytest.approx(0.5 + 2 / 128)
    assert W.int_bytes(8, None, False) == 1.0


def test_block_fp8_nvfp4_mxfp4_bytes() -> None:
    assert pytest.approx(1 + 4 / 16384) == W.FP8_BLOCK_BYTES  # fp32 scale / block
    assert pytest.approx(0.5625) == W.NVFP4_BYTES  # 0.5 + 1 fp8 scale / 16
    assert pytest.approx(0.53125) == W.MXFP4_BYTES  # 0.5 + 1 E8M0 scale / 32


def test_awq_plan_quantizes_linear_layers_only() -> None:
    plan = W.quant_plan(
        {"quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": True}, 32
    )
    assert plan is not None
    assert plan.info.method == "awq" and plan.info.zero_point
    assert set(plan.bytes_per_elem) == {"attn", "mlp", "experts", "shared", "mamba"}
    counts = W.ParamCounts({"embed": 1000, "mlp": 1280, "norm": 10})
    # embed 1000 x 2 + mlp 1280 x (0.5 + 2.5/128) + norm 10 x 2 = 2,665 B.
    assert W.weight_bytes(counts, plan, 2) == 2000 + 665 + 20


def test_gptq_always_stores_zeros() -> None:
    plan = W.quant_plan(
        {"quant_method": "gptq", "bits": 4, "group_size": 128, "sym": True}, 1
    )
    assert plan is not None
    assert plan.bytes_per_elem["mlp"] == pytest.approx(W.int_bytes(4, 128, True))


def test_mxfp4_touches_only_the_experts() -> None:
    plan = W.quant_plan({"quant_method": "mxfp4"}, 24)
    assert plan is not None and plan.bytes_per_elem == {"experts": W.MXFP4_BYTES}


def test_exclude_lists_by_layer_share() -> None:
    names = ["lm_head", "model.layers.0.self_attn.q_proj", "model.layers.1.self_attn*"]
    # lm_head everywhere; attention excluded in 2 of 4 layers.
    assert W.excluded_fractions(names, 4) == {"lm_head": 1.0, "attn": 0.5}
    assert W.excluded_fractions(["re:.*self_attn.*"], 10) == {"attn": 1.0}
    assert W.category_of("model.layers.3.mlp.gate") == "router"
    assert W.category_of("model.layers.3.mlp.experts.7.down_proj") == "experts"
    assert W.category_of("model.layers.3.mlp.shared_experts.up_proj") == "shared"
    assert W.category_of("model.visual.blocks.0") is None


def test_compressed_tensors_w4a16_and_fp8() -> None:
    w4 = {
        "quant_method": "compressed-tensors",
        "config_groups": {
            "g": {
                "targets": ["Linear"],
                "weights": {
                    "num_bits": 4,
                    "type": "int",
                    "strategy": "group",
                    "group_size": 128,
                },
            }
        },
        "ignore": ["lm_head"],
    }
    plan = W.quant_plan(w4, 32)
    assert plan is not None and plan.info.weight_format == "int4"
    assert plan.bytes_per_elem["attn"] == pytest.approx(0.5 + 2 / 128)
    fp8 = {
        "quant_method": "compressed-tensors",
        "config_groups": {
            "g": {"targets": ["Linear"], "weights": {"num_bits": 8, "type": "float"}}
        },
    }
    plan = W.quant_plan(fp8, 32)
    assert plan is not None and plan.bytes_per_elem["mlp"] == 1.0


def test_modelopt_nvfp4_from_hf_quant_config_shape() -> None:
    plan = W.quant_plan({"quantization": {"quant_algo": "NVFP4", "group_size": 16}}, 10)
    assert plan is not None
    assert plan.info.method == "modelopt_fp4"
    assert plan.bytes_per_elem["experts"] == W.NVFP4_BYTES


# --- exact sizes -----------------------------------------------------------------


def test_index_total_size(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": 16_060_522_496}, "weight_map": {}})
    )
    assert W.exact_weight_bytes(tmp_path) == 16_060_522_496


def test_single_safetensors_header(tmp_path: Path) -> None:
    header = {
        "__metadata__": {"format": "pt"},
        "a": {"dtype": "BF16", "shape": [4, 4], "data_offsets": [0, 32]},
        "b": {"dtype": "BF16", "shape": [8], "data_offsets": [32, 48]},
    }
    raw = json.dumps(header).encode()
    (tmp_path / "model.safetensors").write_bytes(
        struct.pack("<Q", len(raw)) + raw + b"\0" * 48
    )
    assert W.exact_weight_bytes(tmp_path) == 48


def test_no_weights_no_exact_figure(tmp_path: Path) -> None:
    assert W.exact_weight_bytes(tmp_path) is None


# --- computed totals against vLLM's logs ---------------------------------------

# (case id, model id as the catalog knows it, profile quantization, GiB logged
#  per GPU, TP, tolerance, why that tolerance)
VLLM_LOADED = [
    ("c47", "meta-llama/Llama-3.1-8B-Instruct", None, 14.99, 1, 0.01, "bf16"),
    ("c19", "meta-llama/Llama-2-7b-hf", None, 12.5523, 1, 0.01, "fp16"),
    ("c10", "meta-llama/Meta-Llama-3-8B", None, 14.96, 1, 0.01, "bf16"),
    ("c32", "Qwen/Qwen3-4B", None, 7.5552, 1, 0.01, "bf16, tied"),
    ("c66", "Qwen/Qwen3-8B", None, 15.27, 1, 0.01, "bf16"),
    ("c80", "Qwen/Qwen3-14B", None, 27.52, 1, 0.01, "bf16"),
    ("c89", "Qwen/Qwen3-32B", None, 30.59, 2, 0.01, "bf16, TP2"),
    ("c59", "Qwen/Qwen2.5-7B-Instruct", None, 14.25, 1, 0.01, "bf16"),
    ("c65", "Qwen/Qwen2.5-72B-Instruct", None, 67.8, 2, 0.01, "bf16, TP2"),
    ("c92", "Qwen/Qwen2-7B-Instruct", None, 14.2488, 1, 0.01, "bf16"),
    ("c35", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", None, 14.2717, 1, 0.01, "bf16"),
    ("c78", "microsoft/phi-4", None, 27.39, 1, 0.01, "bf16"),
    (
        "c68",
        "mistralai/Mixtral-8x7B-Instruct-v0.1",
        None,
        43.51,
        2,
        0.01,
        "bf16 MoE, TP2",
    ),
    ("c71", "deepseek-ai/DeepSeek-V2-Lite-Chat", None, 29.43, 1, 0.01, "bf16 MLA MoE"),
    ("c72", "google/gemma-2-9b-it", None, 17.22, 1, 0.01, "bf16, tied"),
    # Multimodal: vision tower sized from vision_config (SigLIP, ~0.42B).
    ("c74", "google/gemma-3-12b-it", None, 23.31, 1, 0.03, "with vision tower"),
    ("c75", "google/gemma-3-27b-it", None, 51.45, 1, 0.01, "with vision tower"),
    (
        "c90",
        "mistralai/Mistral-Small-3.2-24B-Instruct-2506",
        None,
        44.76,
        1,
        0.04,
        "vision tower not counted",
    ),
    ("c105", "google/gemma-4-26B-A4B", None, 48.5, 1, 0.02, "with vision tower"),
    # Quantized checkpoints: group scales and zeros counted.
    ("c25", "Qwen/Qwen3-14B-AWQ", None, 9.44, 1, 0.03, "AWQ int4 g128"),
    (
        "c54",
        "RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w4a16",
        None,
        5.38,
        1,
        0.03,
        "W4A16 g128",
    ),
    ("c86", "RedHatAI/Llama-3.3-70B-Instruct-FP8-dynamic", None, 67.72, 1, 0.01, "FP8"),
    (
        "c57",
        "RedHatAI/Llama-3.3-70B-Instruct-FP8-dynamic",
        None,
        16.96,
        4,
        0.01,
        "FP8, TP4",
    ),
    ("c63", "RedHatAI/Qwen2.5-7B-Instruct-FP8-dynamic", None, 8.14, 1, 0.01, "FP8"),
    (
        "c77",
        "RedHatAI/Mistral-Small-3.1-24B-Instruct-2503-quantized.w8a8",
        None,
        12.11,
        2,
        0.05,
        "INT8, vision not counted",
    ),
    ("c53", "meta-llama/Llama-3.1-8B-Instruct", "fp8", 8.49, 1, 0.01, "online fp8"),
    # bitsandbytes 4-bit made while loading: 0.5 B + an absmax per 64 values.
    ("c37", "microsoft/phi-4", "bitsandbytes", 8.6253, 1, 0.02, "online bnb 4-bit"),
    # gpt-oss: MXFP4 experts; vLLM's kernels pad the expert matrices, so the
    # loaded figure is ~5-6% above the checkpoint's bytes that we compute.
    ("c83", "openai/gpt-oss-20b", None, 13.47, 1, 0.07, "MXFP4 experts, padded"),
    ("c84", "openai/gpt-oss-120b", None, 64.38, 1, 0.07, "MXFP4 experts, padded"),
]


@pytest.mark.parametrize(
    ("case", "model_id", "quant", "gib", "tp", "tol", "why"),
    VLLM_LOADED,
    ids=[row[0] for row in VLLM_LOADED],
)
def test_weights_against_vllm_model_loading_lines(
    case: str,
    model_id: str,
    quant: str | None,
    gib: float,
    tp: int,
    tol: float,
    why: str,
) -> None:
    arch = resolve_model(ModelSection(id=model_id, quantization=quant))
    assert arch.weight_bytes / GIB == pytest.approx(gib * tp, rel=tol), (case, why)


def test_llama_31_8b_bf16_is_16_06_gb() -> None:
    # 8,030,261,248 params x 2 B = 16,060,522,496 B = 16.06 GB = 14.96 GiB;
    # vLLM logs "Model loading took 14.99 GiB" (c47; plus a few small buffers).
    arch = resolve_model(ModelSection(id="meta-llama/Llama-3.1-8B-Instruct"))
    assert arch.weight_bytes == 16_060_522_496
    assert arch.total_params == 8_030_261_248


def test_deepseek_r1_fp8_matches_its_published_671b() -> None:
    arch = resolve_model(ModelSection(id="deepseek-ai/DeepSeek-R1"))
    # 671B parameters (DeepSeek-V3 report, MTP layer excluded), 37B active.
    assert arch.total_params / 1e9 == pytest.approx(671, rel=0.005)
    assert arch.active_params / 1e9 == pytest.approx(37, rel=0.03)


def test_sharded_safetensors_headers_add_up(tmp_path: Path) -> None:
    for i, size in enumerate((64, 32)):
        header = json.dumps(
            {"w": {"dtype": "BF16", "shape": [size // 2], "data_offsets": [0, size]}}
        )
        raw = header.encode()
        name = f"model-0000{i + 1}-of-00002.safetensors"
        (tmp_path / name).write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * size)
    assert W.exact_weight_bytes(tmp_path) == 96


@pytest.mark.parametrize(
    ("model_id", "published_b"),
    [
        # Model cards: text model + vision tower, in billions.
        ("google/gemma-3-12b-it", 12.2),
        ("google/gemma-3-27b-it", 27.4),
        ("Qwen/Qwen3-VL-8B-Instruct", 8.77),
        ("Qwen/Qwen3-VL-30B-A3B-Instruct", 31.1),
    ],
)
def test_vision_towers_complete_the_published_sizes(
    model_id: str, published_b: float
) -> None:
    arch = resolve_model(ModelSection(id=model_id))
    assert 0.3e9 < arch.vision_params < 0.7e9
    assert (arch.total_params + arch.vision_params) / 1e9 == pytest.approx(
        published_b, rel=0.01
    )


def test_exclusions_count_only_layers_that_have_the_part() -> None:
    # Nemotron-3-Nano has attention in 6 of its 52 layers: naming those 6
    # leaves all attention unquantized. Layer 52 (past the last) is MTP.
    names = [f"backbone.layers.{i}.mixer.q_proj" for i in (5, 12, 19, 26, 33, 42)]
    names.append("model.layers.52.self_attn.o_proj")
    counts = {"all": 52, "attn": 6, "mamba": 23}
    assert W.excluded_fractions(names, counts) == {"attn": 1.0}
    # Indexer projections of sparse attention are tiny and not counted.
    assert W.excluded_fractions(["model.layers.3.self_attn.indexers_proj"], 78) == {}
