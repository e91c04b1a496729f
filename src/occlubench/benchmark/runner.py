"""The Benchmark runner: plan -> trained models -> evaluation cells -> run directory.

``run_benchmark`` resolves a spec and its options into one configuration, trains the plan's models in dependency
order (the baseline, then each fine-tune from it), evaluates every model on every condition in one sweep per model,
and writes the run directory after each model so that a killed run keeps what it finished. Re-running the same
configuration into the same directory resumes: finished models and predictions are reused (checked by hash), an
interrupted training continues from its last epoch.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

import occlubench
from occlubench.benchmark.analysis import paired_comparisons, robustness_summary
from occlubench.benchmark.catalog import get_benchmark
from occlubench.benchmark.conditions import EvaluationCondition, plain_condition
from occlubench.benchmark.regions import region_maps, regions_csv, regions_markdown
from occlubench.benchmark.results import SCHEMA_VERSION, comparisons_markdown, matrix, matrix_csv, matrix_markdown
from occlubench.benchmark.rundir import RunDir, config_hash
from occlubench.benchmark.severity import severity_csv, severity_curves, severity_markdown
from occlubench.benchmark.spec import CLEAN, BenchmarkSpec, Preset, TrainingCondition
from occlubench.data.detect import choose_dataset
from occlubench.data.imageset import ImageSet
from occlubench.data.registry import LoadedDataset, load_dataset
from occlubench.distributed import (
    SINGLE,
    Distributed,
    barrier,
    broadcast_flag,
    from_environment,
    gather_shards,
    init_process_group,
    rank_device,
    shard,
    shutdown,
)
from occlubench.errors import ConfigError, RunDirError
from occlubench.metrics.classification import compute_metrics
from occlubench.metrics.stats import bootstrap_ci
from occlubench.models import create_model
from occlubench.storage import (
    atomic_write_json,
    atomic_write_text,
    load_tensors,
    read_json,
    read_tensor_metadata,
    save_tensors,
)
from occlubench.train.device import autocast_dtype, default_compile_mode, resolve_device
from occlubench.train.fit import fit, rank_batch_size
from occlubench.train.predict import predict_conditions
from occlubench.train.progress import ProgressCallback, ProgressEvent, ignore_progress
from occlubench.train.recipe import Recipe

MAX_SEED = 2**32 - 1
"""Largest ``--seed``: derived seeds (seed x 10007 + epoch, seed + split) must fit torch's 64-bit generators."""

EXECUTORS = {
    "local": "train and evaluate the plan's nodes one after another in this process",
    "ray": "submit the plan's nodes as Ray tasks (fine-tunes and evaluations in parallel)",
}

PROTOCOLS = {
    "official": "select the epoch on PublicTest (val), report on PrivateTest (test)",
    "study": "select and report on PublicTest + PrivateTest together, as the reference study did",
}


@dataclass(frozen=True)
class RunOptions:
    """Everything a user can change about a benchmark run (None = the preset's or spec's default)."""

    preset: str | None = None
    model: str | None = None
    weights: str | None = None
    epochs: int | None = None
    finetune_epochs: int | None = None
    batch_size: int | None = None
    device: str = "auto"
    seed: int = 0
    limit: int | None = None
    protocol: str = "official"
    precision: str = "auto"
    compile: bool = False
    bootstrap: int = 1000
    dataset: str | None = None  # the reader (None: the spec's, or detected from --data)
    dataset_options: Mapping[str, Any] | None = None  # over the preset's, e.g. {"size": 64} for imagefolder
    executor: str = "local"  # local | ray: where the plan's nodes run (not part of the config: same numbers)
    ray_address: str | None = None  # --address of a Ray cluster; None: RAY_ADDRESS, else a local one


@dataclass
class BenchmarkResult:
    """A finished (or resumed) run: its directory and the content of its ``results.json``."""

    run_dir: Path
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def cells(self) -> list[dict[str, Any]]:
        return list(self.results.get("cells", []))

    def matrix(self, metric: str = "accuracy") -> dict[str, dict[str, float | None]]:
        """``{trained_on: {evaluated_on: value}}`` of one metric."""
        return matrix(self.cells, metric)


def _validate(options: RunOptions) -> None:
    if options.protocol not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {options.protocol!r}", f"use one of: {', '.join(PROTOCOLS)}")
    for name in ("epochs", "finetune_epochs", "batch_size", "limit"):
        value = getattr(options, name)
        if value is not None and value < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    if options.batch_size == 1:
        raise ConfigError("--batch-size must be at least 2, got 1", "BatchNorm cannot train on one image per step")
    if not 0 <= options.seed <= MAX_SEED:
        raise ConfigError(f"--seed must be an integer in 0..{MAX_SEED}, got {options.seed}")
    if options.executor not in EXECUTORS:
        raise ConfigError(f"unknown executor {options.executor!r}", f"use one of: {', '.join(EXECUTORS)}")
    if options.bootstrap < 0:
        raise ConfigError(f"--bootstrap must be 0 (off) or a number of resamples, got {options.bootstrap}")


def resolve_config(
    spec: BenchmarkSpec, options: RunOptions, data_info: Mapping[str, Any], dist: Distributed = SINGLE
) -> dict[str, Any]:
    """The full configuration of a run: what determines its numbers (and so its hash), nothing else."""
    preset = spec.preset(options.preset)
    baseline = preset.baseline.with_overrides(epochs=options.epochs, batch_size=options.batch_size)
    finetune = preset.finetune.with_overrides(epochs=options.finetune_epochs, batch_size=options.batch_size)
    conditions = spec.conditions()
    config = {
        "benchmark": spec.name,
        "dataset": options.dataset or spec.dataset,
        "data": {k: data_info[k] for k in ("format", "sha256", "split_note") if k in data_info},
        "model": options.model or spec.model,
        "weights": options.weights or "none",
        "preset": preset.name,
        "protocol": options.protocol,
        "seed": options.seed,
        "limit": options.limit if options.limit is not None else preset.limit,
        "dataset_options": run_dataset_options(spec, preset, options),
        "recipes": {"baseline": baseline.to_dict(), "finetune": finetune.to_dict()},
        "trainings": [
            {"name": t.name, "occlusion": t.occlusion, "init_from": t.init_from, "recipe": t.recipe, "mix": t.mix}
            for t in spec.trainings
        ],
        "evaluations": [c.label for c in conditions],
        "precision": options.precision,
        "bootstrap_resamples": options.bootstrap,
    }
    if dist.enabled:  # shards and per-rank BatchNorm statistics: another run than a single process's
        config["world_size"] = dist.world_size
    specs = [c.to_dict() for c in conditions if not c.is_plain]
    if specs:  # what each non-plain label means: part of the config, so a changed occluder is a changed run
        config["condition_specs"] = specs
    return config


def run_dataset_options(spec: BenchmarkSpec, preset: Preset, options: RunOptions) -> dict[str, Any]:
    """The preset's dataset options when the run reads the spec's own dataset, then the user's on top."""
    base = preset.dataset_options if (options.dataset or spec.dataset) == spec.dataset else {}
    return {**base, **(options.dataset_options or {})}


def environment(device: torch.device, amp: torch.dtype | None, dist: Distributed = SINGLE) -> dict[str, Any]:
    """Versions and hardware, recorded beside the results."""
    import kornia
    import torchvision

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else (platform.processor() or platform.machine())
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "kornia": kornia.__version__,
        "occlubench": occlubench.__version__,
        "platform": platform.platform(),
        "device": str(device),
        "device_name": name,
        "threads": torch.get_num_threads(),
        "world_size": dist.world_size,
        "autocast": str(amp).removeprefix("torch.") if amp is not None else "fp32",
    }


def protocol_splits(loaded: LoadedDataset, protocol: str, limit: int | None, seed: int) -> dict[str, ImageSet]:
    """``train``, ``select`` and ``report`` splits for a protocol, each limited to ``limit`` images per split."""
    splits = dict(loaded.splits)
    if limit is not None:
        splits = {
            name: split.stratified_limit(limit, torch.Generator().manual_seed(seed + i))
            for i, (name, split) in enumerate(sorted(splits.items()))
        }
    if protocol == "study":
        both = splits["val"].concat(splits["test"])
        return {"train": splits["train"], "select": both, "report": both}
    return {"train": splits["train"], "select": splits["val"], "report": splits["test"]}


class _Runner:
    """One run's state: the resolved config, its run directory, the data on the device, the trained models."""

    def __init__(
        self,
        spec: BenchmarkSpec,
        options: RunOptions,
        loaded: LoadedDataset,
        out: Path,
        progress: ProgressCallback,
        dist: Distributed = SINGLE,
    ) -> None:
        self.spec = spec
        self.options = options
        self.dist = dist
        self.preset: Preset = spec.preset(options.preset)
        self.config = resolve_config(spec, options, loaded.info, dist)
        self.hash = config_hash(self.config)
        self.run = RunDir(out)
        self.progress = progress if dist.is_main else ignore_progress
        self.device = resolve_device(rank_device(options.device, dist))
        self.amp = autocast_dtype(self.device, options.precision)
        self.classes = loaded.classes
        self.splits = protocol_splits(loaded, options.protocol, self.config["limit"], options.seed)
        self.data_info = dict(loaded.info)
        self.recipes = {k: Recipe(**v) for k, v in self.config["recipes"].items()}
        self.conditions: tuple[EvaluationCondition, ...] = spec.conditions()
        self.by_label = {c.label: c for c in self.conditions}
        self.job_hashes: dict[str, str] = {}
        self.cells: list[dict[str, Any]] = []
        self.timings: dict[str, float] = {}
        self.comparisons: list[dict[str, Any]] = []
        self.summary: dict[str, Any] = {}
        self.region_maps: list[dict[str, Any]] = []
        self.executor_info: dict[str, Any] = {"name": "local"}  # the Ray executor records its nodes here

    # ----------------------------------------------------------------------------------------------- training
    def _job_hash(self, condition: TrainingCondition) -> str:
        parent = self.job_hashes[self.spec.training(condition.init_from).job] if condition.init_from else ""
        keys = ("benchmark", "dataset", "data", "model", "weights", "protocol", "seed", "limit", "dataset_options")
        payload = {k: self.config[k] for k in keys}
        if "world_size" in self.config:
            payload["world_size"] = self.config["world_size"]
        payload.update(
            condition={"occlusion": condition.occlusion, "mix": condition.mix},
            recipe=self.config["recipes"][condition.recipe],
            parent=parent,
            precision=self.options.precision,
        )
        return config_hash(payload)

    def _occlusion(self, label: str) -> Any:
        """The occluder of an evaluation label, or of a plain occluder name (training occlusions, mix members)."""
        condition = self.by_label.get(label) or plain_condition(label)
        return condition.build()

    def _build_model(self) -> torch.nn.Module:
        in_channels = self.splits["train"].image_shape[0]
        # Initial weights from the run's seed, not from whatever the global RNG holds: a resumed or repeated run
        # (or one in a process that drew random numbers before) starts from the same weights.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.options.seed)
            return create_model(self.config["model"], len(self.classes), self.options.weights, in_channels=in_channels)

    def check_inputs(self) -> None:
        """Build the model (name, weights file) and every occluder once, so bad names fail before ``--out`` is used."""
        self._build_model()
        trained_on = {name for t in self.spec.trainings for name in ([n for n, _ in t.mix] or [t.occlusion])}
        for name in sorted(trained_on - {"mix"}):
            self._occlusion(name)
        for condition in self.conditions:
            condition.build()
        for condition in self.spec.trainings:
            if condition.mix or condition.occlusion == "mix":
                self._training_occlusion(condition)
        for recipe in self.recipes.values():  # under torchrun: the global batch must split evenly over the ranks
            rank_batch_size(recipe.batch_size, self.dist)

    def hash_jobs(self) -> None:
        """Every training's job hash (each includes its parent's), without training anything."""
        for condition in self.spec.trainings:
            self.job_hashes[condition.job] = self._job_hash(condition)

    def claim(self, overwrite: bool) -> None:
        """Rank 0 claims the run directory; the other ranks check that they see the same one."""
        if self.dist.is_main:
            self.run.claim(self.config, overwrite=overwrite)
        barrier(self.dist)
        if not self.dist.is_main:
            try:
                seen = read_json(self.run.config).get("hash")
            except (OSError, ValueError, AttributeError):
                seen = None
            if seen != self.hash:
                raise RunDirError(
                    f"rank {self.dist.rank} does not see rank 0's run directory {self.run.root}",
                    "with several machines, --out must be on a filesystem every machine mounts at the same path",
                )

    def is_trained(self, condition: TrainingCondition) -> bool:
        """Whether the run directory holds this training's finished checkpoint (same job hash)."""
        job_hash = self.job_hashes.get(condition.job) or self._job_hash(condition)
        return (read_tensor_metadata(self.run.checkpoint(condition.job)) or {}).get("job_hash") == job_hash

    def train(self, condition: TrainingCondition) -> torch.nn.Module:
        job = condition.job
        job_hash = self._job_hash(condition)
        self.job_hashes[job] = job_hash
        model = self._build_model()
        checkpoint = self.run.checkpoint(job)
        if broadcast_flag(self.is_trained(condition), self.dist):  # every rank follows rank 0's reading
            model.load_state_dict(load_tensors(checkpoint))
            if self.dist.is_main:
                self.run.train_state(job).unlink(missing_ok=True)  # killed after the checkpoint, before cleanup
            self.progress(ProgressEvent("job_reused", job, message=f"{job}: reused {checkpoint.name}"))
            return model.to(self.device)
        if condition.init_from is not None:
            parent = self.spec.training(condition.init_from).job
            model.load_state_dict(load_tensors(self.run.checkpoint(parent)))
        started = time.perf_counter()
        recipe = self.recipes[condition.recipe]
        occlusion = self._training_occlusion(condition)
        result = fit(
            model,
            self.splits["train"],
            self.splits["select"],
            recipe,
            device=self.device,
            seed=self.options.seed,
            train_occlusion=occlusion,
            val_occlusion=occlusion,  # select the epoch on what it trains for (a mix: the same mix of val images)
            amp_dtype=self.amp,
            state_path=self.run.train_state(job),
            config_hash=job_hash,
            progress=self.progress,
            job=job,
            compile_mode=default_compile_mode(self.device) if self.options.compile else None,
            dist=self.dist,
        )
        self.timings[job] = time.perf_counter() - started
        history = {
            "job": job,
            "trained_on": condition.name,
            "best_epoch": result.best_epoch,
            "best_val_accuracy": result.best_val_accuracy,
            "resumed_from_epoch": result.resumed_from_epoch,
            "recipe": recipe.to_dict(),
            "epochs": result.history,
        }
        if self.dist.is_main:
            atomic_write_json(self.run.history(job), history)
            save_tensors(checkpoint, model.state_dict(), metadata={"job_hash": job_hash, "job": job})
            self.run.train_state(job).unlink(missing_ok=True)
        barrier(self.dist)  # the fine-tunes' ranks read this checkpoint next
        return model

    def _training_occlusion(self, condition: TrainingCondition) -> Any:
        if condition.mix or condition.occlusion == "mix":
            from occlubench.train.mix import OcclusionMix

            if not condition.mix:
                raise ConfigError(f"training {condition.name!r} has occlusion 'mix' but no mix", "set its mix")
            return OcclusionMix({name: self._occlusion(name) for name, _ in condition.mix}, dict(condition.mix))
        return self._occlusion(condition.occlusion)

    # --------------------------------------------------------------------------------------------- evaluation
    def _prediction_stamp(self, job: str) -> dict[str, str]:
        # Predictions are reused only for the same model and the same occluders behind the same labels.
        return {"job_hash": self.job_hashes[job], "conditions": config_hash([c.to_dict() for c in self.conditions])}

    def stored_predictions(self, condition: TrainingCondition) -> dict[str, torch.Tensor] | None:
        """This model's stored probabilities per evaluation label, if the run directory holds all of them."""
        path = self.run.predictions(condition.job)
        metadata = read_tensor_metadata(path) or {}
        if not all(metadata.get(k) == v for k, v in self._prediction_stamp(condition.job).items()):
            return None
        tensors = load_tensors(path)
        labels = [c.label for c in self.conditions]
        probs = {c: tensors[f"probs.{c}"] for c in labels if f"probs.{c}" in tensors}
        return probs if len(probs) == len(labels) else None

    def predict(self, condition: TrainingCondition, model: torch.nn.Module) -> dict[str, torch.Tensor]:
        """Every condition's probabilities on the report split: stored ones if valid, else one sweep, then stored."""
        job = condition.job
        report = self.splits["report"]
        stored = self.stored_predictions(condition)
        if broadcast_flag(stored is not None, self.dist) and stored is not None:
            return stored
        started = time.perf_counter()
        self.progress(ProgressEvent("eval_start", job, message=f"evaluating {job}"))
        conditions = {c.label: c.build() for c in self.conditions}
        probs = predict_conditions(
            model,
            shard(report, self.dist),  # each rank sweeps its shard; the gather restores the split's order
            conditions,
            device=self.device,
            amp_dtype=self.amp,
            seed=self.options.seed,
            progress=self.progress,
            job=f"evaluate {job}",
        )
        probs = {label: gather_shards(p, len(report), self.dist) for label, p in probs.items()}
        if self.dist.is_main:
            tensors = {f"probs.{c}": p for c, p in probs.items()}
            tensors["labels"] = report.labels
            metadata = {**self._prediction_stamp(job), "ids": "\n".join(report.ids)}
            save_tensors(self.run.predictions(job), tensors, metadata=metadata)
        barrier(self.dist)
        self.timings[f"evaluate {job}"] = time.perf_counter() - started
        return probs

    def evaluate(self, condition: TrainingCondition, model: torch.nn.Module) -> None:
        """Predict (or reuse the predictions), then add this model's cells with metrics and CIs (rank 0 only)."""
        probs = self.predict(condition, model)
        if self.dist.is_main:
            self.add_cells(condition, probs)
        self.progress(ProgressEvent("eval_end", condition.job))

    def add_cells(self, condition: TrainingCondition, probs: Mapping[str, torch.Tensor]) -> None:
        """One cell per evaluation condition: metrics, bootstrap CIs and the condition's fields; region maps."""
        job = condition.job
        report = self.splits["report"]
        for evaluated_on, p in probs.items():
            metrics = compute_metrics(report.labels, p, self.classes)
            cell: dict[str, Any] = {
                "model": job,
                "trained_on": condition.name,
                "evaluated_on": evaluated_on,
                "seed": self.options.seed,
                "n": len(report),
                "metrics": metrics,
                **self.by_label[evaluated_on].cell_fields(),
            }
            if self.options.bootstrap:
                cell["ci"] = {
                    k: list(v)
                    for k, v in bootstrap_ci(
                        report.labels, p, self.classes, n_resamples=self.options.bootstrap, seed=self.options.seed
                    ).items()
                }
            self.cells.append(cell)
        if any(c.grid is not None for c in self.conditions) and CLEAN in probs:
            # From the predictions, before they go: the maps need every image's clean and per-cell probabilities.
            key = {"model": job, "trained_on": condition.name, "seed": self.options.seed}
            for entry in region_maps(report.labels, probs[CLEAN], probs, self.conditions, self.classes):
                self.region_maps.append(key | entry)

    # ----------------------------------------------------------------------------------------------- analysis
    def analyse(self) -> None:
        """Paired tests of every fine-tune against the baseline, and robustness summaries (needs all models)."""
        baseline = next((t for t in self.spec.trainings if t.init_from is None), None)
        if baseline is None or len(self.spec.trainings) < 2:
            return
        probs: dict[str, dict[str, torch.Tensor]] = {}
        labels = self.splits["report"].labels
        # Grid cells make region maps, not claims: dozens of near-duplicate tests would only dilute the correction.
        compared = [c.label for c in self.conditions if c.grid is None]
        for condition in self.spec.trainings:
            tensors = load_tensors(self.run.predictions(condition.job))
            probs[condition.name] = {c: tensors[f"probs.{c}"] for c in compared}
        if self.options.bootstrap:
            self.comparisons = paired_comparisons(
                labels, probs, baseline.name, self.classes, n_resamples=self.options.bootstrap, seed=self.options.seed
            )
        self.summary = robustness_summary([c for c in self.cells if "grid" not in c], CLEAN, baseline.name)

    # ------------------------------------------------------------------------------------------------ writing
    def results(self, started_at: str, complete: bool) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "benchmark": self.spec.name,
            "complete": complete,
            "created": started_at,
            "config": self.config,
            "config_hash": self.hash,
            "protocol_note": PROTOCOLS[self.options.protocol],
            "preset_note": self.preset.description,
            "classes": list(self.classes),
            "data": self.data_info,
            "split_sizes": {k: len(v) for k, v in self.splits.items()},
            "environment": environment(self.device, self.amp, self.dist) | {"seed": self.options.seed},
            "timings_seconds": self.timings,
            "executor": self.executor_info,
            "cells": self.cells,
            "comparisons": self.comparisons,
            "robustness": self.summary,
            "severity_curves": severity_curves(self.cells),
            "region_maps": self.region_maps,
        } | ({"spec_source": self.spec.source} if self.spec.source else {})

    def write(self, started_at: str, complete: bool) -> dict[str, Any]:
        results = self.results(started_at, complete)
        atomic_write_json(self.run.results, results)
        atomic_write_text(self.run.root / "matrix.csv", matrix_csv(self.cells))
        if results["severity_curves"]:
            atomic_write_text(self.run.root / "severity.csv", severity_csv(self.cells, results["severity_curves"]))
        if self.region_maps:
            atomic_write_text(self.run.root / "regions.csv", regions_csv(self.region_maps))
        note = (
            f"{self.spec.name}, model `{self.config['model']}` (weights: {self.config['weights']}), preset "
            f"`{self.config['preset']}`, protocol `{self.options.protocol}` ({PROTOCOLS[self.options.protocol]}), "
            f"seed {self.options.seed}, {len(self.splits['report'])} report images."
        )
        if self.options.bootstrap:
            note += f" Brackets: 95% percentile-bootstrap CI over report images ({self.options.bootstrap} resamples)."
        if not complete:
            note += " **Incomplete run**: the missing rows are still to be computed."
        # Curve points and grid cells get their own sections: as matrix columns they would be dozens wide.
        plain = [c for c in self.cells if "severity" not in c and "grid" not in c]
        text = matrix_markdown(plain, title=f"{self.spec.name}: occlusion x model", note=note)
        text += severity_markdown(results["severity_curves"]) + regions_markdown(self.region_maps)
        atomic_write_text(self.run.root / "matrix.md", text + comparisons_markdown(self.comparisons))
        return results


def run_benchmark(
    benchmark: str | BenchmarkSpec,
    data: str | Path | None = None,
    out: str | Path | None = None,
    *,
    options: RunOptions | None = None,
    overwrite: bool = False,
    progress: ProgressCallback = ignore_progress,
    **option_overrides: Any,
) -> BenchmarkResult:
    """Run a benchmark end to end and return its results.

    Args:
        benchmark: a catalog name (``list_benchmarks()``) or a ``BenchmarkSpec``.
        data: the dataset source (``--data``); None for benchmarks that generate their data.
        out: the run directory; default ``runs/<benchmark>-<UTC timestamp>``.
        options: a ``RunOptions``; keyword arguments (``preset="quick"``, ``seed=1``...) override its fields.
        overwrite: replace a run of another configuration found in ``out``.
        progress: called with a ``ProgressEvent`` as the run goes.

    Examples:
        >>> result = run_benchmark("demo", preset="smoke")  # doctest: +SKIP
        >>> result.matrix("accuracy")["full"]["lower"]  # doctest: +SKIP
    """
    spec = get_benchmark(benchmark) if isinstance(benchmark, str) else benchmark
    options = options or RunOptions()
    if option_overrides:
        unknown = set(option_overrides) - set(RunOptions.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"unknown run option(s): {', '.join(sorted(unknown))}")
        options = RunOptions(**{**options.__dict__, **option_overrides})
    _validate(options)
    preset = spec.preset(options.preset)
    dist = from_environment()
    if dist.enabled and options.executor != "local":
        raise ConfigError("--executor ray cannot run under torchrun", "launch one of the two: torchrun or Ray")
    device = resolve_device(rank_device(options.device if options.executor == "local" else "cpu", dist))
    if spec.needs_data and data is None:
        raise ConfigError(f"benchmark {spec.name!r} needs --data PATH", "e.g. --data ~/Downloads/fer2013.zip")
    # The reader: --dataset, else detected from --data's content (FER2013 or an image folder), else the spec's.
    dataset = choose_dataset(spec.dataset, data, options.dataset)
    options = RunOptions(**{**options.__dict__, "dataset": dataset})
    started = time.perf_counter()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out_path = Path(out) if out is not None else Path("runs") / f"{spec.name}-{stamp}"
    if dist.enabled and out is None:
        raise ConfigError("a torchrun job needs --out", "every rank must write into the same run directory")
    RunDir(out_path).check_usable()  # an unusable --out fails before the data are read
    loaded = load_dataset(dataset, data, seed=options.seed, options=run_dataset_options(spec, preset, options))
    # With Ray the nodes run on the workers' devices; the driver only assembles files, on its CPU.
    driver_options = RunOptions(**{**options.__dict__, "device": "cpu"}) if options.executor == "ray" else options
    runner = _Runner(spec, driver_options, loaded, out_path, progress, dist)
    runner.check_inputs()  # every user input is checked before the first byte goes to --out
    init_process_group(dist, device)
    try:
        runner.claim(overwrite)
        try:
            if options.executor == "ray":
                from occlubench.benchmark.ray_executor import run_nodes_on_ray

                # Fills the run directory; the loop below then finds every file and only assembles the results.
                run_nodes_on_ray(runner, data, progress, options.device)
            results: dict[str, Any] = {}
            for condition in spec.trainings:
                model = runner.train(condition)
                runner.evaluate(condition, model)
                del model  # the checkpoint holds it; keep device memory for the next job
                if dist.is_main:
                    results = runner.write(stamp, complete=False)
            if dist.is_main:
                runner.analyse()
                runner.timings["total"] = time.perf_counter() - started
                results = runner.write(stamp, complete=True)
            barrier(dist)
        finally:
            runner.run.release()
    finally:
        shutdown(dist)
    if not dist.is_main:  # the other ranks return what rank 0 wrote
        results = read_json(runner.run.results)
    return BenchmarkResult(out_path, results)
