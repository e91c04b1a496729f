"""BenchmarkSpec: what a benchmark trains and evaluates, as frozen data that can be hashed, printed and stored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from occlubench.errors import ConfigError, UnknownNameError
from occlubench.train.recipe import Recipe

CLEAN = "full"
"""The condition label of an unoccluded image (the study's "full face"); its occluder is ``none``."""


def occluder_name(condition: str) -> str:
    """The registered occluder behind a condition label (``full`` is the ``none`` occluder)."""
    return "none" if condition == CLEAN else condition


@dataclass(frozen=True)
class TrainingCondition:
    """One model to train: from scratch (the baseline) or fine-tuned from another, with a training occlusion.

    Attributes:
        name: the row label of the matrix, ``trained_on`` in results (``full`` for the baseline).
        occlusion: condition applied to every training image (``full`` = none), or ``mix`` with ``mix`` set.
        init_from: ``None`` to train from the model's initial weights, else the ``name`` of the model to start from.
        recipe: ``baseline`` or ``finetune``: which of the preset's recipes trains it.
        mix: for occlusion-mix training, (condition, probability) pairs drawn per image.
    """

    name: str
    occlusion: str = CLEAN
    init_from: str | None = None
    recipe: str = "baseline"
    mix: tuple[tuple[str, float], ...] = ()

    @property
    def job(self) -> str:
        """File-system friendly name of the training job (``baseline``, ``finetune-upper``...)."""
        return "baseline" if self.init_from is None and self.name == CLEAN else f"finetune-{self.name}"


@dataclass(frozen=True)
class Preset:
    """A size of the same plan: recipes for the baseline and the fine-tunes, and how much data."""

    name: str
    description: str
    baseline: Recipe
    finetune: Recipe
    limit: int | None = None  # at most this many images per split, stratified by class
    dataset_options: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "baseline": self.baseline.to_dict(),
            "finetune": self.finetune.to_dict(),
            "limit": self.limit,
            "dataset_options": dict(self.dataset_options),
        }


@dataclass(frozen=True)
class BenchmarkSpec:
    """A named benchmark: dataset, model, the models to train and the conditions to evaluate them on."""

    name: str
    description: str
    dataset: str
    model: str
    trainings: tuple[TrainingCondition, ...]
    evaluations: tuple[str, ...]
    presets: Mapping[str, Preset]
    default_preset: str = "paper"
    needs_data: bool = True
    headline: str = ""

    def preset(self, name: str | None) -> Preset:
        """The preset called ``name`` (the default when None)."""
        key = name or self.default_preset
        if key not in self.presets:
            raise UnknownNameError("preset", key, self.presets)
        return self.presets[key]

    def training(self, name: str) -> TrainingCondition:
        for condition in self.trainings:
            if condition.name == name:
                return condition
        raise ConfigError(f"benchmark {self.name!r} trains no model on {name!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "dataset": self.dataset,
            "model": self.model,
            "trainings": [asdict(t) for t in self.trainings],
            "evaluations": list(self.evaluations),
            "default_preset": self.default_preset,
            "presets": {k: v.to_dict() for k, v in self.presets.items()},
        }
