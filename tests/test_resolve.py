"""Model resolution order (local folder, HF cache, catalog, params_b guess),
the errors when nothing applies, and build_request's GPU handling. The HF
cache is a fake one in tmp_path; nothing touches the network."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml

from wizard_tui.catalog import ResolutionError, build_request, resolve_model
from wizard_tui.catalog.hf_cache import cached_model_ids
from wizard_tui.catalog.model_catalog import catalog_ids, lookup
from wizard_tui.schemas.profile import ModelSection, Profile

DATA = Path(__file__).parent / "data"
LLAMA_8B = json.loads(
    (DATA / "hf_configs" / "meta-llama--Meta-Llama-3.1-8B" / "config.json").read_text()
)
PROFILES = Path(__file__).parent.parent / "profiles"


@pytest.fixture(autouse=True)
def _empty_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets an empty HF cache and config folder of its own."""
    hub = tmp_path / "hub"
    hub.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    config = tmp_path / "config"
    config.mkdir()
    monkeypatch.setenv("VLLM_WIZARD_CONFIG_DIR", str(config))
    return hub


def cache_model(hub: Path, repo: str, config: dict, extra: dict | None = None) -> None:
    rev = "c" * 40
    folder = hub / ("models--" + repo.replace("/", "--"))
    snapshot = folder / "snapshots" / rev
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text(json.dumps(config))
    for name, content in (extra or {}).items():
        (snapshot / name).write_text(json.dumps(content))
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(rev)


# --- order ----------------------------------------------------------------------


def test_local_folder_comes_first(tmp_path: Path) -> None:
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(dict(LLAMA_8B, num_hidden_layers=4)))
    arch = resolve_model(ModelSection(id=str(folder)))
    assert arch.num_layers == 4
    assert "local folder" in arch.source


def test_folder_without_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ResolutionError) as err:
        resolve_model(ModelSection(id=str(tmp_path)))
    assert err.value.field == "model.id"


def test_hf_cache_beats_the_catalog(_empty_hub: Path) -> None:
    # A cached config with 30 layers wins over the catalog's 32 for this id.
    cache_model(
        _empty_hub,
        "meta-llama/Llama-3.1-8B-Instruct",
        dict(LLAMA_8B, num_hidden_layers=30),
        {"model.safetensors.index.json": {"metadata": {"total_size": 16_060_522_496}}},
    )
    arch = resolve_model(ModelSection(id="meta-llama/Llama-3.1-8B-Instruct"))
    assert arch.num_layers == 30
    assert "HF cache" in arch.source
    assert arch.weight_bytes == 16_060_522_496 and arch.weight_bytes_exact
    assert cached_model_ids() == ["meta-llama/Llama-3.1-8B-Instruct"]


def test_catalog_when_nothing_is_cached() -> None:
    arch = resolve_model(ModelSection(id="meta-llama/Llama-3.1-8B-Instruct"))
    assert arch.num_layers == 32 and not arch.guessed
    assert arch.source.startswith("built-in catalog")


def test_catalog_lookup_ignores_case_and_takes_bare_names() -> None:
    assert resolve_model(ModelSection(id="qwen/qwen3-8b")).num_layers == 36
    assert resolve_model(ModelSection(id="Llama-2-7b-hf")).num_layers == 32


def test_params_b_guess_warns_loudly(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        arch = resolve_model(ModelSection(id="acme/secret-13b", params_b=13.0))
    assert arch.guessed
    assert "GUESSED from params_b" in arch.source
    assert "GUESSED" in caplog.text
    assert arch.total_params == 13_000_000_000
    assert arch.weight_bytes == 26_000_000_000  # bf16
    assert arch.num_layers > 0 and arch.num_kv_heads == 8


def test_unknown_model_without_params_b() -> None:
    with pytest.raises(ResolutionError) as err:
        resolve_model(ModelSection(id="acme/no-such-model"))
    assert err.value.field == "model.id"
    assert "set model.params_b" in str(err.value)
    assert "config.json" in str(err.value)


def test_network_is_not_used_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from wizard_tui.catalog import hf_cache

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network used without allow_network")

    monkeypatch.setattr(hf_cache, "fetch_from_hub", refuse)
    with pytest.raises(ResolutionError):
        resolve_model(ModelSection(id="acme/no-such-model"))


def test_network_fetch_is_tried_when_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    from wizard_tui.catalog import hf_cache

    calls: list[str] = []

    def fake_fetch(repo: str, revision: str | None = None) -> None:
        calls.append(repo)
        return None

    monkeypatch.setattr(hf_cache, "fetch_from_hub", fake_fetch)
    arch = resolve_model(ModelSection(id="Qwen/Qwen3-8B"), allow_network=True)
    assert calls == ["Qwen/Qwen3-8B"]
    assert arch.source.startswith("built-in catalog")


# --- the catalog ------------------------------------------------------------------

REQUIRED = [
    "meta-llama/Llama-3.1-8B-Instruct",
    "Qwen/Qwen2.5-32B-Instruct",
    "Qwen/Qwen3-32B",
    "nvidia/Llama-3.1-70B-Instruct-FP8",
    "RedHatAI/Meta-Llama-3.1-70B-Instruct-FP8",
    "deepseek-ai/DeepSeek-R1",
    "openai/gpt-oss-120b",
    "Qwen/Qwen3-30B-A3B",
    "meta-llama/Llama-2-7b-hf",
]
# model_config_key values of shared/data/vllm_kv_logs.yaml.
LOG_KEYS = [
    "Qwen/Qwen2-7B-Instruct",
    "Qwen/Qwen2.5-72B-Instruct",
    "Qwen/Qwen2.5-7B-Instruct",
    "Qwen/Qwen3-14B",
    "Qwen/Qwen3-235B-A22B-FP8",
    "Qwen/Qwen3-30B-A3B",
    "Qwen/Qwen3-32B",
    "Qwen/Qwen3-4B",
    "Qwen/Qwen3-8B",
    "Qwen/Qwen3-VL-30B-A3B-Instruct",
    "deepseek-ai/DeepSeek-Coder-V2-Lite-Instruct",
    "deepseek-ai/DeepSeek-R1",
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
    "deepseek-ai/DeepSeek-V2-Lite-Chat",
    "google/gemma-2-9b-it",
    "google/gemma-3-12b-it",
    "google/gemma-3-27b-it",
    "google/gemma-4-26B-A4B",
    "ibm-granite/granite-4.0-micro",
    "meta-llama/Llama-2-70b-hf",
    "meta-llama/Llama-2-7b-hf",
    "meta-llama/Llama-3.1-8B-Instruct",
    "meta-llama/Llama-3.2-3B-Instruct",
    "meta-llama/Llama-3.3-70B-Instruct",
    "meta-llama/Meta-Llama-3-8B",
    "meta-llama/Meta-Llama-3.1-70B",
    "microsoft/Phi-3-mini-128k-instruct",
    "microsoft/phi-4",
    "mistralai/Mistral-7B-v0.1",
    "mistralai/Mistral-Small-3.1-24B-Instruct-2503",
    "mistralai/Mixtral-8x7B-Instruct-v0.1",
    "openai/gpt-oss-120b",
    "openai/gpt-oss-20b",
]


@pytest.mark.parametrize("model_id", REQUIRED + LOG_KEYS)
def test_catalog_has_the_models_profiles_and_logs_use(model_id: str) -> None:
    entry = lookup(model_id)
    assert entry is not None, model_id
    assert entry.source and "no source given" not in entry.source


def test_catalog_size_and_every_entry_resolves() -> None:
    ids = catalog_ids()
    assert len(ids) >= 40
    for model_id in ids:
        arch = resolve_model(ModelSection(id=model_id))
        assert arch.num_layers > 0 and arch.weight_bytes > 0, model_id


def test_bundled_profiles_resolve() -> None:
    for path in sorted(PROFILES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        arch = resolve_model(ModelSection(id=data["model"]["id"]))
        assert not arch.guessed, path.name


def test_quantized_variants_carry_their_scheme() -> None:
    awq = resolve_model(ModelSection(id="Qwen/Qwen2.5-7B-Instruct-AWQ"))
    assert awq.quant is not None
    assert (awq.quant.method, awq.quant.bits, awq.quant.group_size) == ("awq", 4, 128)
    assert awq.quant.zero_point and awq.checkpoint_dtype == "float16"
    gptq = resolve_model(ModelSection(id="Qwen/Qwen3-30B-A3B-GPTQ-Int4"))
    assert gptq.quant is not None and gptq.quant.method == "gptq"
    # Same geometry as the base model.
    base = resolve_model(ModelSection(id="Qwen/Qwen3-30B-A3B"))
    assert gptq.total_params == base.total_params


def test_online_fp8_on_a_bf16_checkpoint() -> None:
    # vLLM log c53: Llama-3.1-8B-Instruct with --quantization fp8 loads 8.49 GiB:
    # 6.98e9 linear params x 1 B + 1.05e9 embedding/lm_head params x 2 B.
    arch = resolve_model(
        ModelSection(id="meta-llama/Llama-3.1-8B-Instruct", quantization="fp8")
    )
    assert arch.quant is not None and arch.quant.method == "fp8"
    assert arch.weight_bytes / 2**30 == pytest.approx(8.49, rel=0.01)


# --- build_request -----------------------------------------------------------------


def profile(**hardware: object) -> Profile:
    return Profile.model_validate(
        {"model": {"id": "meta-llama/Llama-3.1-8B-Instruct"}, "hardware": hardware}
    )


def test_build_request_with_a_catalog_gpu() -> None:
    req = build_request(profile(gpu_name="H100 SXM"))
    assert req.model.num_layers == 32
    assert req.gpu.cuda_total_gib > 70
    assert any("built-in catalog" in note for note in req.notes)


def test_vram_gb_without_a_gpu_name() -> None:
    req = build_request(profile(gpu_name=None, vram_gb=23.5))
    assert req.gpu.cuda_total_gib == 23.5
    assert req.gpu.memory_source == "hardware.vram_gb"


def test_vram_gb_overrides_the_catalog_memory() -> None:
    req = build_request(profile(gpu_name="H100 SXM", vram_gb=70.0))
    assert req.gpu.cuda_total_gib == 70.0
    assert req.gpu.bandwidth_gbs > 0  # the rest of the catalog row is kept
    assert any("replaces" in note for note in req.notes)


def test_unknown_gpu_with_vram_gb_is_accepted() -> None:
    req = build_request(profile(gpu_name="Mystery Accelerator 9000", vram_gb=40.0))
    assert req.gpu.cuda_total_gib == 40.0
    assert any("not in the GPU catalog" in note for note in req.notes)


def test_unknown_gpu_without_vram_gb_is_an_error() -> None:
    with pytest.raises(ResolutionError) as err:
        build_request(profile(gpu_name="Mystery Accelerator 9000"))
    assert err.value.field.startswith("hardware")


def test_guessed_model_note_reaches_the_request() -> None:
    p = Profile.model_validate({"model": {"id": "acme/x", "params_b": 7}})
    req = build_request(p)
    assert req.model.guessed
    assert any("GUESSED" in note for note in req.notes)


def test_tokenizer_model_max_length_caps_the_derived_length(tmp_path: Path) -> None:
    folder = tmp_path / "capped"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(LLAMA_8B))
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"model_max_length": 8192})
    )
    assert resolve_model(ModelSection(id=str(folder))).max_model_len == 8192
    # The usual "no limit" sentinel leaves the config's 131072 alone.
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"model_max_length": 1e30})
    )
    assert resolve_model(ModelSection(id=str(folder))).max_model_len == 131072


def test_missing_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(ResolutionError) as err:
        resolve_model(ModelSection(id=str(tmp_path / "not-here")))
    assert "no such folder" in str(err.value)


def test_bare_legacy_names_are_looked_up_in_the_cache(_empty_hub: Path) -> None:
    cache_model(_empty_hub, "gpt2-like", dict(LLAMA_8B, num_hidden_layers=12))
    assert resolve_model(ModelSection(id="gpt2-like")).num_layers == 12
