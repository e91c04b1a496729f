"""A fabricated run directory in the runner's own format, so report tests need no training (seconds, not minutes).

The config comes from the runner's ``resolve_config`` and the metrics from ``compute_metrics`` on random
probabilities, so the files have exactly the shape ``occlubench run`` writes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import torch

from occlubench.benchmark import RunOptions, get_benchmark
from occlubench.benchmark.results import SCHEMA_VERSION
from occlubench.benchmark.rundir import RunDir, config_hash
from occlubench.benchmark.runner import PROTOCOLS, resolve_config
from occlubench.data.imageset import FER2013_CLASSES
from occlubench.metrics.classification import compute_metrics
from occlubench.storage import atomic_write_json, save_tensors

MakeRun = Callable[..., Path]


def write_run(
    root: Path,
    *,
    preset: str = "smoke",
    protocol: str = "official",
    trained: Sequence[str] = ("full", "upper"),
    evaluated: Sequence[str] = ("full", "upper", "lower"),
    n_per_class: int = 4,
    seed: int = 0,
    epochs: int | None = None,
    predictions: bool = True,
    histories: bool = True,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a finished ``demo`` run of ``trained`` x ``evaluated`` cells under ``root`` and return ``root``."""
    spec = get_benchmark("demo")
    options = RunOptions(preset=preset, protocol=protocol, seed=seed, epochs=epochs)
    config = resolve_config(spec, options, {"format": "synthetic faces", "split_note": "fabricated for tests"})
    config["trainings"] = [t for t in config["trainings"] if t["name"] in trained]
    config["evaluations"] = list(evaluated)
    run = RunDir(root)
    root.mkdir(parents=True, exist_ok=True)
    classes = list(FER2013_CLASSES)
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(n_per_class * len(classes)) % len(classes)
    cells = []
    for index, trained_on in enumerate(trained):
        job = "baseline" if trained_on == "full" else f"finetune-{trained_on}"
        probs = {}
        for condition in evaluated:
            logits = torch.randn(len(labels), len(classes), generator=generator)
            logits[torch.arange(len(labels)), labels] += 1.5 if condition == trained_on else 0.5
            probs[condition] = logits.softmax(dim=1)
            metrics = compute_metrics(labels, probs[condition], classes)
            ci = {k: [max(0.0, v - 0.05), min(1.0, v + 0.05)] for k, v in metrics.items() if isinstance(v, float)}
            cell = {"model": job, "trained_on": trained_on, "evaluated_on": condition, "seed": seed}
            cells.append(cell | {"n": len(labels), "metrics": metrics, "ci": ci})
        if predictions:
            tensors = {f"probs.{c}": p for c, p in probs.items()} | {"labels": labels}
            save_tensors(run.predictions(job), tensors, metadata={"job_hash": "fabricated"})
        if histories:
            epochs_list = [
                {
                    "epoch": e,
                    "lr": 0.05 * 0.1 ** (e // 3),
                    "train_loss": 2.0 - 0.2 * e,
                    "train_accuracy": 0.2 + 0.1 * e,
                    "val_loss": 2.1 - 0.15 * e,
                    "val_accuracy": 0.18 + 0.08 * e + 0.01 * index,
                    "seconds": 1.0,
                }
                for e in range(1, 4)
            ]
            history = {"job": job, "trained_on": trained_on, "best_epoch": 3, "best_val_accuracy": 0.42 + 0.01 * index}
            atomic_write_json(run.history(job), history | {"epochs": epochs_list})
    results = {
        "schema_version": SCHEMA_VERSION,
        "benchmark": "demo",
        "complete": True,
        "created": "20260101T000000Z",
        "config": config,
        "config_hash": config_hash(config),
        "protocol_note": PROTOCOLS[protocol],
        "preset_note": spec.preset(preset).description,
        "classes": classes,
        "data": {"format": "synthetic faces"},
        "split_sizes": {"train": 280, "select": 70, "report": len(labels)},
        "environment": {"device": "cpu", "device_name": "test", "autocast": "fp32", "torch": torch.__version__},
        "timings_seconds": {"total": 12.5},
        "cells": cells,
    } | (extra or {})
    atomic_write_json(run.results, results)
    atomic_write_json(run.config, {"hash": config_hash(config), "config": config})
    return root


@pytest.fixture
def make_run(tmp_path: Path) -> MakeRun:
    """``make_run(name, **options)``: a fabricated run directory under the test's tmp_path."""

    def make(name: str = "run", **options: Any) -> Path:
        return write_run(tmp_path / name, **options)

    return make


@pytest.fixture(scope="session")
def built_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """One fabricated run and its report, shared by the tests that only read them (a report takes seconds)."""
    from occlubench.report import build_report

    torch.set_num_threads(1)
    root = write_run(tmp_path_factory.mktemp("report") / "run")
    return root, build_report(root)
