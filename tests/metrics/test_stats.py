"""Bootstrap intervals, paired tests and multiple-test correction."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from occlubench.errors import ConfigError, DataError, UnknownNameError
from occlubench.metrics import (
    SCALAR_METRICS,
    ResampleEvaluator,
    bootstrap_ci,
    bootstrap_counts,
    compute_metrics,
    holm_correction,
    mcnemar_exact,
    paired_bootstrap_diff,
    stats,
    summarize_over_seeds,
)

NAMES = ("a", "b", "c", "d")


def noisy_classifier(n_items: int, accuracy: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels and probabilities of a 4-class classifier that is right with probability ``accuracy``."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n_items)
    right = rng.random(n_items) < accuracy
    predicted = np.where(right, labels, (labels + rng.integers(1, 4, n_items)) % 4)
    probs = rng.dirichlet(np.ones(4), n_items) * 0.5
    probs[np.arange(n_items), predicted] += 0.5
    return labels, probs


def test_bootstrap_counts_are_resamples_and_repeat_per_seed() -> None:
    batches = list(bootstrap_counts(50, 300, seed=4))
    counts = np.concatenate(batches, axis=1)
    assert counts.shape == (50, 300)
    assert (counts.sum(axis=0) == 50).all()
    assert counts.min() >= 0
    assert np.array_equal(counts, np.concatenate(list(bootstrap_counts(50, 300, seed=4)), axis=1))
    assert not np.array_equal(counts, np.concatenate(list(bootstrap_counts(50, 300, seed=5)), axis=1))
    # Each image is drawn N times with probability 1/N: about once per resample on average.
    assert counts.mean() == pytest.approx(1.0)


def test_resampled_metrics_equal_metrics_of_explicit_resamples() -> None:
    labels, probs = noisy_classifier(120, 0.6, seed=0)
    probs = np.round(probs, 2)  # ties
    counts = next(bootstrap_counts(len(labels), 6, seed=1))
    resampled = ResampleEvaluator(labels, probs, 4).evaluate(counts)
    for column in range(counts.shape[1]):
        drawn = np.repeat(np.arange(len(labels)), counts[:, column])
        expected = compute_metrics(labels[drawn], probs[drawn], NAMES)
        for name in SCALAR_METRICS:
            assert resampled.scalars[name][column] == pytest.approx(expected[name], abs=1e-12)


def test_bootstrap_ci_is_deterministic_per_seed_and_brackets_the_estimate() -> None:
    labels, probs = noisy_classifier(400, 0.7, seed=1)
    first = bootstrap_ci(labels, probs, NAMES, n_resamples=300, seed=3)
    again = bootstrap_ci(torch.from_numpy(labels), torch.from_numpy(probs), NAMES, n_resamples=300, seed=3)
    other = bootstrap_ci(labels, probs, NAMES, n_resamples=300, seed=4)
    assert first == again
    assert first != other
    assert list(first) == list(SCALAR_METRICS)
    point = compute_metrics(labels, probs, NAMES)
    for name, (low, high) in first.items():
        assert type(low) is float
        assert type(high) is float
        assert low < point[name] < high, name
        assert high - low < 0.2, name


def test_bootstrap_ci_of_a_subset_matches_the_full_run() -> None:
    labels, probs = noisy_classifier(200, 0.6, seed=2)
    full = bootstrap_ci(labels, probs, NAMES, n_resamples=200, seed=9)
    only_auc = bootstrap_ci(labels, probs, NAMES, n_resamples=200, seed=9, metrics=("micro_auc",))
    assert only_auc == {"micro_auc": full["micro_auc"]}


def test_cached_and_fresh_resamples_give_the_same_intervals(monkeypatch: pytest.MonkeyPatch) -> None:
    labels, probs = noisy_classifier(150, 0.6, seed=4)
    cached = bootstrap_ci(labels, probs, NAMES, n_resamples=300, seed=21)
    monkeypatch.setattr(stats, "_CACHE_LIMIT", 0)
    assert bootstrap_ci(labels, probs, NAMES, n_resamples=300, seed=21) == cached


def test_bootstrap_ci_narrows_with_confidence() -> None:
    labels, probs = noisy_classifier(300, 0.6, seed=3)
    wide = bootstrap_ci(labels, probs, NAMES, n_resamples=400, confidence=0.99, metrics=("accuracy",))
    narrow = bootstrap_ci(labels, probs, NAMES, n_resamples=400, confidence=0.5, metrics=("accuracy",))
    assert wide["accuracy"][0] < narrow["accuracy"][0] < narrow["accuracy"][1] < wide["accuracy"][1]


def test_bootstrap_interval_covers_the_true_accuracy_about_95_percent_of_the_time() -> None:
    true_accuracy, n_items, n_simulations = 0.7, 300, 400
    covered = 0
    for simulation in range(n_simulations):
        labels, probs = noisy_classifier(n_items, true_accuracy, seed=10_000 + simulation)
        low, high = bootstrap_ci(labels, probs, NAMES, n_resamples=1000, seed=simulation, metrics=("accuracy",))[
            "accuracy"
        ]
        covered += low <= true_accuracy <= high
    coverage = covered / n_simulations
    assert 0.93 <= coverage <= 0.97, f"coverage {coverage:.3f}"


def test_paired_diff_of_a_model_with_itself_is_zero() -> None:
    labels, probs = noisy_classifier(200, 0.6, seed=5)
    result = paired_bootstrap_diff(labels, probs, probs, NAMES, "macro_f1", n_resamples=200)
    assert (result.diff, result.ci_low, result.ci_high, result.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_paired_diff_detects_a_better_model_and_has_the_documented_sign() -> None:
    labels, probs_good = noisy_classifier(500, 0.8, seed=6)
    _, probs_bad = noisy_classifier(500, 0.5, seed=6)  # same labels: same seed draws them first
    result = paired_bootstrap_diff(labels, probs_good, probs_bad, NAMES, "accuracy", n_resamples=500, seed=1)
    expected = (
        compute_metrics(labels, probs_good, NAMES)["accuracy"] - compute_metrics(labels, probs_bad, NAMES)["accuracy"]
    )
    assert result.diff == pytest.approx(expected)
    assert 0 < result.ci_low < result.diff < result.ci_high
    assert result.p_value == pytest.approx(2 / 501)  # the floor: no resample reaches 0
    again = paired_bootstrap_diff(labels, probs_good, probs_bad, NAMES, "accuracy", n_resamples=500, seed=1)
    assert again == result
    reverse = paired_bootstrap_diff(labels, probs_bad, probs_good, NAMES, "accuracy", n_resamples=500, seed=1)
    assert reverse.diff == pytest.approx(-result.diff)
    assert reverse.p_value == result.p_value


def test_paired_diff_is_tighter_than_unpaired_intervals() -> None:
    labels, probs_a = noisy_classifier(400, 0.7, seed=8)
    probs_b = probs_a.copy()
    flip = np.random.default_rng(0).random(len(labels)) < 0.05  # b differs from a on a few images only
    probs_b[flip] = probs_b[flip][:, ::-1]
    paired = paired_bootstrap_diff(labels, probs_a, probs_b, NAMES, "accuracy", n_resamples=400)
    single = bootstrap_ci(labels, probs_a, NAMES, n_resamples=400, metrics=("accuracy",))["accuracy"]
    assert paired.ci_high - paired.ci_low < (single[1] - single[0]) / 2


def test_mcnemar_matches_hand_computed_binomial_tails() -> None:
    # b=1, c=5: n=6, P(X <= 1) = (1 + 6) / 64, two-sided 14/64.
    correct_a = np.array([True] * 1 + [False] * 5 + [True] * 10 + [False] * 4)
    correct_b = np.array([False] * 1 + [True] * 5 + [True] * 10 + [False] * 4)
    result = mcnemar_exact(correct_a, correct_b)
    assert (result.b, result.c) == (1, 5)
    assert result.p_value == pytest.approx(14 / 64, abs=1e-15)
    # b=0, c=10: 2 * (1/2)^10.
    assert mcnemar_exact([False] * 10, [True] * 10).p_value == pytest.approx(2 / 1024, abs=1e-15)
    # b=2, c=8: 2 * (1 + 10 + 45) / 1024.
    two_eight = mcnemar_exact([True] * 2 + [False] * 8, [False] * 2 + [True] * 8)
    assert two_eight.p_value == pytest.approx(112 / 1024, abs=1e-15)
    # b=3, c=3: the doubled tail 2 * 42/64 exceeds 1 and is capped.
    assert mcnemar_exact([1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]).p_value == 1.0
    # No discordant pair: no evidence either way.
    assert mcnemar_exact([True, False], [True, False]) == mcnemar_exact([True, False], [True, False])
    assert mcnemar_exact([True, False], [True, False]).p_value == 1.0


def test_mcnemar_is_exact_for_large_counts_and_symmetric() -> None:
    correct_a = np.array([True] * 3000 + [False] * 3300)
    correct_b = ~correct_a
    result = mcnemar_exact(torch.from_numpy(correct_a), torch.from_numpy(correct_b))
    assert (result.b, result.c) == (3000, 3300)
    # Normal approximation with continuity correction: z = (|b - c| - 1) / sqrt(b + c).
    z = (300 - 1) / math.sqrt(6300)
    assert result.p_value == pytest.approx(math.erfc(z / math.sqrt(2)), rel=0.05)
    assert mcnemar_exact(correct_b, correct_a).p_value == result.p_value


def test_mcnemar_rejects_mismatched_or_non_boolean_input() -> None:
    with pytest.raises(DataError):
        mcnemar_exact([True, False], [True])
    with pytest.raises(DataError):
        mcnemar_exact([0, 2], [1, 1])


def test_holm_on_a_textbook_example() -> None:
    # Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> running max 0.02, 0.03, 0.06, 0.06.
    adjusted = holm_correction([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_is_monotone_capped_and_validates() -> None:
    raw = [0.2, 0.5, 0.01, 0.9, 0.04]
    adjusted = holm_correction(raw)
    order = np.argsort(raw)
    assert np.all(np.diff(np.asarray(adjusted)[order]) >= 0)
    assert all(a >= r for a, r in zip(adjusted, raw, strict=True))
    assert max(adjusted) == 1.0
    assert holm_correction([]) == []
    assert holm_correction([0.3]) == [0.3]
    with pytest.raises(ConfigError):
        holm_correction([0.1, 1.2])
    with pytest.raises(ConfigError):
        holm_correction([float("nan")])


def test_summarize_over_seeds_uses_a_student_t_interval() -> None:
    summary = summarize_over_seeds([1.0, 2.0, 3.0, 4.0, 5.0])
    assert summary["n"] == 5
    assert summary["mean"] == pytest.approx(3.0)
    assert summary["std"] == pytest.approx(math.sqrt(2.5))
    half_width = 2.776445105 * math.sqrt(2.5) / math.sqrt(5)  # t(0.975, df=4) from tables
    assert summary["ci_low"] == pytest.approx(3.0 - half_width, abs=1e-8)
    assert summary["ci_high"] == pytest.approx(3.0 + half_width, abs=1e-8)
    assert summarize_over_seeds([0.61]) == {"mean": 0.61, "std": 0.0, "ci_low": 0.61, "ci_high": 0.61, "n": 1}
    with pytest.raises(ConfigError):
        summarize_over_seeds([])


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"n_resamples": 0}, ConfigError),
        ({"confidence": 1.0}, ConfigError),
        ({"metrics": ("accuracy", "top5")}, UnknownNameError),
        ({"metrics": ()}, ConfigError),
    ],
)
def test_bootstrap_options_are_validated(options: dict[str, object], error: type) -> None:
    labels, probs = noisy_classifier(20, 0.5, seed=0)
    with pytest.raises(error):
        bootstrap_ci(labels, probs, NAMES, **options)  # type: ignore[arg-type]


def test_paired_diff_rejects_an_unknown_metric_and_mismatched_models() -> None:
    labels, probs = noisy_classifier(20, 0.5, seed=0)
    with pytest.raises(UnknownNameError):
        paired_bootstrap_diff(labels, probs, probs, NAMES, "f1")
    with pytest.raises(DataError):
        paired_bootstrap_diff(labels, probs, probs[:10], NAMES, "accuracy")
