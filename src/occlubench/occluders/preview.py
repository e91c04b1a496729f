"""Preview pictures: what each occluder hides, drawn on sample faces, labelled with names and hidden fractions.

``occlubench preview`` is a thin command over this module: pick the occluders (:func:`preview_occluders`), pick a
few faces (:func:`preview_faces`: synthetic by default, or FER2013's test split), then draw and save the grid
(:func:`save_preview`): one row per face, one column per occluder, the occluder's name above its column and the
fraction of each face it actually hid below. matplotlib is imported only when a picture is drawn.

Examples:
    >>> occluders = preview_occluders(["upper", "random_patch"], severity=0.25)
    >>> faces, source = preview_faces(None, per_class=1, seed=0)
    >>> save_preview(occluders, faces, "occluders.png", title=source).columns[0].label  # doctest: +SKIP
    'hides 50%'
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from occlubench.data.imageset import ImageSet
from occlubench.errors import ConfigError, DataError, RunDirError
from occlubench.occluders.base import Occluder, constructor_parameters
from occlubench.occluders.gallery import render_gallery
from occlubench.occluders.registration import OCCLUDERS, create_occluder, list_occluders

#: Picture formats ``save_preview`` writes, by file suffix.
PREVIEW_FORMATS = ("png", "jpg", "jpeg", "svg", "pdf")
#: Rows per class a preview accepts: a picture, not a dataset dump.
MAX_PER_CLASS = 10
#: FER2013 splits to take faces from, in order of preference (test: what the benchmarks evaluate on).
_SPLIT_PREFERENCE = ("test", "val", "train")
_GLOB_CHARACTERS = frozenset("*?[")

# Layout of the picture, in output pixels (each image pixel is drawn as SCALE x SCALE of them, never smoothed).
_SCALE = 2
_DPI = 100
_PADDING = 2
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM, _TITLE_HEIGHT = 64, 8, 22, 22, 24
_FONT_SIZE = 7.5


@dataclass(frozen=True)
class PreviewColumn:
    """One occluder's column: its name and the smallest and largest fraction it hid of the faces shown."""

    name: str
    hidden_min: float
    hidden_max: float

    @property
    def label(self) -> str:
        """What is written under the column: ``hides 50%``, or ``hides 3-31%`` when the faces differ."""
        low, high = round(100 * self.hidden_min), round(100 * self.hidden_max)
        return f"hides {low}%" if low == high else f"hides {low}–{high}%"


@dataclass(frozen=True)
class Preview:
    """What :func:`save_preview` drew: the file, the columns left to right and the rows' class names top to bottom."""

    path: Path
    columns: tuple[PreviewColumn, ...]
    rows: tuple[str, ...]


def resolve_occluder_names(names: Sequence[str] = ()) -> list[str]:
    """Names, with globs (``quadrant_*``) expanded in registration order; no names means every registered occluder.

    Raises:
        UnknownNameError: a name that is not registered (the message lists close matches).
        ConfigError: a glob that matches nothing.
    """
    if not names:
        return list_occluders()
    resolved: list[str] = []
    for name in names:
        if _GLOB_CHARACTERS & set(name):
            matched = list_occluders(name)
            if not matched:
                raise ConfigError(f"no occluder matches {name!r}", "see `occlubench list`")
            resolved.extend(matched)
        else:
            OCCLUDERS.get(name)  # an unknown name fails here, before any face is read
            resolved.append(name)
    return resolved


def takes_severity(name: str) -> bool:
    """Whether the occluder registered under ``name`` has a ``severity`` parameter (how much of the image it hides)."""
    cls = OCCLUDERS.get(name)
    return isinstance(cls, type) and issubclass(cls, Occluder) and "severity" in constructor_parameters(cls)


def preview_occluders(names: Sequence[str] = (), *, severity: float | None = None) -> list[Occluder]:
    """Build the occluders to preview: each with its defaults, and ``severity`` for those that take one.

    Args:
        names: occluder names or globs; empty for every registered occluder.
        severity: the fraction to hide, given to every occluder with a ``severity`` parameter (``random_patch``,
            ``random_erasing``); the others have a fixed region and keep it.

    Raises:
        UnknownNameError: an unknown name.
        ConfigError: a severity out of [0, 1], or a severity when none of the occluders takes one.
    """
    resolved = resolve_occluder_names(names)
    with_severity = {name for name in resolved if takes_severity(name)}
    if severity is not None and not with_severity:
        takers = [name for name in list_occluders() if takes_severity(name)]
        verb = "hides" if len(resolved) == 1 else "hide"
        raise ConfigError(
            f"a severity does not apply: {', '.join(resolved)} {verb} a fixed region",
            f"it applies to {', '.join(takers)}" if takers else "no registered occluder takes a severity",
        )
    occluders = []
    for name in resolved:
        params = {"severity": severity} if severity is not None and name in with_severity else {}
        occluders.append(create_occluder(name, **params))
    return occluders


def pick_faces(faces: ImageSet, per_class: int = 1, generator: torch.Generator | None = None) -> ImageSet:
    """``per_class`` faces of each class (fewer where a class has fewer), drawn at random, sorted by class.

    Raises:
        ConfigError: ``per_class`` outside ``[1, MAX_PER_CLASS]``.
        DataError: no faces at all.
    """
    _check_per_class(per_class)
    if len(faces) == 0:
        raise DataError("there are no faces to preview occluders on")
    # A random order, then a stable sort by class: each class's faces in random order, and their rank within it.
    shuffled = torch.randperm(len(faces), generator=generator)
    by_class = shuffled[torch.sort(faces.labels[shuffled], stable=True).indices]
    labels = faces.labels[by_class]
    rank = torch.arange(len(labels)) - torch.searchsorted(labels, labels)
    return faces.subset(by_class[rank < per_class])


def preview_faces(data: str | Path | None = None, *, per_class: int = 1, seed: int = 0) -> tuple[ImageSet, str]:
    """Sample faces for a preview and a few words on where they come from (for the picture's title).

    Args:
        data: None for synthetic faces (``occlubench.data.synthetic``, no download); otherwise a FER2013 source
            (zip, folder or CSV), whose test split is used (val or train when it has no test split).
        per_class: faces of each class, one row each.
        seed: which faces; the same seed gives the same faces.

    Raises:
        DataError: ``data`` is missing or not a FER2013 source. ConfigError: a bad ``per_class`` or ``seed``.
    """
    _check_per_class(per_class)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer; got {seed!r}")
    generator = torch.Generator().manual_seed(seed)
    if data is None:
        from occlubench.data.synthetic import synthetic_faces

        pool, source = synthetic_faces(n_per_class=per_class, seed=seed), "synthetic faces"
    else:
        from occlubench.data.fer2013 import load_fer2013

        path = Path(data).expanduser()
        if not path.exists():
            raise DataError(f"--data {data} does not exist")
        splits = load_fer2013(path)
        split = next((name for name in _SPLIT_PREFERENCE if name in splits), None)
        if split is None:
            raise DataError(f"{data} holds no FER2013 split to take faces from")
        pool, source = splits[split], f"FER2013 {split} faces"
    return pick_faces(pool, per_class, generator), source


def save_preview(
    occluders: Sequence[Occluder],
    faces: ImageSet,
    out: str | Path,
    *,
    seed: int = 0,
    title: str | None = None,
) -> Preview:
    """Draw every occluder on every face and save the grid as a picture (written atomically).

    Args:
        occluders: one column each, left to right, labelled with its ``name`` and the fraction it hid.
        faces: one row each, top to bottom, labelled with its class name.
        out: the picture's path; its suffix picks the format (:data:`PREVIEW_FORMATS`). Folders are created.
        seed: seeds the generator of the random occluders, so a seed gives the same picture.
        title: written above the grid.

    Returns:
        What was drawn, with the hidden fractions of the columns.

    Raises:
        ConfigError: no occluders, a format that is not supported, or a file that cannot be written.
    """
    path = Path(out).expanduser()
    if path.is_dir():
        raise ConfigError(f"{path} is a folder", "give a file name such as occluders.png")
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in PREVIEW_FORMATS:
        kind = f"a {path.suffix} picture" if path.suffix else "a picture without a suffix"
        raise ConfigError(f"cannot write {kind}: {path}", "use .png, .jpg, .svg or .pdf")
    if not occluders:
        raise ConfigError("a preview needs at least one occluder")
    pixels = faces.images.float() / 255.0
    # Two generators seeded alike: the masks drawn for the labels are exactly the ones painted in the picture
    # (render_gallery calls the occluders in column order, one draw each, as this loop does).
    draws = torch.Generator().manual_seed(seed)
    columns = []
    for occ in occluders:
        hidden = occ.hidden_fraction(pixels, draws)
        columns.append(PreviewColumn(occ.name or type(occ).__name__, float(hidden.min()), float(hidden.max())))
    grid = render_gallery(occluders, pixels, torch.Generator().manual_seed(seed), padding=_PADDING, pad_value=1.0)
    rows = tuple(faces.classes[label] for label in faces.labels.tolist())
    data = _draw(grid, columns, rows, faces.image_shape[1:], title, fmt)
    try:
        from occlubench.storage import atomic_write_bytes

        atomic_write_bytes(path, data)
    except RunDirError as exc:
        raise ConfigError(exc.message) from None
    return Preview(path, tuple(columns), rows)


def _check_per_class(per_class: object) -> None:
    if isinstance(per_class, bool) or not isinstance(per_class, int) or not 1 <= per_class <= MAX_PER_CLASS:
        raise ConfigError(f"faces per class must be an integer in [1, {MAX_PER_CLASS}]; got {per_class!r}")


def _draw(
    grid: torch.Tensor,
    columns: Sequence[PreviewColumn],
    rows: Sequence[str],
    tile: tuple[int, int],
    title: str | None,
    fmt: str,
) -> bytes:
    """The labelled grid as the bytes of a ``fmt`` picture (matplotlib's Agg canvas, no pyplot, no global state)."""
    from matplotlib.figure import Figure

    h, w = tile
    channels, grid_h, grid_w = grid.shape
    top = _MARGIN_TOP + (_TITLE_HEIGHT if title else 0)
    width_px = _MARGIN_LEFT + grid_w * _SCALE + _MARGIN_RIGHT
    height_px = top + grid_h * _SCALE + _MARGIN_BOTTOM
    fig = Figure(figsize=(width_px / _DPI, height_px / _DPI), dpi=_DPI, facecolor="white")
    ax = fig.add_axes(
        (_MARGIN_LEFT / width_px, _MARGIN_BOTTOM / height_px, grid_w * _SCALE / width_px, grid_h * _SCALE / height_px)
    )
    image = grid[0] if channels == 1 else grid.permute(1, 2, 0)
    ax.imshow(image.cpu().numpy(), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest", aspect="auto")
    ax.set_axis_off()
    # Data coordinates: pixel (r, c) of the grid is centred at (c, r); tile j spans x in [pad + j*(w+pad), ... + w).
    for j, column in enumerate(columns):
        x = _PADDING + j * (w + _PADDING) + (w - 1) / 2.0
        ax.text(x, -1.0, column.name, ha="center", va="bottom", fontsize=_FONT_SIZE, weight="bold", clip_on=False)
        ax.text(x, grid_h, column.label, ha="center", va="top", fontsize=_FONT_SIZE, clip_on=False)
    for i, name in enumerate(rows):
        y = _PADDING + i * (h + _PADDING) + (h - 1) / 2.0
        ax.text(-2.0, y, name, ha="right", va="center", fontsize=_FONT_SIZE + 0.5, clip_on=False)
    if title:
        fig.text(0.5, 1.0 - 4 / height_px, title, ha="center", va="top", fontsize=_FONT_SIZE + 2.5)
    buffer = io.BytesIO()
    if fmt != "png":
        fig.savefig(buffer, format=fmt, dpi=_DPI, facecolor="white")
        return buffer.getvalue()
    # PNG through Pillow: a gray-only picture is stored as one channel (a quarter of matplotlib's RGBA bytes).
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    picture = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    picture.convert("L" if channels == 1 else "RGB").save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
