"""``occlubench compare RUN_A RUN_B``: paired tests between the matching cells of two runs.

Two runs are comparable cell by cell when they reported on the same images (same labels, same ids, in the same
order): then each (trained on, evaluated on) cell present in both gets a paired bootstrap of the metric difference
(A - B) and an exact McNemar test, Holm-corrected across the table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from occlubench.benchmark.analysis import add_holm_columns, paired_test
from occlubench.errors import RunDirError
from occlubench.storage import load_tensors, read_tensor_metadata


def _read_results(run: Path) -> dict[str, Any]:
    path = Path(run) / "results.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise RunDirError(
            f"{run} holds no results.json", "pass a run directory (the --out of occlubench run)"
        ) from None
    except (OSError, ValueError) as exc:
        raise RunDirError(f"cannot read {path}: {exc}") from None


def _predictions(run: Path, job: str) -> tuple[dict[str, torch.Tensor], str]:
    path = Path(run) / "predictions" / f"{job}.safetensors"
    if not path.is_file():
        raise RunDirError(f"{run} has no predictions for {job}", "was the run finished?")
    return load_tensors(path), (read_tensor_metadata(path) or {}).get("ids", "")


def compare_runs(
    run_a: Path, run_b: Path, *, metric: str = "accuracy", n_resamples: int = 1000, seed: int = 0
) -> list[dict[str, Any]]:
    """One row per cell both runs have: A's and B's metric, the paired difference A - B, its CI and p-values."""
    results_a, results_b = _read_results(run_a), _read_results(run_b)
    classes = results_a.get("classes")
    if classes != results_b.get("classes"):
        raise RunDirError("the two runs have different classes: their cells cannot be paired")
    jobs_a = {c["trained_on"]: c["model"] for c in results_a.get("cells", [])}
    jobs_b = {c["trained_on"]: c["model"] for c in results_b.get("cells", [])}
    rows: list[dict[str, Any]] = []
    for trained_on in [t for t in jobs_a if t in jobs_b]:
        preds_a, ids_a = _predictions(run_a, jobs_a[trained_on])
        preds_b, ids_b = _predictions(run_b, jobs_b[trained_on])
        if not torch.equal(preds_a["labels"], preds_b["labels"]) or (ids_a and ids_b and ids_a != ids_b):
            raise RunDirError(
                "the two runs reported on different images: their cells cannot be paired",
                "compare runs of the same data, protocol and limit",
            )
        labels = preds_a["labels"]
        for key in [k for k in preds_a if k.startswith("probs.") and k in preds_b]:
            rows.append(
                {"trained_on": trained_on, "evaluated_on": key.removeprefix("probs.")}
                | paired_test(labels, preds_a[key], preds_b[key], classes, metric, n_resamples=n_resamples, seed=seed)
            )
    if not rows:
        raise RunDirError("the two runs share no cell", "compare runs of the same benchmark")
    values_a = {(c["trained_on"], c["evaluated_on"]): c["metrics"].get(metric) for c in results_a["cells"]}
    values_b = {(c["trained_on"], c["evaluated_on"]): c["metrics"].get(metric) for c in results_b["cells"]}
    for row in rows:
        row["a"] = values_a.get((row["trained_on"], row["evaluated_on"]))
        row["b"] = values_b.get((row["trained_on"], row["evaluated_on"]))
    add_holm_columns(rows, ("p_bootstrap", "p_mcnemar"))
    return rows
