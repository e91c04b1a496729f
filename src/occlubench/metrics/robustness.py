"""Robustness summaries of an accuracy matrix {model: {condition: accuracy}}.

Raw occluded accuracy mixes two things: how good a model is, and how much it loses when part of the image is
hidden. These summaries separate them: accuracy relative to the model's own clean accuracy, error relative to a
baseline model under the same occlusion (the corruption error of Hendrycks & Dietterich, 2019, with the baseline
in AlexNet's place), and, for occluders with a severity knob, the area under the accuracy-vs-severity curve and
the severity at which accuracy halves.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from occlubench.errors import ConfigError, UnknownNameError


def _mean_or_nan(values: Sequence[float]) -> float:
    """Mean of the values, NaN for none or when any is NaN."""
    return float(np.mean(values)) if values else float("nan")


def relative_robustness(model_row: Mapping[str, float], clean: str = "none") -> dict[str, object]:
    """Occluded accuracy as a fraction of the same model's clean accuracy.

    Args:
        model_row: condition name -> accuracy of one model, including the clean condition.
        clean: name of the unoccluded condition.

    Returns:
        ``per_condition`` (occluded condition -> accuracy / clean accuracy, clean left out) and ``mean`` (their
        mean; NaN when there is no occluded condition). Ratios are NaN when the clean accuracy is 0.

    Raises:
        ConfigError: the clean condition is not in the row.

    Examples:
        >>> relative_robustness({"none": 0.8, "upper": 0.4, "lower": 0.2})
        {'per_condition': {'upper': 0.5, 'lower': 0.25}, 'mean': 0.375}
    """
    if clean not in model_row:
        raise ConfigError(f"clean condition {clean!r} is not in the row", f"conditions: {', '.join(model_row)}")
    clean_accuracy = float(model_row[clean])
    per_condition = {
        condition: float(accuracy) / clean_accuracy if clean_accuracy > 0 else float("nan")
        for condition, accuracy in model_row.items()
        if condition != clean
    }
    return {"per_condition": per_condition, "mean": _mean_or_nan(list(per_condition.values()))}


def normalized_occlusion_error(
    rows: Mapping[str, Mapping[str, float]], baseline: str, *, clean: str | None = "none"
) -> dict[str, dict[str, object]]:
    """Each model's error under each occlusion divided by the baseline model's error under it (mCE-style).

    Values below 1 mean fewer mistakes than the baseline under that occlusion. As in Hendrycks & Dietterich's mCE,
    the division by the baseline puts hard and easy occlusions on one scale before averaging.

    Args:
        rows: model name -> (condition name -> accuracy), the baseline included.
        baseline: the reference model (the row that plays AlexNet's part in mCE).
        clean: the unoccluded condition, left out of the summary (None keeps every condition).

    Returns:
        model name -> ``per_condition`` (condition -> error / baseline error; NaN where the baseline makes no
        error) and ``mean`` (the mean over the baseline's occluded conditions). The baseline's own values are 1.

    Raises:
        UnknownNameError: the baseline is not a model of ``rows``.
        ConfigError: a model lacks a condition the baseline has.
    """
    if baseline not in rows:
        raise UnknownNameError("baseline model", baseline, rows)
    conditions = [condition for condition in rows[baseline] if condition != clean]
    baseline_error = {condition: 1.0 - float(rows[baseline][condition]) for condition in conditions}
    summary: dict[str, dict[str, object]] = {}
    for model, row in rows.items():
        missing = [condition for condition in conditions if condition not in row]
        if missing:
            raise ConfigError(f"model {model!r} has no accuracy for condition(s) {', '.join(missing)}")
        per_condition = {
            condition: (1.0 - float(row[condition])) / baseline_error[condition]
            if baseline_error[condition] > 0
            else float("nan")
            for condition in conditions
        }
        summary[model] = {"per_condition": per_condition, "mean": _mean_or_nan(list(per_condition.values()))}
    return summary


def _severity_curve(severities: Sequence[float], accuracies: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Severities and accuracies as float arrays sorted by severity, checked for shape and duplicates."""
    x = np.asarray(severities, dtype=np.float64).ravel()
    y = np.asarray(accuracies, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ConfigError(f"need one accuracy per severity, got {x.size} severities and {y.size} accuracies")
    if x.size < 2:
        raise ConfigError(f"a severity curve needs at least two points, got {x.size}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ConfigError("severities and accuracies must be finite numbers")
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    if (np.diff(x) == 0).any():
        raise ConfigError(f"severities must be distinct, got {x.tolist()}")
    return x, y


def area_under_severity_curve(severities: Sequence[float], accuracies: Sequence[float]) -> float:
    """Mean accuracy over the severity range: trapezoid area under accuracy-vs-severity, divided by the span.

    Dividing by the span makes it an average accuracy (in the units of accuracy), comparable between occluders
    whose severity grids differ.

    Args:
        severities: severity levels (any order, distinct, at least two).
        accuracies: accuracy at each severity.

    Returns:
        The normalized area.

    Raises:
        ConfigError: fewer than two points, mismatched lengths, duplicate or non-finite values.

    Examples:
        >>> area_under_severity_curve([0.0, 0.5, 1.0], [0.8, 0.6, 0.2])
        0.55
    """
    x, y = _severity_curve(severities, accuracies)
    area = float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2.0)
    return area / float(x[-1] - x[0])


def severity_at_half_accuracy(
    severities: Sequence[float], accuracies: Sequence[float], clean_accuracy: float
) -> float | None:
    """The lowest severity at which accuracy falls to half the clean accuracy, by linear interpolation.

    Args:
        severities: severity levels (any order, distinct, at least two).
        accuracies: accuracy at each severity.
        clean_accuracy: accuracy without occlusion; the target is half of it.

    Returns:
        The severity where the piecewise-linear curve first reaches ``clean_accuracy / 2`` (the first severity if it
        is already at or below it there), or None if it never does within the measured range.

    Raises:
        ConfigError: a malformed curve (see ``area_under_severity_curve``) or a non-finite clean accuracy.

    Examples:
        >>> severity_at_half_accuracy([0.0, 0.5, 1.0], [0.8, 0.6, 0.2], clean_accuracy=0.8)
        0.75
    """
    x, y = _severity_curve(severities, accuracies)
    if not math.isfinite(clean_accuracy):
        raise ConfigError(f"clean_accuracy must be a finite number, got {clean_accuracy!r}")
    target = clean_accuracy / 2.0
    reached = np.flatnonzero(y <= target)
    if reached.size == 0:
        return None
    first = int(reached[0])
    if first == 0:
        return float(x[0])
    x0, x1, y0, y1 = x[first - 1], x[first], y[first - 1], y[first]
    return float(x0 + (y0 - target) / (y0 - y1) * (x1 - x0))
