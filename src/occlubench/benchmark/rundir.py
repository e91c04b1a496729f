"""The run directory: where each file lives, and the guard that keeps one config (and one process) per directory.

A run directory holds ``config.json`` (the resolved configuration and its hash), ``results.json``, ``matrix.csv``,
``matrix.md``, ``checkpoints/<job>.safetensors`` (selected weights), ``checkpoints/<job>.state.safetensors`` (resume
state of a training in progress), ``history/<job>.json`` and ``predictions/<job>.safetensors``; while a run holds it,
also ``.lock``. ``check_usable`` runs before any long work and writes nothing; ``claim`` runs once every input has
been checked, and is the first write.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from occlubench.errors import RunDirError
from occlubench.storage import atomic_write_json, read_json, remove_stale_temporaries

OWNED = (
    "config.json",
    "results.json",
    "matrix.csv",
    "matrix.md",
    "severity.csv",
    "regions.csv",
    "checkpoints",
    "history",
    "predictions",
    "report",
)
"""What a run writes in its directory: ``--overwrite`` removes these and nothing else."""
LOCK_NAME = ".lock"

_HELD: dict[Path, IO[bytes]] = {}  # run directories this process holds, by resolved path -> open lock file


def config_hash(config: Any) -> str:
    """A short, stable hash of a JSON-able configuration."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for index, item in enumerate(value):
            out.update(_flatten(item, f"{prefix}[{index}]"))
        return out
    return {prefix: value}


def _as_stored(config: Any) -> Any:
    """``config`` as it reads back from ``config.json`` (tuples are lists there), so that only real changes show."""
    return json.loads(json.dumps(config, default=str))


def config_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """``key: old -> new`` for every leaf that differs between two configs (list items as ``key[i]``)."""
    a, b = _flatten(_as_stored(old)), _flatten(_as_stored(new))
    return [
        f"{k}: {a.get(k, '<absent>')} -> {b.get(k, '<absent>')}"
        for k in sorted(set(a) | set(b))
        if a.get(k) != b.get(k)
    ]


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            return candidate
    return Path(path.anchor or ".")


@dataclass(frozen=True)
class RunDir:
    """Paths of one run directory."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def results(self) -> Path:
        return self.root / "results.json"

    def checkpoint(self, job: str) -> Path:
        return self.root / "checkpoints" / f"{job}.safetensors"

    def train_state(self, job: str) -> Path:
        return self.root / "checkpoints" / f"{job}.state.safetensors"

    def history(self, job: str) -> Path:
        return self.root / "history" / f"{job}.json"

    def predictions(self, job: str) -> Path:
        return self.root / "predictions" / f"{job}.safetensors"

    def check_usable(self) -> None:
        """Fail fast, before any long work and without writing anything, if ``--out`` cannot hold a run.

        Raises:
            RunDirError: ``--out`` is a file, sits under a file, is not writable (or could not be created), or is a
                non-empty directory that holds no occlubench run.
        """
        root = self.root
        existing = _nearest_existing(root)
        if existing == root:
            if not root.is_dir():
                raise RunDirError(f"--out {root} exists and is not a directory")
            if not os.access(root, os.W_OK | os.X_OK):
                raise RunDirError(f"--out {root} is not writable", "pick a directory you can write to")
            if not self.config.is_file() and any(
                p.name not in OWNED for p in root.iterdir() if not p.name.startswith(".")
            ):
                raise RunDirError(
                    f"--out {root} is a non-empty directory that holds no occlubench run",
                    "pick a new or empty directory",
                )
            return
        if not existing.is_dir():
            raise RunDirError(f"cannot create --out {root}: {existing} is not a directory")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise RunDirError(f"cannot create --out {root}: {existing} is not writable")

    def claim(self, config: dict[str, Any], *, overwrite: bool = False) -> bool:
        """Make this directory hold ``config``'s run, for this process. Returns True when an earlier run is resumed.

        The directory is locked until ``release`` (or the end of the process, however it ends), so that two runs
        never write into one directory; temporary files that a killed run left are removed.

        Raises:
            RunDirError: the directory is unwritable, holds something else, is in use by another run, or holds a run
                of another config (unless ``overwrite``, which removes that run's files and nothing else).
        """
        self.check_usable()
        root = self.root
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunDirError(f"cannot create --out {root}: {exc.strerror or exc}") from None
        self._lock()
        try:
            return self._claim_locked(config, overwrite)
        except BaseException:
            self.release()
            raise

    def _claim_locked(self, config: dict[str, Any], overwrite: bool) -> bool:
        root = self.root
        wanted = config_hash(config)
        if self.config.is_file():
            try:
                previous = read_json(self.config)
            except (OSError, ValueError):
                previous = None
            if isinstance(previous, dict) and previous.get("hash") == wanted:
                remove_stale_temporaries(root)
                return True
            if not overwrite:
                if not isinstance(previous, dict):
                    what = "an unreadable config.json"
                else:
                    diffs = config_differences(previous.get("config", {}), config)
                    shown = "; ".join(diffs[:4]) + (f"; and {len(diffs) - 4} more" if len(diffs) > 4 else "")
                    what = f"a run of another configuration ({shown or 'same settings, other hash'})"
                raise RunDirError(f"--out {root} holds {what}", "use another --out, or --overwrite to replace that run")
            for name in OWNED:
                target = root / name
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()
        remove_stale_temporaries(root)
        atomic_write_json(self.config, {"hash": wanted, "config": config})
        return False

    def _lock(self) -> None:
        """Take the directory's lock (an OS file lock: a killed process releases it), or fail if another run has it."""
        key = self.root.resolve()
        if key in _HELD:
            return
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; one run per directory is then up to the user
            return
        try:
            handle = open(key / LOCK_NAME, "a+b")  # held open until release()
        except OSError as exc:
            raise RunDirError(f"cannot write in --out {self.root}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise RunDirError(
                f"--out {self.root} is in use by another occlubench run", "wait for it to finish, or use another --out"
            ) from None
        _HELD[key] = handle

    def release(self) -> None:
        """Give up the lock taken by ``claim`` (a no-op when not held)."""
        handle = _HELD.pop(self.root.resolve(), None)
        if handle is not None:
            handle.close()  # closing the file drops the lock
