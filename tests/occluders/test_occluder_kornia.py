"""Occluders are kornia augmentations: they compose with kornia containers and match kornia's RandomErasing."""

from __future__ import annotations

import kornia.augmentation as K
import pytest
import torch

from occlubench.occluders import create_occluder


def test_an_occluder_is_a_kornia_augmentation_inside_a_sequential() -> None:
    x = torch.rand(8, 1, 48, 48)
    upper = create_occluder("upper")
    assert isinstance(upper, K.IntensityAugmentationBase2D)
    assert torch.equal(K.AugmentationSequential(upper)(x), upper(x))
    flipped_then_left = K.AugmentationSequential(K.RandomHorizontalFlip(p=1.0), create_occluder("left"))
    assert torch.equal(flipped_then_left(x), create_occluder("right")(x).flip(-1))


@pytest.mark.parametrize("p", [1.0, 0.5])
@pytest.mark.parametrize("ratio", [(0.3, 3.3), (0.5, 0.9)])
def test_random_erasing_draws_kornias_boxes_from_an_equally_seeded_generator(p: float, ratio: tuple) -> None:
    """kornia draws from torch's global generator; ours, seeded the same, must draw the same boxes and gate."""
    x = torch.rand(64, 1, 48, 48)
    state = torch.get_rng_state()
    try:
        torch.manual_seed(3)
        theirs = K.RandomErasing(scale=(0.02, 0.33), ratio=ratio, p=p)(x)
    finally:
        torch.set_rng_state(state)
    ours = create_occluder("random_erasing", ratio=ratio, p=p)(x, generator=torch.Generator().manual_seed(3))
    assert torch.equal(ours, theirs)


def test_kornia_applies_our_drawn_boxes_identically() -> None:
    occ = create_occluder("random_erasing", fill="gray")
    x = torch.rand(32, 3, 40, 56)
    params = occ.forward_parameters(x.shape, generator=torch.Generator().manual_seed(0))
    kornia_params = {k: params[k] for k in ("xs", "ys", "widths", "heights")}
    kornia_params["values"] = torch.full((32,), 0.5)
    kornia_params["batch_prob"] = params["batch_prob"]
    theirs = K.RandomErasing(p=1.0, value=0.5)(x, params=kornia_params)
    assert torch.equal(occ(x, params=params), theirs)


def test_the_sample_and_apply_steps_are_separate() -> None:
    occ = create_occluder("random_patch", fill="noise")
    x = torch.rand(4, 1, 48, 48)
    params = occ.forward_parameters(x.shape, generator=torch.Generator().manual_seed(0))
    assert set(params) >= {"ys", "xs", "heights", "widths", "noise", "batch_prob"}
    assert params["ys"].shape == (4,)
    assert params["noise"].shape == x.shape
    first = occ(x, params=params)
    assert torch.equal(occ(x, params=params), first), "applying the same parameters twice paints the same pixels"
    assert torch.equal(occ(x, generator=torch.Generator().manual_seed(0)), first)
    assert torch.equal(occ.mask(x, params=params), occ.mask(x, generator=torch.Generator().manual_seed(0)))


def test_a_single_image_keeps_its_shape() -> None:
    image = torch.rand(1, 48, 48)
    assert create_occluder("upper")(image).shape == (1, 48, 48)
    assert create_occluder("upper").mask(image).shape == (1, 1, 48, 48)
