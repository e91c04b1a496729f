"""What an occluder paints into the hidden region: black (the study's choice), gray, the image mean, noise or blur."""

from __future__ import annotations

import math
from enum import Enum

from kornia.filters import gaussian_blur2d
from torch import Tensor

from occlubench.errors import ConfigError


class Fill(str, Enum):
    """How hidden pixels are filled (pixels are in [0, 1])."""

    BLACK = "black"  # 0.0, as in the reference study
    GRAY = "gray"  # 0.5
    MEAN = "mean"  # each image's own mean, per channel, so the region carries no contrast but keeps brightness
    NOISE = "noise"  # uniform [0, 1) noise, drawn from the occluder's generator with its other parameters
    BLUR = "blur"  # the image Gaussian-blurred: coarse shape survives, detail does not

    @classmethod
    def parse(cls, value: str | Fill) -> Fill:
        """``value`` as a Fill; ``ConfigError`` naming the allowed values otherwise."""
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(f.value for f in cls)
            raise ConfigError(f"fill must be one of {allowed}; got {value!r}") from None


def blur_kernel_size(sigma_px: float, height: int, width: int) -> int:
    """Odd kernel covering +-3 sigma, capped so reflect padding fits inside the image (pad < side)."""
    size = 2 * math.ceil(3.0 * sigma_px) + 1
    return max(1, min(size, 2 * min(height, width) - 1))


def fill_values(images: Tensor, fill: Fill, noise: Tensor | None = None, blur_sigma: float = 0.08) -> Tensor:
    """The values hidden pixels take, broadcastable to ``images``.

    Args:
        images: (B, C, H, W) float in [0, 1].
        fill: which fill.
        noise: (B, C, H, W) uniform noise, required for ``Fill.NOISE`` (drawn in the sampling step, so a replay of the
            same parameters paints the same noise).
        blur_sigma: Gaussian sigma for ``Fill.BLUR``, as a fraction of the shorter image side (0.08 -> 3.8 px at 48).

    Returns:
        A tensor of ``images``' dtype and device: a scalar-shaped tensor for black and gray, (B, C, 1, 1) for mean,
        (B, C, H, W) for noise and blur.
    """
    if fill is Fill.BLACK:
        return images.new_zeros(())
    if fill is Fill.GRAY:
        return images.new_full((), 0.5)
    if fill is Fill.MEAN:
        return images.mean(dim=(-2, -1), keepdim=True)
    if fill is Fill.NOISE:
        if noise is None:
            raise ValueError("Fill.NOISE needs the noise drawn in the sampling step")
        return noise.to(device=images.device, dtype=images.dtype)
    h, w = images.shape[-2:]
    sigma_px = max(blur_sigma * min(h, w), 1e-3)
    k = blur_kernel_size(sigma_px, h, w)
    return gaussian_blur2d(images, (k, k), (sigma_px, sigma_px), border_type="reflect")
