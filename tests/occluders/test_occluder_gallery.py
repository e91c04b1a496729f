"""render_gallery: one tile per (face, occluder), laid out where its docstring says."""

from __future__ import annotations

import pytest
import torch

from occlubench.errors import ConfigError, DataError
from occlubench.occluders import create_occluder, render_gallery


def test_tiles_sit_where_documented() -> None:
    faces = torch.rand(3, 1, 48, 40, generator=torch.Generator().manual_seed(0))
    occluders = [create_occluder("none"), create_occluder("upper"), create_occluder("random_patch")]
    grid = render_gallery(occluders, faces, torch.Generator().manual_seed(1), padding=2)
    assert grid.shape == (1, 3 * 50 + 2, 3 * 42 + 2)
    assert grid.dtype == faces.dtype
    g = torch.Generator().manual_seed(1)
    expected = [occ(faces, generator=g) for occ in occluders]  # same generator, same column order
    for i in range(3):
        for j in range(3):
            top, left = 2 + i * 50, 2 + j * 42
            assert torch.equal(grid[:, top : top + 48, left : left + 40], expected[j][i]), (i, j)
    separators = torch.ones_like(grid, dtype=torch.bool)
    for i in range(3):
        for j in range(3):
            separators[:, 2 + i * 50 : 2 + i * 50 + 48, 2 + j * 42 : 2 + j * 42 + 40] = False
    assert torch.all(grid[separators] == 1.0)


def test_same_seed_same_picture_and_bad_input_is_one_error() -> None:
    faces = torch.rand(2, 1, 48, 48)
    occluders = [create_occluder("random_erasing"), create_occluder("face_mask", fill="noise")]
    first = render_gallery(occluders, faces, torch.Generator().manual_seed(4))
    assert torch.equal(first, render_gallery(occluders, faces, torch.Generator().manual_seed(4)))
    with pytest.raises(ConfigError):
        render_gallery([], faces)
    with pytest.raises(DataError):
        render_gallery(occluders, torch.zeros(2, 1, 48, 48, dtype=torch.uint8))
