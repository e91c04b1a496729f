"""DeviceSplit: a split's uint8 images on the device when they fit, streamed batch by batch when they do not.

The training engine indexes batches out of one device-resident uint8 tensor (no DataLoader, no per-image Python).
That needs the whole split in device memory: 66 MB for FER2013's train split, but 19 GB for 128k RGB 224x224 images.
A :class:`DeviceSplit` keeps the engine's indexing (``split[idx]``, ``split[start:stop]``) and decides once, when it
is built, where the images live:

* **resident** (the switch, :func:`device_budget_bytes`): on a CUDA device the split is copied to the device when its
  bytes fit in the device's free memory minus a margin of ``max(2 GiB, 20% of the device's memory)``, left for the
  model, its activations and the optimizer. CPU (and other non-CUDA) devices always hold the split as it is.
* **streamed** otherwise: the images stay in CPU memory and each batch's rows are gathered into a pinned staging
  buffer and copied to the device asynchronously; two staging buffers alternate, so gathering the next batch overlaps
  the copy of the previous one. A batch then costs one host gather and one host-to-device copy of its own bytes.

``$OCCLUBENCH_DEVICE_BUDGET`` (bytes; ``0`` streams everything) overrides the budget, e.g. to share a GPU.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Literal

import torch

from occlubench.errors import ConfigError

BUDGET_ENV = "OCCLUBENCH_DEVICE_BUDGET"
"""Environment variable overriding the device budget in bytes (``0``: always stream)."""

MARGIN_BYTES = 2 * 2**30
MARGIN_FRACTION = 0.2
"""Device memory kept free for everything else: the larger of these two (bytes, share of the device's memory)."""


def device_budget_bytes(device: torch.device | str) -> int | None:
    """How many bytes of images may live on ``device``; None when there is no limit (CPU and non-CUDA devices).

    Raises:
        ConfigError: ``$OCCLUBENCH_DEVICE_BUDGET`` is set but not a non-negative integer.
    """
    override = os.environ.get(BUDGET_ENV, "").strip()
    if override:
        if not override.isdigit():
            raise ConfigError(f"${BUDGET_ENV} must be a number of bytes (0 or more), got {override!r}")
        return int(override)
    device = torch.device(device)
    if device.type != "cuda":
        return None
    free, total = torch.cuda.mem_get_info(device)
    return max(0, free - max(MARGIN_BYTES, int(MARGIN_FRACTION * total)))


class DeviceSplit:
    """Indexable uint8 images (N, C, H, W) whose ``[index]`` is always a tensor on ``device``.

    Args:
        images: uint8 (N, C, H, W), on the CPU (an ImageSet's images).
        device: where batches are wanted.
        budget_bytes: the most bytes that may be resident on ``device``; ``"auto"``: :func:`device_budget_bytes`;
            None: no limit; 0: always stream.

    Examples:
        >>> split = DeviceSplit(train.images, device)  # doctest: +SKIP
        >>> batch = split[order[:128]]  # uint8 (128, C, H, W) on device, resident or streamed  # doctest: +SKIP
    """

    def __init__(
        self, images: torch.Tensor, device: torch.device | str, *, budget_bytes: int | Literal["auto"] | None = "auto"
    ) -> None:
        self.device = torch.device(device)
        budget = device_budget_bytes(self.device) if budget_bytes == "auto" else budget_bytes
        self.nbytes = images.numel() * images.element_size()
        self.resident = budget is None or self.nbytes <= budget
        self._images = images.to(self.device) if self.resident else images.cpu().contiguous()
        self._pin = not self.resident and self.device.type == "cuda"
        self._staging: list[torch.Tensor | None] = [None, None]
        self._copied: list[torch.cuda.Event | None] = [None, None]
        self._turn = 0

    def __len__(self) -> int:
        return int(self._images.shape[0])

    @property
    def shape(self) -> torch.Size:
        return self._images.shape

    @property
    def dtype(self) -> torch.dtype:
        return self._images.dtype

    def __getitem__(self, index: torch.Tensor | slice) -> torch.Tensor:
        """The images at ``index`` (an index tensor on any device, or a slice), as a tensor on the device."""
        if self.resident:
            return self._images[index]
        if isinstance(index, slice):
            rows = self._images[index]
            if not self._pin:
                return rows.to(self.device)
            return self._stream(int(rows.shape[0]), lambda out: out.copy_(rows))
        host_index = index.to("cpu", torch.long)
        if not self._pin:
            return self._images[host_index].to(self.device)
        return self._stream(len(host_index), lambda out: torch.index_select(self._images, 0, host_index, out=out))

    def _stream(self, count: int, gather: Callable[[torch.Tensor], object]) -> torch.Tensor:
        """Gather ``count`` rows into the next pinned staging buffer (once its last copy is done), copy it async."""
        turn = self._turn
        self._turn = 1 - turn
        copied = self._copied[turn]
        if copied is not None:
            copied.synchronize()  # the buffer's last copy must have left before it is overwritten
        staging = self._staging[turn]
        if staging is None or staging.shape[0] < count:
            staging = torch.empty((count, *self._images.shape[1:]), dtype=self._images.dtype, pin_memory=True)
            self._staging[turn] = staging
        out = staging[:count]
        gather(out)
        batch = out.to(self.device, non_blocking=True)
        event = torch.cuda.Event()
        event.record()
        self._copied[turn] = event
        return batch

    def __repr__(self) -> str:
        where = "resident" if self.resident else "streamed"
        return f"DeviceSplit({tuple(self.shape)}, {self.device}, {where}, {self.nbytes / 2**20:.1f} MiB)"
