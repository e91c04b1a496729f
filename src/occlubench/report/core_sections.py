"""The report's core sections: run overview, metric matrices, per-class accuracy, confusion matrices, ROC curves
and training curves. Each reads the run's files through :class:`~occlubench.report.rundata.RunData` only.
"""

from __future__ import annotations

import math
from typing import Any

from occlubench.benchmark.results import HEADLINE_METRICS, METRIC_TITLES, format_value, row_label
from occlubench.report.command import reproduce_command
from occlubench.report.document import Paragraph, Picture, Section, Table
from occlubench.report.plots import (
    plot_confusion_matrices,
    plot_metric_matrix,
    plot_per_class_accuracy,
    plot_roc_curves,
    plot_training_curves,
)
from occlubench.report.rundata import RunData
from occlubench.report.sections import register_section
from occlubench.report.style import figure_png


def _ci_note(run: RunData) -> str:
    if run.seed_runs:
        return (
            f"Values: mean ± standard deviation over {len(run.seed_runs)} seeds; brackets: 95% t-interval of the mean."
        )
    resamples = run.config.get("bootstrap_resamples")
    if not resamples or not any(c.get("ci") for c in run.cells):
        return "No confidence intervals: the run was made with `--bootstrap 0`."
    return (
        f"Brackets: 95% percentile-bootstrap confidence interval over the report images ({resamples} resamples); "
        "two cells whose intervals overlap may not differ."
    )


def _seconds(value: Any) -> str:
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return "n/a"
    return f"{value:.0f} s" if value < 120 else f"{value / 60:.1f} min"


@register_section("overview")
def overview_section(run: RunData) -> Section:
    """What was run, on what, how, and the command that reproduces it."""
    config, results, env = run.config, run.results, run.results.get("environment", {})
    data = {**results.get("data", {}), **config.get("data", {})}
    sizes = results.get("split_sizes", {})
    rows = [
        ("benchmark", f"`{run.benchmark}`"),
        ("model", f"`{config.get('model')}` (initial weights: {config.get('weights', 'none')})"),
        ("preset", f"`{config.get('preset')}`: {results.get('preset_note', '')}".rstrip(": ")),
        ("protocol", f"`{config.get('protocol')}`: {results.get('protocol_note', '')}".rstrip(": ")),
        ("seed", ", ".join(map(str, seeds)) if isinstance(seeds := config.get("seed"), list) else str(seeds)),
        ("data", f"{data.get('format', '?')}" + (f", sha256 `{data['sha256'][:16]}…`" if data.get("sha256") else "")),
        ("images", ", ".join(f"{k} {v}" for k, v in sizes.items()) or "n/a"),
        ("classes", ", ".join(run.classes)),
        ("device", f"{env.get('device', '?')} ({env.get('device_name', '?')}), {env.get('autocast', '?')}"),
        ("software", ", ".join(f"{k} {env[k]}" for k in ("occlubench", "torch", "torchvision", "python") if k in env)),
        ("time", _seconds(results.get("timings_seconds", {}).get("total"))),
        ("started", str(results.get("created", "?"))),
        ("config hash", f"`{results.get('config_hash', '?')}`"),
    ]
    blocks: list[Any] = []
    if not run.complete:
        missing = len(config.get("trainings", [])) - len(run.trained_on)
        blocks.append(
            Paragraph(
                f"Incomplete run: {len(run.trained_on)} of {len(run.trained_on) + max(missing, 0)} models finished. "
                "Re-run the same command to resume, then rebuild this report.",
                kind="warning",
            )
        )
    if run.seed_runs:
        blocks.append(
            Paragraph(
                f"This run repeats the plan with {len(run.seed_runs)} seeds ({', '.join(run.seed_runs)}); its matrix "
                "averages them. Confusion matrices, ROC curves and training curves are per seed: "
                f"`occlubench report {run.root / run.seed_runs[0]}`.",
                kind="note",
            )
        )
    blocks.append(Table(("setting", "value"), tuple(rows)))
    blocks.append(Paragraph(f"Reproduce: `{reproduce_command(run.results)}`", kind="note"))
    return Section("Run", tuple(blocks), anchor="run")


@register_section("matrix")
def matrix_section(run: RunData) -> Section:
    """The occlusion x model matrix of each headline metric, as a heatmap and as a table."""
    cols = run.evaluated_on
    blocks: list[Any] = [
        Paragraph(
            "Rows: the model, by what it was trained on (the baseline on full faces, then one fine-tune per "
            "occlusion). Columns: what is hidden at evaluation. Outlined cells evaluate a fine-tune on its own "
            "occlusion. " + _ci_note(run)
        )
    ]
    for metric in HEADLINE_METRICS:
        if not any(isinstance(c["metrics"].get(metric), (int, float)) for c in run.cells):
            continue
        title = METRIC_TITLES.get(metric, metric)
        figure = plot_metric_matrix(run.cells, metric, rows=run.trained_on, cols=cols)
        table_rows = tuple(
            (row_label(row), *(format_value(c, metric) if (c := run.cell(row, col)) else "" for col in cols))
            for row in run.trained_on
        )
        blocks.append(
            Section(
                title,
                (
                    Picture(f"matrix-{metric}", figure_png(figure), f"{title} heatmap: trained on x evaluated on"),
                    Table(("trained on \\ evaluated on", *cols), table_rows, (False, *(True,) * len(cols))),
                ),
                anchor=f"matrix-{metric}",
            )
        )
    return Section("Occlusion x model matrix", tuple(blocks), anchor="matrix")


def _signed(value: Any, digits: int = 3) -> str:
    return f"{value:+.{digits}f}" if isinstance(value, (int, float)) and math.isfinite(value) else "n/a"


@register_section("comparisons")
def comparisons_section(run: RunData) -> Section | None:
    """Each fine-tune against the baseline on the same images: paired differences, their intervals, and tests."""
    comparisons = [c for c in run.results.get("comparisons") or [] if isinstance(c, dict) and "difference" in c]
    if not comparisons:
        return None
    blocks: list[Any] = [
        Paragraph(
            "Difference to the reference model (the baseline) on the same report images, image by image. Brackets: "
            "95% paired-bootstrap interval; `*`: McNemar's exact test significant at 0.05 after Holm's correction "
            "over every comparison of the run."
        )
    ]
    for metric in dict.fromkeys(c.get("metric", "accuracy") for c in comparisons):
        chosen = [c for c in comparisons if c.get("metric", "accuracy") == metric]
        columns = list(dict.fromkeys(c["evaluated_on"] for c in chosen))
        by_key = {(c["model"], c["evaluated_on"]): c for c in chosen}
        rows = []
        for model in dict.fromkeys(c["model"] for c in chosen):
            values = []
            for column in columns:
                c = by_key.get((model, column))
                if c is None:
                    values.append("")
                    continue
                p = c.get("p_mcnemar_holm")
                star = " *" if isinstance(p, (int, float)) and p < 0.05 else ""
                values.append(
                    f"{_signed(c['difference'])} [{_signed(c.get('ci_low'))}, {_signed(c.get('ci_high'))}]{star}"
                )
            rows.append((row_label(str(model)), *values))
        reference = row_label(str(chosen[0].get("reference", "full")))
        title = METRIC_TITLES.get(metric, metric)
        header = (f"{title}: model − {reference}", *columns)
        blocks.append(Table(header, tuple(rows), (False, *(True,) * len(columns))))
    return Section("Fine-tunes against the baseline", tuple(blocks), anchor="comparisons")


@register_section("robustness")
def robustness_section(run: RunData) -> Section | None:
    """Robustness summaries per model: accuracy kept relative to clean, and error relative to the baseline."""
    robustness = run.results.get("robustness") or {}
    explanations = {
        "relative_robustness": "Relative robustness: occluded accuracy / the same model's clean accuracy (1 = "
        "nothing lost).",
        "normalized_occlusion_error": "Occlusion error: the model's error under an occlusion / the baseline's error "
        "under it (below 1 = fewer mistakes than the baseline).",
    }
    blocks: list[Any] = []
    for key, explanation in explanations.items():
        table = robustness.get(key)
        if not isinstance(table, dict) or not table:
            continue
        columns = list(dict.fromkeys(c for entry in table.values() for c in (entry.get("per_condition") or {})))
        rows = []
        for model, entry in table.items():
            per = entry.get("per_condition") or {}
            values = [
                f"{v:.3f}" if isinstance(v := per.get(c), (int, float)) and math.isfinite(v) else "n/a" for c in columns
            ]
            mean = entry.get("mean")
            rows.append((row_label(str(model)), *values, f"{mean:.3f}" if isinstance(mean, (int, float)) else "n/a"))
        blocks.append(Paragraph(explanation))
        blocks.append(Table(("model", *columns, "mean"), tuple(rows), (False, *(True,) * (len(columns) + 1))))
    return Section("Robustness summaries", tuple(blocks), anchor="robustness") if blocks else None


@register_section("per_class")
def per_class_section(run: RunData) -> Section | None:
    """Per-class accuracy of every model under every condition: which expressions an occlusion takes away."""
    if not run.classes or not any(c["metrics"].get("per_class_accuracy") for c in run.cells):
        return None
    figure = plot_per_class_accuracy(run.cells, run.classes, rows=run.trained_on)
    return Section(
        "Per-class accuracy",
        (
            Paragraph("Accuracy on the images of each true class (recall), one panel per model."),
            Picture("per-class-accuracy", figure_png(figure), "per-class accuracy bars per model and condition"),
        ),
        anchor="per-class",
    )


@register_section("confusion")
def confusion_section(run: RunData) -> Section | None:
    """A confusion matrix per cell of the matrix, one figure per trained model."""
    if not run.classes or not any(c["metrics"].get("confusion_matrix") for c in run.cells):
        return None
    blocks: list[Any] = [
        Paragraph("Rows: true class; columns: predicted class. Numbers are image counts; colour is the row fraction.")
    ]
    for row in run.trained_on:
        job = run.jobs[row]
        figure = plot_confusion_matrices(run.cells_of(row), run.classes, title=row_label(row))
        picture = Picture(f"confusion-{job}", figure_png(figure), f"confusion matrices of {row_label(row)}")
        blocks.append(Section(row_label(row), (picture,), anchor=f"confusion-{job}"))
    return Section("Confusion matrices", tuple(blocks), anchor="confusion")


def _auc_table(run: RunData, trained_on: str) -> Table:
    """Per-class one-vs-rest AUC of one model (rows: evaluation conditions; columns: classes), as the run stored it."""
    rows = []
    for cell in run.cells_of(trained_on):
        per_class = cell["metrics"].get("per_class_auc") or {}
        values = [per_class.get(name) for name in run.classes]
        shown = [f"{v:.3f}" if isinstance(v, (int, float)) and math.isfinite(v) else "n/a" for v in values]
        rows.append((f"AUC, evaluated on {cell['evaluated_on']}", *shown))
    return Table(("", *run.classes), tuple(rows), (False, *(True,) * len(run.classes)))


@register_section("roc")
def roc_section(run: RunData) -> Section | None:
    """One-vs-rest ROC curves per model and condition, from the stored predicted probabilities."""
    blocks: list[Any] = [
        Paragraph("One curve per class (that class against the rest); the tables give the areas under them (AUC).")
    ]
    missing = []
    for row in run.trained_on:
        job = run.jobs[row]
        predictions = run.predictions(job)
        if predictions is None or not any(c in predictions.probs for c in run.evaluated_on):
            missing.append(f"`predictions/{job}.safetensors`")
            continue
        figure = plot_roc_curves(predictions, run.classes, conditions=run.evaluated_on, title=row_label(row))
        picture = Picture(f"roc-{job}", figure_png(figure), f"ROC curves of {row_label(row)}")
        blocks.append(Section(row_label(row), (picture, _auc_table(run, row)), anchor=f"roc-{job}"))
    if missing and run.seed_runs:  # a multi-seed aggregate keeps its predictions in the per-seed runs
        missing = []
    if missing:
        blocks.append(Paragraph(f"No ROC curves where predictions are missing or unreadable: {', '.join(missing)}."))
    return Section("ROC curves", tuple(blocks), anchor="roc") if len(blocks) > 1 or missing else None


@register_section("training")
def training_section(run: RunData) -> Section | None:
    """Loss, accuracy and learning rate per epoch of every model trained in the run."""
    if not run.histories:
        return None
    timings = run.results.get("timings_seconds", {})
    rows = []
    for job, history in run.histories.items():
        epochs = history.get("epochs", [])
        best = history.get("best_val_accuracy")
        rows.append(
            (
                f"`{job}`",
                row_label(str(history.get("trained_on", "?"))),
                str(len(epochs)),
                str(history.get("best_epoch", "?")),
                f"{best:.4f}" if isinstance(best, (int, float)) else "n/a",
                _seconds(timings.get(job)) if job in timings else "reused",
            )
        )
    figure = plot_training_curves(run.histories)
    selection = "the validation split" if run.config.get("protocol") == "official" else "the report images"
    return Section(
        "Training curves",
        (
            Paragraph(f"The checkpoint kept is the epoch with the best validation accuracy, measured on {selection}."),
            Picture("training-curves", figure_png(figure), "training loss, accuracy and learning rate per epoch"),
            Table(
                ("job", "trained on", "epochs", "selected epoch", "val accuracy there", "time"),
                tuple(rows),
                (False, False, True, True, True, True),
            ),
        ),
        anchor="training",
    )
