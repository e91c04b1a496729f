"""Exact pixel semantics: the study's halves, quadrants and diagonals, grid cells, bands, shapes, fills and the gate."""

from __future__ import annotations

import math

import pytest
import torch
from kornia.filters import gaussian_blur2d

from occlubench.errors import ConfigError
from occlubench.occluders import create_occluder
from occlubench.occluders.facial import SURGICAL_MASK_OUTLINE, polygon_area
from occlubench.occluders.fills import blur_kernel_size

ONES = torch.ones(2, 3, 48, 48)


def zeroed(name: str, height: int = 48, width: int = 48, **kwargs: object) -> torch.Tensor:
    """(H, W) bool: where the occluder blacked out an all-ones image (checked the same on every channel/image)."""
    out = create_occluder(name, **kwargs)(torch.ones(2, 3, height, width))
    assert torch.equal(out, out[:1].expand_as(out))
    assert torch.equal(out[:, :1].expand_as(out), out)
    return out[0, 0] == 0.0


def rows_cols(top: int, bottom: int, left: int, right: int, height: int = 48, width: int = 48) -> torch.Tensor:
    expected = torch.zeros(height, width, dtype=torch.bool)
    expected[top:bottom, left:right] = True
    return expected


@pytest.mark.parametrize(
    ("name", "box"),
    [
        ("upper", (0, 24, 0, 48)),  # rows 0..23, as the study
        ("lower", (24, 48, 0, 48)),  # rows 24..47
        ("left", (0, 48, 0, 24)),  # columns 0..23 (image-left = the subject's right)
        ("right", (0, 48, 24, 48)),  # columns 24..47
        ("quadrant_tl", (0, 24, 0, 24)),
        ("quadrant_tr", (0, 24, 24, 48)),
        ("quadrant_bl", (24, 48, 0, 24)),
        ("quadrant_br", (24, 48, 24, 48)),
    ],
)
def test_halves_and_quadrants_on_48x48_are_the_study_masks(name: str, box: tuple[int, int, int, int]) -> None:
    assert torch.equal(zeroed(name), rows_cols(*box))


def test_the_study_code_masking_gives_identical_tensors() -> None:
    """The reference study sets ``img[:, :24, :] = 0`` etc. on the ToTensor() output; ours must equal it bit for bit."""
    x = torch.rand(5, 3, 48, 48, generator=torch.Generator().manual_seed(0))
    study = {"upper": x.clone(), "lower": x.clone(), "left": x.clone(), "right": x.clone()}
    study["upper"][:, :, :24, :] = 0
    study["lower"][:, :, 24:, :] = 0
    study["left"][:, :, :, :24] = 0
    study["right"][:, :, :, 24:] = 0
    for name, expected in study.items():
        assert torch.equal(create_occluder(name)(x), expected), name


def test_diagonals_are_unions_of_quadrants() -> None:
    assert torch.equal(zeroed("diagonal"), rows_cols(0, 24, 0, 24) | rows_cols(24, 48, 24, 48))
    assert torch.equal(zeroed("transdiagonal"), rows_cols(0, 24, 24, 48) | rows_cols(24, 48, 0, 24))
    assert torch.equal(zeroed("diagonal") ^ zeroed("transdiagonal"), torch.ones(48, 48, dtype=torch.bool))


@pytest.mark.parametrize(("height", "width"), [(48, 48), (47, 45), (7, 5), (100, 80)])
def test_complementary_parts_partition_any_image(height: int, width: int) -> None:
    for parts in (("upper", "lower"), ("left", "right"), ("quadrant_tl", "quadrant_tr", "quadrant_bl", "quadrant_br")):
        counts = sum(zeroed(p, height, width).int() for p in parts)
        assert torch.all(counts == 1), parts
    # An odd height splits like images[..., : H // 2, :]: the middle row goes to the lower half.
    assert zeroed("upper", height, width).any(dim=1).sum() == height // 2


@pytest.mark.parametrize(("height", "width", "k"), [(48, 48, 3), (48, 48, 5), (47, 50, 4), (10, 7, 3), (5, 5, 5)])
def test_grid_cells_partition_the_image(height: int, width: int, k: int) -> None:
    cells = torch.stack([zeroed("grid_cell", height, width, k=k, index=i) for i in range(k * k)])
    assert torch.all(cells.int().sum(dim=0) == 1), "every pixel in exactly one cell"
    for i in range(k * k):
        rows, cols = cells[i].any(dim=1).nonzero().flatten(), cells[i].any(dim=0).nonzero().flatten()
        assert len(rows) in (height // k, -(-height // k))
        assert len(cols) in (width // k, -(-width // k))
        assert torch.equal(cells[i], rows_cols(int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1,
                                               height, width)), "each cell is one rectangle"  # fmt: skip
        # Row-major: cell i sits in grid row i // k and grid column i % k.
        assert int(rows[0]) == min(r for r in range(height) if (2 * r + 1) * k // (2 * height) == i // k)
        assert int(cols[0]) == min(c for c in range(width) if (2 * c + 1) * k // (2 * width) == i % k)


def test_grid_cell_2x2_equals_the_quadrants() -> None:
    for index, quadrant in enumerate(("quadrant_tl", "quadrant_tr", "quadrant_bl", "quadrant_br")):
        assert torch.equal(zeroed("grid_cell", k=2, index=index), zeroed(quadrant))


def test_bands_hide_the_rows_whose_centres_are_inside() -> None:
    # eyes 0.20-0.48 of 48 rows: centres (i + 0.5) / 48 in [0.20, 0.48) -> rows 10..22.
    assert torch.equal(zeroed("eyes_band"), rows_cols(10, 23, 0, 48))
    assert torch.equal(zeroed("nose_band"), rows_cols(23, 33, 0, 48))
    assert torch.equal(zeroed("mouth_band"), rows_cols(33, 44, 0, 48))
    assert torch.equal(zeroed("mouth_band", top=0.5, bottom=1.0), zeroed("lower"))
    bands = zeroed("eyes_band").int() + zeroed("nose_band").int() + zeroed("mouth_band").int()
    assert bands.max() == 1, "the default bands do not overlap"


def test_face_mask_is_the_polygon() -> None:
    hidden = zeroed("face_mask", 480, 480)
    assert abs(hidden.float().mean().item() - polygon_area(SURGICAL_MASK_OUTLINE)) < 0.002
    # Inside: the mouth and chin centre; outside: the eyes, the forehead and the corners.
    for y, x, inside in [(0.80, 0.5, True), (0.95, 0.5, True), (0.60, 0.2, True), (0.36, 0.3, False),
                         (0.10, 0.5, False), (0.99, 0.02, False), (0.50, 0.05, False)]:  # fmt: skip
        assert bool(hidden[int(y * 480), int(x * 480)]) is inside, (y, x)
    square = ((0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75))
    assert torch.equal(zeroed("face_mask", outline=square), rows_cols(12, 36, 12, 36))


def test_sunglasses_are_two_lenses_and_a_bridge() -> None:
    occ = create_occluder("sunglasses")
    hidden = zeroed("sunglasses", 400, 400)
    assert abs(hidden.float().mean().item() - occ.target_fraction(400, 400)) < 0.002
    cy = int(occ.eye_y * 400)
    for cx in (0.5 - occ.eye_dx, 0.5 + occ.eye_dx):
        assert hidden[cy, int(cx * 400)], "each lens covers its eye centre"
    bridge_row = hidden[int((occ.eye_y - occ.lens_ry / 3) * 400)]
    assert bridge_row.int().diff().ne(0).sum() == 2, "lens, bridge, lens form one run at the bridge height"
    assert not hidden[cy + int(occ.lens_ry * 400) + 2].any(), "nothing below the lenses"
    no_bridge = create_occluder("sunglasses", bridge_thickness=0.0)
    assert math.isclose(no_bridge.target_fraction(48, 48), 2 * math.pi * 0.15 * 0.11)
    # The visible bridge is longer than the 0.1 gap between the lenses' widest points: their edges curve inwards.
    bridge_area = occ.target_fraction(48, 48) - no_bridge.target_fraction(48, 48)
    assert 2 * 0.05 * 0.04 < bridge_area < 2 * 0.20 * 0.04


def test_random_patch_is_a_square_inside_the_image() -> None:
    occ = create_occluder("random_patch", severity=0.25)
    x = torch.rand(256, 1, 48, 48)
    mask = occ.mask(x, generator=torch.Generator().manual_seed(0))[:, 0]
    assert torch.all(mask.any(dim=2).sum(dim=1) == 24)
    assert torch.all(mask.any(dim=1).sum(dim=1) == 24)
    assert torch.all(mask.sum(dim=(1, 2)) == 24 * 24), "a full 24x24 square, never clipped by the border"
    tops = mask.any(dim=2).int().argmax(dim=1)
    assert tops.min() == 0, "every place inside the image can be drawn"
    assert tops.max() == 24
    assert create_occluder("random_patch", severity=1.0).hidden_fraction(x[:2]).eq(1.0).all()
    wide = create_occluder("random_patch", severity=1.0).hidden_fraction(torch.rand(2, 1, 20, 40))
    assert torch.allclose(wide, torch.tensor(0.5)), "on a non-square image the square is capped at the short side"


def test_random_erasing_severity_fixes_the_area_not_the_shape() -> None:
    occ = create_occluder("random_erasing", severity=0.1)
    assert occ.scale == (0.1, 0.1)
    mask = occ.mask(torch.rand(64, 1, 48, 48), generator=torch.Generator().manual_seed(0))[:, 0]
    heights, widths = mask.any(dim=2).sum(dim=1), mask.any(dim=1).sum(dim=1)
    assert torch.all(mask.sum(dim=(1, 2)) == heights * widths), "each region is one rectangle"
    assert heights.unique().numel() > 5, "aspect ratios vary"
    assert torch.all((heights * widths / 2304 - 0.1).abs() < 0.02)


# ------------------------------------------------------------------------------------------------------------ fills
def occlude_with(fill: str, seed: int = 0, **kwargs: object) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    x = torch.rand(4, 3, 48, 48, generator=torch.Generator().manual_seed(99)) * 0.8 + 0.1
    occ = create_occluder("upper", fill=fill, **kwargs)
    y = occ(x, generator=torch.Generator().manual_seed(seed))
    mask = occ.mask(x).expand_as(x)
    assert torch.equal(y[~mask], x[~mask]), f"{fill}: pixels outside the region untouched"
    return x, y, mask


def test_black_and_gray_fills() -> None:
    _, y, mask = occlude_with("black")
    assert torch.all(y[mask] == 0.0)
    _, y, mask = occlude_with("gray")
    assert torch.all(y[mask] == 0.5)


def test_mean_fill_is_each_images_own_mean_per_channel() -> None:
    x, y, mask = occlude_with("mean")
    expected = x.mean(dim=(2, 3), keepdim=True).expand_as(x)
    assert torch.equal(y[mask], expected[mask])
    assert y[0, 0, 0, 0] != y[1, 0, 0, 0]
    assert y[0, 0, 0, 0] != y[0, 1, 0, 0]


def test_noise_fill_comes_from_the_generator() -> None:
    _, y, mask = occlude_with("noise", seed=1)
    _, again, _ = occlude_with("noise", seed=1)
    _, other, _ = occlude_with("noise", seed=2)
    assert torch.equal(y, again)
    assert not torch.equal(y[mask], other[mask])
    noise = y[mask]
    assert noise.min() >= 0.0
    assert noise.max() < 1.0
    assert abs(noise.mean().item() - 0.5) < 0.02


def test_blur_fill_is_the_blurred_image_inside_the_region() -> None:
    x, y, mask = occlude_with("blur", blur_sigma=0.1)
    sigma = 0.1 * 48
    k = blur_kernel_size(sigma, 48, 48)
    assert k == 2 * math.ceil(3 * sigma) + 1
    blurred = gaussian_blur2d(x, (k, k), (sigma, sigma), border_type="reflect")
    assert torch.equal(y[mask], blurred[mask])
    assert y[mask].std() < x[mask].std() / 3, "blur removes the fine detail"
    tiny = torch.rand(1, 1, 4, 4)
    assert create_occluder("upper", fill="blur", blur_sigma=1.0)(tiny).shape == tiny.shape, "kernel capped to fit"


def test_fills_keep_half_precision() -> None:
    for fill in ("black", "gray", "mean", "noise", "blur"):
        x = torch.rand(2, 1, 48, 48).half()
        assert create_occluder("lower", fill=fill)(x).dtype == torch.float16


# ------------------------------------------------------------------------------------------------------------- gate
def test_p_gates_whole_images_like_kornia() -> None:
    occ = create_occluder("upper", p=0.5)
    x = torch.rand(200, 1, 48, 48) * 0.8 + 0.1
    y = occ(x, generator=torch.Generator().manual_seed(0))
    hidden = occ.hidden_fraction(x, generator=torch.Generator().manual_seed(0))
    assert set(hidden.unique().tolist()) == {0.0, 0.5}
    assert 70 < int((hidden > 0).sum()) < 130
    skipped = hidden == 0
    assert torch.equal(y[skipped], x[skipped])
    assert torch.equal(create_occluder("upper", p=0.0)(x), x)


def test_bad_images_are_one_clear_error() -> None:
    from occlubench.errors import DataError

    with pytest.raises(DataError, match="float images"):
        create_occluder("upper")(torch.zeros(1, 1, 48, 48, dtype=torch.uint8))
    with pytest.raises(DataError, match="float images"):
        create_occluder("upper").mask(torch.zeros(48))


def test_bad_parameters_name_the_parameter() -> None:
    cases = [
        ("upper", {"fill": "pink"}, "fill must be one of black, gray, mean, noise, blur"),
        ("upper", {"p": 1.5}, "p must be in"),
        ("random_patch", {"severity": -0.1}, "severity must be in"),
        ("random_patch", {"severity": "high"}, "severity must be a number"),
        ("grid_cell", {"k": 3, "index": 9}, "index must be an integer in"),
        ("grid_cell", {"k": 0}, "k must be an integer in"),
        ("eyes_band", {"top": 0.5, "bottom": 0.3}, "bottom must be in"),
        ("random_erasing", {"scale": (0.5, 0.1)}, "scale must be a pair"),
        ("random_erasing", {"ratio": (0.0, 2.0)}, "ratio must be a pair"),
        ("random_erasing", {"severity": 0.2, "scale": (0.1, 0.2)}, "either severity or scale"),
        ("sunglasses", {"lens_rx": 0.3}, "lens_rx must be <"),
        ("face_mask", {"outline": [(0.1, 0.1), (0.2, 2.0), (0.3, 0.1)]}, "outline must hold"),
    ]
    for name, kwargs, message in cases:
        with pytest.raises(ConfigError, match=message) as info:
            create_occluder(name, **kwargs)
        assert "\n" not in str(info.value)
