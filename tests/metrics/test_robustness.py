"""Robustness summaries of an accuracy matrix, on the study's published Table 2."""

from __future__ import annotations

import math

import pytest

from occlubench.errors import ConfigError, UnknownNameError
from occlubench.metrics import (
    area_under_severity_curve,
    normalized_occlusion_error,
    relative_robustness,
    severity_at_half_accuracy,
)

# /work/shared/reference/README.md, Table 2 (rows: trained on, columns: evaluated on; "full" is the clean face).
TABLE_2 = {
    "baseline": {"full": 0.6649, "upper": 0.4444, "lower": 0.2701, "left": 0.4200, "right": 0.4064},
    "upper": {"full": 0.6076, "upper": 0.6050, "lower": 0.2010, "left": 0.4015, "right": 0.3958},
    "lower": {"full": 0.5892, "upper": 0.3011, "lower": 0.5433, "left": 0.3318, "right": 0.3426},
    "left": {"full": 0.6314, "upper": 0.4209, "lower": 0.2843, "left": 0.6131, "right": 0.3753},
    "right": {"full": 0.6257, "upper": 0.4338, "lower": 0.2952, "left": 0.3289, "right": 0.6219},
}


def test_relative_robustness_of_the_baseline() -> None:
    summary = relative_robustness(TABLE_2["baseline"], clean="full")
    per_condition = summary["per_condition"]
    assert list(per_condition) == ["upper", "lower", "left", "right"]
    assert per_condition["lower"] == pytest.approx(0.2701 / 0.6649)
    expected_mean = (0.4444 + 0.2701 + 0.4200 + 0.4064) / 4 / 0.6649
    assert summary["mean"] == pytest.approx(expected_mean)


def test_relative_robustness_edge_cases() -> None:
    assert math.isnan(relative_robustness({"none": 0.0, "upper": 0.0})["per_condition"]["upper"])
    assert math.isnan(relative_robustness({"none": 0.5})["mean"])
    with pytest.raises(ConfigError, match="full"):
        relative_robustness({"none": 0.5, "upper": 0.2}, clean="full")


def test_normalized_occlusion_error_on_table_2() -> None:
    summary = normalized_occlusion_error(TABLE_2, "baseline", clean="full")
    assert summary["baseline"]["per_condition"] == {"upper": 1.0, "lower": 1.0, "left": 1.0, "right": 1.0}
    assert summary["baseline"]["mean"] == 1.0
    upper = summary["upper"]
    assert upper["per_condition"]["upper"] == pytest.approx((1 - 0.6050) / (1 - 0.4444))
    assert upper["per_condition"]["lower"] == pytest.approx((1 - 0.2010) / (1 - 0.2701))
    # Fine-tuning on one half makes that half much easier and the opposite half harder.
    assert upper["per_condition"]["upper"] < 1 < upper["per_condition"]["lower"]
    expected_mean = (
        sum((1 - TABLE_2["left"][c]) / (1 - TABLE_2["baseline"][c]) for c in ("upper", "lower", "left", "right")) / 4
    )
    assert summary["left"]["mean"] == pytest.approx(expected_mean)
    with_clean = normalized_occlusion_error(TABLE_2, "baseline", clean=None)
    assert "full" in with_clean["upper"]["per_condition"]


def test_normalized_occlusion_error_rejects_unknown_baseline_and_missing_conditions() -> None:
    with pytest.raises(UnknownNameError, match="baseline"):
        normalized_occlusion_error(TABLE_2, "baselin")
    with pytest.raises(ConfigError, match="right"):
        normalized_occlusion_error({"base": {"none": 0.9, "right": 0.5}, "other": {"none": 0.9}}, "base")
    perfect_baseline = normalized_occlusion_error({"base": {"none": 1.0, "upper": 1.0}}, "base")
    assert math.isnan(perfect_baseline["base"]["mean"])


def test_area_under_severity_curve() -> None:
    # Linear fall from 0.8 to 0.2 over [0, 1]: mean accuracy 0.5, whatever the span or the point order.
    assert area_under_severity_curve([0.0, 1.0], [0.8, 0.2]) == pytest.approx(0.5)
    assert area_under_severity_curve([0.0, 0.25, 0.5, 1.0], [0.8, 0.65, 0.5, 0.2]) == pytest.approx(0.5)
    assert area_under_severity_curve([40.0, 0.0, 20.0], [0.2, 0.8, 0.5]) == pytest.approx(0.5)
    assert area_under_severity_curve([0.0, 0.5, 1.0], [0.8, 0.6, 0.2]) == pytest.approx(0.55)
    for severities, accuracies in [([0.5], [0.3]), ([0.0, 0.0], [0.3, 0.2]), ([0.0, 1.0], [0.3])]:
        with pytest.raises(ConfigError):
            area_under_severity_curve(severities, accuracies)


def test_severity_at_half_accuracy() -> None:
    severities = [0.0, 0.25, 0.5, 0.75]
    assert severity_at_half_accuracy(severities, [0.8, 0.6, 0.3, 0.1], clean_accuracy=0.8) == pytest.approx(
        0.25 + (0.6 - 0.4) / (0.6 - 0.3) * 0.25
    )
    assert severity_at_half_accuracy(severities, [0.8, 0.7, 0.6, 0.5], clean_accuracy=0.8) is None
    assert severity_at_half_accuracy(severities, [0.8, 0.4, 0.3, 0.1], clean_accuracy=0.8) == pytest.approx(0.25)
    assert severity_at_half_accuracy([0.1, 0.2], [0.3, 0.1], clean_accuracy=0.8) == pytest.approx(0.1)
    with pytest.raises(ConfigError):
        severity_at_half_accuracy(severities, [0.8, 0.7, 0.6, 0.5], clean_accuracy=float("nan"))
