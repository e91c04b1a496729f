"""Region maps: dataset-level occlusion sensitivity (Zeiler & Fergus style) over a k x k grid of ``grid_cell`` masks.

For each cell, the drop from the clean images to the images with that cell hidden, averaged over the report images
of each class and over all of them: the drop in accuracy and the drop in the probability of the true class. A cell
whose hiding hurts a class a lot holds what the model reads that class from. These are maps of a dataset, one per
class, not saliency maps of single images.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from occlubench.benchmark.conditions import EvaluationCondition

REGION_METRICS = ("accuracy_drop", "true_class_probability_drop")
OVERALL = "overall"
REGIONS_CSV_COLUMNS = (
    "model", "trained_on", "evaluated_on", "seed", "metric", "value", "ci_low", "ci_high", "k", "row", "col", "class"
)  # fmt: skip


def _per_class_means(values: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(M, N) values -> (M, num_classes + 1): the mean over each class's images, then over all images.

    A class with no image gets NaN.
    """
    one_hot = torch.nn.functional.one_hot(labels, num_classes).double()  # (N, K)
    counts = one_hot.sum(0)
    sums = values.double() @ one_hot  # (M, K)
    per_class = torch.where(counts > 0, sums / counts.clamp_min(1), torch.full_like(sums, math.nan))
    overall = values.double().mean(1, keepdim=True) if values.shape[1] else torch.full_like(sums[:, :1], math.nan)
    return torch.cat([per_class, overall], dim=1)


def region_maps(
    labels: torch.Tensor,
    clean_probs: torch.Tensor,
    probs: Mapping[str, torch.Tensor],
    conditions: Sequence[EvaluationCondition],
    classes: Sequence[str],
) -> list[dict[str, Any]]:
    """The maps of one model, one per grid size among ``conditions``.

    Args:
        labels: (N,) true classes of the report images.
        clean_probs: (N, K) probabilities on the clean images.
        probs: condition label -> (N, K) probabilities (must hold every grid condition).
        conditions: the evaluation conditions; those with a ``grid`` make the maps.
        classes: class names, in label order.

    Returns:
        One dict per grid size ``k``: ``k``, ``fill`` (what hid the cells), ``classes``, and for each of
        :data:`REGION_METRICS` a mapping ``{class or "overall": k x k nested list}`` (row-major, row 0 at the top of
        the image), plus ``clean`` (the clean accuracy and true-class probability per class and overall) and
        ``labels`` (the cell labels, k x k).
    """
    by_k: dict[int, list[EvaluationCondition]] = {}
    for condition in conditions:
        if condition.grid is not None:
            by_k.setdefault(condition.grid.k, []).append(condition)
    labels = labels.long()
    true = clean_probs.gather(1, labels[:, None]).squeeze(1)
    correct = (clean_probs.argmax(1) == labels).double()
    keys = [*classes, OVERALL]
    clean = _per_class_means(torch.stack([correct, true.double()]), labels, len(classes))
    maps = []
    for k, cells in sorted(by_k.items()):
        cells = sorted(cells, key=lambda c: c.grid.index if c.grid else 0)
        if [c.grid.index for c in cells if c.grid] != list(range(k * k)):
            continue  # an incomplete grid makes no map
        stacked = torch.stack([probs[c.label] for c in cells])  # (k*k, N, K)
        cell_true = stacked.gather(2, labels[None, :, None].expand(len(cells), -1, 1)).squeeze(2)
        cell_correct = (stacked.argmax(2) == labels[None, :]).double()
        drops = {
            "accuracy_drop": _per_class_means(correct[None, :] - cell_correct, labels, len(classes)),
            "true_class_probability_drop": _per_class_means(true[None, :] - cell_true, labels, len(classes)),
        }
        entry: dict[str, Any] = {"k": k, "fill": cells[0].kwargs.get("fill", "black"), "classes": list(classes)}
        for metric in REGION_METRICS:
            grid = drops[metric].reshape(k, k, len(keys))
            entry[metric] = {key: grid[:, :, j].tolist() for j, key in enumerate(keys)}
        entry["clean"] = {
            "accuracy": dict(zip(keys, clean[0].tolist(), strict=True)),
            "true_class_probability": dict(zip(keys, clean[1].tolist(), strict=True)),
        }
        entry["labels"] = [[cells[r * k + c].label for c in range(k)] for r in range(k)]
        maps.append(entry)
    return maps


def _num(value: float) -> str:
    return "" if value is None or math.isnan(value) else repr(float(value))


def regions_csv(maps: Sequence[Mapping[str, Any]]) -> str:
    """Long format, the matrix's columns plus ``k``, ``row``, ``col`` and ``class``: one row per number.

    ``evaluated_on`` is the cell's label (``grid4_r1c2``); ``metric`` is ``<drop>.<class>`` or ``<drop>.overall``.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REGIONS_CSV_COLUMNS)
    for entry in maps:
        k = entry["k"]
        seed = "" if entry.get("seed") is None else entry["seed"]
        for metric in REGION_METRICS:
            for key, grid in entry[metric].items():
                for r in range(k):
                    for c in range(k):
                        row = [entry["model"], entry["trained_on"], entry["labels"][r][c], seed]
                        writer.writerow([*row, f"{metric}.{key}", _num(grid[r][c]), "", "", k, r, c, key])
    return buffer.getvalue()


def _grid_table(grid: Sequence[Sequence[float]], scale: float = 100.0) -> list[str]:
    k = len(grid)
    lines = ["| row \\ col | " + " | ".join(str(c) for c in range(k)) + " |", "|---|" + "---|" * k]
    for r, values in enumerate(grid):
        lines.append(f"| {r} | " + " | ".join("" if math.isnan(v) else f"{scale * v:+.1f}" for v in values) + " |")
    return lines


def regions_markdown(
    maps: Sequence[Mapping[str, Any]],
    metric: str = "true_class_probability_drop",
    keys: Sequence[str] | None = None,
) -> str:
    """Each map as tables (per class, then overall; ``keys`` picks some), in percentage points, row 0 at the top."""
    if not maps:
        return ""
    title = metric.replace("_", " ")
    out = [
        f"\n## Region maps ({title})\n",
        "Each cell: how much hiding that cell of the image (`grid_cell`) lowers the "
        f"{title.removesuffix(' drop')} against the clean images, in percentage points, over the report images "
        "(per class: over that class's images). Row 0 is the top of the image, column 0 its left.\n",
    ]
    for entry in maps:
        fill = entry.get("fill", "black")
        out.append(f"\n### trained on `{entry['trained_on']}`, {entry['k']} x {entry['k']} grid, {fill} cells\n")
        for key, grid in entry[metric].items():
            if keys is None or key in keys:
                out += [f"\n**{key}**\n", *_grid_table(grid)]
    return "\n".join(out) + "\n"
