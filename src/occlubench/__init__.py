"""occlubench: how well image classifiers hold up when part of the image is hidden.

>>> import occlubench as ob
>>> result = ob.run_benchmark("demo", preset="smoke")  # doctest: +SKIP
>>> result.matrix("accuracy")  # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

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
