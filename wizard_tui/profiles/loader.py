"""Reading a profile file that may be malformed, hostile or written by the
original vllm-wizard tool.

A teammate's file is untrusted input. The steps, each refusing with a message
of the form ``file:line: field: what is wrong (allowed: ...)``:

1. stat: a regular file, at most ``MAX_PROFILE_BYTES``;
2. bytes: UTF-8 (a BOM is fine), no NUL or other binary control bytes;
3. YAML events: no anchors or aliases (billion-laughs bombs), no explicit tags
   (``!!python/object`` and friends), one document;
4. YAML nodes: a mapping at the top, no duplicate keys; every key's line is
   remembered so pydantic's errors can point at it;
5. version: a number, not newer than this program, migrated up if older;
6. pydantic: the `Profile` schema, strict (text is not a number, a boolean is
   not a number, NaN and infinity refused), with legacy values normalised and
   each normalisation reported as a note.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from wizard_tui.profiles.migrations import migrate
from wizard_tui.schemas.profile import PROFILE_VERSION, Profile

log = logging.getLogger(__name__)

MAX_PROFILE_BYTES = 256 * 1024
"""Profiles are a few hundred bytes; anything this large is not one."""

_MAX_DEPTH = 12
_MAX_NODES = 20_000


class ProfileError(ValueError):
    """A file that is not a valid profile. ``str(e)`` is the whole message."""

    def __init__(self, path: str | os.PathLike[str], problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class LoadedProfile:
    """A profile as read from disk, with what loading noticed."""

    profile: Profile
    path: Path
    notes: list[str] = field(default_factory=list)
    fingerprint: str | None = None
    """sha256 of the bytes read, to notice a file changed on disk before a save."""
    lines: dict[tuple[str, ...], int] = field(default_factory=dict)
    """Line of each key path in the file, for messages about its values."""


def fingerprint_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_profile(path: str | os.PathLike[str]) -> LoadedProfile:
    """Read, check and validate a profile file; raise `ProfileError` if bad."""
    if not str(path).strip():
        raise ProfileError(
            "<empty>", ["no profile file name given (give the path of a .yaml profile)"]
        )
    path = Path(path)
    data = _read_bytes(path)
    text = _decode(path, data)
    raw, lines = parse_yaml_mapping(text, str(path))
    notes: list[str] = []
    raw = _upgrade(path, raw, lines, notes)
    profile = validate_profile(raw, str(path), lines, notes)
    _require_identity(str(path), raw, lines)
    return LoadedProfile(profile, path, notes, fingerprint_bytes(data), lines)


def load_profile(path: str | os.PathLike[str]) -> Profile:
    """The original tool's name: read a profile file and return the `Profile`."""
    return read_profile(path).profile


def profile_from_text(text: str, name: str = "<text>") -> LoadedProfile:
    """Validate profile YAML held in memory (the TUI's diff, tests)."""
    raw, lines = parse_yaml_mapping(text, name)
    notes: list[str] = []
    raw = _upgrade(Path(name), raw, lines, notes)
    profile = validate_profile(raw, name, lines, notes)
    _require_identity(name, raw, lines)
    return LoadedProfile(profile, Path(name), notes)


def _read_bytes(path: Path) -> bytes:
    where = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ProfileError(
            path, [f"{where}: no such file (give the path of a .yaml profile)"]
        ) from None
    except OSError as exc:
        raise ProfileError(path, [f"{where}: cannot be read: {exc.strerror}"]) from None
    if stat.S_ISDIR(info.st_mode):
        raise ProfileError(
            path,
            [f"{where}: is a folder, not a profile file (give a .yaml file inside it)"],
        )
    if not stat.S_ISREG(info.st_mode):
        raise ProfileError(path, [f"{where}: is not a regular file"])
    if info.st_size > MAX_PROFILE_BYTES:
        raise ProfileError(
            path,
            [
                f"{where}: file is {info.st_size:,} bytes, too large for a profile "
                f"(allowed: up to {MAX_PROFILE_BYTES:,} bytes)"
            ],
        )
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_PROFILE_BYTES + 1)
    except PermissionError:
        raise ProfileError(
            path, [f"{where}: permission denied (make the file readable)"]
        ) from None
    except OSError as exc:
        raise ProfileError(path, [f"{where}: cannot be read: {exc.strerror}"]) from None
    if len(data) > MAX_PROFILE_BYTES:
        raise ProfileError(
            path, [f"{where}: file grew past {MAX_PROFILE_BYTES:,} bytes while reading"]
        )
    return data


def _decode(path: Path, data: bytes) -> str:
    where = str(path)
    if not data.strip():
        raise ProfileError(
            path, [f"{where}: the file is empty (a profile needs at least model.id)"]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ProfileError(
            path,
            [
                f"{where}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save the file as UTF-8"
            ],
        ) from None
    for index, char in enumerate(text):
        if char == "\0" or (ord(char) < 32 and char not in "\t\n\r"):
            line = text[:index].count("\n") + 1
            raise ProfileError(
                path,
                [
                    f"{where}:{line}: binary control character {ord(char):#04x}; a profile is plain YAML text"
                ],
            )
    return text


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader; structure checks happen on events and nodes.

    Its implicit types are narrowed where YAML 1.1 would silently misread a
    teammate's value: dates stay text (``0.10`` style versions and
    ``2001-12-14`` are not turned into dates), ``1e400`` and ``9e-1`` are
    floats as in YAML 1.2, and ``0o10`` is tagged an integer so that `_walk`
    can refuse it with the other non-decimal forms (``010`` octal, ``0x2``,
    ``1:30`` base 60).
    """


_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _FLOAT,
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(_INT, re.compile(r"^[-+]?0o[0-7_]+$"), list("-+0"))
_DECIMAL_INT = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)")


def _misread_scalar(node: yaml.ScalarNode) -> str | None:
    """Why YAML 1.1 would read this plain scalar as something other than what
    it looks like, or None when it reads as written."""
    if node.style is not None:
        return None
    text = node.value
    if node.tag == _INT and not _DECIMAL_INT.fullmatch(text):
        digits = text.lstrip("+-")
        if ":" in text:
            form = "a base-60 (hh:mm) number"
        elif digits[:2] in ("0x", "0o", "0b"):
            form = {"0x": "hexadecimal", "0o": "octal", "0b": "binary"}[digits[:2]]
        else:
            form = "octal (a leading 0)"
        return (
            f"{text} is read by YAML as {form}, not the number it looks like; "
            "write it in plain decimal digits"
        )
    if node.tag == _FLOAT and ":" in text:
        return (
            f"{text} is read by YAML as a base-60 (hh:mm) number; write a decimal "
            "number (e.g. 0.9)"
        )
    if node.tag == _BOOL and text.lower() not in ("true", "false"):
        return (
            f"{text} is read by YAML as a boolean; write true or false for a "
            f"switch, or quote it ('{text}') for text"
        )
    return None


def parse_yaml_mapping(
    text: str, where: str
) -> tuple[dict[str, Any], dict[tuple[str, ...], int]]:
    """Parse untrusted YAML into a plain dict and a map of key path -> line."""
    loader = _Loader(text)
    try:
        _check_events(loader, where)
    finally:
        loader.dispose()

    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ProfileError(
                where,
                [
                    f"{where}: the file holds no YAML document (a profile needs at least model.id)"
                ],
            )
        lines: dict[tuple[str, ...], int] = {}
        if not isinstance(node, yaml.MappingNode):
            kind = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
            raise ProfileError(
                where,
                [
                    f"{where}:{node.start_mark.line + 1}: the top of a profile must be a mapping of sections (model:, hardware:, ...), not {kind}"
                ],
            )
        _walk(node, (), lines, where, 0, [0])
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ProfileError(where, [_yaml_message(where, exc)]) from None
    except RecursionError:  # _check_events stops deep nesting first
        raise ProfileError(where, [_too_deep(where)]) from None
    finally:
        loader.dispose()
    return data, lines


def _check_events(loader: yaml.SafeLoader, where: str) -> None:
    documents = 0
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            line = event.start_mark.line + 1
            # Depth is checked here, on the flat event stream, because PyYAML
            # builds nodes recursively: a few hundred nested brackets would
            # exhaust Python's stack before `_walk` could refuse them.
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > _MAX_DEPTH + 1:
                    raise ProfileError(where, [_too_deep(f"{where}:{line}")])
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
            if isinstance(event, yaml.AliasEvent):
                raise ProfileError(
                    where,
                    [
                        f"{where}:{line}: YAML aliases (*{event.anchor}) are not allowed in profiles; write the value out"
                    ],
                )
            if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
                raise ProfileError(
                    where,
                    [
                        f"{where}:{line}: YAML anchors (&{event.anchor}) are not allowed in profiles; write the value out"
                    ],
                )
            tag = getattr(event, "tag", None)
            implicit = getattr(event, "implicit", True)
            explicit = tag is not None and (
                isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent))
                or implicit in (False, (False, False))
            )
            if explicit and tag not in ("!", "tag:yaml.org,2002:str"):
                raise ProfileError(
                    where,
                    [
                        f"{where}:{line}: YAML tag {tag!r} is not allowed in profiles; write plain values"
                    ],
                )
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise ProfileError(
                        where,
                        [
                            f"{where}:{line}: more than one YAML document; a profile is one document"
                        ],
                    )
    except yaml.YAMLError as exc:
        raise ProfileError(where, [_yaml_message(where, exc)]) from None
    except RecursionError:
        raise ProfileError(where, [_too_deep(where)]) from None


def _too_deep(where: str) -> str:
    return (
        f"{where}: nested too deeply for a profile (allowed: up to {_MAX_DEPTH} levels)"
    )


def _walk(
    node: yaml.Node,
    path: tuple[str, ...],
    lines: dict[tuple[str, ...], int],
    where: str,
    depth: int,
    count: list[int],
) -> None:
    count[0] += 1
    if depth > _MAX_DEPTH or count[0] > _MAX_NODES:
        raise ProfileError(
            where,
            [
                f"{where}:{node.start_mark.line + 1}: nested too deeply or too many values for a profile"
            ],
        )
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode):
        problem = _misread_scalar(node)
        info = _field_for(path) if problem else None
        if info is not None and _is_number_field(info):
            problem += f" (allowed: {_range_text(info)})"
        if problem:
            raise ProfileError(
                where,
                [
                    f"{where}:{node.start_mark.line + 1}: {_dotted(path) or 'value'}: {problem}"
                ],
            )
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise ProfileError(
                    where,
                    [
                        f"{where}:{line}: {_dotted(path) or 'top level'}: keys must be plain names"
                    ],
                )
            key = key_node.value
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise ProfileError(
                    where,
                    [
                        f"{where}:{line}: {_dotted(path) or 'top level'}: YAML merge keys (<<) are not allowed in profiles; write the keys out"
                    ],
                )
            if key in seen:
                raise ProfileError(
                    where,
                    [
                        f"{where}:{line}: {_dotted(path + (key,))}: duplicate key (first given on line {seen[key]}); keep one"
                    ],
                )
            seen[key] = line
            lines[path + (key,)] = line
            _walk(value_node, path + (key,), lines, where, depth + 1, count)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, path + (str(index),), lines, where, depth + 1, count)


def _yaml_message(where: str, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = f":{mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    detail = f"{context}, {problem}" if context else problem
    return f"{where}{line}: YAML syntax error: {detail}"


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path)


def _upgrade(
    path: Path, raw: dict[str, Any], lines: dict[tuple[str, ...], int], notes: list[str]
) -> dict[str, Any]:
    where = str(path)
    version = raw.get("profile_version")
    line = lines.get(("profile_version",), 1)
    if "profile_version" not in raw:
        notes.append(f"profile_version missing; read as version {PROFILE_VERSION}")
        version = PROFILE_VERSION
    if isinstance(version, bool) or not isinstance(version, int):
        raise ProfileError(
            path,
            [
                f"{where}:{line}: profile_version: {_value_text(version)} is not a whole number (allowed: {_versions_allowed()})"
            ],
        )
    if version > PROFILE_VERSION:
        raise ProfileError(
            path,
            [
                f"{where}:{line}: profile_version: {version} was written by a newer "
                f"vllm-wizard-tui; this one reads versions up to {PROFILE_VERSION} "
                "(upgrade vllm-wizard-tui to open it)"
            ],
        )
    if version < 1:
        raise ProfileError(
            path,
            [
                f"{where}:{line}: profile_version: {version} is not a version (allowed: {_versions_allowed()})"
            ],
        )
    upgraded = migrate(raw, version, notes)
    if "profile_version" not in upgraded:
        upgraded = {"profile_version": PROFILE_VERSION, **upgraded}
    return upgraded


def _require_identity(
    where: str, raw: dict[str, Any], lines: dict[tuple[str, ...], int]
) -> None:
    """A file must say which model and which GPU: the schema's defaults are a
    starting point for new profiles in the app, never a silent stand-in for a
    file that left them out."""
    problems = []
    model = raw.get("model")
    if isinstance(model, dict) and "id" not in model:
        line = lines.get(("model",), 1)
        problems.append(
            f"{where}:{line}: model.id: missing (allowed: a Hugging Face repo id such as "
            "meta-llama/Llama-3.1-8B-Instruct, or a folder holding config.json)"
        )
    elif "model" not in raw:
        problems.append(
            f"{where}:1: model: missing (add a model: section with id: <Hugging Face "
            "repo id or folder>)"
        )
    hardware = raw.get("hardware")
    if (
        isinstance(hardware, dict)
        and "gpu_name" not in hardware
        and "vram_gb" not in hardware
    ):
        line = lines.get(("hardware",), 1)
        problems.append(
            f"{where}:{line}: hardware.gpu_name: missing (allowed: a GPU name such as "
            "'H100' or 'NVIDIA L40S', or hardware.vram_gb in GiB per GPU)"
        )
    elif "hardware" not in raw:
        problems.append(
            f"{where}:1: hardware: missing (add a hardware: section with gpu_name and gpus)"
        )
    if problems:
        raise ProfileError(where, problems)


def _versions_allowed() -> str:
    return "1" if PROFILE_VERSION == 1 else f"1 to {PROFILE_VERSION}"


def validate_profile(
    raw: dict[str, Any],
    where: str,
    lines: dict[tuple[str, ...], int] | None = None,
    notes: list[str] | None = None,
) -> Profile:
    """Validate a parsed mapping against the schema, with located messages."""
    lines = lines or {}
    try:
        return Profile.model_validate(
            raw, context={"notes": notes if notes is not None else []}
        )
    except ValidationError as exc:
        problems = [_format_error(where, err, lines) for err in exc.errors()]
        raise ProfileError(where, _dedupe(problems)) from None


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _format_error(where: str, err: Any, lines: dict[tuple[str, ...], int]) -> str:
    loc = tuple(str(part) for part in err["loc"])
    # Union members add their type name to the location (e.g. 'int'); drop it.
    clean = tuple(p for p in loc if p not in _TYPE_LOC_NAMES)
    line = _line_for(clean, lines)
    file_only = where
    where = where if line is None else f"{where}:{line}"
    name = ".".join(clean) or "profile"
    value = err.get("input")
    kind = err["type"]
    message = err["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    allowed = _allowed(clean, kind, err)
    if kind == "extra_forbidden":
        hint = _did_you_mean(clean)
        return f"{where}: {name}: unknown key{hint}"
    cross = re.match(r"^([a-z_]+\.[a-z_]+|[a-z_]+): ", message)
    if not clean and cross:
        # A cross-field rule names its own field; point at that field's line.
        field_path = tuple(cross.group(1).split("."))
        line = _line_for(field_path, lines)
        return f"{file_only}{'' if line is None else f':{line}'}: {message}"
    if kind == "model_type":
        section = clean[-1] if clean else "profile"
        return (
            f"{where}: {name}: {_show(value) if value is not None else 'null: '}"
            f"must be a mapping of fields (write them indented below `{section}:`)"
        )
    if kind in (
        "int_type",
        "float_type",
        "int_parsing",
        "float_parsing",
    ) and isinstance(value, str):
        message += "; YAML read it as text: write plain digits without quotes (e.g. 1000 or 0.9)"
    if kind == "dict_type":
        message = "must be a mapping of key: value pairs"
    shown = _show(value)
    if kind in ("literal_error", "enum") and allowed:
        message = "not one of the choices"  # pydantic's text lists them too
    text = f"{where}: {name}: {shown}{message}"
    if allowed and "allowed" not in message:
        text += f" (allowed: {allowed})"
    return text


_TYPE_LOC_NAMES = {
    "int",
    "float",
    "str",
    "bool",
    "list",
    "dict",
    "none",
    "literal",
    "function-after",
    "function-before",
}


def _show(value: Any) -> str:
    """``value: `` as the user wrote it in YAML, or nothing for mappings and lists."""
    if isinstance(value, (dict, list)):
        return ""
    return f"{_value_text(value)}: "


def _value_text(value: Any) -> str:
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return text


def _line_for(loc: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> int | None:
    if not lines:
        return None
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in lines:
            return lines[loc[:cut]]
    return 1


def _allowed(loc: tuple[str, ...], kind: str, err: Any) -> str:
    fieldinfo = _field_for(loc)
    if fieldinfo is None:
        return ""
    ctx = err.get("ctx") or {}
    if kind in ("literal_error", "enum"):
        return str(ctx.get("expected", ""))
    if kind in (
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "int_type",
        "float_type",
        "int_from_float",
        "finite_number",
    ):
        return _range_text(fieldinfo)
    if kind in ("bool_type",):
        return "true or false"
    if kind == "string_type":
        return "text"
    if kind == "string_too_long":
        return f"text of at most {ctx.get('max_length')} characters"
    return ""


def _field_for(loc: tuple[str, ...]):  # noqa: ANN202 - pydantic FieldInfo
    model: type[BaseModel] = Profile
    info = None
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return info
        info = fields[part]
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        else:
            model = None  # type: ignore[assignment]
            break
    return info


def _is_number_field(info: Any) -> bool:
    return info.annotation in (int, float, int | None, float | None)


def _range_text(info: Any) -> str:
    low = high = None
    low_open = high_open = False
    for meta in info.metadata:
        if getattr(meta, "ge", None) is not None:
            low = meta.ge
        if getattr(meta, "gt", None) is not None:
            low, low_open = meta.gt, True
        if getattr(meta, "le", None) is not None:
            high = meta.le
        if getattr(meta, "lt", None) is not None:
            high, high_open = meta.lt, True
    kind = "whole number" if info.annotation in (int, int | None) else "number"
    parts = []

    def num(v: float) -> str:
        return f"{v:,}" if isinstance(v, int) else f"{v:g}"

    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {num(low)}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {num(high)}")
    text = f"a {kind}" + (" " + " and ".join(parts) if parts else "")
    if info.default is None:
        text += ", or null"
    return text


def _did_you_mean(loc: tuple[str, ...]) -> str:
    parent = loc[:-1]
    key = loc[-1]
    model: Any = Profile
    for part in parent:
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            model = None
            break
        model = fields[part].annotation
    names = list(getattr(model, "model_fields", {}) or [])
    if not names:
        return ""
    match = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    allowed = ", ".join(names)
    if match:
        return f" (did you mean {'.'.join(parent + (match[0],))!s}? allowed: {allowed})"
    return f" (allowed: {allowed})"


def is_finite_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )
