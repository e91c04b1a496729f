"""A finished run, read back from its directory: ``results.json``, training histories and stored predictions.

Reports and leaderboards read runs through :func:`load_run` only, so they never retrain or re-evaluate anything and
a malformed directory is one :class:`~occlubench.errors.RunDirError` with a clear message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from occlubench.benchmark.results import SCHEMA_VERSION
from occlubench.benchmark.rundir import RunDir
from occlubench.errors import RunDirError

_CELL_KEYS = ("model", "trained_on", "evaluated_on", "metrics")


@dataclass(frozen=True)
class Predictions:
    """The stored class probabilities of one trained model on the report split.

    Attributes:
        labels: (N,) int64 true classes.
        probs: condition -> (N, K) float32 probabilities, in the run's evaluation order.
    """

    labels: np.ndarray
    probs: Mapping[str, np.ndarray]


@dataclass(frozen=True)
class RunData:
    """Everything a report needs from one run directory, with the run's row and column order kept.

    Attributes:
        root: the run directory.
        results: the parsed ``results.json``.
        histories: job (``baseline``, ``finetune-upper``...) -> the parsed ``history/<job>.json``, in training order.
    """

    root: Path
    results: Mapping[str, Any]
    histories: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    _predictions: dict[str, Predictions | None] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def config(self) -> Mapping[str, Any]:
        return self.results.get("config", {})

    @property
    def benchmark(self) -> str:
        return str(self.results.get("benchmark") or self.config.get("benchmark", "?"))

    @property
    def all_cells(self) -> list[Mapping[str, Any]]:
        """Every evaluated cell, severity-curve points and region-map grid cells included."""
        return list(self.results.get("cells", []))

    @property
    def cells(self) -> list[Mapping[str, Any]]:
        """The cells of the occlusion x model matrix: plain conditions only (no severity point, no grid cell)."""
        return [c for c in self.all_cells if "severity" not in c and "grid" not in c]

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.results.get("classes", ()))

    @property
    def complete(self) -> bool:
        return bool(self.results.get("complete", False))

    @property
    def seed_runs(self) -> list[str]:
        """The per-seed run directories (``seed-<k>``) of a multi-seed run, whose cells average them; else empty."""
        return [str(r) for r in self.results.get("runs", [])]

    @property
    def trained_on(self) -> list[str]:
        """Row order of the matrix: the training conditions that have cells, in the order they were trained."""
        return list(dict.fromkeys(c["trained_on"] for c in self.cells))

    @property
    def evaluated_on(self) -> list[str]:
        """Column order of the matrix: the evaluation conditions, in the benchmark's order."""
        return list(dict.fromkeys(c["evaluated_on"] for c in self.cells))

    @property
    def jobs(self) -> dict[str, str]:
        """trained_on -> job name (the file stem of its history, checkpoint and predictions)."""
        return {c["trained_on"]: c["model"] for c in self.cells}

    def cells_of(self, trained_on: str) -> list[Mapping[str, Any]]:
        """The cells of one trained model, in column order."""
        return [c for c in self.cells if c["trained_on"] == trained_on]

    def cell(self, trained_on: str, evaluated_on: str) -> Mapping[str, Any] | None:
        """The cell at one (row, column) of the matrix, or None when the run has not computed it."""
        return next(
            (c for c in self.cells if c["trained_on"] == trained_on and c["evaluated_on"] == evaluated_on), None
        )

    def predictions(self, job: str) -> Predictions | None:
        """The stored probabilities of ``job``, or None when the file is absent or unreadable (read once)."""
        if job not in self._predictions:
            self._predictions[job] = _read_predictions(RunDir(self.root).predictions(job))
        return self._predictions[job]


def _read_predictions(path: Path) -> Predictions | None:
    if not path.is_file():
        return None
    try:
        from safetensors.numpy import load_file

        tensors = load_file(str(path))
    except Exception:  # a truncated or foreign file: the report says the curves are missing, it does not crash
        return None
    if "labels" not in tensors:
        return None
    probs = {key.removeprefix("probs."): value for key, value in tensors.items() if key.startswith("probs.")}
    return Predictions(labels=tensors["labels"].astype(np.int64), probs=probs)


def _read_json(path: Path, what: str) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, UnicodeDecodeError) as exc:
        raise RunDirError(f"cannot read {what} {path}: {getattr(exc, 'strerror', None) or exc}") from None
    except json.JSONDecodeError as exc:
        raise RunDirError(f"{what} {path} is not valid JSON (line {exc.lineno}: {exc.msg})") from None


def load_run(path: str | Path) -> RunData:
    """Read a run directory written by ``occlubench run``.

    Args:
        path: the run directory (the ``--out`` of the run).

    Returns:
        The run's results and training histories; predictions are read on first use.

    Raises:
        RunDirError: no such directory, no ``results.json`` (not a run, or one that has not finished a model yet),
            a malformed or newer-schema ``results.json``, or a run with no cells.
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        raise RunDirError(f"run directory {root} does not exist", "pass the --out directory of `occlubench run`")
    run = RunDir(root)
    if not run.results.is_file():
        raise RunDirError(
            f"{root} has no results.json", "not a run directory, or a run that has not finished its first model"
        )
    results = _read_json(run.results, "results file")
    if not isinstance(results, dict) or not isinstance(results.get("cells"), list):
        raise RunDirError(f"{run.results} is not an occlubench results file (no 'cells' list)")
    version = results.get("schema_version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise RunDirError(
            f"{run.results} has schema_version {version!r}; this occlubench reads up to {SCHEMA_VERSION}",
            "upgrade occlubench",
        )
    for index, cell in enumerate(results["cells"]):
        if not isinstance(cell, dict) or any(key not in cell for key in _CELL_KEYS):
            raise RunDirError(f"{run.results}: cell {index} lacks one of {', '.join(_CELL_KEYS)}")
    if not results["cells"]:
        raise RunDirError(f"{root} has no finished cells yet", "wait for the run to finish its first model")
    histories: dict[str, Mapping[str, Any]] = {}
    for job in dict.fromkeys(c["model"] for c in results["cells"]):
        history_path = run.history(job)
        if history_path.is_file():
            history = _read_json(history_path, "training history")
            if isinstance(history, dict) and isinstance(history.get("epochs"), list):
                histories[job] = history
    return RunData(root=root, results=results, histories=histories)
