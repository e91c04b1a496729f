"""Repeated seeds: the whole plan once per seed, then every cell as mean +/- std with a t-interval of the mean.

Each seed's run is an ordinary run directory (``<out>/seed-<k>/``), so it resumes on its own; the top-level
``results.json`` keeps every seed's cells (``seed_cells``) beside the aggregated ones (``cells``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from occlubench.benchmark.regions import REGION_METRICS, regions_csv, regions_markdown
from occlubench.benchmark.results import SCHEMA_VERSION, matrix_csv, matrix_markdown
from occlubench.benchmark.rundir import OWNED, RunDir
from occlubench.benchmark.runner import BenchmarkResult, RunOptions, run_benchmark
from occlubench.benchmark.severity import severity_csv, severity_curves, severity_markdown
from occlubench.benchmark.spec import BenchmarkSpec
from occlubench.errors import ConfigError, RunDirError
from occlubench.metrics.stats import summarize_over_seeds
from occlubench.storage import atomic_write_json, atomic_write_text
from occlubench.train.progress import ProgressCallback, ignore_progress

CONDITION_FIELDS = ("occluder", "params", "severity", "grid")
"""Optional cell fields that say what a condition is (the same in every seed): carried into the mean cell."""


def aggregate_seed_cells(cells: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One cell per (trained_on, evaluated_on): scalar metrics averaged over seeds, with ``std`` and ``ci``."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for cell in cells:
        groups.setdefault((cell["trained_on"], cell["evaluated_on"]), []).append(cell)
    out = []
    for (trained_on, evaluated_on), members in groups.items():
        scalar = [k for k, v in members[0]["metrics"].items() if isinstance(v, float) and k != "n"]
        metrics: dict[str, float] = {}
        std: dict[str, float] = {}
        ci: dict[str, list[float]] = {}
        for name in scalar:
            values = [m["metrics"][name] for m in members]
            if any(v is None or v != v for v in values):  # undefined in some seed
                continue
            summary = summarize_over_seeds(values)
            metrics[name] = float(summary["mean"])
            std[name] = float(summary["std"])
            ci[name] = [float(summary["ci_low"]), float(summary["ci_high"])]
        out.append(
            {
                "model": members[0]["model"],
                "trained_on": trained_on,
                "evaluated_on": evaluated_on,
                "seed": "mean",
                "n_seeds": len(members),
                "n": members[0]["n"],
                "metrics": metrics,
                "std": std,
                "ci": ci,
                **{k: members[0][k] for k in CONDITION_FIELDS if k in members[0]},
            }
        )
    return out


def aggregate_region_maps(maps: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One map per (trained_on, k): every cell's drop averaged over seeds (``n_seeds`` says over how many)."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for entry in maps:
        groups.setdefault((entry["trained_on"], entry["k"]), []).append(entry)
    out = []
    for members in groups.values():
        first = members[0]
        mean = {k: v for k, v in first.items() if k not in (*REGION_METRICS, "clean")} | {"seed": "mean"}
        mean["n_seeds"] = len(members)
        for metric in REGION_METRICS:
            mean[metric] = {
                key: torch.tensor([m[metric][key] for m in members], dtype=torch.float64).mean(0).tolist()
                for key in first[metric]
            }
        out.append(mean)
    return out


def _check_seeds_out(out: Path) -> None:
    """Refuse, before any work, a top-level --out that holds something other than this kind of run."""
    if not out.is_dir():
        RunDir(out).check_usable()
        return
    foreign = [
        p.name
        for p in out.iterdir()
        if not p.name.startswith(".") and p.name not in OWNED and not p.name.startswith("seed-")
    ]
    if foreign:
        raise RunDirError(
            f"--out {out} is a non-empty directory that holds no occlubench run (e.g. {foreign[0]!r})",
            "pick a new or empty directory",
        )


def run_seeds(
    benchmark: str | BenchmarkSpec,
    data: str | Path | None,
    out: str | Path,
    seeds: Sequence[int],
    *,
    options: RunOptions | None = None,
    overwrite: bool = False,
    progress: ProgressCallback = ignore_progress,
) -> BenchmarkResult:
    """Run the plan once per seed into ``<out>/seed-<k>`` and aggregate the matrix over seeds."""
    if not seeds or len(set(seeds)) != len(seeds):
        raise ConfigError(f"--seeds needs distinct seeds, got {list(seeds)}")
    options = options or RunOptions()
    out = Path(out)
    _check_seeds_out(out)
    runs = []
    for seed in seeds:
        per_seed = RunOptions(**{**options.__dict__, "seed": seed})
        runs.append(
            run_benchmark(
                benchmark, data, out / f"seed-{seed}", options=per_seed, overwrite=overwrite, progress=progress
            )
        )
    seed_cells = [cell for run in runs for cell in run.cells]
    cells = aggregate_seed_cells(seed_cells)
    curves = severity_curves(cells)
    maps = aggregate_region_maps([m for run in runs for m in run.results.get("region_maps", [])])
    first = runs[0].results
    config = {**first["config"], "seed": list(seeds)}
    results = {
        "schema_version": SCHEMA_VERSION,
        "benchmark": first["benchmark"],
        "complete": all(r.results.get("complete") for r in runs),
        "config": config,
        "seeds": list(seeds),
        "runs": [f"seed-{s}" for s in seeds],
        "classes": first["classes"],
        "data": first.get("data", {}),
        "environment": first["environment"],
        "cells": cells,
        "seed_cells": seed_cells,
        "comparisons_per_seed": {
            f"seed-{s}": r.results.get("comparisons", []) for s, r in zip(seeds, runs, strict=True)
        },
        "severity_curves": curves,
        "region_maps": maps,
    }
    atomic_write_json(out / "results.json", results)
    atomic_write_text(out / "matrix.csv", matrix_csv(cells + seed_cells))
    if curves:
        atomic_write_text(out / "severity.csv", severity_csv(cells, curves))
    if maps:
        atomic_write_text(out / "regions.csv", regions_csv(maps))
    note = (
        f"{first['benchmark']}, model `{config['model']}`, preset `{config['preset']}`, protocol "
        f"`{config['protocol']}`, seeds {', '.join(map(str, seeds))}. Values: mean ± std over seeds [95% t-interval "
        f"of the mean]. Each seed's own matrix (with bootstrap CIs over images) is in seed-<k>/matrix.md."
    )
    plain = [c for c in cells if "severity" not in c and "grid" not in c]
    text = matrix_markdown(plain, title=f"{first['benchmark']}: occlusion x model", note=note)
    atomic_write_text(out / "matrix.md", text + severity_markdown(curves) + regions_markdown(maps))
    return BenchmarkResult(out, results)
