from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

import occlubench as ob
from occlubench.benchmark.seeds import run_seeds


def test_seeds_run_the_plan_per_seed_and_aggregate(tmp_path: Path) -> None:
    spec = ob.get_benchmark("demo")
    small = replace(spec, name="demo-two", trainings=spec.trainings[:2])
    result = run_seeds(small, None, tmp_path / "seeds", [0, 1], options=ob.RunOptions(preset="smoke", bootstrap=0))
    results = json.loads((tmp_path / "seeds" / "results.json").read_text())
    assert results["seeds"] == [0, 1]
    assert (tmp_path / "seeds" / "seed-0" / "results.json").is_file()
    assert (tmp_path / "seeds" / "seed-1" / "results.json").is_file()
    assert len(results["seed_cells"]) == 2 * len(result.cells)
    for cell in result.cells:
        members = [
            c["metrics"]["accuracy"]
            for c in results["seed_cells"]
            if (c["trained_on"], c["evaluated_on"]) == (cell["trained_on"], cell["evaluated_on"])
        ]
        assert cell["n_seeds"] == 2
        assert cell["metrics"]["accuracy"] == pytest.approx(sum(members) / 2)
        low, high = cell["ci"]["accuracy"]
        assert low <= cell["metrics"]["accuracy"] <= high
    assert "±" in (tmp_path / "seeds" / "matrix.md").read_text()
