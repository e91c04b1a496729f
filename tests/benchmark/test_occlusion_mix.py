"""OcclusionMix: one member per image, drawn with the given odds, applied only to the images that drew it."""

from __future__ import annotations

import pytest
import torch

from occlubench.errors import ConfigError
from occlubench.occluders import create_occluder
from occlubench.train.mix import OcclusionMix

HALVES = ("upper", "lower", "left", "right")


def _halves_mix(with_clean: bool = True) -> OcclusionMix:
    members = {name: create_occluder(name) for name in HALVES}
    if with_clean:
        members = {"full": None, **members}
    p = 1.0 / len(members)
    return OcclusionMix(members, dict.fromkeys(members, p))


def _which_member(images: torch.Tensor, out: torch.Tensor) -> list[str]:
    """Which half (or none) each output image has blacked out, read off its pixels."""
    h, w = images.shape[-2:]
    hidden = (out == 0) & (images != 0)
    names = []
    for mask in hidden[:, 0]:
        if not mask.any():
            names.append("full")
            continue
        rows, cols = mask.any(1), mask.any(0)
        if rows[: h // 2].all() and not rows[h // 2 :].any():
            names.append("upper")
        elif rows[h // 2 :].all() and not rows[: h // 2].any():
            names.append("lower")
        elif cols[: w // 2].all() and not cols[w // 2 :].any():
            names.append("left")
        else:
            names.append("right")
    return names


def test_each_image_gets_the_member_it_drew_and_nothing_else() -> None:
    mix = _halves_mix()
    images = torch.rand(64, 1, 16, 16).clamp_min(1e-3)  # no pixel is black before occlusion
    drawn = mix.draw(64, torch.Generator().manual_seed(3))
    out = mix(images, generator=torch.Generator().manual_seed(3))
    assert out.shape == images.shape
    assert out.dtype == images.dtype
    assert _which_member(images, out) == [mix.names[int(k)] for k in drawn]
    assert torch.equal(images[drawn == 0], out[drawn == 0])  # 'full' images are untouched
    assert set(drawn.tolist()) == set(range(5))


def test_the_same_generator_state_gives_the_same_pixels() -> None:
    mix = OcclusionMix(
        {"patch": create_occluder("random_patch", severity=0.2), "upper": create_occluder("upper")},
        {"patch": 0.5, "upper": 0.5},
    )
    images = torch.rand(32, 1, 12, 12)
    a = mix(images, generator=torch.Generator().manual_seed(7))
    b = mix(images, generator=torch.Generator().manual_seed(7))
    c = mix(images, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_draw_frequencies_follow_the_probabilities() -> None:
    mix = OcclusionMix({"full": None, "upper": create_occluder("upper")}, {"full": 0.8, "upper": 0.2})
    drawn = mix.draw(20_000, torch.Generator().manual_seed(0))
    assert abs(float((drawn == 1).double().mean()) - 0.2) < 0.015


def test_a_zero_probability_member_is_never_drawn() -> None:
    mix = OcclusionMix(
        {"upper": create_occluder("upper"), "lower": create_occluder("lower")}, {"upper": 1.0, "lower": 0}
    )
    images = torch.rand(16, 1, 8, 8).clamp_min(1e-3)
    out = mix(images, generator=torch.Generator().manual_seed(0))
    assert set(_which_member(images, out)) == {"upper"}


@pytest.mark.parametrize(
    ("members", "probabilities", "match"),
    [
        ({}, {}, "at least one member"),
        ({"upper": None}, {"lower": 1.0}, "one probability per member"),
        ({"upper": None, "lower": None}, {"upper": 0.5, "lower": 0.4}, "must sum to 1, got 0.9"),
        ({"upper": None, "lower": None}, {"upper": 1.5, "lower": -0.5}, "non-negative"),
    ],
)
def test_bad_mixes_are_config_errors(members: dict, probabilities: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        OcclusionMix(members, probabilities)
