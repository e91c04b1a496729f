"""One look for every report plot: matplotlib settings, colour-blind-safe colours, and figure -> PNG bytes.

Plots build ``matplotlib.figure.Figure`` objects directly (no pyplot): no global state, no GUI backend, safe to call
from any thread. The settings apply inside :func:`plot_style` only, so a report never changes a user's rcParams.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.colors import Colormap
from matplotlib.figure import Figure

#: Okabe & Ito's palette (2008), distinguishable under the common colour-vision deficiencies; yellow left out
#: because it vanishes on white.
OKABE_ITO: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
#: Sequential map of the metric heatmaps: perceptually uniform and readable with any colour vision.
HEATMAP_CMAP = "cividis"
#: Sequential map of confusion matrices (row-normalised, 0 to 1).
CONFUSION_CMAP = "Blues"
#: Diverging map of region-sensitivity maps (accuracy drop around 0).
DIVERGING_CMAP = "PuOr_r"

PNG_DPI = 100

_RC = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
    "axes.grid": False,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "image.interpolation": "nearest",
}


@contextlib.contextmanager
def plot_style() -> Iterator[None]:
    """Apply the report's matplotlib settings inside the block (and restore the caller's afterwards)."""
    with matplotlib.rc_context(_RC):
        yield


def color(index: int) -> str:
    """The ``index``-th colour of the palette (cycling)."""
    return OKABE_ITO[index % len(OKABE_ITO)]


def text_color_on(cmap: Colormap, fraction: float) -> str:
    """Black or white, whichever reads better on ``cmap`` at ``fraction`` (relative luminance threshold)."""
    red, green, blue, _ = cmap(min(max(fraction, 0.0), 1.0))
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"


def annotate(ax: Axes, x: float, y: float, text: str, **kwargs: Any) -> None:
    """A label centred on (x, y) in data coordinates, left out of layout computations.

    Cell labels sit inside their axes anyway; measuring hundreds of them for constrained layout was most of the
    time of a confusion-matrix figure.
    """
    ax.text(x, y, text, ha="center", va="center", in_layout=False, **kwargs)


def figure_png(figure: Figure, dpi: int = PNG_DPI) -> bytes:
    """Render a figure to PNG bytes.

    Report figures use matplotlib's constrained layout, which already fits labels inside the canvas; a tight
    bounding box on top would draw every figure twice, and plotting is most of a report's time.
    """
    buffer = io.BytesIO()
    with plot_style():
        figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
