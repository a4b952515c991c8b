"""Launch files for a plan: `vllm serve` argv, shell scripts, compose, Kubernetes.

Public API (the CLI's `generate` and the TUI's Review step call these):

- `serve_argv(profile, plan)`: ["vllm", "serve", <model>, flags...]
- `build_files(profile, plan, emit, profile_yaml=...)`: file name -> text
- `launch_warnings(profile, plan, emit)`: what the files leave out, and why

Only flags and values the target vLLM release accepts are written
(`wizard_tui.launch.flags`); nothing from a profile can become shell code.

Decisions (each also in the docstring where it is made):

- `ray` writes ray_cluster.sh only for a plan across nodes (TP x PP above
  hardware.gpus_per_node); for a one-node plan it is skipped with a warning.
  docker_run.sh then takes `head`/`worker HEAD_IP` roles, k8s.yaml becomes a
  LeaderWorkerSet; docker-compose.yaml stays one host, with a warning.
- --max-num-seqs and --max-num-batched-tokens are exactly plan.max_num_seqs
  and plan.max_num_batched_tokens: the planner alone decides them (vllm_args,
  else the workload.mode default with max_num_seqs capped at what fits,
  max(workload concurrency, floor(max concurrency)), at least 1) and plans
  with them. A vllm_args value the plan disagrees with is left out with a
  warning; without a plan, vllm_args' values are written as given.
- --quantization is omitted when the profile leaves it null or names the
  checkpoint's own method (PlanResponse.checkpoint_quantization); a method
  vLLM would refuse for that checkpoint is left out with a warning.
- Values vLLM would refuse (unknown flags, flags removed in or added after the
  target version, wrong types, values outside the choices) and secrets
  (hf_token values, api_key) are left out, each with a warning.
"""

from __future__ import annotations

from wizard_tui.launch.files import FILE_NAMES, build_files, launch_warnings
from wizard_tui.launch.serve import ServeCommand, build_serve, serve_argv

__all__ = [
    "FILE_NAMES",
    "ServeCommand",
    "build_files",
    "build_serve",
    "launch_warnings",
    "serve_argv",
]
