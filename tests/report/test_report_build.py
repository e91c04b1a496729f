"""build_report: every listed file is written, the HTML is self-contained, absent data skips its section."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest

from occlubench.errors import RunDirError
from occlubench.report import build_report, build_sections, load_run

EXPECTED_FIGURES = {
    "matrix-accuracy",
    "matrix-macro_f1",
    "matrix-weighted_f1",
    "matrix-weighted_auc",
    "per-class-accuracy",
    "confusion-baseline",
    "confusion-finetune-upper",
    "roc-baseline",
    "roc-finetune-upper",
    "training-curves",
    "occluder-gallery",
}


def test_report_writes_markdown_figures_and_self_contained_html(built_report: tuple[Path, Any]) -> None:
    root, files = built_report
    assert files.directory == root / "report"
    assert files.markdown.is_file()
    assert files.html.is_file()
    assert {p.stem for p in files.figures} == EXPECTED_FIGURES
    for figure in files.figures:
        assert figure.read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), figure
    markdown = files.markdown.read_text()
    linked = set(re.findall(r"!\[[^\]]*\]\(figures/([^)]+)\.png\)", markdown))
    assert linked == EXPECTED_FIGURES
    html = files.html.read_text()
    embedded = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(embedded) == len(EXPECTED_FIGURES)
    import base64

    assert all(base64.b64decode(data).startswith(b"\x89PNG") for data in embedded)
    # Opens without a server or network: no file or URL is referenced for images, styles or scripts.
    assert not re.search(r'(src|href)="(?!data:|#)', html)
    assert "<script" not in html


def test_report_has_every_section_and_the_numbers(built_report: tuple[Path, Any]) -> None:
    root, files = built_report
    markdown = files.markdown.read_text()
    for title in ("## Run", "## Occlusion x model matrix", "### Accuracy", "## Per-class accuracy",
                  "## Confusion matrices", "## ROC curves", "## Training curves", "## Occluders"):  # fmt: skip
        assert title in markdown, title
    assert "Severity curves" not in markdown  # this run has no severity curves
    assert "Region sensitivity" not in markdown
    results = json.loads((root / "results.json").read_text())
    cell = results["cells"][0]
    low, high = cell["ci"]["accuracy"]
    assert f"{cell['metrics']['accuracy']:.4f} [{low:.4f}, {high:.4f}]" in markdown
    assert "occlubench run demo --preset smoke --model fer_cnn --protocol official --seed 0" in markdown


def test_report_to_another_directory_and_rebuild_drops_stale_figures(make_run: Any, tmp_path: Path) -> None:
    root = make_run(trained=("full",), evaluated=("full", "upper"), histories=False, predictions=False)
    out = tmp_path / "elsewhere"
    (out / "figures").mkdir(parents=True)
    (out / "figures" / "from-an-older-report.png").write_bytes(b"old")
    files = build_report(root, out)
    assert files.html == out / "report.html"
    assert not (out / "figures" / "from-an-older-report.png").exists()
    markdown = files.markdown.read_text()
    assert "## Training curves" not in markdown  # no histories: the section is left out
    assert "predictions/baseline.safetensors" in markdown  # no predictions: said, not crashed


def _severity_and_region_results() -> dict[str, Any]:
    """``severity_curves`` and ``region_maps`` in the shape the runner writes them (see optional_sections)."""
    curve = {
        "model": "baseline", "trained_on": "full", "seed": 0, "occluder": "random_patch",
        "severities": [0.0, 0.25, 0.5], "labels": ["full", "random_patch@0.25", "random_patch@0.5"],
        "metrics": {"accuracy": [0.6, 0.4, 0.2]}, "area_under_curve": {"accuracy": 0.4},
        "clean_accuracy": 0.6, "severity_at_half_accuracy": 0.375,
    }  # fmt: skip
    grid = [[0.1, 0.0], [0.3, -0.05]]
    region = {
        "model": "baseline", "trained_on": "full", "seed": 0, "k": 2, "fill": "black", "classes": ["a", "b"],
        "accuracy_drop": {"a": grid, "b": grid, "overall": grid},
        "true_class_probability_drop": {"a": grid, "b": grid, "overall": grid},
        "labels": [["grid2_r0c0", "grid2_r0c1"], ["grid2_r1c0", "grid2_r1c1"]],
    }  # fmt: skip
    comparison = {
        "model": "upper", "reference": "full", "evaluated_on": "upper", "metric": "accuracy", "difference": 0.164,
        "ci_low": 0.131, "ci_high": 0.2, "p_mcnemar_holm": 1e-5,
    }  # fmt: skip
    robustness = {"relative_robustness": {"full": {"per_condition": {"upper": 0.5}, "mean": 0.5}}}
    return {
        "severity_curves": [curve], "region_maps": [region], "comparisons": [comparison], "robustness": robustness,
    }  # fmt: skip


def test_optional_sections_appear_when_the_run_has_their_data(make_run: Any) -> None:
    names = ["comparisons", "robustness", "severity", "sensitivity"]
    bare = make_run("bare", trained=("full",), evaluated=("full",), histories=False, predictions=False)
    assert build_sections(load_run(bare), only=names) == []  # older runs: the sections are left out, no error
    root = make_run(
        trained=("full",), evaluated=("full",), histories=False, predictions=False, extra=_severity_and_region_results()
    )
    sections = {s.title: s for s in build_sections(load_run(root), only=names)}
    assert set(sections) == {"Fine-tunes against the baseline", "Robustness summaries", "Severity curves",
                             "Region sensitivity"}  # fmt: skip
    severity_table = sections["Severity curves"].blocks[2]
    assert severity_table.rows[0][2:] == ("0.6000", "0.4000", "0.38")
    comparison_table = sections["Fine-tunes against the baseline"].blocks[1]
    assert comparison_table.rows == (("baseline + upper", "+0.164 [+0.131, +0.200] *"),)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "has no results.json"),
        ("{not json", "is not valid JSON"),
        ('{"schema_version": 99, "cells": []}', "schema_version 99"),
        ('{"schema_version": 1, "cells": [{"model": "x"}]}', "lacks one of"),
        ('{"schema_version": 1, "cells": []}', "no finished cells"),
    ],
)
def test_bad_run_directories_are_one_clear_error(tmp_path: Path, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / "results.json").write_text(content)
    with pytest.raises(RunDirError, match=message):
        build_report(tmp_path)
    with pytest.raises(RunDirError, match="does not exist"):
        load_run(tmp_path / "missing")


def test_report_layer_imports_neither_typer_nor_rich() -> None:
    package = Path(__file__).resolve().parents[2] / "src" / "occlubench" / "report"
    modules = sorted(package.glob("*.py"))
    assert modules
    for module in modules:
        for node in ast.walk(ast.parse(module.read_text(), filename=str(module))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            forbidden = [n for n in names if n.split(".")[0] in {"typer", "rich"} or n.startswith("occlubench.cli")]
            assert not forbidden, (module.name, forbidden)
