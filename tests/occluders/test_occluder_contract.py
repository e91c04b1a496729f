"""The contract every registered occluder keeps, checked once per name in ``list_occluders()``."""

from __future__ import annotations

import json

import pytest
import torch

from occlubench.occluders import Occluder, constructor_parameters, create_occluder, list_occluders
from occlubench.occluders.registration import describe_occluders, occluder_from_spec

ALL = list_occluders()
SIZES = [(48, 48), (64, 64), (100, 80)]


def images(batch: int, height: int = 48, width: int = 48, seed: int = 0, dtype: torch.dtype = torch.float32):
    """Pixels in [0.1, 0.9]: no pixel equals a fill value, so every hidden pixel visibly changes."""
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(batch, 1, height, width, generator=g) * 0.8 + 0.1).to(dtype)


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def takes_severity(name: str) -> bool:
    return "severity" in constructor_parameters(type(create_occluder(name)))


def is_random(occ: Occluder) -> bool:
    return type(occ).sample_params is not Occluder.sample_params


def test_the_builtins_are_registered() -> None:
    expected = {
        "none", "upper", "lower", "left", "right", "quadrant_tl", "quadrant_tr", "quadrant_bl", "quadrant_br",
        "diagonal", "transdiagonal", "eyes_band", "nose_band", "mouth_band", "face_mask", "sunglasses",
        "random_patch", "random_erasing", "grid_cell",
    }  # fmt: skip
    assert expected <= set(ALL)
    assert ALL[:5] == ["none", "upper", "lower", "left", "right"]


@pytest.mark.parametrize("name", ALL)
def test_identity_metadata(name: str) -> None:
    occ = create_occluder(name)
    assert occ.name == name
    description = describe_occluders()[name]
    assert description
    assert "\n" not in description
    variants = [occ, create_occluder(name, severity=0.2)] if takes_severity(name) else [occ]
    for variant in variants:
        spec = variant.spec()
        assert spec["name"] == name
        assert occluder_from_spec(json.loads(json.dumps(spec))).spec() == spec


@pytest.mark.parametrize("name", ALL)
def test_shape_dtype_device_kept_and_a_new_tensor(name: str) -> None:
    for dtype in (torch.float32, torch.float64, torch.float16):
        x = images(3, dtype=dtype)
        before = x.clone()
        y = create_occluder(name)(x, generator=seeded())
        assert y.shape == x.shape, dtype
        assert y.dtype == x.dtype
        assert y.device == x.device
        assert y.data_ptr() != x.data_ptr()
        assert torch.equal(x, before), "the input must not be modified in place"


@pytest.mark.parametrize("name", ALL)
def test_mask_is_exactly_what_changed(name: str) -> None:
    occ = create_occluder(name)
    for height, width in SIZES:
        x = images(4, height, width)
        y = occ(x, generator=seeded(7))
        mask = occ.mask(x, generator=seeded(7))
        assert mask.dtype == torch.bool
        assert mask.shape == (4, 1, height, width)
        changed = y != x
        assert torch.equal(changed, mask.expand_as(x)), f"{height}x{width}: pixels change exactly where the mask says"
        assert torch.equal(y[~changed], x[~changed]), "pixels outside the mask are untouched"
        assert torch.all(y[mask.expand_as(x)] == 0.0), "the default fill is black (0.0)"


@pytest.mark.parametrize("name", ALL)
def test_hidden_fraction_matches_the_target(name: str) -> None:
    kwargs = {"severity": 0.2} if takes_severity(name) else {}
    occ = create_occluder(name, **kwargs)
    for height, width in SIZES:
        x = images(16, height, width)
        hidden = occ.hidden_fraction(x, generator=seeded(3))
        assert hidden.shape == (16,)
        assert hidden.dtype.is_floating_point
        assert torch.allclose(hidden, occ.mask(x, generator=seeded(3)).float().mean(dim=(1, 2, 3)))
        target = occ.target_fraction(height, width)
        assert target is not None, f"{name} with {kwargs} should have a target fraction"
        assert torch.all((hidden - target).abs() <= 0.02), f"{height}x{width}: hid {hidden.tolist()}, meant {target}"


@pytest.mark.parametrize("name", ALL)
def test_same_generator_state_same_pixels(name: str) -> None:
    occ = create_occluder(name)
    x = images(32)
    first = occ(x, generator=seeded(11))
    assert torch.equal(first, occ(x, generator=seeded(11)))
    assert torch.equal(first, occ(x, params=occ._params)), "replaying the recorded draw gives the same pixels"
    if is_random(occ):
        assert not torch.equal(first, occ(x, generator=seeded(12))), "another seed draws another region"
        per_image = occ.mask(x, generator=seeded(11)).flatten(1)
        assert not torch.all(per_image == per_image[:1]), "each image gets its own region"


@pytest.mark.parametrize("name", [n for n in ALL if takes_severity(n)])
def test_severity_zero_is_the_identity(name: str) -> None:
    x = images(8)
    occ = create_occluder(name, severity=0.0)
    assert torch.equal(occ(x, generator=seeded()), x)
    assert torch.all(occ.hidden_fraction(x, generator=seeded()) == 0.0)


def test_none_is_the_identity() -> None:
    x = images(4)
    assert torch.equal(create_occluder("none")(x), x)


@pytest.mark.parametrize("name", ALL)
def test_batch_of_one_and_of_512(name: str) -> None:
    occ = create_occluder(name)
    for batch in (1, 512):
        x = images(batch)
        y = occ(x, generator=seeded(5))
        assert y.shape == x.shape
        assert torch.equal(y != x, occ.mask(x, generator=seeded(5)).expand_as(x)), batch


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in ALL if create_occluder(n).compile_safe])
def test_torch_compile_gives_the_eager_pixels(name: str) -> None:
    occ = create_occluder(name)
    compiled = torch.compile(occ)
    x = images(4)
    for seed in (0, 1):
        assert torch.equal(compiled(x, generator=seeded(seed)), occ(x, generator=seeded(seed)))


@pytest.mark.gpu
@pytest.mark.parametrize("name", ALL)
def test_cuda_gives_the_cpu_pixels_with_a_cpu_generator(name: str) -> None:
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    occ = create_occluder(name)
    x = images(64)
    on_gpu = occ(x.cuda(), generator=seeded(9))
    assert on_gpu.device.type == "cuda"
    assert torch.equal(on_gpu.cpu(), occ(x, generator=seeded(9)))
    assert torch.equal(occ.mask(x.cuda(), generator=seeded(9)).cpu(), occ.mask(x, generator=seeded(9)))
    cuda_gen = torch.Generator(device="cuda").manual_seed(9)
    again = torch.Generator(device="cuda").manual_seed(9)
    assert torch.equal(occ(x.cuda(), generator=cuda_gen), occ(x.cuda(), generator=again))
