"""Batched training augmentation on the device: random crop with zero padding and horizontal flip.

Both match torchvision's ``RandomCrop(H, padding=p)`` and ``RandomHorizontalFlip()`` per image, but run as one
gather per batch; the random parameters come from an explicit CPU generator so runs are reproducible. Crop and flip
only move pixels (and pad with zeros), so they give the same result on uint8 images as on their float conversion:
:func:`random_crop_flip` is meant to run on the uint8 batch, before the conversion, where it moves a quarter of the
bytes.
"""

from __future__ import annotations

import torch

from occlubench.train.device import host_to_device


def random_crop(images: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Zero-pad by ``padding`` and crop back to the original size at a random offset per image.

    Shape:
        images: (B, C, H, W) -> (B, C, H, W).
    """
    if padding <= 0:
        return images
    b = images.shape[0]
    dy = torch.randint(0, 2 * padding + 1, (b,), generator=generator)
    dx = torch.randint(0, 2 * padding + 1, (b,), generator=generator)
    return _crop_and_flip(images, padding, _to_images_device(torch.stack((dy, dx)), images), None)


def random_hflip(images: torch.Tensor, generator: torch.Generator, p: float = 0.5) -> torch.Tensor:
    """Flip each image left-right with probability ``p``."""
    flip = _to_images_device(torch.rand(images.shape[0], generator=generator) < p, images)
    return torch.where(flip[:, None, None, None], images.flip(-1), images)


def random_crop_flip(images: torch.Tensor, padding: int, hflip: bool, generator: torch.Generator) -> torch.Tensor:
    """``random_hflip(random_crop(images, padding, g), g)`` (or either alone) as one gather, same draws, same pixels.

    The draws come in the same order as the two calls make them (row offsets, column offsets, flips), so a run
    switched from the two calls to this one draws the same numbers and trains to the same weights.

    Shape:
        images: (B, C, H, W) of any dtype -> (B, C, H, W), the same dtype.
    """
    if padding <= 0 and not hflip:
        return images
    b = images.shape[0]
    draws = []
    if padding > 0:
        draws.append(torch.randint(0, 2 * padding + 1, (b,), generator=generator))
        draws.append(torch.randint(0, 2 * padding + 1, (b,), generator=generator))
    if hflip:
        draws.append((torch.rand(b, generator=generator) < 0.5).long())
    # One small host-to-device copy per step (non-blocking on CUDA) rather than one per parameter.
    params = _to_images_device(torch.stack(draws), images)
    offsets = params[:2] if padding > 0 else None
    flip = params[-1].bool() if hflip else None
    return _crop_and_flip(images, max(padding, 0), offsets, flip)


def _crop_and_flip(
    images: torch.Tensor, padding: int, offsets: torch.Tensor | None, flip: torch.Tensor | None
) -> torch.Tensor:
    """Gather each output pixel from the zero-padded image: row ``dy + r``, column ``dx + c`` (mirrored if flipped).

    Args:
        offsets: (2, B) int64 row and column offsets in ``[0, 2 * padding]``, or None for no crop.
        flip: (B,) bool, or None for no flip.
    """
    b, c, h, w = images.shape
    device = images.device
    padded = torch.nn.functional.pad(images, (padding, padding, padding, padding)) if padding > 0 else images
    padded_w = w + 2 * padding
    rows = torch.arange(h, device=device).expand(b, h)
    cols = torch.arange(w, device=device).expand(b, w)
    if flip is not None:
        cols = torch.where(flip[:, None], cols.flip(1), cols)
    if offsets is not None:
        rows = rows + offsets[0][:, None]
        cols = cols + offsets[1][:, None]
    index = (rows[:, :, None] * padded_w + cols[:, None, :]).reshape(b, 1, h * w).expand(b, c, h * w)
    return padded.reshape(b, c, -1).gather(2, index).reshape(b, c, h, w)


def _to_images_device(values: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    return host_to_device(values, images.device)
