"""Draw the documentation's pictures into docs/assets/: the study's finding and what each occluder hides.

Run from the repository root after changing occluders, the synthetic faces or the report plots:

    .venv/bin/python docs/scripts/make_figures.py

The pictures are committed (the site build stays fast and needs no torch); this script is how they are made.
"""

from __future__ import annotations

from pathlib import Path

import torch

from occlubench.report.gallery import plot_occluder_gallery
from occlubench.report.plots import plot_metric_matrix
from occlubench.report.style import figure_png

ASSETS = Path(__file__).resolve().parents[1] / "assets"

# The reference study's Table 2 (accuracy on the 7,178 FER2013 test images); see the home page for the source.
STUDY_CONDITIONS = ("full", "upper", "lower", "left", "right")
STUDY_TABLE2 = {
    "full": (0.6649, 0.4444, 0.2701, 0.4200, 0.4064),
    "upper": (0.6076, 0.6050, 0.2010, 0.4015, 0.3958),
    "lower": (0.5892, 0.3011, 0.5433, 0.3318, 0.3426),
    "left": (0.6314, 0.4209, 0.2843, 0.6131, 0.3753),
    "right": (0.6257, 0.4338, 0.2952, 0.3289, 0.6219),
}


def study_matrix() -> bytes:
    cells = [
        {"trained_on": row, "evaluated_on": col, "metrics": {"accuracy": value}}
        for row, values in STUDY_TABLE2.items()
        for col, value in zip(STUDY_CONDITIONS, values, strict=True)
    ]
    return figure_png(plot_metric_matrix(cells, "accuracy"), dpi=110)


def main() -> None:
    torch.set_num_threads(1)
    ASSETS.mkdir(parents=True, exist_ok=True)
    (ASSETS / "study-table2.png").write_bytes(study_matrix())
    halves, _ = plot_occluder_gallery(STUDY_CONDITIONS, classes=("happy", "angry", "disgust", "surprise"))
    (ASSETS / "halves.png").write_bytes(figure_png(halves, dpi=110))
    from occlubench.occluders import OCCLUDERS

    families: dict[str, list[str]] = {}  # one picture per module: partitions, facial, stochastic (and plugins)
    for entry in OCCLUDERS.entries():
        families.setdefault(entry.obj.__module__.rsplit(".", 1)[-1], []).append(entry.name)
    partitions = families.pop("partitions", [])
    others = [name for names in families.values() for name in names]
    for stem, names in (("occluders-partitions", partitions), ("occluders-facial-random", others)):
        figure, _ = plot_occluder_gallery(names, classes=("happy", "surprise"))
        (ASSETS / f"{stem}.png").write_bytes(figure_png(figure, dpi=110))
    for path in sorted(ASSETS.glob("*.png")):
        print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
