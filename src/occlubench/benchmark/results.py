"""The run directory's result files: ``results.json``, ``matrix.csv`` (long format) and ``matrix.md``.

Cells are plain dicts (JSON as written); these functions turn a list of cells into the tables. They are used by the
runner when it writes a run, and by reports and leaderboards when they read one.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

HEADLINE_METRICS: tuple[str, ...] = ("accuracy", "macro_f1", "weighted_f1", "weighted_auc")
METRIC_TITLES: dict[str, str] = {
    "accuracy": "Accuracy",
    "macro_f1": "Macro F1",
    "weighted_f1": "Weighted F1",
    "micro_f1": "Micro F1",
    "macro_auc": "Macro AUC (one-vs-rest)",
    "weighted_auc": "Weighted AUC (one-vs-rest)",
    "micro_auc": "Micro AUC",
}
SCHEMA_VERSION = 1


def matrix(cells: Iterable[Mapping[str, Any]], metric: str = "accuracy") -> dict[str, dict[str, float | None]]:
    """``{trained_on: {evaluated_on: value}}`` of one scalar metric, in the cells' order."""
    table: dict[str, dict[str, float | None]] = {}
    for cell in cells:
        table.setdefault(cell["trained_on"], {})[cell["evaluated_on"]] = cell["metrics"].get(metric)
    return table


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def format_value(cell: Mapping[str, Any], metric: str, digits: int = 4) -> str:
    """``0.6049``, with a confidence interval ``0.6049 [0.5890, 0.6210]``, over seeds ``0.6049 ± 0.0100 [...]``."""
    text = _fmt(cell["metrics"].get(metric), digits)
    std = cell.get("std", {}).get(metric)
    if std is not None:
        text += f" ± {_fmt(std, digits)}"
    ci = cell.get("ci", {}).get(metric)
    if ci and ci[0] is not None and ci[1] is not None:
        text += f" [{_fmt(ci[0], digits)}, {_fmt(ci[1], digits)}]"
    return text


def row_label(trained_on: str) -> str:
    """Row label as in the study's Table 2."""
    return "full (baseline)" if trained_on == "full" else f"baseline + {trained_on}"


def matrix_markdown(
    cells: Sequence[Mapping[str, Any]], metrics: Sequence[str] = HEADLINE_METRICS, *, title: str = "", note: str = ""
) -> str:
    """One Markdown table per metric: rows = trained on, columns = evaluated on (the study's Table 2 layout)."""
    rows = list(dict.fromkeys(c["trained_on"] for c in cells))
    cols = list(dict.fromkeys(c["evaluated_on"] for c in cells))
    by_key = {(c["trained_on"], c["evaluated_on"]): c for c in cells}
    out = [f"# {title}\n" if title else ""]
    if note:
        out.append(note.strip() + "\n")
    for metric in metrics:
        out.append(f"\n## {METRIC_TITLES.get(metric, metric)}\n")
        out.append("| trained on \\ evaluated on | " + " | ".join(cols) + " |")
        out.append("|---|" + "---|" * len(cols))
        for row in rows:
            values = [format_value(by_key[(row, col)], metric) if (row, col) in by_key else "" for col in cols]
            out.append(f"| {row_label(row)} | " + " | ".join(values) + " |")
    return "\n".join(out).lstrip("\n") + "\n"


def matrix_csv(cells: Iterable[Mapping[str, Any]]) -> str:
    """Long format: ``model,trained_on,evaluated_on,seed,metric,value,ci_low,ci_high``, one row per number.

    Scalar metrics keep their names; per-class values are ``per_class_accuracy.<class>`` and ``per_class_auc.<class>``.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["model", "trained_on", "evaluated_on", "seed", "metric", "value", "ci_low", "ci_high"])
    for cell in cells:
        key = [cell["model"], cell["trained_on"], cell["evaluated_on"], cell.get("seed", "")]
        ci = cell.get("ci", {})
        for metric, value in cell["metrics"].items():
            if isinstance(value, dict):
                for cls, v in value.items():
                    writer.writerow([*key, f"{metric}.{cls}", _csv_num(v), "", ""])
            elif isinstance(value, (int, float)) or value is None:
                low, high = ci.get(metric, (None, None))
                writer.writerow([*key, metric, _csv_num(value), _csv_num(low), _csv_num(high)])
    return buffer.getvalue()


def _csv_num(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def comparisons_markdown(comparisons: Sequence[Mapping[str, Any]]) -> str:
    """A table of paired model-vs-reference tests: difference [CI], McNemar counts and Holm-corrected p-values."""
    if not comparisons:
        return ""
    reference = comparisons[0]["reference"]
    metric = comparisons[0]["metric"]
    out = [
        f"\n## Paired tests against `{row_label(reference)}` ({metric})\n",
        "Difference = model - reference on the same images; 95% paired-bootstrap CI; McNemar b = only the model "
        "right, c = only the reference right; p-values Holm-corrected across the table.\n",
        "| model | evaluated on | difference [95% CI] | McNemar b / c | p (McNemar, Holm) | p (bootstrap, Holm) |",
        "|---|---|---|---|---|---|",
    ]
    for row in comparisons:
        diff = f"{row['difference']:+.4f} [{row['ci_low']:+.4f}, {row['ci_high']:+.4f}]"
        out.append(
            f"| {row_label(row['model'])} | {row['evaluated_on']} | {diff} | {row['mcnemar_b']} / {row['mcnemar_c']} "
            f"| {_p(row['p_mcnemar_holm'])} | {_p(row['p_bootstrap_holm'])} |"
        )
    return "\n".join(out) + "\n"


def _p(value: float) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return "<0.0001" if value < 1e-4 else f"{value:.4f}"
