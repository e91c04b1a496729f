"""Reading the real FER2013 zip: the first read (hash, decode 35,887 JPEGs, write the cache) and a cached load.

Target: a cached load under 0.5 s (the median of its repeats). Both need ``../shared/data/fer2013.zip``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from statistics import median

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from occlubench.data import load_fer2013

CACHED_LOAD_TARGET_S = 0.5
FER2013_SIZES = {"train": 28709, "val": 3589, "test": 3589}


@pytest.mark.realdata
def test_first_read_into_an_empty_cache(
    benchmark: BenchmarkFixture, speed_target: Callable[..., object], fer2013_zip: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"

    def empty_cache() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    splits = benchmark.pedantic(
        lambda: load_fer2013(fer2013_zip, cache_dir=cache), setup=empty_cache, rounds=1, iterations=1
    )
    assert {name: len(split) for name, split in splits.items()} == FER2013_SIZES
    seconds = benchmark.stats.stats.min
    speed_target("first read of fer2013.zip into the cache", seconds, None, " s", note="35,887 JPEGs decoded")
    speed_target("first read throughput", sum(FER2013_SIZES.values()) / seconds, None, " images/s")


@pytest.mark.realdata
def test_cached_load(
    benchmark: BenchmarkFixture, speed_target: Callable[..., object], fer2013_zip: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    load_fer2013(fer2013_zip, cache_dir=cache)  # the first read fills the cache
    splits = benchmark.pedantic(lambda: load_fer2013(fer2013_zip, cache_dir=cache), rounds=7, warmup_rounds=1)
    assert {name: len(split) for name, split in splits.items()} == FER2013_SIZES
    seconds = median(benchmark.stats.stats.data)
    speed_target("cached load of fer2013.zip (median)", seconds, CACHED_LOAD_TARGET_S, " s", higher_is_better=False)
