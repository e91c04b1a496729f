from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

import occlubench as ob
from occlubench.benchmark.compare import compare_runs
from occlubench.cli.app import app
from occlubench.errors import RunDirError


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    spec = ob.get_benchmark("demo")
    small = replace(spec, name="demo-two", trainings=spec.trainings[:2])
    root = tmp_path_factory.mktemp("compare")
    out = {}
    for name, kwargs in {"a": {"epochs": 1}, "b": {"epochs": 2}, "other_seed": {"epochs": 1, "seed": 1}}.items():
        ob.run_benchmark(small, None, root / name, preset="smoke", bootstrap=0, **kwargs)
        out[name] = root / name
    return out


def test_compare_pairs_every_shared_cell(runs: dict[str, Path]) -> None:
    rows = compare_runs(runs["a"], runs["b"], n_resamples=200)
    assert len(rows) == 2 * 5
    for row in rows:
        assert row["difference"] == pytest.approx(row["a"] - row["b"], abs=1e-9)
        assert row["ci_low"] <= row["difference"] <= row["ci_high"]
        assert 0.0 <= row["p_mcnemar"] <= row["p_mcnemar_holm"] <= 1.0


def test_a_run_compared_with_itself_differs_by_nothing(runs: dict[str, Path]) -> None:
    for row in compare_runs(runs["a"], runs["a"], n_resamples=100):
        assert row["difference"] == 0.0
        assert row["mcnemar_b"] == row["mcnemar_c"] == 0
        assert row["p_mcnemar"] == 1.0


def test_runs_on_different_images_are_refused(runs: dict[str, Path]) -> None:
    with pytest.raises(RunDirError, match="different images"):
        compare_runs(runs["a"], runs["other_seed"])


def test_compare_command_prints_a_table_and_fails_cleanly(runs: dict[str, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["compare", str(runs["a"]), str(runs["b"]), "--bootstrap", "100"])
    assert result.exit_code == 0, result.output
    assert "A - B" in result.output
    bad = CliRunner().invoke(app, ["compare", str(runs["a"]), str(tmp_path)])
    assert bad.exit_code == 2
    assert "holds no results.json" in bad.output
