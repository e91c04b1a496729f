"""On synthetic faces the right answer is known: region maps light up on each class's cues, and accuracy falls as
more of the face is hidden.

One baseline is trained on the demo's faces (the ``quick`` recipe, a smaller report split) and evaluated on a 4 x 4
grid and on three severity curves in the same sweep. Its maps are compared with ``SYNTHETIC_CUES``: for every class
with a cue the model cannot do without, the cell whose hiding hurts that class most lies on one of its cue boxes, and
for the classes whose cues sit in one half (angry: brows, upper; happy and disgust: mouth, lower) that half's cells
light up far more than the other half's.

``fear`` and ``surprise`` are left out of the argmax rule on purpose: both raise the brows, and they differ by the eyes
(wide for fear) and the mouth (open for surprise), so the model tells them apart from either and no single cell is
necessary: hiding surprise's open mouth leaves raised brows over normal eyes, still surprise (its map stays near 0);
fear's largest drop is at the mouth, whose being closed is what separates it from surprise. ``neutral`` has no cue.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from pathlib import Path

import pytest

import occlubench as ob
from occlubench.benchmark.catalog import DEMO_PRESETS
from occlubench.benchmark.conditions import GridCell
from occlubench.data.synthetic import SYNTHETIC_CUES

K = 4
SEVERITIES = (0.0, 0.2, 0.4, 0.6)
NECESSARY = ("angry", "disgust", "happy", "sad")  # classes with a cue no other cue stands in for
ONE_HALF = {"angry": "upper", "disgust": "lower", "happy": "lower"}


def _overlaps(cell: tuple[float, float, float, float], box: tuple[float, float, float, float]) -> bool:
    return cell[0] < box[1] and box[0] < cell[1] and cell[2] < box[3] and box[2] < cell[3]


def cue_cells(name: str, k: int = K) -> set[int]:
    """Indices of the k x k cells that overlap one of the class's cue boxes."""
    boxes = SYNTHETIC_CUES[name]["boxes"]
    return {i for i in range(k * k) if any(_overlaps(GridCell(k, i).box(), box) for box in boxes)}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> ob.BenchmarkResult:
    quick = DEMO_PRESETS["quick"]
    preset = dataclasses.replace(
        quick, name="cues", dataset_options={**quick.dataset_options, "val_per_class": 20, "test_per_class": 30}
    )
    spec = dataclasses.replace(
        ob.get_benchmark("demo-regions"),
        grids=(K,),
        severity_occluders=("random_patch", "eyes_band", "mouth_band"),
        severities=SEVERITIES,
        presets={"cues": preset},
        default_preset="cues",
    )
    return ob.run_benchmark(spec, None, tmp_path_factory.mktemp("demo") / "run", bootstrap=0)


@pytest.mark.slow
def test_the_baseline_learned_the_faces(demo_run: ob.BenchmarkResult) -> None:
    assert demo_run.matrix("accuracy")["full"]["full"] >= 0.9


@pytest.mark.slow
@pytest.mark.parametrize("name", NECESSARY)
def test_the_most_sensitive_cell_of_a_class_lies_on_its_cues(demo_run: ob.BenchmarkResult, name: str) -> None:
    (entry,) = demo_run.results["region_maps"]
    drops = [v for row in entry["true_class_probability_drop"][name] for v in row]
    hottest = max(range(K * K), key=drops.__getitem__)
    assert hottest in cue_cells(name), f"{name}: hottest cell {hottest} ({drops[hottest]:+.2f}), map {drops}"
    assert drops[hottest] > 0.1


@pytest.mark.slow
@pytest.mark.parametrize("name", list(ONE_HALF))
def test_the_half_holding_the_cues_lights_up(demo_run: ob.BenchmarkResult, name: str) -> None:
    assert ONE_HALF[name] in SYNTHETIC_CUES[name]["regions"]
    (entry,) = demo_run.results["region_maps"]
    rows = entry["true_class_probability_drop"][name]
    upper, lower = (sum(sum(row) for row in part) / (K * K / 2) for part in (rows[: K // 2], rows[K // 2 :]))
    cued, other = (upper, lower) if ONE_HALF[name] == "upper" else (lower, upper)
    assert cued > 3 * max(other, 0.0) + 0.05, f"{name}: {ONE_HALF[name]} cells {cued:+.3f}, the others {other:+.3f}"


@pytest.mark.slow
def test_severity_curves_fall_monotonically_within_noise(demo_run: ob.BenchmarkResult) -> None:
    curves = demo_run.results["severity_curves"]
    assert {c["occluder"] for c in curves} == {"random_patch", "eyes_band", "mouth_band"}
    n = demo_run.cells[0]["n"]
    noise = 2 * math.sqrt(0.25 / n)  # two binomial standard errors at the worst case p = 0.5
    for curve in curves:
        accuracy = curve["metrics"]["accuracy"]
        assert curve["severities"] == list(SEVERITIES)
        steps = itertools.pairwise(accuracy)
        assert all(after <= before + noise for before, after in steps), f"{curve['occluder']}: {accuracy}"
        assert accuracy[-1] < accuracy[0] - 0.2, f"{curve['occluder']}: {accuracy}"


@pytest.mark.slow
def test_the_run_directory_keeps_maps_and_curves(demo_run: ob.BenchmarkResult) -> None:
    root = Path(demo_run.run_dir)
    assert (root / "regions.csv").is_file()
    assert (root / "severity.csv").is_file()
