"""The report's plots: pure functions from result data to a matplotlib ``Figure`` (no files, no pyplot).

Each takes what is stored in a run directory (cells, histories, predictions) and returns a figure; the caller turns
it into PNG bytes with :func:`occlubench.report.style.figure_png`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from occlubench.benchmark.results import METRIC_TITLES, row_label
from occlubench.report.rundata import Predictions
from occlubench.report.style import CONFUSION_CMAP, HEATMAP_CMAP, annotate, color, plot_style, text_color_on

Cell = Mapping[str, Any]


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def plot_metric_matrix(
    cells: Sequence[Cell], metric: str, *, rows: Sequence[str] | None = None, cols: Sequence[str] | None = None
) -> Figure:
    """Heatmap of one metric over the occlusion x model matrix, each cell printing its value and 95% CI.

    Rows are the training conditions (the study's "trained on"), columns the evaluation conditions. Cells where a
    model is evaluated on the occlusion it was fine-tuned on are outlined: the diagonal of the study's Table 2.
    """
    rows = list(rows or dict.fromkeys(c["trained_on"] for c in cells))
    cols = list(cols or dict.fromkeys(c["evaluated_on"] for c in cells))
    by_key = {(c["trained_on"], c["evaluated_on"]): c for c in cells}
    values = np.full((len(rows), len(cols)), np.nan)
    for i, row in enumerate(rows):
        for j, col in enumerate(cols):
            value = by_key.get((row, col), {}).get("metrics", {}).get(metric)
            if _finite(value):
                values[i, j] = value
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if high - low < 1e-6:
        low, high = low - 0.05, high + 0.05
    cmap = matplotlib.colormaps[HEATMAP_CMAP].with_extremes(bad="#eeeeee")
    with plot_style():
        figure = Figure(figsize=(1.35 * len(cols) + 2.6, 0.72 * len(rows) + 1.3), layout="constrained")
        ax = figure.subplots()
        image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=low, vmax=high, aspect="auto")
        for i, row in enumerate(rows):
            for j, col in enumerate(cols):
                cell = by_key.get((row, col))
                if not np.isfinite(values[i, j]):
                    annotate(ax, j, i, "n/a", color="#777777", fontsize=8)
                    continue
                ink = text_color_on(cmap, (values[i, j] - low) / (high - low))
                ci = (cell or {}).get("ci", {}).get(metric)
                has_ci = bool(ci) and _finite(ci[0]) and _finite(ci[1])
                top = i - (0.13 if has_ci else 0)
                annotate(ax, j, top, f"{values[i, j]:.3f}", color=ink, fontsize=10, fontweight="bold")
                if has_ci:
                    annotate(ax, j, i + 0.2, f"[{ci[0]:.3f}, {ci[1]:.3f}]", color=ink, fontsize=7)
                if row == col and row in cols and i > 0:
                    ax.add_patch(Rectangle((j - 0.48, i - 0.48), 0.96, 0.96, fill=False, ec="#D55E00", lw=1.6))
        ax.set_xticks(range(len(cols)), cols)
        ax.set_yticks(range(len(rows)), [row_label(r) for r in rows])
        ax.xaxis.set_ticks_position("top")
        ax.xaxis.set_label_position("top")
        ax.set_xlabel("evaluated on (what is hidden)")
        ax.set_ylabel("trained on")
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        bar = figure.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
        bar.set_label(METRIC_TITLES.get(metric, metric))
        bar.outline.set_visible(False)
    return figure


def plot_confusion_matrices(cells: Sequence[Cell], classes: Sequence[str], *, title: str = "") -> Figure:
    """One confusion matrix per evaluation condition of one model: counts printed, colour = row-normalised recall.

    ``title`` (the model) labels the first panel's y axis, so the PNG says whose matrices it holds on its own.
    """
    cmap = matplotlib.colormaps[CONFUSION_CMAP]
    k = len(classes)
    with plot_style():
        figure = Figure(figsize=(2.35 * len(cells) + 1.0, 3.3), layout="constrained")
        axes = np.atleast_1d(figure.subplots(1, len(cells), sharey=True))
        image = None
        for ax, cell in zip(axes, cells, strict=True):
            counts = np.asarray(cell["metrics"].get("confusion_matrix") or np.zeros((k, k)), dtype=float)
            totals = counts.sum(axis=1, keepdims=True)
            recall = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
            image = ax.imshow(recall, cmap=cmap, vmin=0, vmax=1)
            for i in range(k):
                for j in range(k):
                    if counts[i, j]:
                        ink = text_color_on(cmap, recall[i, j])
                        annotate(ax, j, i, f"{int(counts[i, j])}", fontsize=6, color=ink)
            accuracy = cell["metrics"].get("accuracy")
            suffix = f"\naccuracy {accuracy:.3f}" if _finite(accuracy) else ""
            ax.set_title(f"evaluated on {cell['evaluated_on']}{suffix}", fontsize=9)
            ax.set_xticks(range(k), classes, rotation=90)
            ax.set_yticks(range(k), classes)
            ax.set_xlabel("predicted")
            ax.tick_params(length=0)
            for spine in ax.spines.values():
                spine.set_visible(False)
        axes[0].set_ylabel(f"{title}\ntrue class" if title else "true class")
        if image is not None:
            bar = figure.colorbar(image, ax=list(axes), fraction=0.02, pad=0.01)
            bar.set_label("fraction of the true class")
            bar.outline.set_visible(False)
    return figure


def plot_per_class_accuracy(
    cells: Sequence[Cell], classes: Sequence[str], *, rows: Sequence[str] | None = None
) -> Figure:
    """Per-class accuracy (recall), one panel per trained model, one bar colour per evaluation condition."""
    rows = list(rows or dict.fromkeys(c["trained_on"] for c in cells))
    cols = list(dict.fromkeys(c["evaluated_on"] for c in cells))
    by_key = {(c["trained_on"], c["evaluated_on"]): c for c in cells}
    x = np.arange(len(classes))
    width = 0.84 / max(len(cols), 1)
    with plot_style():
        figure = Figure(
            figsize=(max(7.5, 0.95 * len(classes) * max(1, len(cols) / 4)), 1.75 * len(rows) + 0.9),
            layout="constrained",
        )
        axes = np.atleast_1d(figure.subplots(len(rows), 1, sharex=True, sharey=True))
        for ax, row in zip(axes, rows, strict=True):
            for j, col in enumerate(cols):
                per_class = by_key.get((row, col), {}).get("metrics", {}).get("per_class_accuracy") or {}
                heights = [per_class.get(name) if _finite(per_class.get(name)) else 0.0 for name in classes]
                ax.bar(x - 0.42 + width * (j + 0.5), heights, width, color=color(j), label=col)
            ax.set_ylim(0, 1)
            ax.set_yticks([0, 0.5, 1])
            ax.yaxis.grid(True)
            ax.set_axisbelow(True)
            ax.set_title(row_label(row), loc="left", fontsize=9, fontweight="bold")
            ax.set_ylabel("accuracy")
        axes[-1].set_xticks(x, classes)
        figure.legend(
            *axes[0].get_legend_handles_labels(), loc="outside upper center", ncol=len(cols), title="evaluated on"
        )
    return figure


def roc_points(positives: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """One-vs-rest ROC curve (false-positive rate, true-positive rate), as ``sklearn.metrics.roc_curve`` gives it
    with ``drop_intermediate=False``; None without positives or without negatives.

    One sort and two cumulative sums, a point per distinct score (tied scores move along a diagonal).
    """
    positives = np.asarray(positives, dtype=bool)
    if positives.all() or not positives.any():
        return None
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="mergesort")
    ranked, hits = np.asarray(scores)[order], positives[order]
    last_of_each_score = np.r_[np.flatnonzero(np.diff(ranked)), hits.size - 1]
    true_positives = np.cumsum(hits)[last_of_each_score]
    false_positives = last_of_each_score + 1 - true_positives
    return np.r_[0.0, false_positives / false_positives[-1]], np.r_[0.0, true_positives / true_positives[-1]]


def plot_roc_curves(
    predictions: Predictions, classes: Sequence[str], *, conditions: Sequence[str], title: str = ""
) -> Figure:
    """One-vs-rest ROC curves of one model: one panel per evaluation condition, one colour per class.

    The areas under these curves are the ``per_class_auc`` of the run's cells; the report prints them as a table
    rather than in a legend per panel.
    """
    shown = [c for c in conditions if c in predictions.probs]
    with plot_style():
        figure = Figure(figsize=(2.45 * len(shown) + 1.5, 2.9), layout="constrained")
        axes = np.atleast_1d(figure.subplots(1, len(shown), sharey=True))
        for ax, condition in zip(axes, shown, strict=True):
            probs = predictions.probs[condition]
            for k in range(len(classes)):
                curve = roc_points(predictions.labels == k, probs[:, k])
                if curve is not None:
                    ax.plot(*curve, color=color(k), lw=1.1)
            ax.plot([0, 1], [0, 1], color="#999999", lw=0.8, ls=":")
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1.01)
            ax.set_aspect("equal")
            ax.set_title(f"evaluated on {condition}", fontsize=9)
            ax.set_xlabel("false-positive rate")
        axes[0].set_ylabel(f"{title}\ntrue-positive rate" if title else "true-positive rate")
        handles = [Line2D([], [], color=color(k), lw=2, label=name) for k, name in enumerate(classes)]
        handles.append(Line2D([], [], color="#999999", ls=":", label="chance"))
        figure.legend(handles=handles, loc="outside right center")
    return figure


def plot_training_curves(histories: Mapping[str, Mapping[str, Any]]) -> Figure:
    """Loss, accuracy and learning rate per epoch of every trained model (train solid, validation dashed).

    The epoch each model's checkpoint was selected at is marked with a star on its validation accuracy.
    """
    with plot_style():
        figure = Figure(figsize=(11, 3.3), layout="constrained")
        loss_ax, acc_ax, lr_ax = figure.subplots(1, 3)
        for index, history in enumerate(histories.values()):
            epochs = history.get("epochs", [])
            x = [e.get("epoch", i + 1) for i, e in enumerate(epochs)]
            ink = color(index)

            def series(key: str, epochs: Sequence[Mapping[str, Any]] = epochs) -> list[float]:
                return [e[key] if _finite(e.get(key)) else np.nan for e in epochs]

            marker = "o" if len(x) < 12 else None
            loss_ax.plot(x, series("train_loss"), color=ink, marker=marker, ms=3)
            loss_ax.plot(x, series("val_loss"), color=ink, ls="--", marker=marker, ms=4, mfc="white")
            acc_ax.plot(x, series("train_accuracy"), color=ink, marker=marker, ms=3)
            acc_ax.plot(x, series("val_accuracy"), color=ink, ls="--", marker=marker, ms=4, mfc="white")
            lr_ax.plot(x, series("lr"), color=ink, marker=marker, ms=3, drawstyle="steps-post" if len(x) > 1 else None)
            best = history.get("best_epoch")
            if best in x and _finite(history.get("best_val_accuracy")):
                acc_ax.plot([best], [history["best_val_accuracy"]], marker="*", ms=11, color=ink, mec="black", mew=0.5)
        epochs_seen = sorted(
            {e.get("epoch", i + 1) for h in histories.values() for i, e in enumerate(h.get("epochs", []))}
        )
        for ax, title in ((loss_ax, "loss"), (acc_ax, "accuracy"), (lr_ax, "learning rate")):
            ax.set_title(title)
            ax.set_xlabel("epoch")
            ax.yaxis.grid(True)
            if 0 < len(epochs_seen) <= 12:  # few epochs: tick each one (matplotlib would print 0.96, 0.98...)
                ax.set_xticks(epochs_seen)
                ax.set_xlim(epochs_seen[0] - 0.5, epochs_seen[-1] + 0.5)
            else:
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        lr_ax.set_yscale("log")
        lr_ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        lr_ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        lr_ax.yaxis.set_minor_formatter(NullFormatter())
        models = [Line2D([], [], color=color(i), lw=2, label=job) for i, job in enumerate(histories)]
        splits = [
            Line2D([], [], color="black", marker="o", ms=3, label="train"),
            Line2D([], [], color="black", ls="--", marker="o", ms=4, mfc="white", label="validation"),
            Line2D([], [], color="black", marker="*", ms=9, ls="none", label="selected epoch"),
        ]
        figure.legend(handles=models + splits, loc="outside right center")
    return figure
