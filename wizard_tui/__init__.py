"""vllm-wizard-tui: will this model fit on these GPUs with vLLM, and how to launch it."""

__version__ = "0.1.0"
