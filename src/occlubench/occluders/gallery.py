"""A picture of what occluders do: one grid image, one row per face and one column per occluder."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from occlubench.errors import ConfigError, DataError
from occlubench.occluders.base import Occluder


def render_gallery(
    occluders: Sequence[Occluder],
    faces: Tensor,
    generator: torch.Generator | None = None,
    *,
    padding: int = 2,
    pad_value: float = 1.0,
) -> Tensor:
    """Occlude ``faces`` with each occluder and tile the results: rows = faces, columns = occluders.

    Args:
        occluders: one column each, left to right.
        faces: (N, C, H, W) float in [0, 1] (C is 1 for FER2013).
        generator: drives the random occluders, called in column order, so a seed gives the same picture.
        padding: pixels of ``pad_value`` around and between tiles.
        pad_value: the separator colour (1.0 = white).

    Returns:
        Float (C, N * (H + padding) + padding, M * (W + padding) + padding) on the faces' device, in [0, 1].
        Column ``j`` spans x in ``[padding + j * (W + padding), padding + j * (W + padding) + W)``, which is where a
        caller puts the column labels.
    """
    if not occluders:
        raise ConfigError("render_gallery needs at least one occluder")
    if not isinstance(faces, Tensor) or faces.ndim != 4 or not faces.is_floating_point() or faces.shape[0] == 0:
        raise DataError("render_gallery takes faces as a non-empty float tensor (N, C, H, W) in [0, 1]")
    n, c, h, w = faces.shape
    m = len(occluders)
    tiles = torch.stack([occ(faces, generator=generator) for occ in occluders], dim=1)  # (N, M, C, H, W)
    canvas = faces.new_full((c, n * (h + padding) + padding, m * (w + padding) + padding), pad_value)
    # Index the canvas as (C, N, H + padding, M, W + padding) after dropping the leading margin, and write all tiles
    # at once: tile (i, j) lands at rows padding + i * (H + padding), columns padding + j * (W + padding).
    body = canvas[:, padding:, padding:].view(c, n, h + padding, m, w + padding)
    body[:, :, :h, :, :w] = tiles.permute(2, 0, 3, 1, 4)
    return canvas
