"""BenchmarkSpec: what a benchmark trains and evaluates, as frozen data that can be hashed, printed and stored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from occlubench.benchmark.conditions import (
    CLEAN,
    EvaluationCondition,
    as_condition,
    grid_conditions,
    occluder_name,
    plain_condition,
    unique_by_label,
)
from occlubench.errors import ConfigError, UnknownNameError
from occlubench.train.recipe import Recipe

__all__ = ["CLEAN", "BenchmarkSpec", "EvaluationCondition", "Preset", "TrainingCondition", "occluder_name"]


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
    """A benchmark: dataset, model, the models to train, the conditions to evaluate them on, presets and seeds.

    Attributes:
        evaluations: the explicit conditions; plain labels given here (``"upper"``) are turned into
            :class:`EvaluationCondition` on construction, so code reading a spec always sees conditions.
        severity_occluders: occluders evaluated at every one of ``severities`` (severity curves).
        severities: fractions of the image hidden; 0 is the clean condition.
        grids: grid sizes k of the region maps (every cell of a k x k ``grid_cell`` grid is a condition).
        grid_fill: what the grid cells are hidden with (``gray`` by default, as Zeiler & Fergus did: a black square
            on a face reads as a dark feature, an open mouth or a wide eye, and adds evidence instead of removing it).
        seeds: the seeds a run uses when the user names none (more than one: the plan once per seed).
        source: the TOML file the spec was read from, if any (not part of its identity).
    """

    name: str
    description: str
    dataset: str
    model: str
    trainings: tuple[TrainingCondition, ...]
    evaluations: tuple[EvaluationCondition, ...]
    presets: Mapping[str, Preset]
    default_preset: str = "paper"
    needs_data: bool = True
    headline: str = ""
    severity_occluders: tuple[str, ...] = ()
    severities: tuple[float, ...] = ()
    grids: tuple[int, ...] = ()
    grid_fill: str = "gray"
    seeds: tuple[int, ...] = (0,)
    source: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "evaluations", tuple(as_condition(e) for e in self.evaluations))
        object.__setattr__(self, "trainings", tuple(self.trainings))
        object.__setattr__(self, "severity_occluders", tuple(self.severity_occluders))
        object.__setattr__(self, "severities", tuple(float(s) for s in self.severities))
        object.__setattr__(self, "grids", tuple(self.grids))
        object.__setattr__(self, "seeds", tuple(self.seeds))
        if bool(self.severity_occluders) != bool(self.severities):
            raise ConfigError(f"benchmark {self.name!r}: severity_occluders and severities go together")

    def conditions(self) -> tuple[EvaluationCondition, ...]:
        """Every evaluation condition, in column order: explicit ones, the severity points, the grid cells.

        ``full`` comes first whenever curves or maps need it (their severity 0 and their reference).
        """
        from occlubench.benchmark.severity import severity_conditions

        listed = list(self.evaluations)
        if (self.severities or self.grids) and all(c.label != CLEAN for c in listed):
            listed.insert(0, plain_condition(CLEAN))
        listed += severity_conditions(self.severity_occluders, self.severities)
        for k in self.grids:
            listed += grid_conditions(k, self.grid_fill)
        return unique_by_label(listed)

    def condition(self, label: str) -> EvaluationCondition:
        """The evaluation condition labelled ``label``, else the plain condition of that name (a training one)."""
        for candidate in self.conditions():
            if candidate.label == label:
                return candidate
        return plain_condition(label)

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
        """JSON/TOML form; ``spec_from_dict`` (``occlubench.benchmark.specfile``) reads it back."""
        return {
            "name": self.name,
            "description": self.description,
            "headline": self.headline,
            "dataset": self.dataset,
            "needs_data": self.needs_data,
            "model": self.model,
            "seeds": list(self.seeds),
            "trainings": [asdict(t) | {"mix": [list(pair) for pair in t.mix]} for t in self.trainings],
            "evaluations": [c.label if c.is_plain else c.to_dict() for c in self.evaluations],
            "severity_occluders": list(self.severity_occluders),
            "severities": list(self.severities),
            "grids": list(self.grids),
            "grid_fill": self.grid_fill,
            "default_preset": self.default_preset,
            "presets": {k: v.to_dict() for k, v in self.presets.items()},
        }
