"""Writing profiles: stable YAML text and an atomic save that loses nothing.

Save = write a temporary file in the target's folder, flush, fsync, then
rename it over the target (atomic on POSIX), after copying the file it replaces
to ``<name>.bak``. A file that changed on disk since it was loaded is not
overwritten unless the caller says so. Files we write are byte-stable: loading
and saving again gives the same bytes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from wizard_tui.profiles.loader import fingerprint_bytes
from wizard_tui.schemas.profile import Profile

HEADER = (
    "# vllm-wizard-tui profile: a vLLM deployment plan.\n"
    "# Plan it:  vllm-wizard plan --profile {name}\n"
    "# Edit it:  vllm-wizard-tui {name}\n"
    "# Field help and the JSON Schema: vllm-wizard schema\n"
    "# Memory figures are GiB (2^30 bytes) per GPU, as CUDA reports them.\n"
)


class ProfileConflict(RuntimeError):
    """The file on disk is not the one that was loaded (or exists, for save-as)."""

    def __init__(self, path: Path, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


class _Dumper(yaml.SafeDumper):
    """Block style, keys in schema order, no aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_profile(profile: Profile, name: str = "profile.yaml") -> str:
    """The YAML text of a profile: header, profile_version first, schema order."""
    data = profile.model_dump(mode="json")
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=88,
    )
    return HEADER.format(name=_shell_safe_name(name)) + body


def _shell_safe_name(name: str) -> str:
    # The header is a comment; keep it one line whatever the file is called.
    return "".join(c if c.isprintable() else "?" for c in Path(name).name)


def file_fingerprint(path: str | os.PathLike[str]) -> str | None:
    """sha256 of a file's bytes, or None when it does not exist."""
    try:
        return fingerprint_bytes(Path(path).read_bytes())
    except FileNotFoundError:
        return None


def save_profile(
    profile: Profile,
    path: str | os.PathLike[str],
    *,
    expected_fingerprint: str | None = None,
    overwrite: bool = False,
) -> str:
    """Write ``profile`` to ``path`` atomically; return the new fingerprint.

    ``expected_fingerprint`` is what `read_profile` returned for this file: if
    the file on disk differs, `ProfileConflict` is raised and nothing is
    written. Without it, an existing file is replaced only with
    ``overwrite=True`` (a "save as" onto another file must be confirmed).
    The replaced file is kept as ``<name>.bak``.
    """
    path = Path(path)
    if path.is_dir():
        raise ProfileConflict(path, "is a folder; choose a file name ending in .yaml")
    current = file_fingerprint(path)
    if current is not None:
        if expected_fingerprint is not None and current != expected_fingerprint:
            raise ProfileConflict(
                path,
                "changed on disk since it was loaded; reload it or save under "
                "another name (nothing was written)",
            )
        if expected_fingerprint is None and not overwrite:
            raise ProfileConflict(
                path, "already exists; confirm overwriting it (nothing was written)"
            )
    data = dump_profile(profile, path.name).encode("utf-8")
    if current is not None:
        shutil.copy2(path, path.with_name(path.name + ".bak"))
    _atomic_write(path, data)
    return fingerprint_bytes(data)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _write_temp(target: Path, data: bytes, mode: int) -> str:
    """`data` in a new temporary file beside `target`, flushed and fsynced,
    with `mode`; its name. Nothing is left behind when it fails."""
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def _atomic_write(path: Path, data: bytes) -> None:
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        # mkstemp creates 0600; a new file gets the usual 0666 less the umask.
        mode = 0o666 & ~_umask()
    tmp_name = _write_temp(path, data, mode)
    try:
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent if str(path.parent) else Path("."))


class FileSetError(OSError):
    """One file of a set could not be written; none of the set was."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def write_file_set(folder: Path, files: dict[str, tuple[bytes, int]]) -> list[Path]:
    """Write several files into ``folder`` all or nothing; return the files
    replaced (each kept as ``<name>.bak``).

    ``files`` maps a name to (bytes, mode). Every file is first written to a
    temporary file beside its target and fsynced; only when all are staged are
    the targets backed up and renamed into place (a file that already holds
    the same bytes is left alone). A failure while staging
    writes nothing; a failure while renaming (an immutable file, say) puts the
    files already replaced back from their backups. Raises `FileSetError`
    naming the file that failed.
    """
    staged: list[tuple[Path, str]] = []

    def discard() -> None:
        for _target, tmp in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    for name, (data, mode) in files.items():
        target = folder / name
        if target.is_dir() or (target.exists() and not target.is_file()):
            discard()
            raise FileSetError(target, "is in the way (not a regular file)")
        backup = target.with_name(target.name + ".bak")
        if target.exists() and backup.exists() and not backup.is_file():
            discard()
            raise FileSetError(
                backup, "is in the way of the backup (not a regular file)"
            )
        with contextlib.suppress(OSError):
            if target.is_file() and target.read_bytes() == data:
                continue  # already as it would be written: no .bak, no rename
        try:
            staged.append((target, _write_temp(target, data, mode)))
        except OSError as exc:
            discard()
            raise FileSetError(target, exc.strerror or str(exc)) from None
    replaced: list[Path] = []
    created: list[Path] = []
    index = 0
    try:
        for index, (target, tmp) in enumerate(staged):  # noqa: B007
            if target.exists():
                shutil.copy2(target, target.with_name(target.name + ".bak"))
                os.replace(tmp, target)
                replaced.append(target)
            else:
                os.replace(tmp, target)
                created.append(target)
    except OSError as exc:
        for target in replaced:
            with contextlib.suppress(OSError):
                os.replace(target.with_name(target.name + ".bak"), target)
        for target in created:
            with contextlib.suppress(OSError):
                os.unlink(target)
        staged_left = staged[index:]
        staged.clear()
        staged.extend(staged_left)
        discard()
        raise FileSetError(staged_left[0][0], exc.strerror or str(exc)) from None
    _fsync_dir(folder)
    return replaced


def write_launch_files(folder: Path, files: dict[str, str]) -> list[Path]:
    """Write launch files (name -> text) into `folder`, creating it, all or
    nothing (`write_file_set`); ``.sh`` files are executable. Returns the
    files replaced, each kept as ``<name>.bak``; raises `FileSetError`."""
    if folder.exists() and not folder.is_dir():
        raise FileSetError(folder, "is a file; give a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileSetError(folder, exc.strerror or str(exc)) from None
    umask = _umask()
    blobs = {
        Path(name).name: (
            text.encode("utf-8"),
            (0o777 if name.endswith(".sh") else 0o666) & ~umask,
        )
        for name, text in files.items()
    }
    return write_file_set(folder, blobs)


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not every platform allows it.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
