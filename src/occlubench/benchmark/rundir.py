"""The run directory: where each file lives, and the guard that keeps one config per directory.

A run directory holds ``config.json`` (the resolved configuration and its hash), ``results.json``, ``matrix.csv``,
``matrix.md``, ``checkpoints/<job>.safetensors`` (selected weights), ``checkpoints/<job>.state.safetensors`` (resume
state of a training in progress), ``history/<job>.json`` and ``predictions/<job>.safetensors``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from occlubench.errors import RunDirError
from occlubench.storage import atomic_write_json, read_json

OWNED = ("config.json", "results.json", "matrix.csv", "matrix.md", "checkpoints", "history", "predictions", "report")


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
    return {prefix: value}


def config_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """``key: old -> new`` for every leaf that differs between two configs."""
    a, b = _flatten(old), _flatten(new)
    return [
        f"{k}: {a.get(k, '<absent>')} -> {b.get(k, '<absent>')}"
        for k in sorted(set(a) | set(b))
        if a.get(k) != b.get(k)
    ]


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

    def claim(self, config: dict[str, Any], *, overwrite: bool = False) -> bool:
        """Make this directory hold ``config``'s run. Returns True when an earlier run of it is resumed.

        Raises:
            RunDirError: the directory is unwritable, holds something else, or holds a run of another config
                (unless ``overwrite``, which removes that run's files and nothing else).
        """
        root = self.root
        if root.exists() and not root.is_dir():
            raise RunDirError(f"--out {root} exists and is not a directory")
        if self.config.is_file():
            try:
                previous = read_json(self.config)
            except (OSError, ValueError):
                previous = {}
            same = previous.get("hash") == config_hash(config)
            if same:
                return True
            if not overwrite:
                diffs = config_differences(previous.get("config", {}), config)
                shown = "; ".join(diffs[:4]) + (f"; and {len(diffs) - 4} more" if len(diffs) > 4 else "")
                raise RunDirError(
                    f"--out {root} holds a run of another configuration ({shown or 'unreadable config.json'})",
                    "use another --out, or --overwrite to replace that run",
                )
            for name in OWNED:
                target = root / name
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()
        elif root.is_dir() and any(p.name not in OWNED for p in root.iterdir() if not p.name.startswith(".")):
            raise RunDirError(
                f"--out {root} is a non-empty directory that holds no occlubench run", "pick a new or empty directory"
            )
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunDirError(f"cannot create --out {root}: {exc.strerror or exc}") from None
        if not os.access(root, os.W_OK | os.X_OK):
            raise RunDirError(f"--out {root} is not writable")
        atomic_write_json(self.config, {"hash": config_hash(config), "config": config})
        return False
