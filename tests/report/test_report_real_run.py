"""End to end: a real smoke run with ``--report`` writes every report file, and its leaderboard builds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from occlubench.cli.app import app


@pytest.mark.slow
def test_smoke_run_with_report_then_leaderboard(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", "demo", "--preset", "smoke", "--out", str(run_dir), "--report"])
    assert result.exit_code == 0, result.output
    report = run_dir / "report"
    figures = sorted(p.stem for p in (report / "figures").glob("*.png"))
    results = json.loads((run_dir / "results.json").read_text())
    jobs = list(dict.fromkeys(c["model"] for c in results["cells"]))  # baseline, one fine-tune per half, the mix...
    assert len(jobs) >= 5
    assert figures == sorted(
        [f"matrix-{m}" for m in ("accuracy", "macro_f1", "weighted_f1", "weighted_auc")]
        + [f"confusion-{j}" for j in jobs]
        + [f"roc-{j}" for j in jobs]
        + ["per-class-accuracy", "training-curves", "occluder-gallery"]
    )
    html = (report / "report.html").read_text()
    assert len(re.findall(r'<img src="data:image/png;base64,', html)) == len(figures)
    assert "figures/" not in html  # every picture is inside the file
    markdown = (report / "report.md").read_text()
    assert all(f"figures/{name}.png" in markdown for name in figures)

    boards = tmp_path / "boards"
    result = CliRunner().invoke(app, ["leaderboard", str(run_dir), "-o", str(boards)])
    assert result.exit_code == 0, result.output
    page = (boards / "demo.md").read_text()
    assert "## Protocol `official`, preset `smoke`" in page
    assert len(list((boards / "reports").glob("*.html"))) == 1
