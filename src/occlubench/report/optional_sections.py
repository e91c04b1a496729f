"""Sections that only some runs have data for: severity curves and region-sensitivity maps.

Each builder returns None when ``results.json`` lacks its key (runs made before these were measured, or without
them), so the report simply leaves the section out. They read what the runner writes:

``severity_curves`` (from :func:`occlubench.benchmark.severity.severity_curves`), one per (model, occluder)::

    {"model": "baseline", "trained_on": "full", "seed": 0, "occluder": "random_patch",
     "severities": [0.0, 0.1, ...], "labels": ["full", "random_patch@0.1", ...],
     "metrics": {"accuracy": [0.66, 0.61, ...], ...}, "area_under_curve": {"accuracy": 0.52, ...},
     "clean_accuracy": 0.66, "severity_at_half_accuracy": 0.45}

The points' intervals come from the cells named in ``labels``.

``region_maps`` (from :func:`occlubench.benchmark.regions.region_maps`), one per (model, grid size)::

    {"model": "baseline", "trained_on": "full", "k": 4, "fill": "black", "classes": [...],
     "accuracy_drop": {"angry": k x k, ..., "overall": k x k},
     "true_class_probability_drop": {...}, "clean": {...}, "labels": k x k}

A run with another layout replaces a builder in place: ``REPORT_SECTIONS.register("severity", f, replace=True)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from occlubench.benchmark.results import row_label
from occlubench.report.document import Paragraph, Picture, Section, Table
from occlubench.report.rundata import RunData
from occlubench.report.sections import register_section
from occlubench.report.style import DIVERGING_CMAP, annotate, color, figure_png, plot_style, text_color_on

REGION_METRIC = "true_class_probability_drop"


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _valid_curve(curve: Any) -> bool:
    if not isinstance(curve, Mapping) or not isinstance(curve.get("metrics"), Mapping):
        return False
    x, y = curve.get("severities"), curve["metrics"].get("accuracy")
    return isinstance(x, list) and isinstance(y, list) and len(x) == len(y) >= 2


def plot_severity_curves(curves: Sequence[Mapping[str, Any]], intervals: Mapping[tuple[str, str], Any]) -> Figure:
    """Accuracy against severity (the fraction hidden), one panel per occluder, one line and CI band per model.

    Args:
        curves: the run's ``severity_curves``.
        intervals: (trained_on, point label) -> [low, high] of the accuracy at that point, where known.
    """
    occluders = list(dict.fromkeys(str(c["occluder"]) for c in curves))
    models = list(dict.fromkeys(str(c["trained_on"]) for c in curves))
    columns = min(len(occluders), 4)
    rows = math.ceil(len(occluders) / columns)
    with plot_style():
        figure = Figure(figsize=(3.0 * columns + 1.8, 2.7 * rows + 0.3), layout="constrained")
        axes = np.atleast_1d(figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)).ravel()
        for ax, occluder in zip(axes, occluders, strict=False):
            for curve in (c for c in curves if str(c["occluder"]) == occluder):
                model = str(curve["trained_on"])
                ink = color(models.index(model))
                x, y = curve["severities"], curve["metrics"]["accuracy"]
                ax.plot(x, y, color=ink, marker="o", ms=3, label=row_label(model))
                bounds = [intervals.get((model, label)) for label in curve.get("labels", [])]
                if len(bounds) == len(x) and all(b and _number(b[0]) is not None for b in bounds):
                    ax.fill_between(x, [b[0] for b in bounds], [b[1] for b in bounds], color=ink, alpha=0.15, lw=0)
            ax.set_title(occluder)
            ax.yaxis.grid(True)
        for ax in axes[len(occluders) :]:
            ax.set_visible(False)
        for ax in axes[(rows - 1) * columns :]:
            ax.set_xlabel("severity (fraction hidden)")
        for ax in axes[::columns]:
            ax.set_ylabel("accuracy")
        figure.legend(*axes[0].get_legend_handles_labels(), loc="outside right center")
    return figure


@register_section("severity")
def severity_section(run: RunData) -> Section | None:
    """Accuracy as each occluder hides more of the image, with the area under each curve (when measured)."""
    curves = [c for c in run.results.get("severity_curves") or [] if _valid_curve(c)]
    if not curves:
        return None
    intervals = {(c["trained_on"], c["evaluated_on"]): c.get("ci", {}).get("accuracy") for c in run.all_cells}
    rows = []
    for curve in curves:
        area = _number((curve.get("area_under_curve") or {}).get("accuracy"))
        half = _number(curve.get("severity_at_half_accuracy"))
        clean = _number(curve.get("clean_accuracy"))
        rows.append(
            (
                row_label(str(curve["trained_on"])),
                f"`{curve['occluder']}`",
                f"{clean:.4f}" if clean is not None else "n/a",
                f"{area:.4f}" if area is not None else "n/a",
                f"{half:.2f}" if half is not None else "not in range",
            )
        )
    header = ("model", "occluder", "clean accuracy", "mean accuracy over severities", "accuracy halves at")
    figure = plot_severity_curves(curves, intervals)
    return Section(
        "Severity curves",
        (
            Paragraph(
                "Accuracy as an occluder hides a growing fraction of the image (severity 0 is the clean image). "
                "The mean accuracy over severities is the normalised area under the curve; the last column is the "
                "severity at which accuracy falls to half the clean accuracy."
            ),
            Picture("severity-curves", figure_png(figure), "accuracy against occluder severity"),
            Table(header, tuple(rows), (False, False, True, True, True)),
        ),
        anchor="severity",
    )


def _valid_map(entry: Any) -> bool:
    if not isinstance(entry, Mapping) or not isinstance(entry.get(REGION_METRIC), Mapping):
        return False
    grids = list(entry[REGION_METRIC].values())
    return bool(grids) and all(isinstance(g, list) and g and all(isinstance(r, list) for r in g) for g in grids)


def plot_region_map(entry: Mapping[str, Any], metric: str = REGION_METRIC) -> Figure:
    """One model's region map: a k x k grid per class and overall, red where hiding the cell costs the most."""
    grids = {key: np.asarray(grid, dtype=float) for key, grid in entry[metric].items()}
    finite = [np.abs(g[np.isfinite(g)]).max() for g in grids.values() if np.isfinite(g).any()]
    limit = max(finite) if finite and max(finite) > 0 else 1.0
    cmap = matplotlib.colormaps[DIVERGING_CMAP].with_extremes(bad="#eeeeee")
    with plot_style():
        figure = Figure(figsize=(1.75 * len(grids) + 1.2, 2.3), layout="constrained")
        axes = np.atleast_1d(figure.subplots(1, len(grids)))
        image = None
        for ax, (key, grid) in zip(axes, grids.items(), strict=True):
            image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=-limit, vmax=limit)
            if grid.shape[0] <= 5:
                for (i, j), value in np.ndenumerate(grid):
                    if math.isfinite(value):
                        ink = text_color_on(cmap, (value + limit) / (2 * limit))
                        annotate(ax, j, i, f"{100 * value:+.0f}", fontsize=6, color=ink)
            ax.set_title(key, fontsize=9, fontweight="bold" if key == "overall" else "normal")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0].set_ylabel(row_label(str(entry.get("trained_on", "?"))))
        if image is not None:
            bar = figure.colorbar(image, ax=list(axes), fraction=0.025, pad=0.01)
            bar.set_label(metric.replace("_", " "))
    return figure


@register_section("sensitivity")
def sensitivity_section(run: RunData) -> Section | None:
    """Which image regions each model reads each class from: the drop when one grid cell is hidden (when measured)."""
    maps = [m for m in run.results.get("region_maps") or [] if _valid_map(m)]
    if not maps:
        return None
    blocks: list[Any] = [
        Paragraph(
            "Each square is one cell of a k x k grid over the image (row 0 at the top of the face, image-left on "
            "the left); its colour is how much hiding only that cell lowers the probability of the true class, "
            "averaged over the report images of a class (printed in percentage points on small grids). Orange: "
            "the model reads that class from there."
        )
    ]
    for index, entry in enumerate(maps):
        title = f"{row_label(str(entry.get('trained_on', '?')))}, {entry.get('k', '?')}x{entry.get('k', '?')} grid"
        name = f"regions-{entry.get('model', index)}-k{entry.get('k', index)}"
        blocks.append(Picture(name, figure_png(plot_region_map(entry)), f"region sensitivity map, {title}", title))
    return Section("Region sensitivity", tuple(blocks), anchor="sensitivity")
