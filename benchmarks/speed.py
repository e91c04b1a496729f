"""Timing helpers for the benchmarks: interleaved A/B repeats, speed targets, and the machine's state.

On a shared machine the load changes from one second to the next, so a ratio of two timings taken minutes apart
says more about the load than about the code. Every ratio here comes from repeats of A and B interleaved in one
process (A B, B A, A B, ...), each side summarized by its minimum: the repeat least disturbed by other work.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch


def interleaved_times(
    runs: Mapping[str, Callable[[], object]], repeats: int, *, warmup: int = 1, sync: Callable[[], None] | None = None
) -> dict[str, list[float]]:
    """Seconds per call of each of ``runs``, ``repeats`` times each, in alternating order after ``warmup`` calls.

    Args:
        runs: name -> a callable doing one unit of work.
        sync: called before each clock read (``torch.cuda.synchronize`` for GPU work), None on a CPU.
    """
    names = list(runs)
    for _ in range(warmup):
        for name in names:
            runs[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(repeats):
        for name in names if repeat % 2 == 0 else reversed(names):
            if sync is not None:
                sync()
            started = time.perf_counter()
            runs[name]()
            if sync is not None:
                sync()
            times[name].append(time.perf_counter() - started)
    return times


def best(times: list[float]) -> float:
    """The least disturbed repeat."""
    return min(times)


def machine_state() -> str:
    """Load average, cores and torch threads: printed next to every figure so a reader can judge it."""
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    return f"load {load} on {os.cpu_count()} cores, torch threads {torch.get_num_threads()}"


def describe_machine() -> dict[str, str]:
    """Versions and hardware for RESULTS.md."""
    import kornia
    import torchvision

    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "kornia": kornia.__version__,
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    return info


@dataclass(frozen=True)
class SpeedTarget:
    """One measured figure against its target (``occluder upper: 62x >= 50x``), or alone when ``threshold`` is None."""

    name: str
    measured: float
    threshold: float | None
    unit: str
    higher_is_better: bool = True
    note: str = ""

    @property
    def met(self) -> bool:
        if self.threshold is None:
            return True
        return self.measured >= self.threshold if self.higher_is_better else self.measured <= self.threshold

    def line(self) -> str:
        note = f"  ({self.note})" if self.note else ""
        if self.threshold is None:
            return f"{'info':6s} {self.name}: {self.measured:.4g}{self.unit}{note}"
        sign = ">=" if self.higher_is_better else "<="
        verdict = "met" if self.met else "MISSED"
        return (
            f"{verdict:6s} {self.name}: {self.measured:.4g}{self.unit} "
            f"(target {sign} {self.threshold:g}{self.unit}){note}"
        )
