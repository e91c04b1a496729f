from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import occlubench as ob
from occlubench.errors import ConfigError, RunDirError, UnknownNameError

CONDITIONS = ["full", "upper", "lower", "left", "right"]
TRAINED = [*CONDITIONS, "mix"]  # the four specialists and one generalist fine-tuned on a mix of halves and full faces


@pytest.fixture(scope="module")
def fer_run(tiny_fer_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> ob.BenchmarkResult:
    out = tmp_path_factory.mktemp("runs") / "fer"
    return ob.run_benchmark(
        "fer2013-halves", tiny_fer_zip, out, preset="smoke", model="fer_cnn", bootstrap=50, batch_size=16
    )


def test_results_json_holds_the_30_cells_of_the_matrix(fer_run: ob.BenchmarkResult) -> None:
    results = json.loads((fer_run.run_dir / "results.json").read_text())
    assert results["schema_version"] == 1
    assert results["complete"] is True
    assert results["benchmark"] == "fer2013-halves"
    cells = results["cells"]
    assert len(cells) == 30
    assert {(c["trained_on"], c["evaluated_on"]) for c in cells} == {(t, e) for t in TRAINED for e in CONDITIONS}
    for cell in cells:
        assert cell["n"] == 21  # PrivateTest: 3 per class
        assert 0.0 <= cell["metrics"]["accuracy"] <= 1.0
        low, high = cell["ci"]["accuracy"]
        assert low <= cell["metrics"]["accuracy"] <= high
        assert len(cell["metrics"]["confusion_matrix"]) == 7
    env = results["environment"]
    assert {"python", "torch", "occlubench", "device", "seed"} <= set(env)
    assert results["split_sizes"] == {"train": 56, "select": 21, "report": 21}


def test_run_directory_has_every_file(fer_run: ob.BenchmarkResult) -> None:
    root = fer_run.run_dir
    jobs = ["baseline", "finetune-upper", "finetune-lower", "finetune-left", "finetune-right", "finetune-mix"]
    for job in jobs:
        assert (root / "checkpoints" / f"{job}.safetensors").is_file()
        assert (root / "predictions" / f"{job}.safetensors").is_file()
        history = json.loads((root / "history" / f"{job}.json").read_text())
        assert history["epochs"][0]["epoch"] == 1
        assert not (root / "checkpoints" / f"{job}.state.safetensors").exists()
    rows = list(csv.DictReader((root / "matrix.csv").open()))
    accuracy = [r for r in rows if r["metric"] == "accuracy"]
    assert len(accuracy) == 30
    assert set(rows[0]) == {"model", "trained_on", "evaluated_on", "seed", "metric", "value", "ci_low", "ci_high"}
    md = (root / "matrix.md").read_text()
    for title in ("## Accuracy", "## Macro F1", "## Weighted F1", "## Weighted AUC"):
        assert title in md
    assert "| baseline + upper |" in md
    assert "| baseline + mix |" in md


def test_matrix_accessor_matches_the_cells(fer_run: ob.BenchmarkResult) -> None:
    table = fer_run.matrix("accuracy")
    assert list(table) == TRAINED
    cell = next(c for c in fer_run.cells if c["trained_on"] == "lower" and c["evaluated_on"] == "upper")
    assert table["lower"]["upper"] == cell["metrics"]["accuracy"]


def test_rerunning_the_same_config_reuses_everything(fer_run: ob.BenchmarkResult, tiny_fer_zip: Path) -> None:
    events: list[str] = []
    again = ob.run_benchmark(
        "fer2013-halves",
        tiny_fer_zip,
        fer_run.run_dir,
        preset="smoke",
        model="fer_cnn",
        bootstrap=50,
        batch_size=16,
        progress=lambda e: events.append(e.kind),
    )
    assert events.count("job_reused") == 6
    assert "epoch_end" not in events
    assert [c["metrics"] for c in again.cells] == [c["metrics"] for c in fer_run.cells]


def test_another_config_in_the_same_out_is_refused(fer_run: ob.BenchmarkResult, tiny_fer_zip: Path) -> None:
    with pytest.raises(RunDirError, match=r"seed: 0 -> 1"):
        ob.run_benchmark(
            "fer2013-halves",
            tiny_fer_zip,
            fer_run.run_dir,
            preset="smoke",
            model="fer_cnn",
            seed=1,
            bootstrap=50,
            batch_size=16,
        )


def test_study_protocol_selects_and_reports_on_both_test_halves(tiny_fer_zip: Path, tmp_path: Path) -> None:
    result = ob.run_benchmark(
        ob.BenchmarkSpec(
            **{
                **ob.get_benchmark("fer2013-halves").__dict__,
                "trainings": ob.get_benchmark("fer2013-halves").trainings[:1],
            }
        ),
        tiny_fer_zip,
        tmp_path / "study",
        preset="smoke",
        model="fer_cnn",
        protocol="study",
        bootstrap=0,
    )
    assert result.results["split_sizes"]["report"] == 42
    assert len(result.cells) == 5
    assert "ci" not in result.cells[0]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"preset": "fast"}, UnknownNameError, "unknown preset 'fast'"),
        ({"protocol": "both"}, ConfigError, "unknown protocol"),
        ({"epochs": 0}, ConfigError, "--epochs must be at least 1"),
        ({"device": "tpu"}, ConfigError, "unknown device"),
    ],
)
def test_bad_options_are_clear_errors(
    tiny_fer_zip: Path, tmp_path: Path, kwargs: dict, error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        ob.run_benchmark("fer2013-halves", tiny_fer_zip, tmp_path / "x", **kwargs)
    assert not (tmp_path / "x").exists()


def test_benchmark_needing_data_without_data_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs --data"):
        ob.run_benchmark("fer2013-halves", None, tmp_path / "x")


def test_seeds_refuse_a_folder_of_other_files_before_any_work(tmp_path: Path) -> None:
    from occlubench.benchmark.seeds import run_seeds

    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RunDirError, match="holds no occlubench run"):
        run_seeds("demo", None, tmp_path, [0, 1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
