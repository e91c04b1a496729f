"""Severity conditions hide what they say, curves and region maps compute what they say (on fabricated numbers)."""

from __future__ import annotations

import math

import pytest
import torch

from occlubench.benchmark.catalog import SEVERITY_OCCLUDERS
from occlubench.benchmark.conditions import CLEAN, EvaluationCondition, grid_conditions, plain_condition
from occlubench.benchmark.regions import region_maps, regions_csv
from occlubench.benchmark.severity import (
    DEFAULT_SEVERITIES,
    severity_conditions,
    severity_csv,
    severity_curves,
    severity_params,
)
from occlubench.errors import ConfigError

# Whole pixels of a 48 x 48 image: a band is off by at most a row, a square by a row and a column, a polygon by
# its pixelized outline.
TOLERANCE = {"eyes_band": 1 / 48, "mouth_band": 1 / 48, "random_patch": 0.04, "random_erasing": 0.05, "face_mask": 0.03}


@pytest.mark.parametrize("occluder", SEVERITY_OCCLUDERS)
def test_each_severity_hides_that_fraction_of_the_image(occluder: str) -> None:
    images = torch.rand(64, 1, 48, 48)
    for condition in severity_conditions([occluder], DEFAULT_SEVERITIES):
        if condition.label == CLEAN:
            assert condition.build() is None
            continue
        hidden = condition.build().hidden_fraction(images, torch.Generator().manual_seed(0))
        assert float(hidden.mean()) == pytest.approx(condition.severity, abs=TOLERANCE[occluder]), condition.label


def test_severity_zero_is_the_clean_condition_listed_once() -> None:
    conditions = severity_conditions(["random_patch", "eyes_band"], (0.0, 0.3))
    assert [c.label for c in conditions] == ["full", "random_patch@0.3", "eyes_band@0.3"]
    assert conditions[1].kwargs == {"severity": 0.3}
    assert conditions[1].cell_fields() == {"occluder": "random_patch", "params": {"severity": 0.3}, "severity": 0.3}


def test_bands_stay_centred_where_they_can_and_inside_the_image() -> None:
    eyes, mouth = severity_params("eyes_band", 0.2), severity_params("mouth_band", 0.6)
    assert (eyes["top"] + eyes["bottom"]) / 2 == pytest.approx((0.20 + 0.48) / 2)
    assert mouth == {"top": 0.4, "bottom": 1.0}  # centred at 0.80 it would leave the image: shifted up


def test_the_face_mask_rises_from_the_chin() -> None:
    small, large = (severity_params("face_mask", s)["outline"] for s in (0.1, 0.5))
    top = [min(y for _, y in outline) for outline in (small, large)]
    assert top[0] > top[1]  # a bigger mask reaches higher up the face
    assert max(y for _, y in small) <= 1.0


def test_an_occluder_without_a_severity_knob_is_refused() -> None:
    with pytest.raises(ConfigError, match="occluder 'upper' has no severity knob"):
        severity_params("upper", 0.3)


def _cell(evaluated_on: str, accuracy: float, severity: float | None = None, occluder: str = "random_patch") -> dict:
    cell = {"model": "baseline", "trained_on": "full", "evaluated_on": evaluated_on, "seed": 0, "n": 100}
    cell["metrics"] = {"accuracy": accuracy, "macro_f1": accuracy / 2, "confusion_matrix": [[1]]}
    cell["ci"] = {"accuracy": [accuracy - 0.1, accuracy + 0.1]}
    if severity is not None:
        cell |= {"occluder": occluder, "params": {"severity": severity}, "severity": severity}
    return cell


def test_severity_curves_start_at_the_clean_cell_and_summarize() -> None:
    cells = [_cell("full", 0.8), _cell("random_patch@0.5", 0.6, 0.5), _cell("random_patch@1", 0.2, 1.0)]
    (curve,) = severity_curves(cells)
    assert curve["severities"] == [0.0, 0.5, 1.0]
    assert curve["labels"] == ["full", "random_patch@0.5", "random_patch@1"]
    assert curve["metrics"]["accuracy"] == [0.8, 0.6, 0.2]
    assert curve["area_under_curve"]["accuracy"] == pytest.approx(0.55)
    assert curve["area_under_curve"]["macro_f1"] == pytest.approx(0.275)
    assert curve["severity_at_half_accuracy"] == pytest.approx(0.75)
    assert "confusion_matrix" not in curve["metrics"]
    rows = severity_csv(cells, [curve]).splitlines()
    assert rows[0].split(",")[:8] == [
        "model",
        "trained_on",
        "evaluated_on",
        "seed",
        "metric",
        "value",
        "ci_low",
        "ci_high",
    ]
    assert "baseline,full,random_patch@0.5,0,accuracy,0.6,0.5,0.7,random_patch,0.5" in rows
    assert "baseline,full,random_patch,0,area_under_curve.accuracy,0.55,,,random_patch," in rows


def test_a_curve_that_never_halves_says_so() -> None:
    (curve,) = severity_curves([_cell("full", 0.8), _cell("p@0.5", 0.7, 0.5)])
    assert curve["severity_at_half_accuracy"] is None


def test_region_maps_read_per_class_drops_off_the_predictions() -> None:
    k, classes = 2, ("a", "b", "c")
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    clean = torch.full((6, 3), 0.1)
    clean[torch.arange(6), labels] = 0.8  # every image right, true-class probability 0.8
    conditions = [plain_condition(CLEAN), *grid_conditions(k)]
    probs = {c.label: clean.clone() for c in conditions}
    hit = probs["grid2_r1c0"]  # hiding the bottom-left cell turns class b's images into class c
    hit[2:4] = torch.tensor([0.1, 0.2, 0.7])
    (entry,) = region_maps(labels, clean, probs, conditions, classes)
    assert entry["k"] == k
    assert entry["fill"] == "gray"
    assert entry["labels"] == [["grid2_r0c0", "grid2_r0c1"], ["grid2_r1c0", "grid2_r1c1"]]
    assert entry["accuracy_drop"]["b"] == [[0.0, 0.0], [1.0, 0.0]]
    assert entry["accuracy_drop"]["a"] == [[0.0, 0.0], [0.0, 0.0]]
    assert entry["accuracy_drop"]["overall"][1][0] == pytest.approx(1 / 3)
    assert entry["true_class_probability_drop"]["b"][1][0] == pytest.approx(0.6)
    assert entry["clean"]["accuracy"]["overall"] == 1.0
    rows = regions_csv([{"model": "baseline", "trained_on": "full", "seed": 0} | entry]).splitlines()
    assert len(rows) == 1 + 2 * (len(classes) + 1) * k * k
    assert "baseline,full,grid2_r1c0,0,accuracy_drop.b,1.0,,,2,1,0,b" in rows


def test_a_class_without_report_images_has_an_undefined_map() -> None:
    labels = torch.tensor([0, 0])
    clean = torch.tensor([[0.9, 0.1], [0.9, 0.1]])
    conditions = [plain_condition(CLEAN), *grid_conditions(1)]
    (entry,) = region_maps(labels, clean, {c.label: clean for c in conditions}, conditions, ("a", "b"))
    assert math.isnan(entry["accuracy_drop"]["b"][0][0])
    assert entry["accuracy_drop"]["a"] == [[0.0]]


def test_one_label_for_two_different_conditions_is_an_error() -> None:
    from occlubench.benchmark.conditions import unique_by_label

    a = EvaluationCondition("x", "eyes_band")
    b = EvaluationCondition("x", "mouth_band")
    with pytest.raises(ConfigError, match="evaluation label 'x' names two different conditions"):
        unique_by_label([a, b])
    assert unique_by_label([a, a]) == (a,)
