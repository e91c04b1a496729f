"""Sections that only some runs have data for: severity curves and region-sensitivity maps.

Each builder returns None when ``results.json`` lacks its key, so today's runs simply skip them. A run that measures
them stores them in ``results.json`` in this shape (plain JSON, like the cells):

``severity_curves``: a list of curves, one per (model, occluder)::

    {"model": "baseline", "trained_on": "full", "occluder": "random_patch", "parameter": "severity",
     "severities": [0.0, 0.1, 0.2, ...], "accuracy": [0.66, 0.61, 0.55, ...],
     "ci": [[0.65, 0.67], ...]}                      # optional, one [low, high] per severity

``region_sensitivity``: a list of maps, one per (model, occluder), each a grid of accuracies with that region hidden::

    {"model": "baseline", "trained_on": "full", "occluder": "grid_cell", "clean_accuracy": 0.66,
     "accuracy": [[0.64, 0.58, ...], ...]}          # rows x columns of the image grid, row-major from the top-left

A run with another layout replaces a builder in place:
``REPORT_SECTIONS.register("severity", my_builder, replace=True)``.
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


def _valid_curve(curve: Any) -> bool:
    if not isinstance(curve, Mapping):
        return False
    x, y = curve.get("severities"), curve.get("accuracy")
    return isinstance(x, list) and isinstance(y, list) and len(x) == len(y) >= 2


def plot_severity_curves(curves: Sequence[Mapping[str, Any]]) -> Figure:
    """Accuracy against occluder severity, one panel per occluder, one line (and CI band) per model."""
    occluders = list(dict.fromkeys(str(c["occluder"]) for c in curves))
    models = list(dict.fromkeys(str(c.get("trained_on", c.get("model"))) for c in curves))
    with plot_style():
        figure = Figure(figsize=(3.4 * len(occluders) + 1.6, 3.0), layout="constrained")
        axes = np.atleast_1d(figure.subplots(1, len(occluders), sharey=True))
        for ax, occluder in zip(axes, occluders, strict=True):
            for curve in (c for c in curves if str(c["occluder"]) == occluder):
                model = str(curve.get("trained_on", curve.get("model")))
                ink = color(models.index(model))
                ax.plot(curve["severities"], curve["accuracy"], color=ink, marker="o", ms=3, label=row_label(model))
                ci = curve.get("ci")
                if isinstance(ci, list) and len(ci) == len(curve["severities"]):
                    low, high = zip(*ci, strict=True)
                    ax.fill_between(curve["severities"], low, high, color=ink, alpha=0.15, lw=0)
            ax.set_title(occluder)
            ax.set_xlabel(str(next(c.get("parameter", "severity") for c in curves if c["occluder"] == occluder)))
            ax.yaxis.grid(True)
        axes[0].set_ylabel("accuracy")
        figure.legend(*axes[0].get_legend_handles_labels(), loc="outside right center")
    return figure


@register_section("severity")
def severity_section(run: RunData) -> Section | None:
    """Accuracy as an occluder's severity grows, with the normalised area under each curve (when measured)."""
    from occlubench.errors import OcclubenchError
    from occlubench.metrics.robustness import area_under_severity_curve

    curves = [c for c in run.results.get("severity_curves") or [] if _valid_curve(c)]
    if not curves:
        return None
    rows = []
    for curve in curves:
        try:
            area = f"{area_under_severity_curve(curve['severities'], curve['accuracy']):.4f}"
        except OcclubenchError:
            area = "n/a"
        rows.append((row_label(str(curve.get("trained_on", curve.get("model")))), f"`{curve['occluder']}`", area))
    return Section(
        "Severity curves",
        (
            Paragraph(
                "Accuracy as more of the image is hidden; the area is the mean accuracy over the severity range."
            ),
            Picture("severity-curves", figure_png(plot_severity_curves(curves)), "accuracy against occluder severity"),
            Table(("model", "occluder", "area under the curve"), tuple(rows), (False, False, True)),
        ),
        anchor="severity",
    )


def _valid_map(entry: Any) -> bool:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("accuracy"), list) or not entry["accuracy"]:
        return False
    widths = {len(r) if isinstance(r, list) else -1 for r in entry["accuracy"]}
    return len(widths) == 1 and widths.pop() > 0


def plot_sensitivity_maps(maps: Sequence[Mapping[str, Any]]) -> Figure:
    """Accuracy lost when each image region is hidden, one panel per model (darker = the region matters more)."""
    drops = []
    for entry in maps:
        grid = np.asarray(entry["accuracy"], dtype=float)
        clean = entry.get("clean_accuracy")
        drops.append((float(clean) - grid) if isinstance(clean, (int, float)) and math.isfinite(clean) else -grid)
    limit = max(float(np.nanmax(np.abs(d))) for d in drops) or 1.0
    cmap = matplotlib.colormaps[DIVERGING_CMAP]
    with plot_style():
        figure = Figure(figsize=(2.6 * len(maps) + 1.0, 2.9), layout="constrained")
        axes = np.atleast_1d(figure.subplots(1, len(maps)))
        image = None
        for ax, entry, drop in zip(axes, maps, drops, strict=True):
            image = ax.imshow(drop, cmap=cmap, vmin=-limit, vmax=limit)
            for (i, j), value in np.ndenumerate(drop):
                if drop.size <= 64 and math.isfinite(value):
                    ink = text_color_on(cmap, (value + limit) / (2 * limit))
                    annotate(ax, j, i, f"{value:.2f}", fontsize=6, color=ink)
            ax.set_title(f"{row_label(str(entry.get('trained_on', entry.get('model'))))}\n{entry.get('occluder', '')}")
            ax.set_xticks([])
            ax.set_yticks([])
        if image is not None:
            bar = figure.colorbar(image, ax=list(axes), fraction=0.03)
            bar.set_label("accuracy drop when hidden")
    return figure


@register_section("sensitivity")
def sensitivity_section(run: RunData) -> Section | None:
    """Which image regions each model depends on: accuracy drop with each grid cell hidden (when measured)."""
    maps = [m for m in run.results.get("region_sensitivity") or [] if _valid_map(m)]
    if not maps:
        return None
    return Section(
        "Region sensitivity",
        (
            Paragraph(
                "Each square is one region of the image grid (top of the face at the top, image-left on the left); "
                "its value is the accuracy lost when only that region is hidden."
            ),
            Picture("region-sensitivity", figure_png(plot_sensitivity_maps(maps)), "region sensitivity maps"),
        ),
        anchor="sensitivity",
    )
