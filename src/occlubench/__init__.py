"""occlubench: how well image classifiers hold up when part of the image is hidden.

>>> import occlubench as ob
>>> result = ob.run_benchmark("demo", preset="smoke")  # doctest: +SKIP
>>> result.matrix("accuracy")  # doctest: +SKIP

The public names below are imported on first use, so ``import occlubench.occluders`` does not pay for torchvision
and the benchmark layer.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "BenchmarkResult": "occlubench.benchmark",
    "BenchmarkSpec": "occlubench.benchmark",
    "Preset": "occlubench.benchmark",
    "RunOptions": "occlubench.benchmark",
    "TrainingCondition": "occlubench.benchmark",
    "get_benchmark": "occlubench.benchmark",
    "list_benchmarks": "occlubench.benchmark",
    "register_benchmark": "occlubench.benchmark",
    "run_benchmark": "occlubench.benchmark",
    "list_datasets": "occlubench.data.registry",
    "load_dataset": "occlubench.data.registry",
    "register_dataset": "occlubench.data.registry",
    "ConfigError": "occlubench.errors",
    "DataError": "occlubench.errors",
    "OcclubenchError": "occlubench.errors",
    "RunDirError": "occlubench.errors",
    "UnknownNameError": "occlubench.errors",
    "ModelSpec": "occlubench.models",
    "create_model": "occlubench.models",
    "list_models": "occlubench.models",
    "register_model": "occlubench.models",
    "Occluder": "occlubench.occluders",
    "create_occluder": "occlubench.occluders",
    "list_occluders": "occlubench.occluders",
    "register_occluder": "occlubench.occluders",
    "Recipe": "occlubench.train",
}

__all__ = [
    "BenchmarkResult",
    "BenchmarkSpec",
    "ConfigError",
    "DataError",
    "ModelSpec",
    "OcclubenchError",
    "Occluder",
    "Preset",
    "Recipe",
    "RunDirError",
    "RunOptions",
    "TrainingCondition",
    "UnknownNameError",
    "__version__",
    "create_model",
    "create_occluder",
    "get_benchmark",
    "list_benchmarks",
    "list_datasets",
    "list_models",
    "list_occluders",
    "load_dataset",
    "register_benchmark",
    "register_dataset",
    "register_model",
    "register_occluder",
    "run_benchmark",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'occlubench' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:
    from occlubench.benchmark import (
        BenchmarkResult,
        BenchmarkSpec,
        Preset,
        RunOptions,
        TrainingCondition,
        get_benchmark,
        list_benchmarks,
        register_benchmark,
        run_benchmark,
    )
    from occlubench.data.registry import list_datasets, load_dataset, register_dataset
    from occlubench.errors import ConfigError, DataError, OcclubenchError, RunDirError, UnknownNameError
    from occlubench.models import ModelSpec, create_model, list_models, register_model
    from occlubench.occluders import Occluder, create_occluder, list_occluders, register_occluder
    from occlubench.train import Recipe
