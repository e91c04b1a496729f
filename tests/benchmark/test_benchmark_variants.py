"""fer2013-severity, fer2013-regions and a TOML spec run end to end (smoke-sized) and leave long-format results."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import occlubench as ob
from occlubench.benchmark.catalog import SEVERITY_OCCLUDERS
from occlubench.benchmark.severity import DEFAULT_SEVERITIES
from occlubench.cli.app import app
from occlubench.data.imageset import FER2013_CLASSES

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "eyes_or_mouth.toml"
MATRIX_COLUMNS = ["model", "trained_on", "evaluated_on", "seed", "metric", "value", "ci_low", "ci_high"]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def severity_run(tiny_fer_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> ob.BenchmarkResult:
    out = tmp_path_factory.mktemp("runs") / "severity"
    return ob.run_benchmark("fer2013-severity", tiny_fer_zip, out, preset="smoke", model="fer_cnn", bootstrap=20)


@pytest.fixture(scope="module")
def regions_run(tiny_fer_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> ob.BenchmarkResult:
    out = tmp_path_factory.mktemp("runs") / "regions"
    return ob.run_benchmark("fer2013-regions", tiny_fer_zip, out, preset="smoke", model="fer_cnn", bootstrap=0)


def test_severity_run_has_a_curve_per_occluder(severity_run: ob.BenchmarkResult) -> None:
    results = json.loads((severity_run.run_dir / "results.json").read_text())
    curves = results["severity_curves"]
    assert [c["occluder"] for c in curves] == list(SEVERITY_OCCLUDERS)
    for curve in curves:
        assert curve["severities"] == list(DEFAULT_SEVERITIES)
        assert curve["labels"][0] == "full"
        assert len(curve["metrics"]["accuracy"]) == len(DEFAULT_SEVERITIES)
        assert 0.0 <= curve["area_under_curve"]["accuracy"] <= 1.0
        assert set(curve["metrics"]) >= {"accuracy", "macro_f1", "weighted_f1", "weighted_auc"}
    cells = results["cells"]
    assert len(cells) == 1 + len(SEVERITY_OCCLUDERS) * (len(DEFAULT_SEVERITIES) - 1)
    patch = next(c for c in cells if c["evaluated_on"] == "random_patch@0.3")
    assert patch["occluder"] == "random_patch"
    assert patch["severity"] == 0.3
    assert patch["params"] == {"severity": 0.3}
    assert "occluder" not in next(c for c in cells if c["evaluated_on"] == "full")  # a plain cell stays as it was


def test_severity_results_are_long_format_files(severity_run: ob.BenchmarkResult) -> None:
    root = severity_run.run_dir
    matrix = _rows(root / "matrix.csv")
    assert list(matrix[0]) == MATRIX_COLUMNS
    assert len([r for r in matrix if r["metric"] == "accuracy"]) == 31
    rows = _rows(root / "severity.csv")
    assert list(rows[0])[:8] == MATRIX_COLUMNS
    point = next(r for r in rows if r["evaluated_on"] == "mouth_band@0.4" and r["metric"] == "accuracy")
    assert (point["occluder"], point["severity"]) == ("mouth_band", "0.4")
    assert point["ci_low"]
    assert point["ci_high"]
    cell = next(c for c in severity_run.cells if c["evaluated_on"] == "mouth_band@0.4")
    assert float(point["value"]) == cell["metrics"]["accuracy"]
    summaries = {r["metric"] for r in rows if r["evaluated_on"] == "face_mask" and r["severity"] == ""}
    assert {"area_under_curve.accuracy", "severity_at_half_accuracy"} <= summaries
    md = (root / "matrix.md").read_text()
    assert "## Severity curves (accuracy)" in md
    assert "random_patch@" not in md.split("## Severity curves")[0]  # curve points are not matrix columns


def test_regions_run_has_a_map_per_grid_and_class(regions_run: ob.BenchmarkResult) -> None:
    results = regions_run.results
    maps = results["region_maps"]
    assert [(m["trained_on"], m["k"]) for m in maps] == [("full", 4), ("full", 8)]
    for entry in maps:
        k = entry["k"]
        for metric in ("accuracy_drop", "true_class_probability_drop"):
            assert list(entry[metric]) == [*FER2013_CLASSES, "overall"]
            assert all(len(grid) == k and all(len(row) == k for row in grid) for grid in entry[metric].values())
    assert len(results["cells"]) == 1 + 16 + 64
    cell = next(c for c in results["cells"] if c["evaluated_on"] == "grid4_r1c2")
    assert cell["grid"] == {"k": 4, "index": 6, "row": 1, "col": 2}
    assert cell["params"] == {"fill": "gray", "index": 6, "k": 4}
    overall = maps[0]["accuracy_drop"]["overall"][1][2]
    clean = next(c for c in results["cells"] if c["evaluated_on"] == "full")["metrics"]["accuracy"]
    assert overall == pytest.approx(clean - cell["metrics"]["accuracy"])
    assert results["comparisons"] == []  # one model: nothing to compare
    assert "grid4_r0c0" not in json.dumps(results["robustness"])  # maps are not robustness claims


def test_regions_results_are_long_format_files(regions_run: ob.BenchmarkResult) -> None:
    root = regions_run.run_dir
    rows = _rows(root / "regions.csv")
    assert list(rows[0])[:8] == MATRIX_COLUMNS
    assert len(rows) == 2 * (len(FER2013_CLASSES) + 1) * (16 + 64)
    row = next(r for r in rows if r["evaluated_on"] == "grid8_r7c0" and r["metric"] == "accuracy_drop.happy")
    assert (row["k"], row["row"], row["col"], row["class"]) == ("8", "7", "0", "happy")
    assert len([r for r in _rows(root / "matrix.csv") if r["metric"] == "accuracy"]) == 81
    md = (root / "matrix.md").read_text()
    assert "## Region maps (true class probability drop)" in md
    assert "4 x 4 grid, gray cells" in md


def test_a_toml_spec_runs_end_to_end_from_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "toml-run"
    args = ["run", str(EXAMPLE), "--preset", "smoke", "--out", str(out), "--bootstrap", "0", "--device", "cpu"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Severity curves" in result.output
    assert "grid4_r0c0" not in result.output  # the map is printed as a map, not as 16 columns
    results = json.loads((out / "results.json").read_text())
    assert results["benchmark"] == "eyes-or-mouth"
    assert results["spec_source"] == str(EXAMPLE)
    trained = list(dict.fromkeys(c["trained_on"] for c in results["cells"]))
    assert trained == ["full", "eyes_band", "eyes-or-mouth"]
    assert {c["evaluated_on"] for c in results["cells"]} >= {"mouth-gray", "brows-only", "mouth_band@0.4"}
    assert len(results["region_maps"]) == 3  # one 4 x 4 map per trained model
    history = json.loads((out / "history" / "finetune-eyes-or-mouth.json").read_text())
    assert history["trained_on"] == "eyes-or-mouth"
    for name in ("matrix.csv", "matrix.md", "severity.csv", "regions.csv"):
        assert (out / name).is_file()
