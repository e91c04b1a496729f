"""Benchmark suite settings: thread count, the real-data path, and a summary of every speed target at the end.

Run from the repository root with ``pytest benchmarks/ --benchmark-only`` (the default ``pytest`` collects only
``tests/``). ResNet50 cases are marked ``slow`` (minutes per step on a small CPU): add ``-m slow`` or ``-m ""``.
``--enforce-targets`` turns a missed target into a failed benchmark; by default misses are only reported, since a
loaded machine can miss any wall-clock target.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `import speed` from the benchmark modules

from speed import SpeedTarget, machine_state

REPO = Path(__file__).resolve().parents[1]
FER2013_ZIP = REPO / ".." / "shared" / "data" / "fer2013.zip"

_TARGETS: list[tuple[SpeedTarget, str]] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("occlubench benchmarks")
    group.addoption("--bench-threads", type=int, default=2, help="torch threads for every benchmark (default 2)")
    group.addoption("--enforce-targets", action="store_true", help="fail a benchmark whose speed target is missed")


def pytest_configure(config: pytest.Config) -> None:
    torch.set_num_threads(config.getoption("--bench-threads"))


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the user's decode cache: the data benchmarks time their own first read."""
    monkeypatch.setenv("OCCLUBENCH_CACHE", str(tmp_path_factory.getbasetemp() / "occlubench-cache"))


@pytest.fixture
def fer2013_zip() -> Path:
    """The real FER2013 zip beside the repository; skips when absent."""
    if not FER2013_ZIP.is_file():
        pytest.skip(f"real FER2013 data not found at {FER2013_ZIP.resolve()} (see ../shared/data/README.md)")
    return FER2013_ZIP


@pytest.fixture
def speed_target(request: pytest.FixtureRequest) -> Iterator[Callable[..., SpeedTarget]]:
    """``speed_target(name, measured, threshold, unit, higher_is_better=True, note="")`` records a target.

    A ``threshold`` of None records a figure without a target (printed as ``info``).

    Every recorded target is printed at the end of the session with the machine's load at the time of measurement;
    with ``--enforce-targets`` a missed one fails its benchmark.
    """
    recorded: list[SpeedTarget] = []

    def record(
        name: str,
        measured: float,
        threshold: float | None,
        unit: str,
        *,
        higher_is_better: bool = True,
        note: str = "",
    ) -> SpeedTarget:
        target = SpeedTarget(name, measured, threshold, unit, higher_is_better, note)
        recorded.append(target)
        _TARGETS.append((target, machine_state()))
        return target

    yield record
    missed = [t.line() for t in recorded if not t.met]
    if missed and request.config.getoption("--enforce-targets"):
        pytest.fail("; ".join(missed), pytrace=False)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _TARGETS:
        return
    terminalreporter.section("occlubench speed targets")
    for target, state in _TARGETS:
        terminalreporter.write_line(f"{target.line()}  [{state}]")
