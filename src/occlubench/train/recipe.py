"""Training recipes: the hyper-parameters of one training job, frozen so they can be hashed and recorded."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Recipe:
    """SGD with momentum and a step learning-rate schedule, the reference study's optimizer.

    Attributes:
        epochs: passes over the training split.
        batch_size: images per step.
        lr: initial learning rate; multiplied by ``lr_gamma`` after every ``lr_step_epochs`` epochs.
        momentum, weight_decay: SGD settings.
        crop_padding: RandomCrop(H, padding=crop_padding) with zero padding; 0 disables the random crop.
        hflip: random horizontal flip with probability 0.5.
    """

    epochs: int
    batch_size: int = 128
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 1e-3
    lr_step_epochs: int = 5
    lr_gamma: float = 0.1
    crop_padding: int = 4
    hflip: bool = True

    def lr_at(self, epoch: int) -> float:
        """Learning rate of 0-based ``epoch`` (StepLR)."""
        return self.lr * self.lr_gamma ** (epoch // max(1, self.lr_step_epochs))

    def with_overrides(self, **changes: Any) -> Recipe:
        """A copy with the non-None ``changes`` applied."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
