"""Words and bars for a plan: what the fit panel and the review step print.

Everything here is a pure function of a `PlanResponse` (and the profile it was
made for), so it is tested without running the app. The verdict comes first and
in words; the memory bar uses a letter per kind of memory, so it reads without
colour (NO_COLOR, screen readers, a pasted screenshot).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.text import Text

from wizard_tui.schemas.plan import PlanResponse
from wizard_tui.schemas.profile import Profile

GIB = 2**30


@dataclass(frozen=True)
class Segment:
    letter: str
    label: str
    gib: float
    style: str


def tokens_short(tokens: int) -> str:
    """8192 -> '8k', 1536 -> '1.5k', 1000 -> '1,000' (k = 1024 tokens, as the
    context lengths in model cards are written)."""
    if tokens >= 1024 and tokens % 1024 == 0:
        return f"{tokens // 1024}k"
    if tokens >= 1024:
        # 65,535 reads "64.0k" otherwise, beside "64k" for 65,536.
        return f"{tokens / 1024:.1f}".removesuffix(".0") + "k"
    return f"{tokens:,}"


def shortfall_gib(plan: PlanResponse, profile: Profile) -> float | None:
    """GiB per GPU missing for the plan to fit, when the plan allows saying so.

    Not starting: the KV cache of one full `max_model_len` request
    (bytes_per_token x max_model_len, CONTRACT.md) minus what the budget leaves
    for KV (usable - weights - activation - non-torch - graphs - other).
    Starting but not fitting: the workload's KV need (requests x (prompt + gen)
    x fragmentation_factor x bytes_per_token) minus the KV memory, or the
    headroom the free memory misses.
    """
    per_token = plan.kv_cache.bytes_per_token
    kv_gib = plan.per_gpu.kv_cache_gib
    if not plan.vllm_starts:
        if per_token is None:
            return None
        # What the budget leaves for KV after everything else; negative when
        # the weights alone exceed it (the planner may report KV as 0 then).
        g = plan.per_gpu
        left = g.usable_gib - (
            g.weights_gib
            + g.activation_gib
            + g.non_torch_gib
            + g.cuda_graph_gib
            + max(g.other_gib, 0.0)
        )
        need = per_token * plan.max_model_len / GIB
        short = need - min(kv_gib, left)
        return short if short > 0.05 else None
    if plan.fits:
        return None
    workload = profile.workload
    if per_token is not None and plan.workload.concurrency_fit < workload.concurrency:
        tokens = workload.prompt_tokens + workload.gen_tokens
        need = (
            workload.concurrency
            * tokens
            * profile.policy.fragmentation_factor
            * per_token
            / GIB
        )
        short = need - kv_gib
        return short if short > 0.05 else None
    headroom = profile.policy.headroom_gb
    if plan.per_gpu.free_gib < headroom:
        return headroom - plan.per_gpu.free_gib
    return None


def verdict(plan: PlanResponse, profile: Profile) -> str:
    """One line: 'fits: 96 sequences of 8k, 12.3 GiB KV per GPU' or 'does not
    fit: short by 4.1 GiB per GPU'."""
    kv = plan.per_gpu.kv_cache_gib
    if plan.fits:
        sequences = int(plan.max_concurrency)
        return (
            f"fits: {sequences} sequences of {tokens_short(plan.max_model_len)}, "
            f"{kv:.1f} GiB KV per GPU"
        )
    short = shortfall_gib(plan, profile)
    if plan.vllm_starts:
        fit = plan.workload.concurrency_fit
        wanted = profile.workload.concurrency
        head = f"does not fit: {fit} of {wanted} requests at once"
        if short is not None:
            head += f", short by {short:.1f} GiB per GPU"
        return head
    if short is not None:
        return f"does not fit: short by {short:.1f} GiB per GPU"
    return "does not fit: vLLM would not start"


def segments(plan: PlanResponse) -> list[Segment]:
    """The parts of one GPU's CUDA total, in GiB, in the order vLLM takes them."""
    g = plan.per_gpu
    kv = max(g.kv_cache_gib, 0.0)
    parts = [
        Segment("W", "weights", g.weights_gib, "on dark_orange3"),
        Segment("A", "act", g.activation_gib, "on magenta"),
        Segment("N", "non-torch", g.non_torch_gib, "on blue"),
        Segment("G", "graphs", g.cuda_graph_gib, "on cyan"),
        Segment("K", "KV", kv, "on green"),
    ]
    if g.other_gib >= 0.05:
        # The margin 0.34 keeps inside the budget, and the rest: its own
        # letter, so the non-torch figure stays the planner's.
        parts.append(Segment("O", "other", g.other_gib, "on grey50"))
    used = sum(p.gib for p in parts)
    parts.append(Segment(".", "free", max(g.total_gib - used, 0.0), ""))
    return parts


def memory_bar(plan: PlanResponse, width: int) -> Text:
    """A bar `width` cells wide: one letter per kind of memory, cells shared out
    by largest remainder so the bar always fills exactly `width` cells."""
    parts = segments(plan)
    total = max(plan.per_gpu.total_gib, sum(p.gib for p in parts), 1e-9)
    exact = [p.gib / total * width for p in parts]
    cells = [int(x) for x in exact]
    # A non-zero part gets at least one cell when there is room, so it shows.
    for i, part in enumerate(parts):
        if part.gib >= 0.05 and cells[i] == 0 and sum(cells) < width:
            cells[i] = 1
    order = sorted(range(len(parts)), key=lambda i: exact[i] - cells[i], reverse=True)
    i = 0
    while sum(cells) < width and order:
        cells[order[i % len(order)]] += 1
        i += 1
    while sum(cells) > width:
        biggest = max(range(len(cells)), key=lambda j: cells[j])
        cells[biggest] -= 1
    bar = Text()
    for part, count in zip(parts, cells, strict=True):
        bar.append(part.letter * count, style=part.style)
    return bar


def legend(plan: PlanResponse, width: int = 36) -> list[str]:
    """'W weights 15.0  A activation 0.5' ... in GiB, as many to a line as fit."""
    items = [f"{p.letter} {p.label} {p.gib:.1f}" for p in segments(plan)]
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + 2 + len(item) <= width:
            lines[-1] += "  " + item
        else:
            lines.append(item)
    return lines


_KV_EFFECT = re.compile(
    r"KV cache [\d,]+ -> (?P<new>[\d,]+) tokens \((?P<pct>[+-]?\d+%)\)"
)
_CONCURRENCY = re.compile(r"max concurrency [\d.,]+x -> (?P<new>[\d.,]+x)")


def short_hint(change: str, effect: str) -> str:
    """A what-if in a line or two: 'gpus: 2 with tp_size 2: KV +451%, 35.84x
    max concurrency, starts', condensed from the planner's effect text."""
    kv = _KV_EFFECT.search(effect)
    concurrency = _CONCURRENCY.search(effect)
    if not kv and not concurrency:
        return f"{change}: {effect}"
    parts = []
    if kv and kv["pct"] not in ("+0%", "0%", "-0%"):
        parts.append(f"KV {kv['pct']}")
    if concurrency:
        parts.append(f"{concurrency['new']} max concurrency")
    if ";" in effect:
        parts.append(effect.rsplit(";", 1)[-1].strip())
    return f"{change}: {', '.join(parts)}"


_PANEL_SHORT_NAMES = (
    ("gpu_memory_utilization", "util"),
    ("max_num_batched_tokens", "batched tokens"),
    ("max_num_seqs", "max seqs"),
)


def short_warning(warning: str, limit: int) -> str:
    """The first clause of a warning, cut to `limit` characters."""
    head = warning.split(";", 1)[0].strip()
    if len(head) > limit:
        # Long flag names crowd out the news ("... withholds 2.20 GiB"); the
        # Review step shows every warning whole.
        for long, short in _PANEL_SHORT_NAMES:
            head = head.replace(long, short)
    if len(head) > limit:
        cut = head[: max(limit - 3, 1)]
        # End on a whole word ("withholds", not "withh..."), unless that
        # leaves too little of it.
        space = cut.rfind(" ")
        if head[len(cut)] != " " and space >= limit // 2:
            cut = cut[:space]
        head = cut.rstrip(" ,:(") + "..."
    return head


def workload_line(plan: PlanResponse, profile: Profile) -> str:
    """'workload: all 16 requests fit (room for 289)' or '... 3 of 16 fit'."""
    fit = plan.workload.concurrency_fit
    wanted = plan.workload.requested or profile.workload.concurrency
    tokens = plan.workload.tokens_per_request or (
        profile.workload.prompt_tokens + profile.workload.gen_tokens
    )
    size = tokens_short(tokens)
    if fit >= wanted:
        return f"workload: all {wanted:,} requests of {size} fit (room for {fit:,})"
    return f"workload: {fit:,} of {wanted:,} requests of {size} fit"


def speed_line(plan: PlanResponse) -> str | None:
    """Typical decode and first-token estimates at the workload's concurrency."""
    s = plan.speed
    if len(s.itl_ms) < 2 or len(s.ttft_ms) < 2:
        # No estimate (no bandwidth figure, or vLLM would not start): say why.
        return f"speed {s.label}" if s.label and s.label != "estimate" else None
    return (
        f"~{s.decode_tok_s_per_seq[1]:.0f} tok/s each, "
        f"{s.decode_tok_s_total[1]:,.0f} total, "
        f"TTFT {s.ttft_ms[1]:,.0f} ms"
    )


def panel_text(
    plan: PlanResponse,
    profile: Profile,
    *,
    width: int,
    stale: str | None = None,
    warnings: int = 2,
    hints: int = 3,
) -> Text:
    """The fit panel's whole text: verdict first, then the numbers.

    `stale` is the reason the plan is out of date (an invalid field); the last
    valid plan is still shown, with that reason right under its verdict.
    """
    text = Text()
    ok = "bold green" if plan.fits else "bold red"
    text.append(verdict(plan, profile) + "\n", style=ok if not stale else "bold dim")
    if stale:
        text.append("stale:", style="bold reverse")
        text.append(f" {stale}\n", style="italic")
    if plan.blockers:
        # The Review step shows every blocker whole.
        text.append(f"{short_warning(plan.blockers[0], width * 3)}\n", style="red")

    gpus = plan.tp_size * plan.pp_size
    idle = profile.hardware.gpus - gpus * plan.data_parallel_size
    text.append(
        f"{gpus}x {plan.gpu_name or 'GPU'} {plan.per_gpu.total_gib:.1f} GiB "
        f"TP{plan.tp_size} PP{plan.pp_size}"
        + (f" DP{plan.data_parallel_size}" if plan.data_parallel_size > 1 else "")
        + f" vLLM {plan.engine_version}\n",
    )
    if idle > 0:
        # Auto TP takes the smallest TP that starts; the rest sit idle unless
        # data parallelism (a what-if) puts replicas on them.
        text.append(f"{idle} of {profile.hardware.gpus} GPUs idle\n", style="yellow")
    text.append_text(memory_bar(plan, max(width, 10)))
    text.append("\n")
    for line in legend(plan, width):
        text.append(line + "\n", style="dim")

    text.append(
        f"KV {plan.kv_cache.tokens:,} tokens, {plan.max_concurrency:.1f}x "
        f"{tokens_short(plan.max_model_len)}\n"
    )
    text.append(workload_line(plan, profile) + "\n")
    text.append(f"max_model_len that fits: {plan.max_model_len_fit:,}\n")
    speed = speed_line(plan)
    if speed:
        text.append(speed + "\n", style="dim")
    for warning in plan.warnings[:warnings]:
        limit = width * (2 if warnings > 1 else 1) - 2
        text.append(f"! {short_warning(warning, limit)}\n", style="yellow")
    if plan.what_if[:hints]:
        text.append("what if:\n", style="bold")
    for hint in plan.what_if[:hints]:
        text.append(f"> {short_hint(hint.change, hint.effect)}\n")
    text.rstrip()
    return text
