"""Synthetic faces: reproducible, balanced, fast, and each cue confined to the halves and boxes the cue map declares."""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest
import torch

from occlubench.data import SYNTHETIC_CUES, synthetic, synthetic_faces
from occlubench.data.imageset import FER2013_CLASSES
from occlubench.data.synthetic import (
    EXPRESSION_PARAMETERS,
    JITTER,
    MIN_SIZE,
    FacePose,
    class_expressions,
    render_faces,
    sample_face_poses,
)
from occlubench.errors import ConfigError

HALVES = {
    "upper": (0.0, 0.5, 0.0, 1.0),
    "lower": (0.5, 1.0, 0.0, 1.0),
    "left": (0.0, 1.0, 0.0, 0.5),
    "right": (0.0, 1.0, 0.5, 1.0),
}
# The bounds that decide where cues land (cue strength at its maximum, the widest reach); the others only shade.
GEOMETRIC = ("center_x", "center_y", "scale", "angle", "eye_offset", "mouth_offset", "mouth_width")


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """One intra-op thread: on a shared 2-core machine, two threads contending with other jobs run ~10x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_same_seed_gives_bit_identical_faces() -> None:
    first, second = synthetic_faces(6, seed=11), synthetic_faces(6, seed=11)
    assert torch.equal(first.images, second.images)
    assert torch.equal(first.labels, second.labels)
    assert first.ids == second.ids


def test_different_seeds_give_different_faces() -> None:
    first, second = synthetic_faces(6, seed=1), synthetic_faces(6, seed=2)
    assert torch.equal(first.labels, second.labels)
    assert (first.images.float() - second.images.float()).abs().mean() > 10.0


def test_shapes_dtypes_balance_labels_and_ids() -> None:
    faces = synthetic_faces(5, seed=7)
    assert faces.images.shape == (35, 1, 48, 48)
    assert faces.images.dtype == torch.uint8
    assert faces.labels.dtype == torch.int64
    assert faces.classes == FER2013_CLASSES
    assert faces.class_counts() == dict.fromkeys(FER2013_CLASSES, 5)
    assert faces.ids[0] == "synthetic-7-0"
    assert faces.ids[-1] == "synthetic-7-34"
    assert len(set(faces.ids)) == 35
    assert int(faces.images.min()) < 40  # dark features
    assert int(faces.images.max()) > 215  # bright backgrounds


@pytest.mark.parametrize("size", [24, 37, 64])
def test_other_sizes_draw_the_same_faces(size: int) -> None:
    faces = synthetic_faces(3, seed=5, size=size)
    assert faces.images.shape == (21, 1, size, size)
    # Geometry is in fractions of the image: resized to 48, the faces match the 48-pixel ones up to noise and aliasing.
    reference = synthetic_faces(3, seed=5).images.float()
    resized = torch.nn.functional.interpolate(faces.images.float(), size=(48, 48), mode="bilinear", antialias=True)
    assert (resized - reference).abs().mean() < 12.0
    other = synthetic_faces(3, seed=6).images.float()
    assert (other - reference).abs().mean() > 2 * (resized - reference).abs().mean()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_per_class": 0, "seed": 0}, "n_per_class"),
        ({"n_per_class": 2.5, "seed": 0}, "n_per_class"),
        ({"n_per_class": 2, "seed": -1}, "seed"),
        ({"n_per_class": 2, "seed": 0, "size": MIN_SIZE - 1}, "size"),
    ],
)
def test_bad_arguments_raise_one_line_config_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        synthetic_faces(**kwargs)
    assert "\n" not in str(raised.value)


def test_thousands_of_faces_per_second() -> None:
    synthetic_faces(10, seed=0)  # warm up
    # CPU time of this process, not wall time: the shared machine's other jobs must not make the test flaky.
    start = time.process_time()
    faces = synthetic_faces(500, seed=0)
    elapsed = time.process_time() - start
    assert len(faces) == 3500
    assert len(faces) / elapsed > 1000, f"{len(faces) / elapsed:.0f} faces/s"


def test_cue_map_lists_every_class_and_the_halves_it_was_designed_for() -> None:
    assert tuple(SYNTHETIC_CUES) == FER2013_CLASSES
    expected = {
        "angry": ("upper",),
        "disgust": ("lower", "right"),
        "fear": ("upper",),
        "happy": ("lower",),
        "neutral": (),
        "sad": ("upper", "lower"),
        "surprise": ("upper", "lower"),
    }
    assert {name: entry["regions"] for name, entry in SYNTHETIC_CUES.items()} == expected
    for entry in SYNTHETIC_CUES.values():
        assert len(entry["cues"]) == len(entry["boxes"]) == len(entry["parameters"])
        assert set(entry["parameters"]) <= set(EXPRESSION_PARAMETERS)
        for top, bottom, left, right in entry["boxes"]:
            assert 0.0 <= top < bottom <= 1.0
            assert 0.0 <= left < right <= 1.0
            # Crisp ground truth: every cue sits entirely in the upper or the lower half.
            assert bottom < 0.5 or top > 0.5


@functools.cache
def _test_poses() -> FacePose:
    """Random poses plus every corner of the geometric jitter bounds at the strongest cue (the worst cases)."""
    random = sample_face_poses(64, torch.Generator().manual_seed(3))
    corners = list(itertools.product(*(getattr(JITTER, name) for name in GEOMETRIC)))
    values = {}
    for f in fields(FacePose):
        if f.name in GEOMETRIC:
            corner_values = torch.tensor([c[GEOMETRIC.index(f.name)] for c in corners])
        elif f.name == "cue_strength":
            corner_values = torch.full((len(corners),), JITTER.cue_strength[1])
        else:
            corner_values = torch.full((len(corners),), sum(getattr(JITTER, f.name)) / 2)
        values[f.name] = torch.cat([getattr(random, f.name), corner_values.float()])
    return FacePose(**values)


@functools.cache
def _neutral_faces(size: int) -> torch.Tensor:
    pose = _test_poses()
    return render_faces(pose, torch.zeros(len(pose), len(EXPRESSION_PARAMETERS)), size)


def _pixel_centres(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    centres = (torch.arange(size, dtype=torch.float64) + 0.5) / size
    return centres[:, None].expand(size, size), centres[None, :].expand(size, size)


def _inside(box: tuple[float, float, float, float], size: int) -> torch.Tensor:
    rows, cols = _pixel_centres(size)
    top, bottom, left, right = box
    return (rows >= top) & (rows <= bottom) & (cols >= left) & (cols <= right)


CUES = [(name, k) for name, entry in SYNTHETIC_CUES.items() for k in range(len(entry["cues"]))]


@pytest.mark.parametrize("size", [MIN_SIZE, 48])
@pytest.mark.parametrize(("name", "cue"), CUES, ids=[f"{name}-{k}" for name, k in CUES])
def test_each_cue_changes_pixels_only_inside_its_box_and_halves(name: str, cue: int, size: int) -> None:
    entry = SYNTHETIC_CUES[name]
    pose = _test_poses()
    label = torch.full((len(pose),), FER2013_CLASSES.index(name))
    full_expression = class_expressions(label, pose.cue_strength)
    column = EXPRESSION_PARAMETERS.index(entry["parameters"][cue])
    expression = torch.zeros_like(full_expression)
    expression[:, column] = full_expression[:, column]
    neutral = _neutral_faces(size)
    with_cue = render_faces(pose, expression, size)
    changed = (with_cue - neutral).abs() > 0  # noise-free renders: untouched pixels are bit-identical

    box = entry["boxes"][cue]
    assert not changed[:, ~_inside(box, size)].any(), f"{entry['cues'][cue]!r} leaks out of its box {box}"
    halves = [half for half in HALVES if _inside(HALVES[half], size)[_inside(box, size)].all()]
    assert halves, "every cue must sit in at least one half"
    assert set(halves) <= set(entry["regions"])
    # The cue is really there: every face shows it, even at the weakest strength, contrast and smallest size.
    assert ((with_cue - neutral).abs().flatten(1).amax(1) > 0.05).all()


def test_full_expression_differs_from_neutral_only_inside_the_class_boxes() -> None:
    pose = sample_face_poses(140, torch.Generator().manual_seed(9))
    labels = torch.arange(len(pose)) % len(FER2013_CLASSES)
    drawn = render_faces(pose, class_expressions(labels, pose.cue_strength))
    neutral = render_faces(pose, torch.zeros(len(pose), len(EXPRESSION_PARAMETERS)))
    for k, name in enumerate(FER2013_CLASSES):
        changed = (drawn[labels == k] - neutral[labels == k]).abs() > 0
        allowed = torch.zeros(48, 48, dtype=torch.bool)
        for box in SYNTHETIC_CUES[name]["boxes"]:
            allowed |= _inside(box, 48)
        assert not changed[:, ~allowed].any(), name
        assert changed.any() == (name != "neutral"), name


@pytest.mark.parametrize("size", [MIN_SIZE, 48])
def test_drawing_only_inside_worst_case_boxes_clips_nothing(size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    pose = _test_poses()
    labels = torch.arange(len(pose)) % len(FER2013_CLASSES)
    expression = class_expressions(labels, pose.cue_strength)
    cropped = render_faces(pose, expression, size)
    monkeypatch.setattr(synthetic, "_DRAW_BOXES", dict.fromkeys(synthetic._DRAW_BOXES, (0.0, 1.0, 0.0, 1.0)))
    assert torch.equal(render_faces(pose, expression, size), cropped)


def test_documented_boxes_match_the_cue_map() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "synthetic-faces.md").read_text(encoding="utf-8")
    for name, entry in SYNTHETIC_CUES.items():
        for box in entry["boxes"]:
            rounded = "({:.2f}, {:.2f}, {:.2f}, {:.2f})".format(*box)
            assert rounded in docs, (name, rounded)
            assert rounded in (synthetic.__doc__ or ""), (name, rounded)
    assert repr(SYNTHETIC_CUES["sad"]["boxes"]) in docs
