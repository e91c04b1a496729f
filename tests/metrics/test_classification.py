"""compute_metrics against scikit-learn, on random data and on the reference study's own predictions."""

from __future__ import annotations

import csv
import gzip
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix, f1_score, recall_score, roc_auc_score

from occlubench.data.imageset import FER2013_CLASSES
from occlubench.errors import ConfigError, DataError, UnknownNameError
from occlubench.metrics import HEADLINE_METRICS, SCALAR_METRICS, ResampleEvaluator, compute_metrics

REFERENCE_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference"
PREDICTIONS = REFERENCE_DIR / "seed_baseline_predictions.csv.gz"

# /work/shared/reference/README.md, "The study's own predictions": what a correct implementation gives.
REFERENCE_TABLE = {
    "full": (0.6649, 0.6375, 0.6633, 0.9135, 0.9107, 0.9292),
    "upper": (0.4489, 0.3308, 0.3994, 0.7868, 0.8019, 0.8112),
    "lower": (0.2753, 0.2291, 0.2388, 0.6837, 0.6654, 0.6871),
    "left": (0.4388, 0.3721, 0.4439, 0.7795, 0.7892, 0.8182),
    "right": (0.4101, 0.3456, 0.4100, 0.7689, 0.7770, 0.7986),
}
TABLE_COLUMNS = ("accuracy", "macro_f1", "weighted_f1", "macro_auc", "weighted_auc", "micro_auc")


def sklearn_metrics(labels: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    """The scalar metrics as scikit-learn computes them (AUCs on the classes present in the labels)."""
    predictions = probs.argmax(axis=1)
    present = np.unique(labels)
    one_hot = np.eye(probs.shape[1])[labels]
    return {
        "accuracy": float(np.mean(predictions == labels)),
        "macro_f1": f1_score(labels, predictions, average="macro"),
        "weighted_f1": f1_score(labels, predictions, average="weighted"),
        "micro_f1": f1_score(labels, predictions, average="micro"),
        "macro_auc": roc_auc_score(one_hot[:, present], probs[:, present], average="macro"),
        "weighted_auc": roc_auc_score(one_hot[:, present], probs[:, present], average="weighted"),
        "micro_auc": roc_auc_score(one_hot, probs, average="micro"),
    }


def random_case(seed: int, *, ties: bool, absent: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Random labels and Dirichlet probabilities; ``ties`` rounds them to 0.1, ``absent`` drops that many classes."""
    rng = np.random.default_rng(seed)
    n_classes = int(rng.integers(3, 8))
    n_items = int(rng.integers(30, 400))
    labels = rng.integers(absent, n_classes, n_items)
    probs = rng.dirichlet(np.ones(n_classes), n_items)
    if ties:
        probs = np.round(probs, 1)
    return labels, probs, [f"class{k}" for k in range(n_classes)]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("absent", [0, 1, 2])
def test_scalars_equal_sklearn(seed: int, ties: bool, absent: int) -> None:
    labels, probs, names = random_case(seed, ties=ties, absent=absent)
    ours = compute_metrics(labels, probs, names)
    expected = sklearn_metrics(labels, probs)
    for name in SCALAR_METRICS:
        assert ours[name] == pytest.approx(expected[name], abs=1e-9), name


@pytest.mark.parametrize("seed", range(4))
def test_macro_and_weighted_auc_equal_sklearn_multiclass_ovr(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    labels = np.concatenate([np.arange(5), rng.integers(0, 5, 200)])
    probs = rng.dirichlet(np.ones(5), len(labels))
    ours = compute_metrics(labels, probs, list("abcde"))
    for average in ("macro", "weighted"):
        expected = roc_auc_score(labels, probs, multi_class="ovr", average=average)
        assert ours[f"{average}_auc"] == pytest.approx(expected, abs=1e-9)


def test_per_class_values_and_confusion_matrix_equal_sklearn() -> None:
    labels, probs, names = random_case(7, ties=True, absent=1)
    ours = compute_metrics(labels, probs, names)
    predictions = probs.argmax(axis=1)
    every_class = list(range(len(names)))
    expected_cm = confusion_matrix(labels, predictions, labels=every_class)
    assert ours["confusion_matrix"] == expected_cm.tolist()
    recalls = recall_score(labels, predictions, labels=every_class, average=None, zero_division=0)
    for k, name in enumerate(names):
        if k == 0:  # absent: its recall and AUC are undefined
            assert math.isnan(ours["per_class_accuracy"][name])
            assert math.isnan(ours["per_class_auc"][name])
            continue
        assert ours["per_class_accuracy"][name] == pytest.approx(recalls[k], abs=1e-12)
        assert ours["per_class_auc"][name] == pytest.approx(roc_auc_score(labels == k, probs[:, k]), abs=1e-12)
    assert ours["n"] == len(labels)


def test_single_present_class_gives_nan_class_aucs_and_sklearn_micro() -> None:
    rng = np.random.default_rng(3)
    labels = np.full(50, 2)
    probs = rng.dirichlet(np.ones(4), 50)
    ours = compute_metrics(labels, probs, list("abcd"))
    assert all(math.isnan(v) for v in ours["per_class_auc"].values())
    assert math.isnan(ours["macro_auc"])
    assert math.isnan(ours["weighted_auc"])
    # Micro AUC ranks true-class scores against every other column, which stays defined with one class.
    assert ours["micro_auc"] == pytest.approx(roc_auc_score(np.eye(4)[labels], probs, average="micro"), abs=1e-12)
    predictions = probs.argmax(axis=1)
    assert ours["accuracy"] == pytest.approx(np.mean(predictions == 2))
    assert ours["macro_f1"] == pytest.approx(f1_score(labels, predictions, average="macro"), abs=1e-12)


def test_torch_and_numpy_inputs_agree_and_result_is_plain_json() -> None:
    labels, probs, names = random_case(11, ties=False, absent=1)
    from_numpy = compute_metrics(labels, probs, names)
    from_torch = compute_metrics(torch.from_numpy(labels), torch.from_numpy(probs), names)
    assert json.dumps(from_numpy, sort_keys=True) == json.dumps(from_torch, sort_keys=True)
    for name in SCALAR_METRICS:
        assert type(from_numpy[name]) is float
    assert type(from_numpy["n"]) is int
    assert all(type(v) is int for row in from_numpy["confusion_matrix"] for v in row)
    assert list(from_numpy) == [*SCALAR_METRICS, "per_class_accuracy", "per_class_auc", "confusion_matrix", "n"]
    assert set(HEADLINE_METRICS) <= set(SCALAR_METRICS)


def test_low_precision_torch_probabilities_are_accepted() -> None:
    labels, probs, names = random_case(12, ties=False)
    as_bf16 = torch.from_numpy(probs).to(torch.bfloat16)
    ours = compute_metrics(torch.from_numpy(labels), as_bf16, names)
    assert ours == compute_metrics(labels, as_bf16.double().numpy(), names)


def test_weighted_evaluation_equals_metrics_of_the_repeated_images() -> None:
    """A count vector must act exactly like a test set holding each image that many times (bootstrap relies on it)."""
    labels, probs, names = random_case(5, ties=True)
    rng = np.random.default_rng(0)
    weights = rng.integers(0, 4, size=(len(labels), 5))
    weighted = ResampleEvaluator(labels, probs, len(names)).evaluate(weights)
    for column in range(weights.shape[1]):
        repeated = np.repeat(np.arange(len(labels)), weights[:, column])
        expected = compute_metrics(labels[repeated], probs[repeated], names)
        for name in SCALAR_METRICS:
            assert weighted.scalars[name][column] == pytest.approx(expected[name], abs=1e-12), name


@pytest.mark.parametrize(
    ("labels", "probs", "names", "error"),
    [
        ([0, 1], [[0.5, 0.5]], ["a", "b"], DataError),  # one row of probs for two labels
        ([0, 2], [[0.5, 0.5], [0.1, 0.9]], ["a", "b"], DataError),  # label out of range
        ([0.0, 1.0], [[0.5, 0.5], [0.1, 0.9]], ["a", "b"], DataError),  # float labels
        ([0, 1], [[0.5, float("nan")], [0.1, 0.9]], ["a", "b"], DataError),
        ([[0, 1]], [[0.5, 0.5], [0.1, 0.9]], ["a", "b"], DataError),  # 2-D labels
        ([], np.zeros((0, 2)), ["a", "b"], DataError),
        ([0, 0], [[1.0], [1.0]], ["a"], ConfigError),  # one class
        ([0, 1], [[0.5, 0.5], [0.1, 0.9]], ["a", "a"], ConfigError),
    ],
)
def test_bad_input_raises_a_user_error(labels: object, probs: object, names: list[str], error: type) -> None:
    with pytest.raises(error):
        compute_metrics(labels, probs, names)


def test_unknown_metric_name_is_a_user_error() -> None:
    evaluator = ResampleEvaluator([0, 1], [[0.9, 0.1], [0.2, 0.8]], 2)
    with pytest.raises(UnknownNameError, match="accuracy"):
        evaluator.evaluate(np.ones((2, 1), dtype=np.int64), ("acuracy",))


@pytest.fixture(scope="module")
def reference_predictions() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Labels and per-condition probabilities of the study's baseline model on its 7,178 test images."""
    if not PREDICTIONS.is_file():
        pytest.skip(f"reference predictions not found at {PREDICTIONS}")
    with gzip.open(PREDICTIONS, "rt", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    labels = np.array([FER2013_CLASSES.index(row[1]) for row in rows])
    values = np.array([row[2:] for row in rows], dtype=np.float64)
    columns = {name: i for i, name in enumerate(header[2:])}
    probs = {
        condition: values[:, [columns[f"{condition}_{name}"] for name in FER2013_CLASSES]]
        for condition in REFERENCE_TABLE
    }
    return labels, probs


@pytest.mark.parametrize("condition", list(REFERENCE_TABLE))
def test_reference_predictions_reproduce_the_published_table(
    reference_predictions: tuple[np.ndarray, dict[str, np.ndarray]], condition: str
) -> None:
    labels, probs = reference_predictions
    assert len(labels) == 7178
    ours = compute_metrics(labels, probs[condition], FER2013_CLASSES)
    for name, expected in zip(TABLE_COLUMNS, REFERENCE_TABLE[condition], strict=True):
        assert round(ours[name], 4) == pytest.approx(expected, abs=1e-9), name
    assert ours["micro_f1"] == ours["accuracy"]
