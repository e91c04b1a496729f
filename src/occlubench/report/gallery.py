"""The occluder gallery of a run: what each of its conditions hides, drawn on one synthetic face per class.

The run's own images are not stored (FER2013 is not ours to copy into a report), so the gallery draws the run's
occluders on procedurally generated faces: the same occluder code, the same pixels it would hide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from matplotlib.figure import Figure

from occlubench.benchmark.spec import occluder_name
from occlubench.errors import ConfigError, OcclubenchError
from occlubench.report.document import Paragraph, Picture, Section, Table
from occlubench.report.rundata import RunData
from occlubench.report.sections import register_section
from occlubench.report.style import figure_png, plot_style

GALLERY_SEED = 0
PADDING = 2


def run_conditions(config: Mapping[str, Any]) -> list[str]:
    """Every condition worth drawing, evaluation order first, then training-only ones (a fine-tune's mix, say).

    Grid cells are left out (the region maps show them), and of a severity curve only its largest severity is drawn.
    """
    specs = {s["label"]: s for s in config.get("condition_specs", [])}
    largest: dict[str, tuple[float, str]] = {}
    for spec in specs.values():
        if spec.get("severity") is not None:
            current = largest.get(spec["occluder"])
            if current is None or spec["severity"] > current[0]:
                largest[spec["occluder"]] = (spec["severity"], spec["label"])
    keep = {label for _, label in largest.values()}
    names = [
        label
        for label in config.get("evaluations", [])
        if label not in specs
        or (specs[label].get("grid") is None and (specs[label].get("severity") is None or label in keep))
    ]
    for training in config.get("trainings", []):
        names.append(training.get("occlusion", "full"))
        names += [str(pair[0]) for pair in training.get("mix") or []]
    return list(dict.fromkeys(n for n in names if n and n != "mix"))


def condition_occluder(condition: str, config: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The occluder name and parameters behind a condition label of a run."""
    for spec in config.get("condition_specs", []):
        if spec["label"] == condition:
            return spec["occluder"], dict(spec.get("params", {}))
    return occluder_name(condition), {}


def plot_occluder_gallery(
    conditions: Sequence[str],
    *,
    seed: int = GALLERY_SEED,
    classes: Sequence[str] | None = None,
    config: Mapping[str, Any] | None = None,
) -> tuple[Figure | None, list[str]]:
    """One column per condition, one row per class (a synthetic face of that class), labelled.

    Args:
        conditions: condition labels (``full``, ``upper``...) or occluder names, one column each.
        config: the run's config, whose ``condition_specs`` say which occluder and parameters a label means.
        seed: the faces and any random occluder.
        classes: the rows, by class name; default all seven.

    Returns:
        The figure (None when no condition names a known occluder) and the conditions that could not be drawn
        (an occluder from a plugin that is not installed here).
    """
    from occlubench.data.synthetic import synthetic_faces
    from occlubench.occluders import create_occluder, render_gallery

    drawable, skipped, occluders = [], [], []
    for condition in conditions:
        try:
            name, params = condition_occluder(condition, config or {})
            occluders.append(create_occluder(name, **params))
            drawable.append(condition)
        except OcclubenchError:
            skipped.append(condition)
    if not occluders:
        return None, skipped
    faces = synthetic_faces(n_per_class=1, seed=seed)
    if classes is not None:
        unknown = [name for name in classes if name not in faces.classes]
        if unknown:
            raise ConfigError(f"no synthetic face class {', '.join(unknown)}", f"classes: {', '.join(faces.classes)}")
        faces = faces.subset([int((faces.labels == faces.classes.index(name)).nonzero()[0]) for name in classes])
    images = faces.images.float() / 255.0
    canvas = render_gallery(occluders, images, torch.Generator().manual_seed(seed), padding=PADDING)
    _, _, height, width = images.shape
    with plot_style():
        figure = Figure(figsize=(0.95 * len(drawable) + 1.3, 0.95 * len(faces) + 0.5), layout="constrained")
        ax = figure.subplots()
        ax.imshow(canvas[0].numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([PADDING + j * (width + PADDING) + width / 2 for j in range(len(drawable))], drawable)
        ax.set_yticks(
            [PADDING + i * (height + PADDING) + height / 2 for i in range(len(faces))],
            [faces.classes[int(k)] for k in faces.labels],
        )
        ax.xaxis.set_ticks_position("top")
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
    return figure, skipped


@register_section("gallery")
def gallery_section(run: RunData) -> Section | None:
    """The occluders the run used, drawn on one synthetic face per class."""
    conditions = run_conditions(run.config)
    if not conditions:
        return None
    figure, skipped = plot_occluder_gallery(conditions, config=run.config)
    if figure is None:
        return None
    from occlubench.occluders import describe_occluders

    descriptions = describe_occluders()
    rows = tuple(
        (f"`{c}`", f"`{name}`", descriptions.get(name, "not installed here"))
        for c, name in ((c, condition_occluder(c, run.config)[0]) for c in conditions)
    )
    blocks: list[Any] = [
        Paragraph(
            "What each condition hides, drawn on synthetic faces (one per class; the run's own images are not "
            "stored in it). Left and right are image sides: image-left is the subject's right."
        ),
        Picture("occluder-gallery", figure_png(figure), "the run's occluders applied to one synthetic face per class"),
        Table(("condition", "occluder", "what it hides"), rows),
    ]
    if skipped:
        blocks.append(Paragraph(f"Not drawn (occluder not installed): {', '.join(skipped)}."))
    return Section("Occluders", tuple(blocks), anchor="occluders")
