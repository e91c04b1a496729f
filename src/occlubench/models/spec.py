"""ModelSpec: a network together with the input preprocessing it expects, so occluders always see pixels."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

# The reference study's normalization (CIFAR-10 statistics, as its code used them).
STUDY_MEAN: tuple[float, float, float] = (0.4914, 0.4822, 0.4465)
STUDY_STD: tuple[float, float, float] = (0.2023, 0.1994, 0.2010)


class ModelSpec(nn.Module):
    """A classifier that takes images in [0, 1] pixel space and normalizes them itself.

    Grayscale inputs are repeated to ``in_channels`` when the network expects more channels, exactly as the study
    read its grayscale JPEGs as RGB. Occlusion therefore always happens before normalization: 0.0 is black.

    Shape:
        forward: (B, C, H, W) float in [0, 1] -> (B, num_classes) logits.
    """

    def __init__(
        self,
        net: nn.Module,
        *,
        in_channels: int,
        mean: Sequence[float],
        std: Sequence[float],
        name: str = "model",
    ) -> None:
        super().__init__()
        if len(mean) != in_channels or len(std) != in_channels:
            raise ValueError("mean and std need one value per input channel")
        self.net = net
        self.in_channels = in_channels
        self.name = name
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)

    def preprocess(self, pixels: torch.Tensor) -> torch.Tensor:
        """Repeat grayscale to the network's channels and normalize."""
        if pixels.shape[1] != self.in_channels:
            if pixels.shape[1] != 1:
                raise ValueError(f"{self.name} expects {self.in_channels} channels, got {pixels.shape[1]}")
            pixels = pixels.expand(-1, self.in_channels, -1, -1)
        return (pixels - self.mean) / self.std

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.net(self.preprocess(pixels))
