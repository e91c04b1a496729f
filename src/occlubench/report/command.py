"""The ``occlubench run`` command line that reproduces a run, rebuilt from its recorded configuration."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from occlubench.errors import OcclubenchError

if TYPE_CHECKING:
    from occlubench.benchmark.spec import BenchmarkSpec

#: The CLI's own defaults: a flag equal to its default is left out of the command.
_CLI_DEFAULTS = {"protocol": "official", "precision": "auto", "bootstrap_resamples": 1000, "weights": "none"}
DATA_PLACEHOLDER = "PATH/TO/DATA"


def _catalog_spec(benchmark: str) -> BenchmarkSpec | None:
    """The catalog's spec of ``benchmark``, or None for one this installation does not know (a plugin's)."""
    from occlubench.benchmark.catalog import get_benchmark

    try:
        return get_benchmark(benchmark)
    except OcclubenchError:
        return None


def reproduce_command(results: Mapping[str, Any], *, data: str | None = None) -> str:
    """The shortest ``occlubench run ...`` that gives the same configuration (and so the same config hash).

    Args:
        results: a parsed ``results.json``.
        data: the ``--data`` to print; default the source the run recorded, else ``PATH/TO/DATA``. Leaderboards pass
            the file name alone, since the run's absolute path means nothing elsewhere (the sha256 identifies it).

    Returns:
        One shell line. Settings the CLI cannot set (a recipe changed in code) are named in a trailing comment.
    """
    config = results.get("config", {})
    benchmark = str(config.get("benchmark", results.get("benchmark", "?")))
    words = ["occlubench", "run", benchmark]
    spec = _catalog_spec(benchmark)
    needs_data = spec.needs_data if spec is not None else "sha256" in config.get("data", {})
    if needs_data or data is not None:
        words += ["--data", data or str(results.get("data", {}).get("source") or DATA_PLACEHOLDER)]
    words += ["--preset", str(config.get("preset")), "--model", str(config.get("model"))]
    for key, flag in (("weights", "--weights"), ("protocol", "--protocol")):
        value = config.get(key, _CLI_DEFAULTS[key])
        if key == "protocol" or value != _CLI_DEFAULTS[key]:
            words += [flag, str(value)]
    seed = config.get("seed", 0)
    words += ["--seeds", ",".join(map(str, seed))] if isinstance(seed, list) else ["--seed", str(seed)]
    flags, untold = preset_overrides(config, spec)
    words += flags
    if config.get("precision", "auto") != _CLI_DEFAULTS["precision"]:
        words += ["--precision", str(config["precision"])]
    if config.get("bootstrap_resamples", 1000) != _CLI_DEFAULTS["bootstrap_resamples"]:
        words += ["--bootstrap", str(config["bootstrap_resamples"])]
    line = shlex.join(words)
    if untold:
        line += f"  # also differs from the preset, not settable from the CLI: {', '.join(untold)}"
    return line


def preset_overrides(config: Mapping[str, Any], spec: BenchmarkSpec | None = None) -> tuple[list[str], list[str]]:
    """How a run's recipes and limit differ from its preset's.

    Returns:
        The CLI flags that set those differences (``["--epochs", "3"]``) and the recipe fields that differ in ways
        the CLI cannot set (``["finetune.lr"]``). Both empty for a run of the preset as it is.
    """
    spec = spec if spec is not None else _catalog_spec(str(config.get("benchmark")))
    recipes = config.get("recipes", {})
    baseline, finetune = dict(recipes.get("baseline", {})), dict(recipes.get("finetune", {}))
    words: list[str] = []
    preset = None
    if spec is not None and config.get("preset") in spec.presets:
        preset = spec.presets[config["preset"]]
    untold: list[str] = []
    if preset is None:
        words += ["--epochs", str(baseline.get("epochs")), "--finetune-epochs", str(finetune.get("epochs"))]
        words += ["--batch-size", str(baseline.get("batch_size"))]
        if config.get("limit") is not None:
            words += ["--limit", str(config["limit"])]
    else:
        base_default, fine_default, limit_default = preset.baseline.to_dict(), preset.finetune.to_dict(), preset.limit
        if baseline.get("epochs") != base_default["epochs"]:
            words += ["--epochs", str(baseline.get("epochs"))]
        if finetune.get("epochs") != fine_default["epochs"]:
            words += ["--finetune-epochs", str(finetune.get("epochs"))]
        batch = baseline.get("batch_size")
        if batch != base_default["batch_size"] or finetune.get("batch_size") != fine_default["batch_size"]:
            words += ["--batch-size", str(batch)]
            base_default["batch_size"] = fine_default["batch_size"] = batch
        if config.get("limit") != limit_default and config.get("limit") is not None:
            words += ["--limit", str(config["limit"])]
        for name, recipe, default in (("baseline", baseline, base_default), ("finetune", finetune, fine_default)):
            untold += [f"{name}.{k}" for k in default if k != "epochs" and recipe.get(k) != default[k]]
        run_options, preset_options = dict(config.get("dataset_options") or {}), dict(preset.dataset_options)
        untold += [
            f"dataset_options.{k}"
            for k in sorted(set(run_options) | set(preset_options))
            if run_options.get(k) != preset_options.get(k)
        ]
    return words, untold


def variant_of(config: Mapping[str, Any]) -> str:
    """A run's departures from its preset that change its numbers (``"--epochs 3 --limit 100"``); empty for none."""
    flags, untold = preset_overrides(config)
    if config.get("precision", "auto") != _CLI_DEFAULTS["precision"]:
        flags += ["--precision", str(config["precision"])]
    return " ".join(flags + ([f"changed: {', '.join(untold)}"] if untold else []))
