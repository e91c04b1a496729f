"""Batched training augmentation on the device: random crop with zero padding and horizontal flip.

Both match torchvision's ``RandomCrop(H, padding=p)`` and ``RandomHorizontalFlip()`` per image, but run as one
indexing op per batch; the random parameters come from an explicit CPU generator so runs are reproducible.
"""

from __future__ import annotations

import torch


def random_crop(images: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Zero-pad by ``padding`` and crop back to the original size at a random offset per image.

    Shape:
        images: (B, C, H, W) -> (B, C, H, W).
    """
    if padding <= 0:
        return images
    b, _, h, w = images.shape
    padded = torch.nn.functional.pad(images, (padding, padding, padding, padding))
    dy = torch.randint(0, 2 * padding + 1, (b,), generator=generator).to(images.device)
    dx = torch.randint(0, 2 * padding + 1, (b,), generator=generator).to(images.device)
    rows = (dy[:, None] + torch.arange(h, device=images.device))[:, None, :, None]  # (B,1,H,1)
    cols = (dx[:, None] + torch.arange(w, device=images.device))[:, None, None, :]  # (B,1,1,W)
    batch = torch.arange(b, device=images.device)[:, None, None, None]
    chans = torch.arange(images.shape[1], device=images.device)[None, :, None, None]
    return padded[batch, chans, rows, cols]


def random_hflip(images: torch.Tensor, generator: torch.Generator, p: float = 0.5) -> torch.Tensor:
    """Flip each image left-right with probability ``p``."""
    flip = (torch.rand(images.shape[0], generator=generator) < p).to(images.device)
    return torch.where(flip[:, None, None, None], images.flip(-1), images)
