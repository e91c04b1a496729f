"""Severity curves: occluders evaluated at growing severities, and the accuracy-vs-severity summaries.

The severity of a condition is the fraction of the image it hides. Occluders with a ``severity`` parameter
(``random_patch``, ``random_erasing``) take it as is (random erasing's aspect ratio narrowed to boxes that fit); a
band (``eyes_band``, ``mouth_band``...) becomes a band of that height centred where its default band is;
``face_mask`` becomes its surgical-mask outline scaled about the bottom centre of the image until it covers that
fraction (the mask rises from the chin as severity grows). Severity 0 is the clean condition (``full``), shared by
every curve, so it is evaluated once.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from occlubench.benchmark.conditions import CLEAN, EvaluationCondition, plain_condition, severity_label
from occlubench.errors import ConfigError
from occlubench.metrics.robustness import area_under_severity_curve, severity_at_half_accuracy

DEFAULT_SEVERITIES: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
SEVERITY_CSV_COLUMNS = (
    "model", "trained_on", "evaluated_on", "seed", "metric", "value", "ci_low", "ci_high", "occluder", "severity"
)  # fmt: skip


def _band_params(cls: type, severity: float) -> dict[str, float]:
    """A band ``severity`` high, centred on the class's default band and shifted to stay inside the image."""
    default = cls()
    centre = (default.top + default.bottom) / 2.0
    top = min(max(centre - severity / 2.0, 0.0), 1.0 - severity)
    return {"top": round(top, 6), "bottom": round(top + severity, 6)}


def _scaled_outline(outline: Sequence[Sequence[float]], factor: float) -> list[list[float]]:
    """The outline scaled by ``factor`` about the image's bottom centre (0.5, 1), clamped into the image."""
    return [
        [min(max(0.5 + (x - 0.5) * factor, 0.0), 1.0), min(max(1.0 + (y - 1.0) * factor, 0.0), 1.0)] for x, y in outline
    ]


def _mask_params(cls: type, severity: float) -> dict[str, Any]:
    """The default mask outline scaled (bisection on its area) so that it covers ``severity`` of the image."""
    from occlubench.occluders.facial import polygon_area

    outline = cls().outline
    low, high = 0.0, 4.0
    largest = polygon_area(_scaled_outline(outline, high))
    if largest < severity:
        raise ConfigError(f"face_mask cannot cover {severity:g} of the image (at most {largest:.2f})")
    for _ in range(60):
        mid = (low + high) / 2.0
        low, high = (mid, high) if polygon_area(_scaled_outline(outline, mid)) < severity else (low, mid)
    return {"outline": [[round(x, 4), round(y, 4)] for x, y in _scaled_outline(outline, high)]}


def severity_params(occluder: str, severity: float) -> dict[str, Any]:
    """The parameters that make ``occluder`` hide a ``severity`` fraction of the image.

    Raises:
        ConfigError: a severity outside (0, 1], or an occluder with no way to set how much it hides.
        UnknownNameError: an occluder that is not registered.
    """
    from occlubench.occluders import OCCLUDERS, FaceMask, HorizontalBand, constructor_parameters

    if isinstance(severity, bool) or not isinstance(severity, (int, float)) or not 0.0 < severity <= 1.0:
        raise ConfigError(f"a severity must be a number in (0, 1], got {severity!r}")
    cls = OCCLUDERS.get(occluder)
    if isinstance(cls, type) and issubclass(cls, HorizontalBand):
        return _band_params(cls, float(severity))
    if isinstance(cls, type) and issubclass(cls, FaceMask):
        return _mask_params(cls, float(severity))
    if isinstance(cls, type) and "severity" in constructor_parameters(cls):
        params: dict[str, Any] = {"severity": float(severity)}
        ratio = constructor_parameters(cls).get("ratio")
        if ratio is not None and isinstance(ratio.default, tuple):
            # A box of area s (of a square image) fits only with an aspect ratio in [s, 1/s]; outside it the box is
            # clamped to the image and hides less than s, so the curve's x axis would lie.
            low, high = ratio.default
            params["ratio"] = [round(max(low, severity), 6), round(min(high, 1.0 / severity), 6)]
        return params
    raise ConfigError(
        f"occluder {occluder!r} has no severity knob",
        "severity curves take occluders with a 'severity' parameter (random_patch, random_erasing), bands "
        "(eyes_band, nose_band, mouth_band) and face_mask",
    )


def severity_conditions(occluders: Sequence[str], severities: Sequence[float]) -> tuple[EvaluationCondition, ...]:
    """Every (occluder, severity) point as a condition; severity 0 is the clean condition, listed once, first."""
    conditions: list[EvaluationCondition] = []
    if any(s == 0 for s in severities):
        conditions.append(plain_condition(CLEAN))
    for occluder in occluders:
        for severity in severities:
            if severity == 0:
                continue
            params = severity_params(occluder, severity)
            label = severity_label(occluder, float(severity))
            conditions.append(EvaluationCondition(label, occluder, tuple(params.items()), severity=float(severity)))
    return tuple(conditions)


def _scalar_metrics(cell: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in cell["metrics"].items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def severity_curves(cells: Iterable[Mapping[str, Any]], clean: str = CLEAN) -> list[dict[str, Any]]:
    """One curve per (model, occluder) from a run's cells: every scalar metric at every severity, with summaries.

    Returns:
        Dicts with ``model``, ``trained_on``, ``seed``, ``occluder``, ``severities`` (ascending, 0 from the clean
        cell when there is one), ``labels`` (the ``evaluated_on`` of each point), ``metrics`` (metric -> values),
        ``area_under_curve`` (metric -> mean value over the severity range, ``area_under_severity_curve``),
        ``clean_accuracy`` and ``severity_at_half_accuracy`` (None when accuracy never halves in the range).
    """
    clean_cells: dict[tuple[str, Any], Mapping[str, Any]] = {}
    points: dict[tuple[str, Any, str], list[Mapping[str, Any]]] = {}
    for cell in cells:
        key = (cell["trained_on"], cell.get("seed"))
        if cell["evaluated_on"] == clean:
            clean_cells[key] = cell
        elif cell.get("severity") is not None:
            points.setdefault((*key, cell["occluder"]), []).append(cell)
    curves = []
    for (trained_on, seed, occluder), members in points.items():
        clean_cell = clean_cells.get((trained_on, seed))
        ordered = sorted(members, key=lambda c: c["severity"])
        if clean_cell is not None:
            ordered = [{**clean_cell, "severity": 0.0}, *ordered]
        severities = [float(c["severity"]) for c in ordered]
        per_cell = [_scalar_metrics(c) for c in ordered]
        names = [m for m in per_cell[0] if all(m in p for p in per_cell)]
        metrics = {m: [p[m] for p in per_cell] for m in names}
        area: dict[str, float | None] = {}
        for m in names:
            finite = len(severities) >= 2 and all(math.isfinite(v) for v in metrics[m])
            area[m] = area_under_severity_curve(severities, metrics[m]) if finite else None
        accuracy = metrics.get("accuracy")
        clean_accuracy = accuracy[0] if accuracy else None
        half = None
        if accuracy and len(severities) >= 2 and clean_accuracy is not None and math.isfinite(clean_accuracy):
            half = severity_at_half_accuracy(severities, accuracy, clean_accuracy)
        curves.append(
            {
                "model": members[0]["model"],
                "trained_on": trained_on,
                "seed": seed,
                "occluder": occluder,
                "severities": severities,
                "labels": [c["evaluated_on"] for c in ordered],
                "metrics": metrics,
                "area_under_curve": area,
                "clean_accuracy": clean_accuracy,
                "severity_at_half_accuracy": half,
            }
        )
    return curves


def _num(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def severity_csv(cells: Iterable[Mapping[str, Any]], curves: Sequence[Mapping[str, Any]]) -> str:
    """Long format, the matrix's columns plus ``occluder`` and ``severity``: one row per number.

    Curve points are rows with ``evaluated_on`` = the point's label and a metric name (with its CI when the cell
    has one); each curve adds ``area_under_curve.<metric>`` and ``severity_at_half_accuracy`` rows whose
    ``evaluated_on`` is the occluder's name and whose ``severity`` is empty.
    """
    by_key = {(c["trained_on"], c.get("seed"), c["evaluated_on"]): c for c in cells}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SEVERITY_CSV_COLUMNS)
    for curve in curves:
        key = [curve["model"], curve["trained_on"]]
        seed = "" if curve["seed"] is None else curve["seed"]
        for i, (label, severity) in enumerate(zip(curve["labels"], curve["severities"], strict=True)):
            ci = by_key.get((curve["trained_on"], curve["seed"], label), {}).get("ci", {})
            for metric, values in curve["metrics"].items():
                low, high = ci.get(metric, (None, None))
                row = [*key, label, seed, metric, _num(values[i]), _num(low), _num(high)]
                writer.writerow([*row, curve["occluder"], _num(severity)])
        for metric, value in curve["area_under_curve"].items():
            row = [*key, curve["occluder"], seed, f"area_under_curve.{metric}", _num(value), "", ""]
            writer.writerow([*row, curve["occluder"], ""])
        row = [*key, curve["occluder"], seed, "severity_at_half_accuracy", _num(curve["severity_at_half_accuracy"])]
        writer.writerow([*row, "", "", curve["occluder"], ""])
    return buffer.getvalue()


def severity_markdown(curves: Sequence[Mapping[str, Any]], metric: str = "accuracy") -> str:
    """A table per model: one row per occluder, ``metric`` at each severity, its area and where accuracy halves."""
    if not curves:
        return ""
    out = [f"\n## Severity curves ({metric})\n"]
    out.append(
        "Severity = fraction of the image hidden (0 = the clean images). Area = mean "
        f"{metric} over the severity range (trapezoids); halves at = the severity where accuracy falls to half the "
        "clean accuracy (linear interpolation; '>' the largest severity when it never does).\n"
    )
    for trained_on in dict.fromkeys(c["trained_on"] for c in curves):
        members = [c for c in curves if c["trained_on"] == trained_on]
        severities = sorted({s for c in members for s in c["severities"]})
        out.append(f"\n### trained on `{trained_on}`\n")
        out.append("| occluder | " + " | ".join(f"{s:g}" for s in severities) + " | area | halves at |")
        out.append("|---|" + "---|" * (len(severities) + 2))
        for curve in members:
            values = dict(zip(curve["severities"], curve["metrics"].get(metric, []), strict=False))
            cells = [f"{values[s]:.4f}" if s in values else "" for s in severities]
            area = curve["area_under_curve"].get(metric)
            half = curve["severity_at_half_accuracy"]
            half_text = f"{half:.3f}" if half is not None else f"> {max(curve['severities']):g}"
            area_text = f"{area:.4f}" if area is not None else "n/a"
            out.append(f"| {curve['occluder']} | " + " | ".join(cells) + f" | {area_text} | {half_text} |")
    return "\n".join(out) + "\n"
