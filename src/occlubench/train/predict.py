"""Evaluation sweep: every condition of one model in a single pass over a split on the device."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping

import torch

from occlubench.data.device_split import DeviceSplit
from occlubench.data.imageset import ImageSet
from occlubench.train.device import autocast, configure_backend, default_eval_batch_size
from occlubench.train.progress import ProgressCallback, ProgressEvent, ignore_progress

OccludeFn = Callable[..., torch.Tensor]


def condition_generator(seed: int, condition: str) -> torch.Generator:
    """A CPU generator seeded from (seed, condition): every model sees the same random occlusions."""
    return torch.Generator().manual_seed(seed * 1_000_003 + zlib.crc32(condition.encode()))


@torch.inference_mode()
def predict_conditions(
    model: torch.nn.Module,
    data: ImageSet,
    conditions: Mapping[str, OccludeFn | None],
    *,
    device: torch.device,
    amp_dtype: torch.dtype | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    images_on_device: torch.Tensor | DeviceSplit | None = None,
    progress: ProgressCallback = ignore_progress,
    job: str = "evaluate",
) -> dict[str, torch.Tensor]:
    """Softmax probabilities of ``model`` on ``data`` under each occlusion condition.

    The split is read once: each batch is converted to float once and every condition is one batched occluder call
    on it. ``None`` as an occluder means the clean image. Probabilities stay on the device until the sweep ends, so
    the host never waits for the GPU in between.

    Args:
        batch_size: images per forward pass; None for the device's default (``default_eval_batch_size``).

    Returns:
        condition -> float32 CPU tensor (N, num_classes).
    """
    configure_backend(device)
    batch_size = batch_size or default_eval_batch_size(device)
    model.eval()
    images = images_on_device if images_on_device is not None else DeviceSplit(data.images, device)
    n = len(data)
    generators = {name: condition_generator(seed, name) for name in conditions}
    outputs: dict[str, list[torch.Tensor]] = {name: [] for name in conditions}
    steps = (n + batch_size - 1) // batch_size
    for step, start in enumerate(range(0, n, batch_size)):
        pixels = images[start : start + batch_size].float().div_(255.0)
        for name, occlude in conditions.items():
            x = pixels if occlude is None else occlude(pixels, generator=generators[name])
            x = x.contiguous(memory_format=torch.channels_last)
            with autocast(device, amp_dtype):
                logits = model(x)
            outputs[name].append(torch.softmax(logits.float(), dim=1))
        progress(ProgressEvent("eval_step", job, step=step + 1, steps=steps))
    return {name: torch.cat(chunks).cpu() if chunks else torch.empty(0) for name, chunks in outputs.items()}
