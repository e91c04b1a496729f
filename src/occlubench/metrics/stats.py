"""Uncertainty of metrics: bootstrap intervals, paired tests between two models, multiple-test correction.

A single test set gives one number per metric; the bootstrap asks how much that number would move with another
draw of test images. Resamples are drawn as image counts (how often each image is picked), so all metrics of all
resamples come from the batched weighted evaluation of ``ResampleEvaluator``. Randomness comes from
``numpy.random.default_rng(seed)``, drawn in fixed-size batches: the same seed gives the same intervals on any
machine, whichever metrics are requested.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from occlubench.errors import ConfigError, DataError
from occlubench.metrics.classification import (
    SCALAR_METRICS,
    ResampleEvaluator,
    check_class_names,
    check_metric_names,
)

RESAMPLE_BATCH = 128
"""Resamples drawn and evaluated together: bounds memory (a few (K * N, 128) float arrays for micro AUC)."""

_CACHE_LIMIT = 2**23
"""Resample draws of up to this many (image, resample) entries are kept for the next call (32 MB as float32)."""


def _check_bootstrap_options(n_resamples: int, confidence: float) -> None:
    """Reject a resample count below one and a confidence level outside (0, 1)."""
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int | np.integer) or n_resamples < 1:
        raise ConfigError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")


def bootstrap_counts(n_items: int, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Bootstrap resamples of ``n_items`` images as count matrices, in batches.

    Args:
        n_items: test-set size N.
        n_resamples: total number of resamples R.
        seed: seed of the ``numpy.random.Generator`` that draws the images.

    Yields:
        int64 arrays (N, B), B <= ``RESAMPLE_BATCH``: entry (i, r) is how often image i occurs in resample r; each
        column sums to N. Concatenated over the batches they are the same for the same seed.
    """
    rng = np.random.default_rng(seed)
    for start in range(0, n_resamples, RESAMPLE_BATCH):
        batch = min(RESAMPLE_BATCH, n_resamples - start)
        keys = rng.integers(0, n_items, size=(batch, n_items))
        # Key image * batch + resample lays the counts out as (N, B), the layout the evaluator gathers rows from.
        keys *= batch
        keys += np.arange(batch)[:, None]
        yield np.bincount(keys.ravel(), minlength=n_items * batch).reshape(n_items, batch)


@functools.lru_cache(maxsize=2)
def _cached_counts(n_items: int, n_resamples: int, seed: int) -> tuple[np.ndarray, ...]:
    """``bootstrap_counts`` as read-only float32 batches, kept: every cell of a matrix resamples the same images."""
    batches = []
    for counts in bootstrap_counts(n_items, n_resamples, seed):
        batch = counts.astype(np.float32)
        batch.flags.writeable = False
        batches.append(batch)
    return tuple(batches)


def _count_batches(n_items: int, n_resamples: int, seed: int) -> Iterable[np.ndarray]:
    """The resample counts of ``bootstrap_counts``, from the cache when they are small enough to keep."""
    if n_items * n_resamples <= _CACHE_LIMIT:
        return _cached_counts(n_items, n_resamples, seed)
    return bootstrap_counts(n_items, n_resamples, seed)


def _bootstrap_samples(
    evaluators: Sequence[ResampleEvaluator], metrics: Sequence[str], n_resamples: int, seed: int
) -> list[dict[str, np.ndarray]]:
    """Each metric of each evaluator under the same R resamples: one dict of (R,) arrays per evaluator."""
    parts: list[dict[str, list[np.ndarray]]] = [{name: [] for name in metrics} for _ in evaluators]
    for counts in _count_batches(evaluators[0].n_items, n_resamples, int(seed)):
        for evaluator, part in zip(evaluators, parts, strict=True):
            scalars = evaluator.evaluate(counts, metrics).scalars
            for name in metrics:
                part[name].append(scalars[name])
    return [{name: np.concatenate(chunks) for name, chunks in part.items()} for part in parts]


def _percentile_interval(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    """Percentile interval of the finite bootstrap samples; (NaN, NaN) when none is finite."""
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return (float("nan"), float("nan"))
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(finite, [tail, 1.0 - tail])
    return (float(low), float(high))


def bootstrap_ci(
    labels: Any,
    probs: Any,
    class_names: Sequence[str],
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    metrics: Sequence[str] = SCALAR_METRICS,
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap confidence interval of each metric, resampling test images with replacement.

    A resample where a metric is undefined (NaN, e.g. a class AUC with that class not drawn) is left out of that
    metric's interval; an interval is (NaN, NaN) only when the metric is undefined in every resample.

    Args:
        labels: (N,) int class indices, numpy or torch.
        probs: (N, K) probabilities, numpy or torch.
        class_names: the K class names.
        n_resamples: number of bootstrap resamples.
        confidence: coverage of the interval, e.g. 0.95 for the 2.5th to 97.5th percentile.
        seed: seed of the resampling; the same seed gives the same intervals.
        metrics: names from ``SCALAR_METRICS``; skipping the AUCs makes it several times faster.

    Returns:
        Metric name -> (low, high), plain floats.

    Raises:
        DataError: malformed labels or probs.
        ConfigError: bad ``n_resamples``, ``confidence`` or class names.
        UnknownNameError: a metric name that is not in ``SCALAR_METRICS``.
    """
    names = check_class_names(class_names)
    wanted = check_metric_names(metrics)
    _check_bootstrap_options(n_resamples, confidence)
    evaluator = ResampleEvaluator(labels, probs, len(names))
    (samples,) = _bootstrap_samples([evaluator], wanted, n_resamples, seed)
    return {name: _percentile_interval(samples[name], confidence) for name in wanted}


@dataclass(frozen=True)
class PairedDiff:
    """Difference of one metric between two models on the same test images.

    Attributes:
        diff: metric(model a) - metric(model b) on the full test set.
        ci_low: lower end of the percentile bootstrap interval of the difference.
        ci_high: upper end.
        p_value: two-sided bootstrap p-value of "no difference" (see ``paired_bootstrap_diff``).
    """

    diff: float
    ci_low: float
    ci_high: float
    p_value: float


def paired_bootstrap_diff(
    labels: Any,
    probs_a: Any,
    probs_b: Any,
    class_names: Sequence[str],
    metric: str,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> PairedDiff:
    """Paired bootstrap of metric(a) - metric(b): both models are scored on the same resampled images.

    Pairing removes the image-to-image variation the two models share, so the interval is much narrower than the
    difference of two separate intervals.

    The p-value inverts the percentile interval: with F = the fraction of resampled differences <= 0 and G = the
    fraction >= 0 (each counted as (1 + count) / (1 + R), so it is never exactly 0), p = min(1, 2 * min(F, G)). It
    is the smallest 1 - confidence at which the percentile interval would exclude 0, so p < 0.05 goes with a 95%
    interval that does not contain 0 (up to the interpolation of the quantiles), and its floor is 2 / (R + 1).

    Args:
        labels: (N,) int class indices.
        probs_a: (N, K) probabilities of model a.
        probs_b: (N, K) probabilities of model b, for the same images in the same order.
        class_names: the K class names.
        metric: one name from ``SCALAR_METRICS``.
        n_resamples: number of bootstrap resamples.
        seed: seed of the resampling.
        confidence: coverage of the interval.

    Returns:
        The observed difference, its interval and p-value (NaN throughout when the metric is undefined).

    Raises:
        DataError: malformed labels or probs.
        ConfigError: bad ``n_resamples``, ``confidence`` or class names.
        UnknownNameError: an unknown metric.
    """
    names = check_class_names(class_names)
    (name,) = check_metric_names((metric,))
    _check_bootstrap_options(n_resamples, confidence)
    evaluator_a = ResampleEvaluator(labels, probs_a, len(names))
    evaluator_b = ResampleEvaluator(labels, probs_b, len(names))
    observed = evaluator_a.point_estimate(name) - evaluator_b.point_estimate(name)
    samples_a, samples_b = _bootstrap_samples([evaluator_a, evaluator_b], (name,), n_resamples, seed)
    diffs = samples_a[name] - samples_b[name]
    diffs = diffs[np.isfinite(diffs)]
    if math.isnan(observed) or diffs.size == 0:
        nan = float("nan")
        return PairedDiff(nan, nan, nan, nan)
    low, high = _percentile_interval(diffs, confidence)
    at_most_zero = (1 + np.count_nonzero(diffs <= 0)) / (1 + diffs.size)
    at_least_zero = (1 + np.count_nonzero(diffs >= 0)) / (1 + diffs.size)
    return PairedDiff(observed, low, high, float(min(1.0, 2.0 * min(at_most_zero, at_least_zero))))


@dataclass(frozen=True)
class McNemarResult:
    """Exact McNemar test of two classifiers on the same images.

    Attributes:
        b: images model a gets right and model b gets wrong.
        c: images model a gets wrong and model b gets right.
        p_value: exact two-sided p-value of b and c coming from Binomial(b + c, 1/2).
    """

    b: int
    c: int
    p_value: float


def _as_bool_vector(values: Any, name: str) -> np.ndarray:
    """A 1-D boolean numpy array from a numpy/torch/list input of booleans or 0/1."""
    array = values.detach().cpu().numpy() if hasattr(values, "detach") else np.asarray(values)
    if array.ndim != 1:
        raise DataError(f"{name} must be a 1-D array of booleans, got shape {array.shape}")
    if array.dtype != np.bool_:
        if array.size and not np.isin(array, (0, 1)).all():
            raise DataError(f"{name} must hold booleans or 0/1 values")
        array = array.astype(bool)
    return array


def mcnemar_exact(correct_a: Any, correct_b: Any) -> McNemarResult:
    """Exact McNemar test: do models a and b differ in accuracy on the same images?

    Only discordant images carry information: under "no difference", each is equally likely to favour either model,
    so b ~ Binomial(b + c, 1/2). p = min(1, 2 * P(X <= min(b, c))), computed in exact integer arithmetic (valid for
    any test-set size); p = 1.0 when there is no discordant image.

    Args:
        correct_a: (N,) booleans, whether model a classified each image correctly.
        correct_b: (N,) booleans for model b, same images in the same order.

    Returns:
        The discordant counts and the p-value.

    Raises:
        DataError: inputs that are not 1-D boolean vectors of one length.
    """
    a = _as_bool_vector(correct_a, "correct_a")
    b_vec = _as_bool_vector(correct_b, "correct_b")
    if a.shape != b_vec.shape:
        raise DataError(f"correct_a and correct_b must have the same length, got {a.size} and {b_vec.size}")
    b = int(np.count_nonzero(a & ~b_vec))
    c = int(np.count_nonzero(~a & b_vec))
    n = b + c
    if n == 0:
        return McNemarResult(b, c, 1.0)
    # C(n, i+1) = C(n, i) * (n - i) / (i + 1), exact in integers: one pass instead of min(b, c) binomials.
    term = tail = 1
    for i in range(min(b, c)):
        term = term * (n - i) // (i + 1)
        tail += term
    # Integer true division rounds correctly even when 2**n has thousands of digits.
    return McNemarResult(b, c, min(1.0, 2 * tail / 2**n))


def holm_correction(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order.

    The i-th smallest of m p-values is multiplied by (m - i + 1); a running maximum keeps the adjusted values in
    the order of the raw ones, and they are capped at 1. Rejecting where adjusted p < alpha controls the
    family-wise error rate at alpha.

    Args:
        p_values: raw p-values in [0, 1].

    Returns:
        Adjusted p-values as floats, one per input.

    Raises:
        ConfigError: a value that is NaN or outside [0, 1].
    """
    raw = np.asarray(p_values, dtype=np.float64).ravel()
    if raw.size == 0:
        return []
    if np.isnan(raw).any() or (raw < 0).any() or (raw > 1).any():
        raise ConfigError(f"p-values must lie in [0, 1], got {[float(p) for p in raw]}")
    order = np.argsort(raw, kind="stable")
    multipliers = raw.size - np.arange(raw.size)
    stepped = np.minimum(1.0, np.maximum.accumulate(raw[order] * multipliers))
    adjusted = np.empty_like(stepped)
    adjusted[order] = stepped
    return [float(p) for p in adjusted]


def summarize_over_seeds(values: Sequence[float], confidence: float = 0.95) -> dict[str, float | int]:
    """Mean of one metric over independent training seeds, with a Student-t interval of the mean.

    Args:
        values: the metric of each seed's run.
        confidence: coverage of the interval.

    Returns:
        ``mean``, ``std`` (sample standard deviation, ddof=1), ``ci_low``, ``ci_high`` (mean -/+ t * std / sqrt(n))
        and ``n``. With one value, std is 0 and the interval is the value itself: one run says nothing about spread.

    Raises:
        ConfigError: no values, a non-finite value, or a confidence outside (0, 1).
    """
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size == 0:
        raise ConfigError("summarize_over_seeds needs at least one value")
    if not np.isfinite(array).all():
        raise ConfigError(f"values must be finite numbers, got {[float(v) for v in array]}")
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    n = int(array.size)
    mean = float(array.mean())
    if n == 1:
        return {"mean": mean, "std": 0.0, "ci_low": mean, "ci_high": mean, "n": 1}
    from scipy.special import stdtrit  # scipy comes with scikit-learn; imported here to keep imports light

    std = float(array.std(ddof=1))
    half_width = float(stdtrit(n - 1, 0.5 + confidence / 2.0)) * std / math.sqrt(n)
    return {"mean": mean, "std": std, "ci_low": mean - half_width, "ci_high": mean + half_width, "n": n}
