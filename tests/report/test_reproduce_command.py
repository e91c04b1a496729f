"""reproduce_command: the printed command line, parsed by the real CLI, resolves to the run's exact configuration."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import occlubench.benchmark
from occlubench.benchmark import BenchmarkResult, RunOptions, get_benchmark
from occlubench.benchmark.runner import resolve_config
from occlubench.cli.app import app
from occlubench.report.command import reproduce_command, variant_of

FER_INFO = {"format": "image-folder-zip", "sha256": "ab" * 32, "split_note": "official", "source": "/data/fer2013.zip"}
DEMO_INFO = {"format": "synthetic faces", "split_note": "generated"}

CASES = [
    ("demo", RunOptions(preset="smoke"), DEMO_INFO),
    ("demo", RunOptions(preset="quick", protocol="study", seed=3, epochs=2, bootstrap=0), DEMO_INFO),
    (
        "fer2013-halves",
        RunOptions(
            preset="paper",
            model="resnet18",
            weights="imagenet",
            limit=100,
            batch_size=32,
            finetune_epochs=4,
            precision="fp32",
            seed=7,
        ),
        FER_INFO,
    ),
    ("fer2013-halves", RunOptions(preset="smoke", model="fer_cnn"), FER_INFO),
]


def _options_from_cli(args: list[str], monkeypatch: pytest.MonkeyPatch) -> RunOptions:
    captured: dict[str, Any] = {}

    def fake_run_benchmark(benchmark: str, data: Any, out: Any, **kwargs: Any) -> BenchmarkResult:
        captured.update(kwargs, benchmark=benchmark)
        return BenchmarkResult(Path("unused"), {"cells": []})

    monkeypatch.setattr(occlubench.benchmark, "run_benchmark", fake_run_benchmark)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return captured["options"]


@pytest.mark.parametrize(("name", "options", "info"), CASES)  # not "benchmark": pytest-benchmark's fixture
def test_command_round_trips_through_the_cli(
    name: str, options: RunOptions, info: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = get_benchmark(name)
    config = resolve_config(spec, options, info)
    command = reproduce_command({"config": config, "data": info})
    words = shlex.split(command)
    assert words[:3] == ["occlubench", "run", name]
    if "--data" in words:  # the recorded source is printed; point it at a file that exists here
        assert words[words.index("--data") + 1] == "/data/fer2013.zip"
        words[words.index("--data") + 1] = str(tmp_path)
    parsed = _options_from_cli(words[1:], monkeypatch)
    assert resolve_config(spec, parsed, info) == config


def test_preset_as_is_has_no_variant_and_overrides_are_named() -> None:
    spec = get_benchmark("demo")
    assert variant_of(resolve_config(spec, RunOptions(preset="smoke"), DEMO_INFO)) == ""
    changed = resolve_config(spec, RunOptions(preset="smoke", epochs=3, limit=50, precision="fp32"), DEMO_INFO)
    assert variant_of(changed) == "--epochs 3 --limit 50 --precision fp32"


def test_leaderboard_prints_only_the_data_file_name_and_multi_seed_runs_print_seeds() -> None:
    config = resolve_config(get_benchmark("fer2013-halves"), RunOptions(preset="smoke"), FER_INFO)
    assert "--data fer2013.zip " in reproduce_command({"config": config, "data": FER_INFO}, data="fer2013.zip")
    config["seed"] = [0, 1, 2]
    assert "--seeds 0,1,2" in reproduce_command({"config": config, "data": FER_INFO})
