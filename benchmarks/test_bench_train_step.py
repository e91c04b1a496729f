"""The training step's pipeline overhead: occlubench's full step against a bare step of the same network.

Full step (``occlubench.train.fit.train_step``, what ``fit`` runs): index the batch from the uint8 split, random
crop and flip, convert to [0, 1], occlude (the study's ``upper`` half), normalize inside the model, forward,
backward, SGD update. Bare step: the same network, forward, backward and update on a pre-made normalized
channels_last tensor. Overhead = full / bare - 1, from interleaved pairs (target: <= 5%). The pipeline alone
(everything the full step does before the network) is timed too, as a cross-check that is immune to the noise of
whole steps. ResNet50 (the study's network, batch 128) is marked slow: tens of seconds per step on 2 cores.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from statistics import median

import pytest
import torch
from pytest_benchmark.fixture import BenchmarkFixture
from speed import best, interleaved_times

import occlubench as ob
from occlubench.benchmark.catalog import STUDY_BASELINE
from occlubench.train.augment import random_crop_flip
from occlubench.train.fit import train_step

OVERHEAD_TARGET = 0.05
SPLIT_SIZE = 2048
MODELS = [pytest.param("fer_cnn", 6, id="fer_cnn"), pytest.param("resnet50", 2, id="resnet50", marks=pytest.mark.slow)]


@pytest.mark.parametrize(("model_name", "repeats"), MODELS)
def test_train_step_pipeline_overhead(
    benchmark: BenchmarkFixture, speed_target: Callable[..., object], model_name: str, repeats: int
) -> None:
    recipe = STUDY_BASELINE  # batch 128, RandomCrop(48, padding=4), horizontal flip
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (SPLIT_SIZE, 1, 48, 48), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, 7, (SPLIT_SIZE,), generator=g)
    occluder = ob.create_occluder("upper")

    torch.manual_seed(0)
    spec = ob.create_model(model_name, 7).train().to(memory_format=torch.channels_last)
    bare_net = copy.deepcopy(spec.net)
    sgd = {"lr": recipe.lr, "momentum": recipe.momentum, "weight_decay": recipe.weight_decay}
    full_optimizer = torch.optim.SGD(spec.parameters(), **sgd)
    bare_optimizer = torch.optim.SGD(bare_net.parameters(), **sgd)
    premade = spec.preprocess(images[: recipe.batch_size].float() / 255).contiguous(memory_format=torch.channels_last)
    bare_target = labels[: recipe.batch_size]

    def full_step() -> None:
        idx = torch.randint(0, SPLIT_SIZE, (recipe.batch_size,), generator=g)
        train_step(spec, full_optimizer, images[idx], recipe, g, target=labels[idx], occlusion=occluder)

    def bare_step() -> None:
        loss = torch.nn.functional.cross_entropy(bare_net(premade), bare_target)
        bare_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        bare_optimizer.step()

    def pipeline_only() -> None:
        idx = torch.randint(0, SPLIT_SIZE, (recipe.batch_size,), generator=g)
        pixels = random_crop_flip(images[idx], recipe.crop_padding, recipe.hflip, g).float().div_(255.0)
        spec.preprocess(occluder(pixels, generator=g).contiguous(memory_format=torch.channels_last))

    times: dict[str, list[float]] = {"full": [], "bare": []}

    def one_pair() -> None:  # what pytest-benchmark times: one full and one bare step, in alternating order
        pair = interleaved_times({"full": full_step, "bare": bare_step}, repeats=1, warmup=0)
        order = ("full", "bare") if len(times["full"]) % 2 == 0 else ("bare", "full")
        for name in order:
            times[name] += pair[name]

    benchmark.pedantic(one_pair, rounds=repeats, warmup_rounds=1)
    times = {"full": times["full"][-repeats:], "bare": times["bare"][-repeats:]}
    pipeline = best(interleaved_times({"pipeline": pipeline_only}, repeats=20)["pipeline"])
    overhead = best(times["full"]) / best(times["bare"]) - 1.0
    paired = median(f / b for f, b in zip(times["full"], times["bare"], strict=True)) - 1.0
    benchmark.extra_info.update(
        full_s=best(times["full"]), bare_s=best(times["bare"]), pipeline_s=pipeline, overhead=overhead, paired=paired
    )
    speed_target(
        f"train step overhead, {model_name} batch {recipe.batch_size} (full/bare - 1, best of {repeats})",
        100 * overhead,
        100 * OVERHEAD_TARGET,
        "%",
        higher_is_better=False,
        note=f"median of paired ratios {100 * paired:+.2f}%; bare step {best(times['bare']):.3g} s",
    )
    speed_target(
        f"input pipeline alone / bare step, {model_name}",
        100 * pipeline / best(times["bare"]),
        100 * OVERHEAD_TARGET,
        "%",
        higher_is_better=False,
        note=f"pipeline {1e3 * pipeline:.3g} ms",
    )
