"""DeviceSplit: resident when the split fits the device budget, streamed batch by batch otherwise, same pixels."""

from __future__ import annotations

import pytest
import torch

from occlubench.data.device_split import BUDGET_ENV, DeviceSplit, device_budget_bytes
from occlubench.data.imageset import ImageSet
from occlubench.errors import ConfigError
from occlubench.train.predict import predict_conditions


def images(n: int = 50) -> torch.Tensor:
    return torch.randint(0, 256, (n, 3, 8, 8), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("budget", [None, 10**9, 0, 100])
def test_resident_and_streamed_splits_give_the_same_batches(budget: int | None) -> None:
    x = images()
    split = DeviceSplit(x, "cpu", budget_bytes=budget)
    assert split.resident == (budget is None or budget >= x.numel())
    assert len(split) == 50
    assert split.shape == x.shape
    assert split.dtype == torch.uint8
    order = torch.randperm(50, generator=torch.Generator().manual_seed(1))
    for start in range(0, 50, 16):
        idx = order[start : start + 16]
        assert torch.equal(split[idx], x[idx])
        assert torch.equal(split[start : start + 16], x[start : start + 16])


def test_the_budget_on_a_cpu_is_unlimited_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BUDGET_ENV, raising=False)
    assert device_budget_bytes("cpu") is None
    assert DeviceSplit(images(), "cpu").resident
    monkeypatch.setenv(BUDGET_ENV, "0")
    assert device_budget_bytes("cpu") == 0
    assert not DeviceSplit(images(), "cpu").resident
    monkeypatch.setenv(BUDGET_ENV, "lots")
    with pytest.raises(ConfigError, match="OCCLUBENCH_DEVICE_BUDGET must be a number of bytes"):
        device_budget_bytes("cpu")


def test_a_streamed_split_is_a_drop_in_for_the_evaluation_sweep() -> None:
    x = images(40)
    data = ImageSet(x, torch.arange(40) % 3, tuple(map(str, range(40))), ("a", "b", "c"))
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 3))

    def sweep(on_device: torch.Tensor | DeviceSplit) -> dict[str, torch.Tensor]:
        return predict_conditions(
            model, data, {"clean": None}, device=torch.device("cpu"), batch_size=16, images_on_device=on_device
        )

    streamed = sweep(DeviceSplit(x, "cpu", budget_bytes=0))
    assert torch.equal(streamed["clean"], sweep(x)["clean"])


@pytest.mark.gpu
def test_streaming_to_cuda_through_pinned_buffers() -> None:
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    x = torch.randint(0, 256, (1000, 3, 32, 32), dtype=torch.uint8)
    resident = DeviceSplit(x, "cuda")
    streamed = DeviceSplit(x, "cuda", budget_bytes=0)
    assert resident.resident
    assert not streamed.resident
    order = torch.randperm(1000, device="cuda")
    batches = [streamed[order[s : s + 128]] for s in range(0, 1000, 128)]  # several copies in flight at once
    for s, batch in zip(range(0, 1000, 128), batches, strict=True):
        assert batch.device.type == "cuda"
        assert torch.equal(batch, resident[order[s : s + 128]])
    assert torch.equal(streamed[100:300], x[100:300].cuda())
