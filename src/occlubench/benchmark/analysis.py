"""Claims about a finished matrix: paired tests of each fine-tune against the baseline, and robustness summaries.

Every comparison is paired: both models are scored on the same report images under the same occlusion (random
occluders draw the same regions for every model, see ``condition_generator``). p-values are Holm-corrected across
the whole matrix, separately for McNemar and for the paired bootstrap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from occlubench.benchmark.results import matrix
from occlubench.metrics.robustness import normalized_occlusion_error, relative_robustness
from occlubench.metrics.stats import holm_correction, mcnemar_exact, paired_bootstrap_diff


def paired_comparisons(
    labels: torch.Tensor,
    probs: Mapping[str, Mapping[str, torch.Tensor]],
    reference: str,
    classes: Sequence[str],
    *,
    metric: str = "accuracy",
    n_resamples: int = 1000,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Each model against ``reference`` on every condition both were evaluated on.

    Args:
        labels: (N,) true classes of the report images.
        probs: model -> condition -> (N, K) probabilities.
        reference: the model every other model is compared with (the baseline).

    Returns:
        One dict per (model, condition): ``model``, ``reference``, ``evaluated_on``, ``metric``, ``difference``
        (model - reference), ``ci_low``, ``ci_high``, ``p_bootstrap``, ``p_bootstrap_holm``, ``mcnemar_b`` (model
        right, reference wrong), ``mcnemar_c`` (the reverse), ``p_mcnemar``, ``p_mcnemar_holm``.
    """
    rows: list[dict[str, Any]] = []
    for model, by_condition in probs.items():
        if model == reference:
            continue
        for condition, p in by_condition.items():
            ref = probs[reference].get(condition)
            if ref is None:
                continue
            rows.append(
                {"model": model, "reference": reference, "evaluated_on": condition}
                | paired_test(labels, p, ref, classes, metric, n_resamples=n_resamples, seed=seed)
            )
    add_holm_columns(rows, ("p_bootstrap", "p_mcnemar"))
    return rows


def paired_test(
    labels: torch.Tensor,
    probs_a: torch.Tensor,
    probs_b: torch.Tensor,
    classes: Sequence[str],
    metric: str,
    *,
    n_resamples: int,
    seed: int,
) -> dict[str, Any]:
    """Model A against model B on the same images: paired bootstrap of metric(A) - metric(B) and exact McNemar."""
    diff = paired_bootstrap_diff(labels, probs_a, probs_b, classes, metric, n_resamples=n_resamples, seed=seed)
    test = mcnemar_exact(probs_a.argmax(1) == labels, probs_b.argmax(1) == labels)
    return {
        "metric": metric,
        "difference": diff.diff,
        "ci_low": diff.ci_low,
        "ci_high": diff.ci_high,
        "p_bootstrap": diff.p_value,
        "mcnemar_b": test.b,
        "mcnemar_c": test.c,
        "p_mcnemar": test.p_value,
    }


def add_holm_columns(rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    """Add ``<key>_holm`` to every row: each p-value column Holm-corrected across the rows.

    An undefined difference (NaN p) takes no part in the correction and stays undefined.
    """
    for key in keys:
        defined = [r for r in rows if not math.isnan(r[key])]
        for row in rows:
            row[f"{key}_holm"] = float("nan")
        for row, adjusted in zip(defined, holm_correction([r[key] for r in defined]), strict=True):
            row[f"{key}_holm"] = adjusted


def robustness_summary(cells: Sequence[Mapping[str, Any]], clean: str, baseline_row: str) -> dict[str, Any]:
    """Relative robustness per model (occluded / clean accuracy) and baseline-normalized occlusion error."""
    rows = matrix(cells, "accuracy")
    summary: dict[str, Any] = {"relative_robustness": {}, "normalized_occlusion_error": {}}
    for trained_on, row in rows.items():
        if clean in row and all(v is not None for v in row.values()):
            summary["relative_robustness"][trained_on] = relative_robustness(row, clean=clean)  # type: ignore[arg-type]
    complete = {k: v for k, v in rows.items() if all(x is not None for x in v.values())}
    if baseline_row in complete:
        summary["normalized_occlusion_error"] = normalized_occlusion_error(
            complete,  # type: ignore[arg-type]
            baseline_row,
            clean=clean,
        )
    return summary
