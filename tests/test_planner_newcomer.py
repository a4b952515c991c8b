"""Problems a newcomer found in the plan and the launch files it sizes: FP8
below compute capability 8.9, speed without figures, contradictory advice,
one max_num_seqs for plan and launch, idle GPUs, -0.0, what-ifs that change
nothing, one note per fact."""

from __future__ import annotations

import json
import math
from pathlib import Path

from tests.test_planner_archs import H100, gpu, llama_31_8b, request
from tests.test_planner_checks import llama_70b
from wizard_tui.catalog import build_request
from wizard_tui.planner import run_plan
from wizard_tui.planner.plan import _gib
from wizard_tui.profiles import read_profile

ROOT = Path(__file__).resolve().parent.parent
PROFILES = sorted((ROOT / "profiles").glob("*.yaml"))
SPEEDS = ("itl_ms", "ttft_ms", "decode_tok_s_per_seq", "decode_tok_s_total",
          "prefill_tok_s")  # fmt: skip


def _text(plan) -> str:  # noqa: ANN001
    from wizard_tui.cli import render_plan_text

    return render_plan_text(plan)


def test_no_speed_for_a_gpu_known_by_memory_only() -> None:
    # hardware.vram_gb alone: no bandwidth, so no inter-token latency (the
    # old roofline divided by a 1 GB/s stand-in: "ITL 22119 ms").
    custom = gpu("custom GPU", 80.0, fp8=False, cc=None, bandwidth=0.0,
                 tflops=0.0)  # fmt: skip
    resp = run_plan(request(llama_31_8b(), custom, max_model_len=8192))
    assert resp.vllm_starts
    for name in SPEEDS:
        assert getattr(resp.speed, name) == [], name
    assert resp.speed.label == "unknown for this GPU (no bandwidth figure)"
    assert "speed: unknown for this GPU (no bandwidth figure)" in _text(resp)
    # The JSON keeps every key (CONTRACT.md's list).
    doc = json.loads(resp.model_dump_json())
    assert set(SPEEDS) <= set(doc["speed"])


def test_no_speed_for_a_plan_that_does_not_start() -> None:
    # Llama-3.1-70B in bf16 is 141.1 GB = 131.4 GiB of weights: more than an
    # 80 GB H100's 79.19 GiB.
    resp = run_plan(request(llama_70b(), H100, max_model_len=8192))
    assert not resp.vllm_starts
    for name in SPEEDS:
        assert getattr(resp.speed, name) == [], name
    assert "speed: none: vLLM would not start" in _text(resp)


def test_tiny_negatives_print_as_zero() -> None:
    # round(-0.001, 2) is -0.0, which JSON and f-strings print as "-0.0".
    assert str(_gib(-0.001)) == "0.0"
    assert math.copysign(1.0, _gib(-0.004)) == 1.0
    assert _gib(-0.006) == -0.01  # a real negative stays
    for path in PROFILES:
        req = build_request(read_profile(path).profile)
        doc = run_plan(req).model_dump_json()
        assert "-0.0," not in doc and "-0.0}" not in doc, path.name


def test_one_note_for_an_unset_vllm_version(tmp_path: Path) -> None:
    text = (ROOT / "profiles" / "llama-3.1-8b-1x-l4.yaml").read_text()
    path = tmp_path / "p.yaml"
    path.write_text(text.replace("vllm_version: '0.34'", "vllm_version: null"))
    loaded = read_profile(path)
    req = build_request(loaded.profile)
    # The CLI's way: the loader's notes, then resolution's.
    req = req.model_copy(update={"notes": tuple(loaded.notes) + tuple(req.notes)})
    notes = run_plan(req).notes
    assert sum("engine.vllm_version" in n for n in notes) == 1, notes


def test_weights_beyond_the_gpu_ask_for_gpus_not_utilisation() -> None:
    # Llama-3.1-70B bf16 on one H100 at util 0.90 with fp8 KV: 131.42 GiB of
    # weights per GPU (141,107,412,992 B / 2^30) against a 0.90 x 79.19 =
    # 71.27 GiB budget; even 1.00 x 79.19 cannot hold them.
    resp = run_plan(request(llama_70b(), H100, util=0.9, max_model_len=8192,
                            kv_dtype="fp8", workload={"concurrency": 16}))  # fmt: skip
    assert not resp.vllm_starts
    text = " ".join(resp.blockers)
    assert "Try increasing `gpu_memory_utilization`" not in text
    assert "Even gpu_memory_utilization 1.00 cannot hold it" in text
    # TP 2: 65.7 GiB per GPU fits a 71.27 GiB budget with room for KV.
    assert "use 2 GPUs (tp_size 2)" in text
    # No advice that presumes it starts: no headroom, no "only 0 of 16 fit"
    # and never "use fp8 KV" when KV is already fp8.
    assert not any("headroom" in w for w in resp.warnings), resp.warnings
    assert not any("concurrent requests fit" in w for w in resp.warnings)
    everything = " ".join(resp.warnings + [w.change for w in resp.what_if])
    assert "fp8 KV" not in everything and "kv_cache_dtype" not in everything
    # The first what-if is the one that makes it start.
    assert resp.what_if[0].change == "gpus: 2 with tp_size 2"
    assert "; starts" in resp.what_if[0].effect


def test_raising_utilisation_is_still_advised_when_it_helps() -> None:
    # Llama-3.1-8B (16.06 GB = 14.96 GiB of weights) at util 0.30 of 79.19 =
    # 23.76 GiB, max_model_len 131,072: 16 GiB of bf16 KV for one request
    # (131,072 x 131,072 B) does not fit, but at 1.00 it does.
    resp = run_plan(request(llama_31_8b(), H100, util=0.3, max_model_len=131_072))
    assert not resp.vllm_starts
    text = " ".join(resp.blockers)
    assert "Try increasing `gpu_memory_utilization`" in text
    assert "Even gpu_memory_utilization" not in text


def _kv_change(effect: str) -> tuple[int, int]:
    before, after = effect.split(" tokens")[0].removeprefix("KV cache ").split(" -> ")
    return int(before.replace(",", "")), int(after.replace(",", ""))


def test_what_ifs_that_change_nothing_are_not_offered() -> None:
    # Llama-3.1-8B on an H100, 8,192 tokens, 16 requests of 1,536: the
    # workload fits; halving max_model_len leaves the KV tokens as they are
    # (V1 pages do not depend on it), so it is not offered; what is offered
    # adds KV capacity, most first.
    resp = run_plan(request(llama_31_8b(), H100, max_model_len=8192,
                            workload={"concurrency": 16}))  # fmt: skip
    assert resp.fits
    assert resp.what_if, "fp8 KV and TP 2 add capacity"
    gains = [_kv_change(w.effect) for w in resp.what_if]
    assert all(after > before for before, after in gains), resp.what_if
    assert [b - a for a, b in gains] == sorted([b - a for a, b in gains], reverse=True)
    assert not any(w.change.startswith("max_model_len") for w in resp.what_if)
    # TP 2 halves both the weights and the KV heads per GPU (more than 2x the
    # tokens); fp8 KV halves the bytes per token (131,072 -> 65,536 B).
    assert [w.change for w in resp.what_if][:2] == [
        "gpus: 2 with tp_size 2", "kv_cache_dtype: fp8"]  # fmt: skip


def test_what_ifs_when_the_workload_does_not_fit_fit_more_of_it() -> None:
    # 64 requests of 32,768 + 1,024 tokens need about 2.2M KV tokens; an
    # H100 holds about 0.4M in bf16 with Llama-3.1-8B: the workload does not
    # fit, and each change offered fits more of it.
    resp = run_plan(request(llama_31_8b(), H100, max_model_len=65_536,
                            workload={"concurrency": 64, "prompt_tokens": 32_768,
                                      "gen_tokens": 1024}))  # fmt: skip
    assert resp.vllm_starts and not resp.fits
    now = resp.workload.concurrency_fit
    for w in resp.what_if:
        assert "requests fit" in w.effect, w
        if "of the workload's" in w.effect:
            fit = int(w.effect.split("; starts, ")[1].split(" of ")[0])
            assert fit > now, w


def test_bundled_profiles_plan_what_the_launch_writes() -> None:
    # One place decides max_num_seqs: the plan; the argv carries exactly
    # plan.max_num_seqs and plan.max_num_batched_tokens, and planning the
    # profile with those values written into vllm_args changes nothing.
    from wizard_tui.launch import serve_argv

    assert PROFILES
    for path in PROFILES:
        profile = read_profile(path).profile
        req = build_request(profile)
        plan = run_plan(req)
        argv = serve_argv(profile, plan)
        assert argv[argv.index("--max-num-seqs") + 1] == str(plan.max_num_seqs)
        batched = argv[argv.index("--max-num-batched-tokens") + 1]
        assert batched == str(plan.max_num_batched_tokens), path.name
        args = dict(profile.outputs.vllm_args)
        args["max_num_seqs"] = plan.max_num_seqs
        args["max_num_batched_tokens"] = plan.max_num_batched_tokens
        outputs = profile.outputs.model_copy(update={"vllm_args": args})
        pinned = run_plan(
            req.model_copy(
                update={"profile": profile.model_copy(update={"outputs": outputs})}
            )
        )
        assert pinned.kv_cache.tokens == plan.kv_cache.tokens, path.name
        assert pinned.max_num_seqs == plan.max_num_seqs, path.name
        # Never above what fits: max(workload concurrency, floor(max
        # concurrency)), at least 1 (when vllm_args leaves it unset).
        if "max_num_seqs" not in profile.outputs.vllm_args:
            cap = max(1, profile.workload.concurrency, int(plan.max_concurrency))
            assert plan.max_num_seqs <= cap, path.name


def test_unset_max_num_seqs_is_capped_at_what_fits() -> None:
    # Llama-3.1-8B on an H100 (vLLM 0.19: default 1024), max_model_len
    # 131,072: one request needs 131,072 x 131,072 B = 16 GiB of bf16 KV;
    # about 50 GiB of KV hold 3 of them -> max(workload 4, 3) = 4.
    resp = run_plan(request(llama_31_8b(), H100, max_model_len=131_072,
                            fitted_seqs=True))  # fmt: skip
    assert int(resp.max_concurrency) == 3
    assert resp.max_num_seqs == 4
    # Not even one request fits: at least 1 (the workload's concurrency 1).
    tiny = run_plan(request(llama_31_8b(), H100, util=0.3, max_model_len=131_072,
                            workload={"concurrency": 1}, fitted_seqs=True))  # fmt: skip
    assert tiny.max_num_seqs == 1


def test_idle_gpus_are_named_and_data_parallel_is_planned() -> None:
    import yaml

    from wizard_tui.launch import build_files, serve_argv

    # gpus 2, TP auto: Llama-3.1-8B starts on TP 1, so one GPU sits idle.
    idle = run_plan(request(llama_31_8b(), H100, tp=None, gpus=2,
                            max_model_len=8192))  # fmt: skip
    assert (idle.tp_size, idle.data_parallel_size) == (1, 1)
    assert ("1 GPU unused: set data_parallel_size 2 to serve with all of them "
            "(x2 throughput)") in idle.notes  # fmt: skip
    assert any(w.change == "data_parallel_size: 2" for w in idle.what_if)

    # data_parallel_size 2 (DP 2 x TP 1 = 2 GPUs): per-GPU figures and KV
    # tokens are one replica's, the same as on one GPU; 16 requests are 8 per
    # replica, so the workload fit counts both replicas.
    work = {"concurrency": 16}
    one = run_plan(request(llama_31_8b(), H100, tp=1, max_model_len=8192,
                           workload=work))  # fmt: skip
    two = run_plan(request(llama_31_8b(), H100, tp=1, gpus=2, max_model_len=8192,
                           workload=work, args={"data_parallel_size": 2}))  # fmt: skip
    assert two.data_parallel_size == 2
    assert two.per_gpu == one.per_gpu
    assert two.kv_cache == one.kv_cache
    assert two.workload.concurrency_fit == 2 * one.workload.concurrency_fit
    assert not any("unused" in n for n in two.notes)
    # Decode throughput in total: per-sequence speed at 8 per replica x 16.
    per_seq = two.speed.decode_tok_s_per_seq[1]
    assert two.speed.decode_tok_s_total[1] == per_seq * 8 * 2

    # More GPUs than hardware.gpus: DP x TP x PP = 2 x 2 = 4 > 2 (the schema
    # refuses it; a hand-built profile gets a blocker).
    four = request(llama_31_8b(), H100, tp=2, gpus=4, max_model_len=8192,
                   args={"data_parallel_size": 2})  # fmt: skip
    hw = four.profile.hardware.model_copy(update={"gpus": 2})
    over = run_plan(four.model_copy(
        update={"profile": four.profile.model_copy(update={"hardware": hw})}))  # fmt: skip
    assert any("TP 2 x PP 1 x DP 2 = 4 GPUs, but hardware.gpus is 2" in b
               for b in over.blockers)  # fmt: skip

    # The launch files: --data-parallel-size 2 (vllm_serve_flags.tsv: "total
    # GPUs = DP x TP x PP"), and 2 GPUs in docker, compose and Kubernetes.
    req = request(llama_31_8b(), H100, tp=1, gpus=4, max_model_len=8192,
                  args={"data_parallel_size": 2})  # fmt: skip
    plan = run_plan(req)
    argv = serve_argv(req.profile, plan)
    assert argv[argv.index("--data-parallel-size") + 1] == "2"
    assert argv.count("--data-parallel-size") == 1
    files = build_files(req.profile, plan, ["docker", "compose", "k8s"])
    docker = files["docker_run.sh"]
    assert "--gpus '\"device=0,1\"'" in docker, docker
    compose = yaml.safe_load(files["docker-compose.yaml"])
    devices = compose["services"]
    counts = [d["count"] for s in devices.values()
              for d in s["deploy"]["resources"]["reservations"]["devices"]]  # fmt: skip
    assert counts == [2]
    docs = list(yaml.safe_load_all(files["k8s.yaml"]))
    limits = [c["resources"]["limits"]["nvidia.com/gpu"]
              for d in docs if d and d["kind"] == "Deployment"
              for c in d["spec"]["template"]["spec"]["containers"]]  # fmt: skip
    assert limits == [2]
    # DP 1 writes no flag.
    assert "--data-parallel-size" not in serve_argv(*_one(req))


def _one(req):  # noqa: ANN001, ANN202
    profile = req.profile.model_copy(
        update={"outputs": req.profile.outputs.model_copy(update={"vllm_args": {}})}
    )
    return profile, run_plan(req.model_copy(update={"profile": profile}))


def test_sweep_cells_plan_the_same_max_num_seqs_as_run_plan() -> None:
    from wizard_tui.planner import sweep

    # Unset max_num_seqs: a sweep cell is planned like run_plan (capped at
    # what fits), so its KV tokens equal the plan's for that GPU and TP.
    req = request(llama_31_8b(), H100, tp=1, max_model_len=32_768,
                  fitted_seqs=True)  # fmt: skip
    rows = sweep(req, [H100], tps=(1,), kv_dtypes=("auto",))
    plan = run_plan(req)
    assert plan.max_num_seqs < 1024  # capped: the cell must be capped too
    assert rows[0].kv_tokens == plan.kv_cache.tokens


def test_a_fitting_plan_is_not_offered_marginal_changes() -> None:
    # Every what-if offered for a plan that fits adds at least 5% KV
    # capacity: DeepSeek-R1 on 8 x H200 was offered max_num_batched_tokens
    # 2048 for 861,760 -> 876,288 tokens (+1.7%), which is noise.
    for path in PROFILES:
        resp = run_plan(build_request(read_profile(path).profile))
        if not resp.fits:
            continue
        for w in resp.what_if:
            if w.change.startswith("data_parallel_size"):
                continue
            before, after = _kv_change(w.effect)
            assert after >= before * 1.05, (path.name, w)
