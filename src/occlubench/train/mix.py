"""Occlusion-mix training: each training image hidden by one occluder drawn from a weighted set.

A generalist fine-tune sees every occlusion of the set (and, with ``full`` in it, clean faces) in one model, so the
matrix can answer whether one such model matches the specialists each trained on a single occlusion.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch

from occlubench.errors import ConfigError

OccludeFn = Callable[..., torch.Tensor]

PROBABILITY_TOLERANCE = 1e-6
"""How far from 1 the probabilities of a mix may sum (rounding in a hand-written file, say 3 x 0.3333333)."""


class OcclusionMix:
    """Draw one member per image with the given probabilities and apply it to the images that drew it.

    Args:
        members: name -> occluder (a callable ``(images, generator=...) -> images``), or None for the clean image.
        probabilities: name -> probability, the same names; non-negative and summing to 1.

    Shape:
        images: (B, C, H, W) float in [0, 1], any device; the output has the same shape, dtype and device.

    The draw and every member's own random numbers come from the call's generator, so the same generator state
    gives the same pixels. Each member runs once per batch, on the images that drew it only (one gather and one
    scatter per member, no per-image Python).

    Raises:
        ConfigError: no members, names that differ between the two mappings, or probabilities that are negative,
            not finite or do not sum to 1.
    """

    def __init__(self, members: Mapping[str, OccludeFn | None], probabilities: Mapping[str, float]) -> None:
        if not members:
            raise ConfigError("an occlusion mix needs at least one member")
        if set(members) != set(probabilities):
            raise ConfigError(
                "an occlusion mix needs one probability per member",
                f"members: {', '.join(members)}; probabilities: {', '.join(probabilities)}",
            )
        self.names = tuple(members)
        self.members = tuple(members[name] for name in self.names)
        values = [probabilities[name] for name in self.names]
        if any(not isinstance(p, (int, float)) or not math.isfinite(p) or p < 0 for p in values):
            raise ConfigError(f"mix probabilities must be finite and non-negative, got {dict(probabilities)}")
        total = math.fsum(values)
        if abs(total - 1.0) > PROBABILITY_TOLERANCE:
            raise ConfigError(f"mix probabilities must sum to 1, got {total:g}", f"{dict(probabilities)}")
        self.probabilities = torch.tensor(values, dtype=torch.float64)

    def draw(self, batch_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Int64 (B,) CPU tensor: the index (into ``names``) of the member each image draws."""
        return torch.multinomial(self.probabilities, batch_size, replacement=True, generator=generator)

    def __call__(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        choice = self.draw(images.shape[0], generator).to(images.device)
        out = images.clone()
        for k, occlude in enumerate(self.members):
            if occlude is None:
                continue
            index = torch.nonzero(choice == k).flatten()
            if index.numel() == 0:
                continue
            out[index] = occlude(images[index], generator=generator)
        return out

    def __repr__(self) -> str:
        pairs = ", ".join(f"{n}={p:g}" for n, p in zip(self.names, self.probabilities.tolist(), strict=True))
        return f"OcclusionMix({pairs})"
