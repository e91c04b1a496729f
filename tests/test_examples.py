"""The scripts in examples/ run as a user runs them: ``python examples/<name>.py``, in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TIMEOUT_S = 180  # each takes seconds of CPU; the margin is for a shared, busy machine


def run_example(name: str, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run one example on one thread (the CPU is shared), from ``cwd``, so nothing lands in the repository."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, str(EXAMPLES / name), *(str(a) for a in args)]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    assert done.returncode == 0, done.stderr
    return done


def test_custom_occluder_example(tmp_path: Path) -> None:
    printed = run_example("custom_occluder.py", cwd=tmp_path).stdout
    assert "'name': 'scarf'" in printed
    assert "hides [0.25, 0.25, 0.25, 0.25]" in printed
    assert printed.strip().endswith("rows 36-47 gray, rest untouched: True")


def test_custom_model_example_runs_the_demo_with_its_model_and_prints_the_matrix(tmp_path: Path) -> None:
    source = (EXAMPLES / "custom_model.py").read_text(encoding="utf-8")
    assert '@ob.register_model("tiny_cnn")' in source
    run_dir = tmp_path / "run"
    done = run_example("custom_model.py", run_dir, cwd=tmp_path)
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "accuracy, trained on (rows) x evaluated on (columns)"
    assert lines[1].split() == ["full", "upper", "lower", "left", "right"]
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in lines[2:]}
    assert list(rows)[:5] == ["full", "upper", "lower", "left", "right"]
    assert all(len(values) == 5 and all(0.0 <= v <= 1.0 for v in values) for values in rows.values())

    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    assert results["config"]["model"] == "tiny_cnn"
    printed = {(c["trained_on"], c["evaluated_on"]): c["metrics"]["accuracy"] for c in results["cells"]}
    assert all(round(printed[row, col], 3) == value for row, values in rows.items() for col, value in zip(
        ["full", "upper", "lower", "left", "right"], values, strict=True
    ))  # fmt: skip
    assert not list(tmp_path.glob("runs*"))  # the run went where it was told
