"""PixelGrid: pixel-centre coordinates of an image, so occluder regions are written as shapes in image fractions.

Every region is decided at pixel centres: pixel row ``i`` of an ``H``-row image sits at ``y = (i + 0.5) / H``, and a
pixel belongs to ``[top, bottom)`` when its centre does. For ``top=0, bottom=0.5`` that is rows ``0 .. H//2 - 1``,
the same rows as ``images[..., : H // 2, :]`` (rows 0..23 of a 48-row image, as in the reference study), and the
complementary ``[0.5, 1)`` gets the rest, so adjacent regions partition the image at any size.

Shape arguments are Python floats (one geometry for the whole batch) or tensors of shape ``(B,)`` (one per sample);
the results broadcast to ``(B, 1, H, W)`` bool.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

Scalar = float | Tensor


def _per_sample(value: Scalar, device: torch.device) -> Tensor | float:
    """A (B,) tensor becomes (B, 1, 1, 1) on ``device`` so it broadcasts against the grid; floats stay floats."""
    if isinstance(value, Tensor):
        return value.to(device).reshape(-1, 1, 1, 1)
    return float(value)


class PixelGrid:
    """Pixel-centre coordinates of an ``height`` x ``width`` image on ``device``.

    Attributes:
        y: (1, 1, H, 1) float32, row centres as fractions of the height, ``(i + 0.5) / H``.
        x: (1, 1, 1, W) float32, column centres as fractions of the width.
        row: (1, 1, H, 1) int64 row indices. col: (1, 1, 1, W) int64 column indices.
    """

    def __init__(self, height: int, width: int, device: torch.device | str = "cpu") -> None:
        self.height = int(height)
        self.width = int(width)
        self.device = torch.device(device)
        self.row = torch.arange(self.height, device=self.device).reshape(1, 1, -1, 1)
        self.col = torch.arange(self.width, device=self.device).reshape(1, 1, 1, -1)
        # (2i + 1) / (2H) is one correctly rounded division, so a centre never lands on the wrong side of 0.5.
        self.y = (2 * self.row + 1).float() / (2 * self.height)
        self.x = (2 * self.col + 1).float() / (2 * self.width)

    def nothing(self) -> Tensor:
        """An empty region, (1, 1, 1, 1) bool."""
        return torch.zeros(1, 1, 1, 1, dtype=torch.bool, device=self.device)

    def rect(self, top: Scalar = 0.0, bottom: Scalar = 1.0, left: Scalar = 0.0, right: Scalar = 1.0) -> Tensor:
        """Pixels whose centre lies in ``[top, bottom) x [left, right)`` (fractions of height and width)."""
        d = self.device
        rows = (self.y >= _per_sample(top, d)) & (self.y < _per_sample(bottom, d))
        cols = (self.x >= _per_sample(left, d)) & (self.x < _per_sample(right, d))
        return rows & cols

    def ellipse(self, cx: Scalar, cy: Scalar, rx: Scalar, ry: Scalar) -> Tensor:
        """Pixels whose centre lies in the closed ellipse centred at (cx, cy) with radii rx (of W) and ry (of H)."""
        d = self.device
        dx = (self.x - _per_sample(cx, d)) / _per_sample(rx, d)
        dy = (self.y - _per_sample(cy, d)) / _per_sample(ry, d)
        return dx * dx + dy * dy <= 1.0

    def polygon(self, vertices: Sequence[tuple[float, float]]) -> Tensor:
        """Pixels whose centre lies inside a simple polygon of (x, y) vertices in fractions (even-odd rule).

        One broadcast over the edges: (V, 1, H, W) crossing tests, reduced by parity. V is small and fixed, so this
        stays a handful of tensor ops whatever the batch size.
        """
        v = torch.tensor(vertices, dtype=torch.float32, device=self.device)  # (V, 2)
        xi, yi = v[:, 0].reshape(-1, 1, 1, 1), v[:, 1].reshape(-1, 1, 1, 1)
        xj, yj = torch.roll(xi, 1, dims=0), torch.roll(yi, 1, dims=0)
        straddles = (yi > self.y) != (yj > self.y)
        # Where the edge is horizontal it cannot straddle, so the division's inf/nan is masked out by `straddles`.
        x_cross = xi + (self.y - yi) * (xj - xi) / torch.where(yj == yi, torch.ones_like(yj), yj - yi)
        crossings = (straddles & (self.x < x_cross)).sum(dim=0, keepdim=True)
        return (crossings % 2 == 1).reshape(1, 1, self.height, self.width)

    def pixel_box(self, top: Tensor, left: Tensor, height: Tensor, width: Tensor) -> Tensor:
        """Pixels ``[top, top + height) x [left, left + width)`` in whole-pixel units, each a (B,) tensor."""
        d = self.device
        t, lft = top.to(d).long().reshape(-1, 1, 1, 1), left.to(d).long().reshape(-1, 1, 1, 1)
        h, w = height.to(d).long().reshape(-1, 1, 1, 1), width.to(d).long().reshape(-1, 1, 1, 1)
        rows = (self.row >= t) & (self.row < t + h)  # (B, 1, H, 1)
        cols = (self.col >= lft) & (self.col < lft + w)  # (B, 1, 1, W)
        # One full-size op, not three; as uint8 (a product of 0/1) it is ~4x faster than bool & on CPU.
        return (rows.to(torch.uint8) * cols.to(torch.uint8)).view(torch.bool)

    def cell(self, k: int, index: int) -> Tensor:
        """Cell ``index`` (row-major) of a ``k`` x ``k`` grid, decided in integers so the cells always partition.

        Pixel row ``i`` falls in grid row ``floor((2i + 1) k / (2H))``: its centre's cell, with no rounding.
        """
        cell_row = ((2 * self.row + 1) * k) // (2 * self.height)
        cell_col = ((2 * self.col + 1) * k) // (2 * self.width)
        return (cell_row == index // k) & (cell_col == index % k)
