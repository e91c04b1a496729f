"""Every built-in occluder on a batch of 512 x 1 x 48 x 48, against the study's per-image loop (target: >= 50x).

The study masked inside its Dataset, one image at a time: clone the image tensor, zero a slice. The loop below does
exactly that for 512 images (the upper half; every occluder is compared with the same loop). Ratios come from
interleaved repeats in one process; the pytest-benchmark table shows each occluder's own time.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from pytest_benchmark.fixture import BenchmarkFixture
from speed import best, interleaved_times

from occlubench.occluders import create_occluder, list_occluders

BATCH = (512, 1, 48, 48)
TARGET_SPEEDUP = 50.0


def study_masking_loop(images: torch.Tensor) -> list[torch.Tensor]:
    """The study's way: per image, a clone with the upper half's rows zeroed."""
    masked = []
    for image in images:
        image = image.clone()
        image[:, : image.shape[1] // 2, :] = 0.0
        masked.append(image)
    return masked


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    return torch.rand(BATCH, generator=torch.Generator().manual_seed(0))


def test_study_per_image_loop(benchmark: BenchmarkFixture, images: torch.Tensor) -> None:
    masked = benchmark.pedantic(study_masking_loop, args=(images,), rounds=10, warmup_rounds=1)
    assert len(masked) == BATCH[0]
    assert float(masked[0][:, :24].abs().sum()) == 0.0


def test_copy_floor_vs_per_image_loop(
    benchmark: BenchmarkFixture, speed_target: Callable[..., object], images: torch.Tensor
) -> None:
    """``images.clone()``: the least any occluder that returns a new batch must cost (one read, one write)."""
    benchmark.pedantic(images.clone, rounds=30, warmup_rounds=2)
    times = interleaved_times({"loop": lambda: study_masking_loop(images), "clone": images.clone}, repeats=12)
    speedup = best(times["loop"]) / best(times["clone"])
    benchmark.extra_info.update(loop_ms=best(times["loop"]) * 1e3, clone_ms=best(times["clone"]) * 1e3)
    speed_target(
        "bare batch copy vs per-image loop", speedup, TARGET_SPEEDUP, "x", note="ceiling for any out-of-place occluder"
    )


@pytest.mark.parametrize("name", list_occluders())
def test_occluder_vs_per_image_loop(
    benchmark: BenchmarkFixture, speed_target: Callable[..., object], images: torch.Tensor, name: str
) -> None:
    occluder = create_occluder(name)
    generator = torch.Generator().manual_seed(0)
    out = benchmark.pedantic(lambda: occluder(images, generator=generator), rounds=30, warmup_rounds=2)
    assert out.shape == images.shape

    times = interleaved_times(
        {"loop": lambda: study_masking_loop(images), "batched": lambda: occluder(images, generator=generator)},
        repeats=12,
    )
    speedup = best(times["loop"]) / best(times["batched"])
    benchmark.extra_info.update(
        loop_ms=best(times["loop"]) * 1e3, batched_ms=best(times["batched"]) * 1e3, speedup=speedup
    )
    speed_target(f"occluder {name} vs per-image loop", speedup, TARGET_SPEEDUP, "x")
