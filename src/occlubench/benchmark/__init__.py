"""Benchmarks: specs, the catalog of named ones, and the runner that turns a spec into a run directory."""

from __future__ import annotations

from occlubench.benchmark.catalog import BENCHMARKS, get_benchmark, list_benchmarks, register_benchmark
from occlubench.benchmark.runner import BenchmarkResult, RunOptions, run_benchmark
from occlubench.benchmark.spec import CLEAN, BenchmarkSpec, Preset, TrainingCondition

__all__ = [
    "BENCHMARKS",
    "CLEAN",
    "BenchmarkResult",
    "BenchmarkSpec",
    "Preset",
    "RunOptions",
    "TrainingCondition",
    "get_benchmark",
    "list_benchmarks",
    "register_benchmark",
    "run_benchmark",
]
