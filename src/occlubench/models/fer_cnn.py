"""fer_cnn: a small VGG-style CNN for 48x48 faces, fast enough for the CPU demo and usable on FER2013."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from occlubench.models.registry import register_model
from occlubench.models.spec import ModelSpec
from occlubench.models.weights import load_into, read_state_dict


def _block(cin: int, cout: int) -> list[nn.Module]:
    return [
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    ]


class FerCNN(nn.Module):
    """A 3x3 stem, then three VGG blocks (32, 64, 128 channels) at 24, 12 and 6 pixels, global pooling, linear head.

    About 0.29M parameters and 24M multiply-adds per 48x48 image: the stem pools early so the expensive blocks run
    on small maps, which keeps the CPU demo to about a minute.
    """

    def __init__(self, num_classes: int, in_channels: int = 1, width: int = 16) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            *_block(width, 2 * width),
            *_block(2 * width, 4 * width),
            *_block(4 * width, 8 * width),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(8 * width, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.features(x)))


@register_model("fer_cnn")
def fer_cnn(num_classes: int, weights: str | Path | None = None, in_channels: int = 1) -> ModelSpec:
    """Small VGG-style CNN (~0.29M parameters): the demo's model, minutes per FER2013 epoch on a CPU."""
    if weights is not None and str(weights).lower() == "imagenet":
        from occlubench.errors import ConfigError

        raise ConfigError("fer_cnn has no ImageNet weights", "use --weights none or a path to a checkpoint")
    net = FerCNN(num_classes, in_channels=in_channels)
    if weights is not None:
        load_into(net, read_state_dict(Path(weights)), str(weights))
    mean, std = (0.5,) * in_channels, (0.25,) * in_channels
    return ModelSpec(net, in_channels=in_channels, mean=mean, std=std, name="fer_cnn")
