from __future__ import annotations

import torch

from occlubench.train.augment import random_crop, random_hflip


def test_random_crop_equals_a_per_image_crop_of_the_zero_padded_image() -> None:
    images = torch.rand(16, 1, 48, 48)
    out = random_crop(images, 4, torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(3)
    dy = torch.randint(0, 9, (16,), generator=g)
    dx = torch.randint(0, 9, (16,), generator=g)
    padded = torch.nn.functional.pad(images, (4, 4, 4, 4))
    for i in range(16):
        expected = padded[i, :, dy[i] : dy[i] + 48, dx[i] : dx[i] + 48]
        assert torch.equal(out[i], expected)


def test_random_crop_without_padding_is_the_identity() -> None:
    images = torch.rand(4, 3, 10, 12)
    assert random_crop(images, 0, torch.Generator()) is images


def test_random_hflip_flips_about_half_and_keeps_the_rest() -> None:
    images = torch.rand(400, 1, 8, 8)
    out = random_hflip(images, torch.Generator().manual_seed(0))
    flipped = (out == images.flip(-1)).flatten(1).all(1)
    kept = (out == images).flatten(1).all(1)
    assert bool((flipped | kept).all())
    assert 150 < int(flipped.sum()) < 250


def test_augmentation_is_deterministic_per_generator_seed() -> None:
    images = torch.rand(8, 1, 48, 48)
    a = random_hflip(random_crop(images, 4, torch.Generator().manual_seed(7)), torch.Generator().manual_seed(7))
    b = random_hflip(random_crop(images, 4, torch.Generator().manual_seed(7)), torch.Generator().manual_seed(7))
    assert torch.equal(a, b)
