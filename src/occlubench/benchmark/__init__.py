"""Benchmarks: specs, the catalog of named ones, TOML spec files, and the runner that turns a spec into a run."""

from __future__ import annotations

from occlubench.benchmark.catalog import BENCHMARKS, get_benchmark, list_benchmarks, register_benchmark
from occlubench.benchmark.conditions import EvaluationCondition, GridCell
from occlubench.benchmark.runner import BenchmarkResult, RunOptions, run_benchmark
from occlubench.benchmark.spec import CLEAN, BenchmarkSpec, Preset, TrainingCondition
from occlubench.benchmark.specfile import load_spec, spec_from_dict, spec_to_toml, write_spec

__all__ = [
    "BENCHMARKS",
    "CLEAN",
    "BenchmarkResult",
    "BenchmarkSpec",
    "EvaluationCondition",
    "GridCell",
    "Preset",
    "RunOptions",
    "TrainingCondition",
    "get_benchmark",
    "list_benchmarks",
    "load_spec",
    "register_benchmark",
    "run_benchmark",
    "spec_from_dict",
    "spec_to_toml",
    "write_spec",
]
