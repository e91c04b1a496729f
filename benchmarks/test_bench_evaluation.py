"""The evaluation sweep: images per second of ``predict_conditions`` over all five conditions for one model.

The fer2013-halves sweep: full face and the four halves, every image converted once and each condition one batched
occluder call. Images per second counts image-conditions (N images x 5 conditions per sweep).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from pytest_benchmark.fixture import BenchmarkFixture

import occlubench as ob
from occlubench.data.imageset import FER2013_CLASSES, ImageSet
from occlubench.train.predict import predict_conditions

CONDITIONS = ("full", "upper", "lower", "left", "right")
MODELS = [
    pytest.param("fer_cnn", 256, id="fer_cnn"),
    pytest.param("resnet50", 128, id="resnet50", marks=pytest.mark.slow),
]


@pytest.mark.parametrize(("model_name", "n_images"), MODELS)
def test_evaluation_sweep(
    benchmark: BenchmarkFixture, speed_target: Callable[..., object], model_name: str, n_images: int
) -> None:
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n_images, 1, 48, 48), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, 7, (n_images,), generator=g)
    data = ImageSet(images, labels, tuple(map(str, range(n_images))), FER2013_CLASSES)
    torch.manual_seed(0)
    model = ob.create_model(model_name, 7).to(memory_format=torch.channels_last)
    conditions = {c: None if c == "full" else ob.create_occluder(c) for c in CONDITIONS}

    probs = benchmark.pedantic(
        lambda: predict_conditions(model, data, conditions, device=torch.device("cpu")), rounds=3, warmup_rounds=1
    )
    assert set(probs) == set(CONDITIONS)
    assert probs["full"].shape == (n_images, 7)
    rate = n_images * len(CONDITIONS) / benchmark.stats.stats.min
    benchmark.extra_info["images_per_second"] = rate
    speed_target(f"evaluation sweep, {model_name}, 5 conditions", rate, None, " image-conditions/s")
