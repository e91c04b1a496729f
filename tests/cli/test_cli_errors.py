"""How the CLI reports what goes wrong: one line and an exit code by default, the whole traceback with --debug."""

from __future__ import annotations

import errno
import warnings
from pathlib import Path
from typing import Any

import pytest

import occlubench.benchmark
from occlubench.benchmark import BenchmarkResult
from occlubench.cli.errors import one_line
from occlubench.errors import DataError

BUG_LINE = (
    "error: unexpected RuntimeError: tensor shapes disagree in layer 3 "
    "(a bug: run `occlubench --debug ...` for the traceback and please report it)"
)


def _raising(exc: BaseException) -> Any:
    def run_benchmark(*args: Any, **kwargs: Any) -> BenchmarkResult:
        raise exc

    return run_benchmark


@pytest.fixture
def demo_args(tmp_path: Path) -> list[str]:
    return ["run", "demo", "--preset", "smoke", "--out", str(tmp_path / "out")]


def test_debug_lets_a_user_error_out_with_its_whole_traceback(kit: Any, tmp_path: Path) -> None:
    missing = tmp_path / "missing.zip"
    result = kit.invoke("--debug", *kit.RUN, "--data", missing, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert isinstance(result.exception, DataError)
    assert result.exception.__traceback__ is not None
    assert str(result.exception) == f"--data {missing} does not exist"


def test_an_unexpected_error_is_one_line_exit_1_with_a_pointer_to_debug(
    kit: Any, demo_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        occlubench.benchmark, "run_benchmark", _raising(RuntimeError("tensor shapes disagree\nin layer 3"))
    )
    result = kit.invoke(*demo_args)
    assert result.exit_code == 1
    assert result.exception is None
    assert result.stderr_lines == [BUG_LINE]


def test_debug_shows_the_traceback_of_an_unexpected_error_and_only_for_that_invocation(
    kit: Any, demo_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        occlubench.benchmark, "run_benchmark", _raising(RuntimeError("tensor shapes disagree in layer 3"))
    )
    with_debug = kit.invoke("--debug", *demo_args)
    assert isinstance(with_debug.exception, RuntimeError)
    without = kit.invoke(*demo_args)
    assert without.exception is None
    assert without.stderr_lines == [BUG_LINE]


def test_an_os_error_mid_run_says_the_run_can_resume(
    kit: Any, demo_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    error = OSError(errno.ENOSPC, "No space left on device", "/runs/x/predictions/baseline.safetensors")
    monkeypatch.setattr(occlubench.benchmark, "run_benchmark", _raising(error))
    result = kit.invoke(*demo_args)
    assert result.exit_code == 2
    assert result.stderr_lines == [
        "error: No space left on device (/runs/x/predictions/baseline.safetensors); re-run the same command to resume"
    ]


def test_ctrl_c_says_the_run_can_resume(kit: Any, demo_args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(occlubench.benchmark, "run_benchmark", _raising(KeyboardInterrupt()))
    result = kit.invoke(*demo_args)
    assert result.exit_code == 130
    assert result.stderr_lines == ["interrupted: re-run the same command to resume"]


def test_warnings_are_one_line_each(kit: Any, demo_args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def run_benchmark(*args: Any, out: Path, **kwargs: Any) -> BenchmarkResult:
        warnings.warn("a library's warning\n\nover several lines", UserWarning, stacklevel=1)
        return BenchmarkResult(Path(out), {"cells": []})

    monkeypatch.setattr(occlubench.benchmark, "run_benchmark", lambda b, d, out, **kw: run_benchmark(out=out))
    result = kit.invoke(*demo_args)
    assert result.exit_code == 0, result.stderr
    assert result.stderr_lines == ["warning: a library's warning over several lines"]


def test_help_still_works_and_exits_0(kit: Any) -> None:
    result = kit.invoke("run", "--help")
    assert result.exit_code == 0
    assert "--out" in result.stdout
    assert result.stderr == ""


def test_one_line_joins_lines_and_drops_blank_ones() -> None:
    assert one_line("first\n\n  second  \nthird") == "first second third"
    assert one_line(ValueError("plain")) == "plain"
