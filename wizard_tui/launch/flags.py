"""What `vllm serve` accepts: vLLM 0.34's flag table plus a history of changes.

Two data files ship beside this module (see ``data/README.md``):

- ``vllm_serve_flags.tsv``: every flag of `vllm serve` in vLLM 0.34.0, read from
  vLLM's own argument parser, with its type, aliases and choices;
- ``flag_history.tsv``: flags that older releases had and 0.34 lacks, or that
  0.34 has and older releases lacked, each row with its source.

`flag_args` turns one ``outputs.vllm_args`` entry into argv words for a target
version, or into a warning saying why it was left out. Nothing here runs a shell:
every value becomes one argv word.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from wizard_tui.schemas.profile import NEWEST_VLLM_VERSION, parse_version

TABLE_VERSION = NEWEST_VLLM_VERSION
"""The vLLM release vllm_serve_flags.tsv was read from."""

Version = tuple[int, int, int]


@dataclass(frozen=True)
class FlagSpec:
    """One `vllm serve` flag as the table describes it."""

    name: str
    """snake_case name, e.g. ``max_model_len``."""
    option: str
    """The long option, e.g. ``--max-model-len``."""
    type: str
    """The table's type text: ``int``, ``bool``, ``flag``, ``JSON ...``, ..."""
    choices: tuple[str, ...] = ()
    """Allowed values; empty when any value of the type is allowed."""
    open_choices: bool = False
    """True when values outside `choices` are allowed too (plugins, paths)."""
    negative: str | None = None
    """The option that sets a bool flag to False (``--no-x``, ``--disable-x``)."""
    default: str = ""
    """The table's default text (``False``, ``None``, ``8000`` ...)."""

    @property
    def kind(self) -> str:
        """A coarse kind: flag, bool, json, list, repeat, csv, int, float, str."""
        t = self.type
        if t == "flag":
            return "flag"
        if t == "bool":
            return "bool"
        if t.startswith("JSON") or t == "str|JSON":
            return "json"
        if t.startswith("list["):
            return "list"
        if "repeatable" in t:
            return "repeat"
        if t.startswith("comma-separated"):
            return "csv"
        if t.startswith("int"):
            return "int"
        if t.startswith("float"):
            return "float"
        if t.startswith("str or bare flag"):
            return "str_or_flag"
        return "str"


@dataclass(frozen=True)
class HistoryRow:
    """A flag (or one choice, ``flag=value``) that some supported release lacks."""

    key: str
    added: Version | None
    removed: Version | None
    replacement: str
    type: str
    source: str


def _data_lines(name: str) -> list[str]:
    text = (
        resources.files("wizard_tui.launch")
        .joinpath("data", name)
        .read_text(encoding="utf-8")
    )
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def _snake(option: str) -> str:
    return option.lstrip("-").replace("-", "_")


@cache
def flag_table() -> dict[str, FlagSpec]:
    """The 0.34 flags by snake_case name (the positional model tag excluded)."""
    rows = csv.DictReader(_data_lines("vllm_serve_flags.tsv"), delimiter="\t")
    table: dict[str, FlagSpec] = {}
    for row in rows:
        option = row["flag"]
        if not option.startswith("--"):
            continue
        aliases = [a.strip() for a in row["aliases"].split(",") if a.strip()]
        negative = next(
            (a for a in aliases if a.startswith(("--no-", "--disable-", "--enable-"))),
            None,
        )
        raw_choices = [c.strip() for c in row["choices"].split("|") if c.strip()]
        open_choices = any("<" in c or "(" in c for c in raw_choices)
        choices = tuple(
            c for c in raw_choices if c != "None" and "<" not in c and "(" not in c
        )
        table[_snake(option)] = FlagSpec(
            name=_snake(option),
            option=option,
            type=row["type"],
            choices=choices,
            open_choices=open_choices,
            negative=negative if row["type"] == "bool" else None,
            default=row["default"],
        )
    return table


@cache
def negative_aliases() -> dict[str, str]:
    """Negative bool forms (``disable_log_requests``) -> the flag they negate."""
    return {
        _snake(spec.negative): name
        for name, spec in flag_table().items()
        if spec.negative is not None
    }


def _version_or_none(text: str) -> Version | None:
    return parse_version(text) if text.strip() else None


@cache
def flag_history() -> dict[str, HistoryRow]:
    """flag_history.tsv by key (snake_case flag, or ``flag=value``)."""
    rows = csv.DictReader(_data_lines("flag_history.tsv"), delimiter="\t")
    return {
        row["flag"]: HistoryRow(
            key=row["flag"],
            added=_version_or_none(row["added"]),
            removed=_version_or_none(row["removed"]),
            replacement=row["replacement"],
            type=row["type"],
            source=row["source"],
        )
        for row in rows
    }


def target_version(text: str | None) -> Version:
    """The profile's ``engine.vllm_version`` as a tuple; None = the newest (0.34)."""
    return parse_version(text or NEWEST_VLLM_VERSION)


def version_text(version: Version) -> str:
    return ".".join(str(part) for part in version)


def _row_allows(row: HistoryRow, target: Version) -> bool:
    if row.added is not None and target < row.added:
        return False
    return not (row.removed is not None and target >= row.removed)


def _uses_table(target: Version) -> bool:
    return target[:2] >= parse_version(TABLE_VERSION)[:2]


def absent_reason(key: str, target: Version) -> str | None:
    """Why flag (or ``flag=value``) `key` is not in vLLM `target`, or None.

    For 0.34 the table answers; for older targets the history answers first,
    then the table (a 0.34 flag without a history row is assumed to exist in
    every supported release: only additions with a source are recorded).
    """
    row = flag_history().get(key)
    name = key.split("=", 1)[0]
    known = name in flag_table() or name in negative_aliases()
    if _uses_table(target) and "=" not in key and known:
        return None
    if row is not None and not _row_allows(row, target):
        if row.added is not None and target < row.added:
            return f"added in vLLM {version_text(row.added)}"
        assert row.removed is not None
        hint = f"; use {row.replacement} instead" if row.replacement else ""
        return f"removed in vLLM {version_text(row.removed)}{hint}"
    if row is not None or known:
        return None
    return "not a `vllm serve` flag"


def spec_for(name: str, target: Version) -> FlagSpec | None:
    """The flag's spec for `target`: the 0.34 table, else the history's type."""
    if name in flag_table():
        return flag_table()[name]
    row = flag_history().get(name)
    if row is not None and row.type:
        return FlagSpec(name=name, option="--" + name.replace("_", "-"), type=row.type)
    return None


def json_text(value: Any) -> str:
    """A JSON value as vLLM's JSON flags take it: compact, Unicode kept as is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _option_value(option: str, text: str) -> list[str]:
    # A value starting with "-" would be read by argparse as another option;
    # the --flag=value form keeps it a value (checked with vLLM's parser).
    if text.startswith("-"):
        return [f"{option}={text}"]
    return [option, text]


class FlagError(ValueError):
    """A vllm_args entry that cannot be written for the target version."""


def flag_args(name: str, value: Any, target: Version) -> list[str]:
    """argv words for one vllm_args entry; FlagError says why it is left out.

    Conventions (vllm_serve_flags.tsv header): True -> ``--flag``; False ->
    the negative alias the table lists (``--no-x``/``--disable-x``), or nothing
    for plain flags, whose default is False; lists of space-separated types ->
    ``--flag a b``; repeatable -> ``--flag a --flag b``; JSON types -> one
    compact JSON word; None -> nothing (unset).
    """
    if value is None:
        return []

    negated = name in negative_aliases() and name not in flag_table()
    if negated and _uses_table(target):
        if not isinstance(value, bool):
            raise FlagError(f"takes true or false, not {value!r}")
        return flag_args(negative_aliases()[name], not value, target)

    reason = absent_reason(name, target)
    if reason is not None:
        raise FlagError(reason)
    spec = spec_for(name, target)
    if spec is None:
        raise FlagError("its type is not known for this version")
    kind = spec.kind

    if kind in ("flag", "bool"):
        if not isinstance(value, bool):
            raise FlagError(f"takes true or false, not {value!r}")
        if value:
            return [spec.option]
        if _uses_table(target):
            return [spec.negative] if spec.negative else []
        # Older releases may lack 0.34's negative aliases: where False is the
        # default, saying nothing means the same; otherwise argparse's own
        # --no-<flag> form (BooleanOptionalAction, which 0.34 still accepts).
        if spec.default == "False" or spec.negative is None:
            return []
        return ["--no-" + spec.option[2:]]

    if kind == "str_or_flag":
        if value is True:
            return [spec.option]
        raise FlagError(
            "a secret is never written into a launch file; vLLM reads the token "
            "from the HF_TOKEN environment variable"
        )

    if kind == "json":
        if isinstance(value, str):
            return _option_value(spec.option, value)
        return _option_value(spec.option, json_text(value))

    if kind in ("list", "repeat", "csv"):
        items = value if isinstance(value, list) else [value]
        if not items:
            return []
        if any(isinstance(i, (dict, list)) for i in items):
            raise FlagError(f"takes a list of plain values, not {value!r}")
        texts = [_scalar_text(i) for i in items]
        for text in texts:
            _check_choice(spec, text, target)
        if kind == "csv":
            return _option_value(spec.option, ",".join(texts))
        if kind == "repeat":
            return [word for t in texts for word in _option_value(spec.option, t)]
        if len(texts) == 1:
            return _option_value(spec.option, texts[0])
        if any(t.startswith("-") for t in texts):
            raise FlagError("a list item starting with '-' would be read as a flag")
        return [spec.option, *texts]

    if isinstance(value, (dict, list)):
        raise FlagError(f"takes one value, not {value!r}")
    _check_scalar_type(spec, value)
    text = _scalar_text(value)
    _check_choice(spec, text, target)
    return _option_value(spec.option, text)


def _check_scalar_type(spec: FlagSpec, value: Any) -> None:
    kind = spec.kind
    suffixes = "k/M/G" in spec.type or "auto" in spec.type
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        if not ok and isinstance(value, str) and suffixes:
            ok = bool(value.strip())
        if not ok:
            raise FlagError(f"takes an integer, not {value!r}")
    elif kind == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or not math.isfinite(value):
            raise FlagError(f"takes a number, not {value!r}")
    elif isinstance(value, bool):
        raise FlagError(f"takes text, not {value!r}")


def _check_choice(spec: FlagSpec, text: str, target: Version) -> None:
    key = f"{spec.name}={text}"
    if key in flag_history():
        reason = absent_reason(key, target)
        if reason is not None:
            raise FlagError(f"{text!r} is not accepted: {reason}")
        return
    if spec.choices and not spec.open_choices and text not in spec.choices:
        shown = ", ".join(spec.choices[:12])
        more = ", ..." if len(spec.choices) > 12 else ""
        raise FlagError(f"{text!r} is not one of its choices ({shown}{more})")
