"""Classification metrics from (labels, probabilities): accuracy, F1 and one-vs-rest ROC AUC.

Every metric is computed for *weighted* test sets, where each image counts ``w`` times. A plain evaluation is the
weight vector of ones; a bootstrap resample is the vector of how often each image was drawn. One code path therefore
serves the point estimate and thousands of resamples, and the sort that AUC needs is done once per test set, not once
per resample (``ResampleEvaluator``).

Conventions, chosen to equal scikit-learn where scikit-learn gives an answer:

* Prediction = argmax of the probabilities (first maximum on ties, as ``numpy.argmax``).
* F1 follows ``sklearn.metrics.f1_score`` with its default labels: a class counts in the macro average when it occurs
  in the labels or in the predictions; a class predicted but never true has F1 0. Micro F1 equals accuracy.
* One-vs-rest AUC of a class is the Mann-Whitney statistic of its probability column (ties count one half), equal to
  ``roc_auc_score(labels == k, probs[:, k])``. It is NaN for a class absent from the labels (no positives) or when
  it is the only class present (no negatives). Macro / weighted AUC average over the classes whose AUC is defined,
  with prevalence weights for ``weighted``: with every class present this is exactly
  ``roc_auc_score(labels, probs, multi_class="ovr", average=...)``; with some absent it is what scikit-learn gives
  on the present classes, ``roc_auc_score(one_hot(labels)[:, present], probs[:, present], average=...)``
  (scikit-learn itself refuses the full matrix). NaN when no class has a defined AUC.
* Micro AUC is ``roc_auc_score(one_hot(labels), probs, average="micro")`` over all K columns: every column of an
  absent class is negatives, which is well defined, so micro AUC stays a number even with one class present.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from occlubench.errors import ConfigError, DataError, UnknownNameError

HEADLINE_METRICS: tuple[str, ...] = ("accuracy", "macro_f1", "weighted_f1", "weighted_auc")
"""The metrics a summary table shows."""

SCALAR_METRICS: tuple[str, ...] = (
    "accuracy",
    "macro_f1",
    "weighted_f1",
    "micro_f1",
    "macro_auc",
    "weighted_auc",
    "micro_auc",
)
"""Every scalar metric ``compute_metrics`` returns (``n`` is a count, not a metric, and is left out)."""

_COUNT_METRICS = frozenset({"accuracy", "macro_f1", "weighted_f1", "micro_f1"})
_CLASS_AUC_METRICS = frozenset({"macro_auc", "weighted_auc"})


def as_label_array(labels: Any, n_classes: int) -> np.ndarray:
    """Labels as a 1-D int64 numpy array, checked to lie in ``[0, n_classes)``.

    Raises:
        DataError: not 1-D, not integers, empty, or out of range.
    """
    array = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if array.ndim != 1:
        raise DataError(f"labels must be a 1-D array, got shape {array.shape}")
    if array.size == 0:
        raise DataError("labels are empty: metrics need at least one image")
    if not np.issubdtype(array.dtype, np.integer):
        raise DataError(f"labels must be integer class indices, got dtype {array.dtype}")
    low, high = int(array.min()), int(array.max())
    if low < 0 or high >= n_classes:
        raise DataError(f"labels must lie in [0, {n_classes}), got values from {low} to {high}")
    return array.astype(np.int64, copy=False)


def as_prob_array(probs: Any, n_items: int, n_classes: int) -> np.ndarray:
    """Scores as a finite float64 (N, K) numpy array.

    Raises:
        DataError: wrong shape, non-numeric or non-finite values.
    """
    if isinstance(probs, torch.Tensor):
        # float64 on the CPU first: numpy has no bfloat16, and AUC needs the full precision of the scores.
        probs = probs.detach().to("cpu", torch.float64) if probs.is_floating_point() else probs.detach().cpu()
    array = probs.numpy() if isinstance(probs, torch.Tensor) else np.asarray(probs)
    if array.shape != (n_items, n_classes):
        raise DataError(f"probs must have shape (N, K) = ({n_items}, {n_classes}), got {array.shape}")
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise DataError(f"probs must be numbers, got dtype {array.dtype}")
    array = array.astype(np.float64, copy=False)
    if not np.isfinite(array).all():
        raise DataError("probs contain NaN or infinite values")
    return array


def check_class_names(class_names: Sequence[str]) -> tuple[str, ...]:
    """Class names as a tuple of at least two distinct strings.

    Raises:
        ConfigError: fewer than two names, or duplicates.
    """
    names = tuple(str(name) for name in class_names)
    if len(names) < 2:
        raise ConfigError(f"metrics need at least two classes, got {len(names)}")
    if len(set(names)) != len(names):
        raise ConfigError(f"class names must be distinct, got {names}")
    return names


def check_metric_names(metrics: Iterable[str]) -> tuple[str, ...]:
    """Metric names, each one of ``SCALAR_METRICS``.

    Raises:
        UnknownNameError: a name that is not a scalar metric.
        ConfigError: no names at all.
    """
    names = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    for name in names:
        if name not in SCALAR_METRICS:
            raise UnknownNameError("metric", name, SCALAR_METRICS)
    if not names:
        raise ConfigError("no metric requested", f"choose from {', '.join(SCALAR_METRICS)}")
    return names


@dataclass(frozen=True)
class _BinaryAucPlan:
    """One binary ranking problem, sorted once; evaluates its AUC under many image-weight vectors.

    With image weights ``w``, AUC = sum over positives p of w_p * (weight of the negatives scoring below p + half the
    weight of those tied with p), divided by (total positive weight * total negative weight). The negatives are
    sorted once and every positive located among them (``searchsorted``), which cuts the sorted negatives into
    buckets between consecutive positive thresholds. Under any weights, one sparse product gives the weight of each
    bucket, a cumulative sum over the buckets (about one per positive, not one per negative) gives the weight below
    every threshold, and a dot product with the positive weights gives the numerator.
    """

    bucket_matrix: sp.csr_matrix  # (U + 1, N): row b adds up the weights of the negatives in bucket b
    pos_rows: np.ndarray  # (M_pos,) image of each positive
    below: np.ndarray  # (M_pos,) threshold index: negatives strictly below each positive
    at_or_below: np.ndarray | None  # (M_pos,) threshold index: negatives <= each positive; None without ties

    @classmethod
    def build(cls, scores: np.ndarray, positive: np.ndarray, rows: np.ndarray, n_items: int) -> _BinaryAucPlan:
        """Sort the negatives of ``scores`` and bucket them by the positives (``rows``: the image of each score)."""
        neg_scores, pos_scores = scores[~positive], scores[positive]
        order = np.argsort(neg_scores, kind="stable")
        neg_sorted = neg_scores[order]
        below = np.searchsorted(neg_sorted, pos_scores, side="left")
        at_or_below = np.searchsorted(neg_sorted, pos_scores, side="right")
        # Threshold j counts the negatives of sorted rank < thresholds[j]; bucket b holds the ranks between
        # thresholds b-1 and b, the last bucket those above every threshold (needed only for the total weight).
        thresholds, threshold_index = np.unique(np.concatenate([below, at_or_below]), return_inverse=True)
        bucket = np.searchsorted(thresholds, np.arange(len(neg_sorted)), side="right")
        bucket_matrix = sp.csr_matrix(
            (np.ones(len(neg_sorted), dtype=np.float32), (bucket, rows[~positive][order])),
            shape=(len(thresholds) + 1, n_items),
        )
        n_pos = len(pos_scores)
        tied = bool((at_or_below != below).any())
        return cls(
            bucket_matrix,
            rows[positive],
            threshold_index[:n_pos],
            threshold_index[n_pos:] if tied else None,
        )

    def auc(self, weights: np.ndarray) -> np.ndarray:
        """AUC under each column of ``weights`` (N, R) image counts held as floats; NaN where a side has no weight.

        Every sum before the final dot product is an integer no larger than 2 * K * (total weight), exact in the
        float type ``_work_dtype`` picks; the dot product itself accumulates in float64.
        """
        if len(self.pos_rows) == 0:
            return np.full(weights.shape[1], np.nan)
        bucket_weight = self.bucket_matrix @ weights
        below_threshold = np.cumsum(bucket_weight[:-1], axis=0)
        neg_total = below_threshold[-1].astype(np.float64) + bucket_weight[-1]
        pos_weights = weights[self.pos_rows]
        if self.at_or_below is None:
            twice_numerator = 2.0 * np.einsum("pr,pr->r", pos_weights, below_threshold[self.below], dtype=np.float64)
        else:
            tie_split = below_threshold[self.below] + below_threshold[self.at_or_below]
            twice_numerator = np.einsum("pr,pr->r", pos_weights, tie_split, dtype=np.float64)
        pairs = pos_weights.sum(axis=0, dtype=np.float64) * neg_total
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(pairs > 0, twice_numerator / (2.0 * pairs), np.nan)


@dataclass(frozen=True)
class WeightedMetrics:
    """Metrics of R weighted copies of one test set (a resample each), as arrays over the last axis.

    Attributes:
        scalars: metric name -> (R,) values, for the requested scalar metrics.
        class_recall: (K, R) recall of each class (NaN where the class has no weight), or None if not computed.
        class_auc: (K, R) one-vs-rest AUC of each class, or None if not computed.
    """

    scalars: dict[str, np.ndarray]
    class_recall: np.ndarray | None
    class_auc: np.ndarray | None


class ResampleEvaluator:
    """Evaluates every metric of one (labels, probs) test set under many image-weight vectors, fast.

    The sorts that AUC needs are done once, in the constructor (lazily for the AUC parts), so a bootstrap costs
    O(K * N) per resample: a gather, a cumulative sum and a dot product, batched over resamples.

    Args:
        labels: (N,) int class indices.
        probs: (N, K) scores, float; any monotone score works for AUC, argmax gives predictions.
        n_classes: K.
    """

    def __init__(self, labels: Any, probs: Any, n_classes: int) -> None:
        self.labels = as_label_array(labels, n_classes)
        self.probs = as_prob_array(probs, len(self.labels), n_classes)
        self.n_items, self.n_classes = self.probs.shape
        self.predictions = self.probs.argmax(axis=1)
        true_onehot = np.eye(n_classes)[self.labels]
        pred_onehot = np.eye(n_classes)[self.predictions]
        hit_onehot = true_onehot * (self.predictions == self.labels)[:, None]
        # One sparse (3K, N) matrix: a single product with the weights gives true, predicted and hit counts per
        # class (sparse, not BLAS: exact integers, and no BLAS threads fighting over a busy CPU).
        self._count_matrix = sp.csr_matrix(
            np.concatenate([true_onehot, pred_onehot, hit_onehot], axis=1).T.astype(np.float32)
        )
        self._class_plans: list[_BinaryAucPlan] | None = None
        self._micro_plan: _BinaryAucPlan | None = None

    def class_plans(self) -> list[_BinaryAucPlan]:
        """The K one-vs-rest AUC problems, sorted (built on first use)."""
        if self._class_plans is None:
            rows = np.arange(self.n_items)
            self._class_plans = [
                _BinaryAucPlan.build(self.probs[:, k], self.labels == k, rows, self.n_items)
                for k in range(self.n_classes)
            ]
        return self._class_plans

    def micro_plan(self) -> _BinaryAucPlan:
        """The raveled one-hot problem of micro AUC, sorted (built on first use)."""
        if self._micro_plan is None:
            positive = (self.labels[:, None] == np.arange(self.n_classes)[None, :]).ravel()
            rows = np.repeat(np.arange(self.n_items), self.n_classes)
            self._micro_plan = _BinaryAucPlan.build(self.probs.ravel(), positive, rows, self.n_items)
        return self._micro_plan

    def _work_dtype(self, weights: np.ndarray) -> type[np.floating]:
        """float32 when every integer sum stays below 2**24 (exact, and twice as fast as float64), else float64."""
        largest_total = float(np.asarray(weights).sum(axis=0, dtype=np.float64).max(initial=0.0))
        return np.float32 if 2.0 * self.n_classes * largest_total < 2.0**24 else np.float64

    def evaluate(self, weights: np.ndarray, metrics: Sequence[str] = SCALAR_METRICS) -> WeightedMetrics:
        """Metrics under each column of ``weights``.

        Args:
            weights: (N, R) non-negative integer counts (any int or float dtype), one column per weighted copy of
                the test set.
            metrics: names from ``SCALAR_METRICS`` to compute; the others are skipped (AUC is the costly part).

        Returns:
            The requested scalars as (R,) arrays, with per-class recall / AUC when they were needed.
        """
        wanted = set(check_metric_names(metrics))
        weights = np.ascontiguousarray(weights, dtype=self._work_dtype(weights))
        k = self.n_classes
        scalars: dict[str, np.ndarray] = {}
        class_recall = class_auc = None
        if wanted & (_COUNT_METRICS | _CLASS_AUC_METRICS):
            counts = (self._count_matrix @ weights).astype(np.float64)
            true, predicted, hits = counts[:k], counts[k : 2 * k], counts[2 * k :]
            class_recall = self._count_metrics(true, predicted, hits, wanted, scalars)
        if wanted & _CLASS_AUC_METRICS:
            class_auc = np.stack([plan.auc(weights) for plan in self.class_plans()])
            defined = ~np.isnan(class_auc)
            safe_auc = np.where(defined, class_auc, 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                if "macro_auc" in wanted:
                    scalars["macro_auc"] = safe_auc.sum(axis=0) / defined.sum(axis=0)
                if "weighted_auc" in wanted:
                    prevalence = np.where(defined, true, 0.0)
                    scalars["weighted_auc"] = (prevalence * safe_auc).sum(axis=0) / prevalence.sum(axis=0)
        if "micro_auc" in wanted:
            scalars["micro_auc"] = self.micro_plan().auc(weights)
        ordered = {name: scalars[name] for name in SCALAR_METRICS if name in scalars}
        return WeightedMetrics(ordered, class_recall, class_auc)

    def point_estimate(self, metric: str) -> float:
        """One scalar metric on the test set itself (every image weighted once)."""
        ones = np.ones((self.n_items, 1), dtype=np.int64)
        return float(self.evaluate(ones, (metric,)).scalars[metric][0])

    @staticmethod
    def _count_metrics(
        true: np.ndarray, predicted: np.ndarray, hits: np.ndarray, wanted: set[str], out: dict[str, np.ndarray]
    ) -> np.ndarray:
        """Accuracy and F1 from weighted (K, R) per-class counts; fills ``out``, returns per-class recall (K, R)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            accuracy = hits.sum(axis=0) / true.sum(axis=0)
            recall = np.where(true > 0, hits / true, np.nan)
            occurring = true + predicted
            f1 = np.where(occurring > 0, 2.0 * hits / occurring, 0.0)
            if "accuracy" in wanted:
                out["accuracy"] = accuracy
            if "micro_f1" in wanted:
                out["micro_f1"] = accuracy.copy()
            if "macro_f1" in wanted:
                out["macro_f1"] = f1.sum(axis=0) / (occurring > 0).sum(axis=0)
            if "weighted_f1" in wanted:
                out["weighted_f1"] = (true * f1).sum(axis=0) / true.sum(axis=0)
        return recall


def _plain_float(value: float | np.floating) -> float:
    """A Python float (NaN stays ``float('nan')``), so results are JSON-ready."""
    value = float(value)
    return float("nan") if math.isnan(value) else value


def compute_metrics(labels: Any, probs: Any, class_names: Sequence[str]) -> dict[str, Any]:
    """Every classification metric of one evaluation, as plain Python values.

    Args:
        labels: (N,) int class indices, numpy or torch.
        probs: (N, K) class probabilities (or any scores), numpy or torch; the prediction is their argmax.
        class_names: the K class names, in column order.

    Returns:
        ``accuracy``, ``macro_f1``, ``weighted_f1``, ``micro_f1``, ``macro_auc``, ``weighted_auc``, ``micro_auc``
        (floats), ``per_class_accuracy`` and ``per_class_auc`` (class name -> float, the recall and the one-vs-rest
        AUC of the class; NaN where undefined), ``confusion_matrix`` (K lists of K ints, rows = true class,
        columns = predicted) and ``n`` (int). See the module docstring for absent classes.

    Raises:
        DataError: malformed labels or probs.
        ConfigError: fewer than two class names.

    Examples:
        >>> compute_metrics([0, 1, 1], [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]], ["cat", "dog"])["accuracy"]
        0.6666666666666666
    """
    names = check_class_names(class_names)
    evaluator = ResampleEvaluator(labels, probs, len(names))
    result = evaluator.evaluate(np.ones((evaluator.n_items, 1), dtype=np.int64))
    # Every scalar metric was requested, so both per-class arrays exist.
    class_recall, class_auc = np.asarray(result.class_recall), np.asarray(result.class_auc)
    k = len(names)
    confusion = np.bincount(evaluator.labels * k + evaluator.predictions, minlength=k * k).reshape(k, k)
    metrics: dict[str, Any] = {name: _plain_float(values[0]) for name, values in result.scalars.items()}
    metrics["per_class_accuracy"] = {name: _plain_float(v) for name, v in zip(names, class_recall[:, 0], strict=True)}
    metrics["per_class_auc"] = {name: _plain_float(v) for name, v in zip(names, class_auc[:, 0], strict=True)}
    metrics["confusion_matrix"] = confusion.tolist()
    metrics["n"] = int(evaluator.n_items)
    return metrics
