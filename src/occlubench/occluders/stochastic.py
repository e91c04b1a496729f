"""Occluders whose region is drawn per image: a cutout-style square patch and kornia-style random erasing.

Both draw whole-pixel boxes ``[top, top + height) x [left, left + width)`` as (B,) tensors from the call's generator,
in the sampling step, and record them as ``ys``, ``xs``, ``heights``, ``widths`` (kornia's RandomErasing keys).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from occlubench.errors import ConfigError
from occlubench.occluders.base import Occluder, Params
from occlubench.occluders.checks import check_fraction, check_interval
from occlubench.occluders.grid import PixelGrid
from occlubench.occluders.registration import register_occluder


def _uniform(
    batch_size: int, low: float, high: float, generator: torch.Generator | None, device: torch.device
) -> Tensor:
    """``low + U[0, 1) * (high - low)``: torch.distributions.Uniform's rsample, from an explicit generator."""
    return low + torch.rand(batch_size, generator=generator, device=device) * (high - low)


def _place(u: Tensor, size: Tensor, extent: int) -> Tensor:
    """A uniformly random start in ``[0, extent - size]`` from uniforms ``u``: the box stays inside the image."""
    return torch.floor(u * (extent - size + 1))


class BoxOccluder(Occluder):
    """Hide a per-image whole-pixel box drawn by ``sample_params`` (keys ys, xs, heights, widths)."""

    def region(self, grid: PixelGrid, params: Params) -> Tensor:
        return grid.pixel_box(params["ys"], params["xs"], params["heights"], params["widths"])


@register_occluder("random_patch")
class RandomPatch(BoxOccluder):
    """Hide one square of area ``severity`` x H x W at a uniformly random place inside the image (cutout).

    The side is ``round(sqrt(severity * H * W))`` pixels, capped at the shorter image side (so on a non-square image
    a large severity hides less than asked; ``hidden_fraction`` says how much).

    Args:
        severity: fraction of the image to hide, in [0, 1]; 0 hides nothing.
    """

    def __init__(self, severity: float = 0.25, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.severity = check_fraction("severity", severity)

    def sample_params(
        self, batch_size: int, height: int, width: int, generator: torch.Generator | None, device: torch.device
    ) -> Params:
        side = min(round(math.sqrt(self.severity * height * width)), height, width)
        sides = torch.full((batch_size,), float(side), device=device)
        ys = _place(torch.rand(batch_size, generator=generator, device=device), sides, height)
        xs = _place(torch.rand(batch_size, generator=generator, device=device), sides, width)
        return {"ys": ys, "xs": xs, "heights": sides, "widths": sides}


@register_occluder("random_erasing")
class RandomErasing(BoxOccluder):
    """Hide one random rectangle per image, as kornia's RandomErasing does (area from ``scale``, shape from ``ratio``).

    Reimplemented rather than wrapped so the draw comes from the call's generator; the numbers are kornia 0.9's
    ``RectangleEraseGenerator``'s, drawn in the same order, so with a generator seeded like torch's global one it
    draws kornia's exact boxes. The target area is ``U(scale) * H * W``; the aspect ratio (height / width) is
    ``U(ratio)``, except that when ``ratio`` straddles 1 a fair coin picks ``[ratio[0], 1]`` or ``[1, ratio[1]]``;
    the box is rounded to whole pixels, clamped to the image, and placed uniformly inside it.

    Two differences from kornia, both so that the occluder fits the benchmark contract: ``p`` defaults to 1.0 (every
    image occluded; kornia's default is 0.5), and a box that rounds to zero pixels erases nothing (kornia erases at
    least one pixel), so ``scale=(0, 0)`` / ``severity=0`` is the identity.

    Args:
        scale: range of the erased area as a fraction of the image.
        ratio: range of the box's aspect ratio (height / width).
        severity: shorthand for ``scale=(severity, severity)``: a fixed area, random shape and place.
    """

    def __init__(
        self,
        scale: tuple[float, float] = (0.02, 0.33),
        ratio: tuple[float, float] = (0.3, 3.3),
        severity: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if severity is not None:
            severity = check_fraction("severity", severity)
            # A spec records both; they agree there. Anything else names two different areas.
            if tuple(scale) not in ((0.02, 0.33), (severity, severity)):
                raise ConfigError("give random_erasing either severity or scale, not both")
            scale = (severity, severity)
        self.severity = severity
        self.scale = check_interval("scale", scale, 0.0, 1.0)
        self.ratio = check_interval("ratio", ratio, 0.0)
        if self.ratio[0] <= 0.0:
            raise ConfigError(f"ratio must be a pair (min, max) with 0 < min <= max; got {ratio!r}")

    def sample_params(
        self, batch_size: int, height: int, width: int, generator: torch.Generator | None, device: torch.device
    ) -> Params:
        area = _uniform(batch_size, *self.scale, generator, device) * (height * width)
        low, high = self.ratio
        if low < 1.0 < high:
            below = _uniform(batch_size, low, 1.0, generator, device)
            above = _uniform(batch_size, 1.0, high, generator, device)
            coin = torch.round(_uniform(batch_size, 0.0, 1.0, generator, device)).bool()
            aspect = torch.where(coin, below, above)
        else:
            aspect = _uniform(batch_size, low, high, generator, device)
        heights = torch.round(torch.sqrt(area * aspect)).clamp(0.0, height)
        widths = torch.round(torch.sqrt(area / aspect)).clamp(0.0, width)
        xs = _place(torch.rand(batch_size, generator=generator, device=device), widths, width)
        ys = _place(torch.rand(batch_size, generator=generator, device=device), heights, height)
        return {"ys": ys, "xs": xs, "heights": heights, "widths": widths}

    def target_fraction(self, height: int, width: int) -> float | None:
        return self.scale[0] if self.scale[0] == self.scale[1] else None
