"""Atomic, crash-safe writes for everything in a run directory.

Every file is written to a temporary sibling (``.<name>.<random>.tmp``), flushed and fsynced, then moved over the
target with ``os.replace`` and the directory fsynced: a reader (or a resumed run) sees either the old file or the new
one, never half of one, whenever the process dies. A write that fails (a full disk, a permission flipped mid-run)
removes its temporary file and raises a one-line :class:`~occlubench.errors.RunDirError`; what was written before
stays valid, so the same command resumes once the cause is fixed.
"""

from __future__ import annotations

import errno
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from occlubench.errors import RunDirError

TEMPORARY_SUFFIX = ".tmp"
"""Suffix of the temporary siblings; with the leading dot, ``.<name>.<random>.tmp`` is what a kill can leave."""

_DISK_FULL = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})


def _fsync_dir(path: Path) -> None:
    """Make a rename durable; a best effort, since some file systems refuse to fsync a directory."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _default_file_mode() -> int:
    """0o666 minus the process umask: what ``open(path, "w")`` would have given the file."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _default_file_mode()


def _write_error(path: Path, exc: OSError) -> RunDirError:
    reason = exc.strerror or str(exc)
    if exc.errno in _DISK_FULL:
        return RunDirError(f"cannot write {path}: {reason}", "free some space, then re-run the same command to resume")
    return RunDirError(f"cannot write {path}: {reason}", "fix that, then re-run the same command to resume")


def _write_file(fd: int, data: bytes, target: Path) -> None:
    """Write all of ``data`` to the open temporary file ``fd`` (for ``target``), close it and make it durable.

    One function for the one place where bytes meet the disk, so that a test can make the disk "fill up" there.
    """
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file + fsync + ``os.replace`` + fsync of the directory).

    Raises:
        RunDirError: the file cannot be written (disk full, permission denied...); ``path`` is left as it was.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX, dir=path.parent)
    except OSError as exc:
        raise _write_error(path, exc) from None
    try:
        os.fchmod(fd, _FILE_MODE)  # mkstemp makes 0600 files; run files are as readable as any other file
        _write_file(fd, data, path)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _write_error(path, exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _json_safe(value: Any) -> Any:
    """NaN and infinities become null, so the file stays strict JSON; tuples become lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, torch.Tensor):
        return _json_safe(value.tolist())
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _json_safe(value.item())
    return value


def atomic_write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` as strict, indented JSON, atomically."""
    atomic_write_text(path, json.dumps(_json_safe(payload), indent=2, allow_nan=False) + "\n")


def read_json(path: Path) -> Any:
    """Read a JSON file written by ``atomic_write_json``."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def save_tensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    """Save tensors as ``.safetensors`` atomically (no pickle anywhere); ``metadata`` goes in its JSON header."""
    from safetensors.torch import save

    contiguous = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    atomic_write_bytes(path, save(contiguous, metadata=metadata))


def load_tensors(path: Path) -> dict[str, torch.Tensor]:
    """Load a ``.safetensors`` file written by ``save_tensors`` (safetensors never unpickles anything).

    Raises:
        RunDirError: the file is missing or is not a readable safetensors file.
    """
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except Exception as exc:  # safetensors raises its own SafetensorError, OSError or ValueError on a bad file
        first_line = (str(exc).splitlines() or [""])[0]
        raise RunDirError(
            f"cannot read {path}: {type(exc).__name__}: {first_line}", "delete it and re-run to recompute it"
        ) from None


def read_tensor_metadata(path: Path) -> dict[str, str] | None:
    """The metadata of a ``.safetensors`` file, or None when it is absent or unreadable (then: recompute it)."""
    from safetensors import safe_open

    if not Path(path).is_file():
        return None
    try:
        with safe_open(str(path), framework="pt") as handle:
            return dict(handle.metadata() or {})
    except Exception:  # a foreign or damaged file is as good as none: the caller recomputes and replaces it
        return None


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete the ``.<name>.<random>.tmp`` files that a killed write left in ``folder`` and its sub-folders.

    Only call this while holding the folder (no other process writing there): a live temporary file would go too.

    Returns:
        The files removed.
    """
    removed = []
    for tmp in Path(folder).rglob(f".*{TEMPORARY_SUFFIX}"):
        if tmp.is_file() and tmp.name.count(".") >= 3:
            try:
                tmp.unlink()
            except OSError:
                continue
            removed.append(tmp)
    return removed
