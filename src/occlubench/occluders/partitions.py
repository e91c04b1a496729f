"""Occluders that hide a fixed part of a partition of the image: halves (the study's), quadrants, grid cells.

Names say which part is HIDDEN, in image coordinates (image-left is the subject's right). A pixel belongs to a part
when its centre does, so ``upper`` hides rows ``0 .. H//2 - 1`` (rows 0..23 of a 48x48 image, exactly the study's
masking) and ``upper`` + ``lower`` cover every pixel once, at any image size.
"""

from __future__ import annotations

from typing import Any, ClassVar

from torch import Tensor

from occlubench.occluders.base import Occluder, Params
from occlubench.occluders.checks import check_int
from occlubench.occluders.grid import PixelGrid
from occlubench.occluders.registration import register_occluder

# (top, bottom, left, right) of each named part, as fractions of the image.
_HALVES: dict[str, tuple[float, float, float, float]] = {
    "upper": (0.0, 0.5, 0.0, 1.0),
    "lower": (0.5, 1.0, 0.0, 1.0),
    "left": (0.0, 1.0, 0.0, 0.5),
    "right": (0.0, 1.0, 0.5, 1.0),
}
_QUADRANTS: dict[str, tuple[float, float, float, float]] = {
    "tl": (0.0, 0.5, 0.0, 0.5),
    "tr": (0.0, 0.5, 0.5, 1.0),
    "bl": (0.5, 1.0, 0.0, 0.5),
    "br": (0.5, 1.0, 0.5, 1.0),
}


@register_occluder("none")
class NoOcclusion(Occluder):
    """Hide nothing: the unoccluded baseline condition (an identity that still returns a new tensor)."""

    def region(self, grid: PixelGrid, params: Params) -> Tensor:
        return grid.nothing()

    def target_fraction(self, height: int, width: int) -> float:
        return 0.0


class HalfOccluder(Occluder):
    """Hide one half of the image, named by ``side`` (upper, lower, left or right)."""

    side: ClassVar[str]

    def region(self, grid: PixelGrid, params: Params) -> Tensor:
        return grid.rect(*_HALVES[self.side])

    def target_fraction(self, height: int, width: int) -> float:
        return 0.5


@register_occluder("upper")
class UpperHalf(HalfOccluder):
    """Hide the upper half (rows [0, H/2)): eyes and brows of a centred face."""

    side = "upper"


@register_occluder("lower")
class LowerHalf(HalfOccluder):
    """Hide the lower half (rows [H/2, H)): nose tip, mouth and chin of a centred face."""

    side = "lower"


@register_occluder("left")
class LeftHalf(HalfOccluder):
    """Hide the left half of the image (columns [0, W/2)), which is the subject's right side."""

    side = "left"


@register_occluder("right")
class RightHalf(HalfOccluder):
    """Hide the right half of the image (columns [W/2, W)), which is the subject's left side."""

    side = "right"


class QuadrantOccluder(Occluder):
    """Hide the quadrants named in ``quadrants`` (tl, tr, bl, br: top/bottom, left/right in image coordinates)."""

    quadrants: ClassVar[tuple[str, ...]]

    def region(self, grid: PixelGrid, params: Params) -> Tensor:
        parts = [grid.rect(*_QUADRANTS[q]) for q in self.quadrants]
        out = parts[0]
        for part in parts[1:]:
            out = out | part
        return out

    def target_fraction(self, height: int, width: int) -> float:
        return 0.25 * len(self.quadrants)


@register_occluder("quadrant_tl")
class QuadrantTopLeft(QuadrantOccluder):
    """Hide the top-left quadrant of the image (the subject's right eye)."""

    quadrants = ("tl",)


@register_occluder("quadrant_tr")
class QuadrantTopRight(QuadrantOccluder):
    """Hide the top-right quadrant of the image (the subject's left eye)."""

    quadrants = ("tr",)


@register_occluder("quadrant_bl")
class QuadrantBottomLeft(QuadrantOccluder):
    """Hide the bottom-left quadrant of the image (the subject's right mouth corner)."""

    quadrants = ("bl",)


@register_occluder("quadrant_br")
class QuadrantBottomRight(QuadrantOccluder):
    """Hide the bottom-right quadrant of the image (the subject's left mouth corner)."""

    quadrants = ("br",)


@register_occluder("diagonal")
class Diagonal(QuadrantOccluder):
    """Hide the top-left and bottom-right quadrants (the study's ``diagonal`` mask)."""

    quadrants = ("tl", "br")


@register_occluder("transdiagonal")
class Transdiagonal(QuadrantOccluder):
    """Hide the top-right and bottom-left quadrants (the study's ``transdiagonal`` mask)."""

    quadrants = ("tr", "bl")


@register_occluder("grid_cell")
class GridCell(Occluder):
    """Hide one cell of a k x k grid (cell ``index``, row-major); the cells partition the image at any size.

    Args:
        k: cells per side (1..64).
        index: which cell, ``row * k + column``, in ``[0, k*k)``; the default 4 is the centre of a 3 x 3 grid.
    """

    def __init__(self, k: int = 3, index: int = 4, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.k = check_int("k", k, 1, 64)
        self.index = check_int("index", index, 0, self.k * self.k - 1)

    def region(self, grid: PixelGrid, params: Params) -> Tensor:
        return grid.cell(self.k, self.index)

    def target_fraction(self, height: int, width: int) -> float:
        return 1.0 / (self.k * self.k)
