"""Leaderboards: rows of different presets or protocols are never ranked together; each row links its report."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from occlubench.cli.app import app
from occlubench.errors import RunDirError
from occlubench.report import build_leaderboards, collect_rows, leaderboard_markdown, load_run
from occlubench.report.leaderboard import RunEntry, run_id


def _sections(page: str) -> dict[str, str]:
    """``## heading`` -> the text under it, up to the next ``## ``."""
    parts = re.split(r"^## (.+)$", page, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _entries(runs: list[Any]) -> dict[str, RunEntry]:
    return {run_id(r): RunEntry(run_id(r), r, f"occlubench run demo # {run_id(r)}", None) for r in runs}


def test_two_presets_get_two_sections_and_never_share_a_table(make_run: Any) -> None:
    smoke = load_run(make_run("smoke", preset="smoke"))
    quick = load_run(make_run("quick", preset="quick", seed=1))
    page = leaderboard_markdown("demo", collect_rows([smoke, quick]), _entries([smoke, quick]))
    sections = _sections(page)
    assert list(sections) == ["Protocol `official`, preset `smoke`", "Protocol `official`, preset `quick`"]
    for heading, body in sections.items():
        own, other = (run_id(smoke), run_id(quick)) if "smoke" in heading else (run_id(quick), run_id(smoke))
        assert own in body
        assert other not in body
        assert "seconds, for tests" in body if "smoke" in heading else "about a minute" in body  # preset described
        tables = body.split('<div class="ob-sortable" markdown>')[1:]
        assert len(tables) == 4  # accuracy, macro F1, weighted F1, weighted AUC
        accuracy_rows = [line for line in tables[0].splitlines() if line.startswith("| ") and line[2].isdigit()]
        assert [row.split(" | ")[0] for row in accuracy_rows] == ["| 1", "| 2"]  # ranked within the section only


def test_protocols_and_modified_presets_are_separate_sections(make_run: Any) -> None:
    runs = [
        load_run(make_run("a")),
        load_run(make_run("b", protocol="study")),
        load_run(make_run("c", epochs=3)),
    ]
    page = leaderboard_markdown("demo", collect_rows(runs), _entries(runs))
    headings = list(_sections(page))
    assert headings == [
        "Protocol `official`, preset `smoke`",
        "Protocol `study`, preset `smoke`",
        "Protocol `official`, preset `smoke` (modified)",
    ]
    assert "**Modified**: these runs change the preset with `--epochs 3`." in page


def test_rows_are_ranked_by_mean_occluded_accuracy(make_run: Any) -> None:
    run = load_run(make_run(trained=("full", "upper", "lower")))
    rows = collect_rows([run])
    page = leaderboard_markdown("demo", rows, _entries([run]))
    means = {r.trained_on: r.mean_occluded("accuracy") for r in rows}
    expected = sorted(means, key=lambda t: -means[t])
    table = page.split("### Accuracy")[1].split("</div>")[0]
    labels = {"full": "full (baseline)", "upper": "baseline + upper", "lower": "baseline + lower"}
    order = [t for line in table.splitlines() for t in means if f"| {labels[t]} |" in line]
    assert order == expected
    full_row = next(r for r in rows if r.trained_on == "full")
    cells = full_row.cells
    assert full_row.mean_occluded("accuracy") == pytest.approx(
        (cells["upper"]["metrics"]["accuracy"] + cells["lower"]["metrics"]["accuracy"]) / 2
    )


def test_build_writes_pages_index_reports_and_commands(make_run: Any, tmp_path: Path) -> None:
    smoke = make_run("smoke", trained=("full",), evaluated=("full", "upper"), predictions=False, histories=False)
    quick = make_run("quick", preset="quick", trained=("full",), evaluated=("full", "upper"), predictions=False,
                     histories=False)  # fmt: skip
    for root in (smoke, quick):  # a current report exists, so the builder copies it instead of plotting anew
        (root / "report").mkdir()
        (root / "report" / "report.html").write_text(f"<html>{root.name}</html>")
    out = tmp_path / "site" / "leaderboards"
    result = CliRunner().invoke(app, ["leaderboard", str(smoke), str(quick), str(smoke), "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "demo.md").read_text()
    index = (out / "index.md").read_text()
    assert "[demo](demo.md)" in index
    for root in (smoke, quick):
        rid = run_id(load_run(root))
        copied = out / "reports" / f"{rid}.html"  # the run's self-contained report, copied beside the page
        assert copied.read_text() == f"<html>{root.name}</html>"
        assert f"[{rid}](reports/{rid}.html)" in page  # in the Reproduce table
        short = rid.rsplit("-", 1)[-1]
        assert page.count(f'[{short}](reports/{rid}.html "report of {rid}")') == 4  # once per metric table, not 8
    assert "`occlubench run demo --preset smoke --model fer_cnn --protocol official --seed 0`" in page
    assert "`occlubench run demo --preset quick --model fer_cnn --protocol official --seed 0`" in page

    # Rebuilt from one run only: the other run's copied report goes, since no page links it any more.
    assert CliRunner().invoke(app, ["leaderboard", str(smoke), "-o", str(out)]).exit_code == 0
    assert [p.name for p in (out / "reports").glob("*.html")] == [f"{run_id(load_run(smoke))}.html"]


def test_no_run_or_a_bad_one_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match="at least one run"):
        build_leaderboards([], tmp_path)
    result = CliRunner().invoke(app, ["leaderboard", str(tmp_path / "nope"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "does not exist" in result.output
