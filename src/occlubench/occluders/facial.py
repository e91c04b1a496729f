"""Occluders shaped after a face-centred crop: bands over eyes, nose and mouth, a surgical mask, sunglasses.

Geometry is in fractions of the image, so it scales with the image. The defaults were read off FER2013's mean face
(3,000 training images, 48x48): the eyes' dark band is centred near y = 0.36 (brows near 0.25, eye centres near
x = 0.31 and 0.69), the bright nose tip near y = 0.50 with the nostrils near 0.63, and the mouth's dark band near
y = 0.79. ``tests/occluders/test_facial_geometry.py`` checks these positions on real faces.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from torch import Tensor

from occlubench.errors import ConfigError
from occlubench.occluders.base import Occluder, Params
from occlubench.occluders.checks import check_fraction, check_points, check_positive
from occlubench.occluders.grid import PixelGrid
from occlubench.occluders.registration import register_occluder


class HorizontalBand(Occluder):
    """Hide the rows between ``top`` and ``bottom`` (fractions of the height, pixel centres in ``[top, bottom)``)."""

    def __init__(self, top: float, bottom: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.top = check_fraction("top", top)
        self.bottom = check_fraction("bottom", bottom, low=self.top)

    def region(self, grid: PixelGrid, params: Params) -> Tensor:
        return grid.rect(top=self.top, bottom=self.bottom)

    def target_fraction(self, height: int, width: int) -> float:
        return self.bottom - self.top


@register_occluder("eyes_band")
class EyesBand(HorizontalBand):
    """Hide a horizontal band over brows and eyes (rows 0.20-0.48 of the height by default)."""

    def __init__(self, top: float = 0.20, bottom: float = 0.48, **kwargs: Any) -> None:
        super().__init__(top, bottom, **kwargs)


@register_occluder("nose_band")
class NoseBand(HorizontalBand):
    """Hide a horizontal band over the nose, bridge below the eyes to nostrils (rows 0.48-0.68 by default)."""

    def __init__(self, top: float = 0.48, bottom: float = 0.68, **kwargs: Any) -> None:
        super().__init__(top, bottom, **kwargs)


@register_occluder("mouth_band")
class MouthBand(HorizontalBand):
    """Hide a horizontal band over the mouth and lips (rows 0.68-0.92 of the height by default)."""

    def __init__(self, top: float = 0.68, bottom: float = 0.92, **kwargs: Any) -> None:
        super().__init__(top, bottom, **kwargs)


#: A surgical mask seen from the front: top edge over the nose bridge, pleated sides at the cheeks, round under chin.
SURGICAL_MASK_OUTLINE: tuple[tuple[float, float], ...] = (
    (0.12, 0.54),
    (0.30, 0.48),
    (0.50, 0.46),
    (0.70, 0.48),
    (0.88, 0.54),
    (0.87, 0.78),
    (0.70, 0.94),
    (0.50, 0.99),
    (0.30, 0.94),
    (0.13, 0.78),
)


def polygon_area(vertices: Sequence[tuple[float, float]]) -> float:
    """Area of a simple polygon (shoelace formula), in the units of its coordinates squared."""
    n = len(vertices)
    twice = sum(vertices[i][0] * vertices[(i + 1) % n][1] - vertices[(i + 1) % n][0] * vertices[i][1] for i in range(n))
    return abs(twice) / 2.0


@register_occluder("face_mask")
class FaceMask(Occluder):
    """Hide nose, mouth and chin under a synthetic surgical-mask polygon.

    Args:
        outline: the polygon's (x, y) vertices, fractions of width and height, in order around the outline.
    """

    def __init__(self, outline: Sequence[tuple[float, float]] = SURGICAL_MASK_OUTLINE, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.outline = check_points("outline", outline)

    def region(self, grid: PixelGrid, params: Params) -> Tensor:
        return grid.polygon(self.outline)

    def target_fraction(self, height: int, width: int) -> float:
        return polygon_area(self.outline)


@register_occluder("sunglasses")
class Sunglasses(Occluder):
    """Hide both eyes behind two dark elliptical lenses joined by a bridge.

    Args:
        eye_y: height of the lens centres (fraction of H).
        eye_dx: horizontal distance from the image centre to each lens centre (fraction of W).
        lens_rx: lens half-width (fraction of W); the lenses must not touch (``lens_rx < eye_dx``).
        lens_ry: lens half-height (fraction of H).
        bridge_thickness: height of the bridge joining the lenses (fraction of H), a third of the way up them.
    """

    def __init__(
        self,
        eye_y: float = 0.37,
        eye_dx: float = 0.20,
        lens_rx: float = 0.15,
        lens_ry: float = 0.11,
        bridge_thickness: float = 0.04,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.eye_y = check_fraction("eye_y", eye_y)
        self.eye_dx = check_fraction("eye_dx", eye_dx, high=0.5)
        self.lens_rx = check_positive("lens_rx", lens_rx)
        self.lens_ry = check_positive("lens_ry", lens_ry)
        self.bridge_thickness = check_fraction("bridge_thickness", bridge_thickness)
        if not self.lens_rx < self.eye_dx:
            raise ConfigError(f"lens_rx must be < eye_dx ({self.eye_dx:g}) so the lenses do not overlap; got {lens_rx}")
        if self.eye_dx + self.lens_rx > 0.5 or not self.lens_ry <= min(self.eye_y, 1.0 - self.eye_y):
            raise ConfigError("sunglasses lenses must lie inside the image (check eye_y, eye_dx, lens_rx, lens_ry)")
        if not self.lens_ry / 3.0 + self.bridge_thickness / 2.0 < self.lens_ry:
            raise ConfigError(f"bridge_thickness must be < {4 * self.lens_ry / 3:g} (the bridge joins the lenses)")

    def region(self, grid: PixelGrid, params: Params) -> Tensor:
        left = grid.ellipse(0.5 - self.eye_dx, self.eye_y, self.lens_rx, self.lens_ry)
        right = grid.ellipse(0.5 + self.eye_dx, self.eye_y, self.lens_rx, self.lens_ry)
        top, bottom = self._bridge_rows()
        # From lens centre to lens centre: the lens edges curve inwards, so a bridge that stopped at the lenses'
        # widest points would leave a gap at its own height.
        bridge = grid.rect(top, bottom, 0.5 - self.eye_dx, 0.5 + self.eye_dx)
        return left | right | bridge

    def target_fraction(self, height: int, width: int) -> float:
        top, bottom = self._bridge_rows()
        bridge = 2.0 * self.eye_dx * self.bridge_thickness
        # Each lens's inner half overlaps the bridge by rx * integral of sqrt(1 - (y / ry)^2) over the bridge rows.
        u0, u1 = (top - self.eye_y) / self.lens_ry, (bottom - self.eye_y) / self.lens_ry
        overlap = self.lens_rx * self.lens_ry * (_half_disc_integral(u1) - _half_disc_integral(u0))
        return 2.0 * math.pi * self.lens_rx * self.lens_ry + bridge - 2.0 * overlap

    def _bridge_rows(self) -> tuple[float, float]:
        """The bridge's [top, bottom), centred a third of the way up the lenses, where a real bridge sits."""
        centre = self.eye_y - self.lens_ry / 3.0
        return centre - self.bridge_thickness / 2.0, centre + self.bridge_thickness / 2.0


def _half_disc_integral(u: float) -> float:
    """Antiderivative of sqrt(1 - u^2), for |u| <= 1."""
    return 0.5 * (u * math.sqrt(1.0 - u * u) + math.asin(u))
