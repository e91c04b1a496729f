"""``occlubench preview``: pictures of what occluders hide, their labels, their errors, and the occluders page."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image

from occlubench.cli.app import console
from occlubench.data.imageset import FER2013_CLASSES, ImageSet
from occlubench.errors import ConfigError, DataError, UnknownNameError
from occlubench.occluders import (
    OCCLUDERS,
    SURGICAL_MASK_OUTLINE,
    constructor_parameters,
    describe_occluders,
    list_occluders,
    render_gallery,
)
from occlubench.occluders.preview import (
    PreviewColumn,
    pick_faces,
    preview_faces,
    preview_occluders,
    resolve_occluder_names,
    save_preview,
)

REPO = Path(__file__).resolve().parents[2]
FER2013_ZIP = REPO / ".." / "shared" / "data" / "fer2013.zip"
DOCS_PAGE = REPO / "docs" / "occluders.md"
DOCS_PICTURES = (REPO / "docs" / "img" / "occluders.png", REPO / "docs" / "img" / "occluders-fer2013.png")


def white_faces(n_per_class: int = 1) -> ImageSet:
    """All-white faces: every pixel an occluder hides turns black, so hidden pixels can be counted on the picture."""
    n = n_per_class * len(FER2013_CLASSES)
    labels = torch.arange(n) % len(FER2013_CLASSES)
    images = torch.full((n, 1, 48, 48), 255, dtype=torch.uint8)
    return ImageSet(images, labels, tuple(f"white-{k}" for k in range(n)), FER2013_CLASSES)


# ----------------------------------------------------------------------------------------------------------- the CLI
def test_preview_draws_the_named_occluders_on_one_synthetic_face_per_class(kit: Any, tmp_path: Path) -> None:
    out = tmp_path / "pictures" / "grid.png"  # the folder is created
    result = kit.invoke("preview", "upper", "lower", "random_patch", "--severity", "0.25", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert f"wrote {out} (3 occluders x 7 synthetic faces, seed 0)" in " ".join(result.stdout.split())
    with Image.open(out) as picture:
        assert picture.format == "PNG"
        assert picture.mode == "L"  # gray faces, black text: one channel
        width, height = picture.size
        pixels = torch.tensor(list(picture.getdata()), dtype=torch.uint8).reshape(height, width)
    assert 300 < width < 600
    assert height > 7 * 48 * 2  # seven rows of faces at twice their size, plus labels
    assert (pixels < 10).float().mean() > 0.2  # the black halves are there
    assert out.stat().st_size < 100_000


def test_preview_without_names_shows_every_registered_occluder(kit: Any, tmp_path: Path) -> None:
    out = tmp_path / "all.png"
    result = kit.invoke("preview", "-o", out, "--seed", "3")
    assert result.exit_code == 0, result.stderr
    assert f"({len(list_occluders())} occluders x 7 synthetic faces, seed 3)" in " ".join(result.stdout.split())
    assert out.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("uper",), "error: unknown occluder 'uper' (did you mean 'upper'?)"),
        (("upper", "nope_band"), "error: unknown occluder 'nope_band'"),
        (("zz_*",), "error: no occluder matches 'zz_*'"),
        (("upper", "--severity", "0.3"), "error: a severity does not apply: upper hides a fixed region"),
        (("random_patch", "--severity", "1.5"), "error: severity must be in [0, 1]; got 1.5"),
        (("upper", "--per-class", "0"), "error: faces per class must be an integer in [1, 10]; got 0"),
        (("upper", "--seed", "-1"), "error: seed must be a non-negative integer; got -1"),
        (("upper", "-o", "{tmp}/grid.gif"), "error: cannot write a .gif picture"),
        (("upper", "-o", "{tmp}"), "is a folder"),
        (("upper", "--data", "{tmp}/missing.zip"), "error: --data {tmp}/missing.zip does not exist"),
    ],
)
def test_preview_mistakes_are_one_line_and_exit_2(
    kit: Any, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    args = tuple(a.format(tmp=tmp_path) for a in args)
    default_out = tmp_path / "occluders.png"
    result = kit.invoke("preview", *args, *(() if "-o" in args else ("-o", default_out)))
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert len(result.stderr_lines) == 1, result.stderr
    assert message.format(tmp=tmp_path) in result.stderr_lines[0]
    assert not default_out.exists()
    assert not list(tmp_path.glob("*.gif"))


def test_occlubench_list_shows_every_occluder_with_its_description(kit: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "_width", 250)  # one table row per occluder, descriptions unwrapped
    result = kit.invoke("list")
    assert result.exit_code == 0, result.stderr
    table = result.stdout[result.stdout.index("Occluders") : result.stdout.index("Models")]
    rows = [line.strip("│ ").split("│") for line in table.splitlines() if line.startswith("│")]
    assert {name.strip(): text.strip() for name, text in rows} == describe_occluders()
    assert len(rows) == len(list_occluders()) >= 19


# ---------------------------------------------------------------------------------------------------- the library
def test_column_labels_are_the_fractions_painted_in_the_picture(tmp_path: Path) -> None:
    occluders = preview_occluders(["none", "upper", "grid_cell", "random_patch", "random_erasing"])
    faces = white_faces()
    drawn = save_preview(occluders, faces, tmp_path / "grid.png", seed=5)
    # The grid the picture shows, drawn again with the same seed: its black pixels are the hidden ones.
    grid = render_gallery(occluders, faces.images.float() / 255, torch.Generator().manual_seed(5), padding=2)
    tiles = grid[0, 2:, 2:].reshape(7, 50, 5, 50)[:, :48, :, :48]  # (face, row, occluder, column)
    hidden = (tiles == 0).float().mean(dim=(1, 3))  # (face, occluder)
    for j, column in enumerate(drawn.columns):
        assert column.name == occluders[j].name
        assert column.hidden_min == pytest.approx(float(hidden[:, j].min()))
        assert column.hidden_max == pytest.approx(float(hidden[:, j].max()))
    labels = [column.label for column in drawn.columns]
    assert labels[:4] == ["hides 0%", "hides 50%", "hides 11%", "hides 25%"]
    assert re.fullmatch(r"hides \d+–\d+%", labels[4])  # random_erasing: a different area per face
    assert drawn.rows == FER2013_CLASSES


def test_the_same_seed_gives_the_same_picture_and_another_seed_another(tmp_path: Path) -> None:
    occluders = preview_occluders(["random_patch", "random_erasing"])
    faces, _ = preview_faces(None, seed=1)
    first = save_preview(occluders, faces, tmp_path / "a.png", seed=1).path.read_bytes()
    again = save_preview(occluders, faces, tmp_path / "b.png", seed=1).path.read_bytes()
    other = save_preview(occluders, faces, tmp_path / "c.png", seed=2).path.read_bytes()
    assert first == again
    assert first != other


@pytest.mark.parametrize(("suffix", "magic"), [(".svg", b"<?xml"), (".pdf", b"%PDF"), (".jpg", b"\xff\xd8")])
def test_other_picture_formats(tmp_path: Path, suffix: str, magic: bytes) -> None:
    drawn = save_preview(preview_occluders(["lower"]), white_faces(), tmp_path / f"grid{suffix}")
    assert drawn.path.read_bytes().startswith(magic)


def test_severity_reaches_only_the_occluders_that_take_one() -> None:
    upper, patch, erasing = preview_occluders(["upper", "random_patch", "random_erasing"], severity=0.4)
    assert "severity" not in constructor_parameters(type(upper))
    assert patch.severity == 0.4
    assert erasing.scale == (0.4, 0.4)
    with pytest.raises(ConfigError, match="a severity does not apply: upper, lower hide a fixed region"):
        preview_occluders(["upper", "lower"], severity=0.4)


def test_names_globs_and_unknown_names() -> None:
    assert resolve_occluder_names() == list_occluders()
    assert resolve_occluder_names(["upper", "quadrant_t*"]) == ["upper", "quadrant_tl", "quadrant_tr"]
    with pytest.raises(UnknownNameError, match="unknown occluder 'lowr'"):
        preview_occluders(["upper", "lowr"])
    with pytest.raises(ConfigError, match="no occluder matches"):
        resolve_occluder_names(["*_nope"])
    with pytest.raises(ConfigError, match="at least one occluder"):
        save_preview([], white_faces(), "unused.png")


def test_pick_faces_takes_random_faces_of_each_class_sorted_by_class() -> None:
    pool = white_faces(n_per_class=5).subset(list(range(34)))  # surprise has 4 faces, the others 5
    two = pick_faces(pool, 2, torch.Generator().manual_seed(0))
    assert two.labels.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
    assert len(set(two.ids)) == 14
    assert pick_faces(pool, 5, torch.Generator().manual_seed(0)).class_counts()["surprise"] == 4
    draws = {pick_faces(pool, 1, torch.Generator().manual_seed(seed)).ids for seed in range(6)}
    assert len(draws) > 1  # the seed decides which faces
    assert (
        pick_faces(pool, 1, torch.Generator().manual_seed(3)).ids
        == pick_faces(pool, 1, torch.Generator().manual_seed(3)).ids
    )
    only_happy = pool.subset([3, 10])
    assert pick_faces(only_happy, 1).labels.tolist() == [3]
    with pytest.raises(ConfigError, match="faces per class"):
        pick_faces(pool, 11)
    with pytest.raises(DataError, match="no faces"):
        pick_faces(pool.subset([]), 1)


@pytest.mark.realdata
def test_preview_on_fer2013_takes_one_test_face_per_class(kit: Any, tmp_path: Path) -> None:
    if not FER2013_ZIP.exists():
        pytest.skip(f"the real FER2013 zip is not at {FER2013_ZIP.resolve()}")
    faces, source = preview_faces(FER2013_ZIP, per_class=1, seed=0)
    assert source == "FER2013 test faces"
    assert faces.labels.tolist() == list(range(7))
    assert [face_id.split("/")[:2] for face_id in faces.ids] == [["test", name] for name in FER2013_CLASSES]
    assert all("/PrivateTest_" in face_id for face_id in faces.ids)  # the official test split
    out = tmp_path / "fer.png"
    result = kit.invoke("preview", "eyes_band", "face_mask", "--data", FER2013_ZIP, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert "(2 occluders x 7 FER2013 test faces, seed 0)" in " ".join(result.stdout.split())


# ------------------------------------------------------------------------------------------------ the docs page
def test_the_occluders_page_lists_every_builtin_with_its_parameters_and_shows_both_pictures() -> None:
    page = DOCS_PAGE.read_text(encoding="utf-8")
    rows = {
        match.group(1): line
        for line in page.splitlines()
        if (match := re.match(r"\| `([a-z_]+)` \|", line)) and match.group(1) in OCCLUDERS
    }
    assert list(rows) == list_occluders()
    for name, line in rows.items():
        for parameter, info in constructor_parameters(OCCLUDERS.get(name)).items():
            if parameter in ("fill", "p", "blur_sigma"):  # every occluder's: one table below the catalog
                documented = re.search(rf"^\| `{parameter}` \| `([^`]+)` \|", page, re.MULTILINE)
            else:
                documented = re.search(rf"`{parameter}=([^`]+)`", line)
            assert documented, (name, parameter)
            if parameter == "outline":
                assert documented.group(1) == "SURGICAL_MASK_OUTLINE"
                assert info.default == SURGICAL_MASK_OUTLINE
            else:
                assert ast.literal_eval(documented.group(1)) == info.default, (name, parameter)
    for picture in DOCS_PICTURES:
        assert f"](img/{picture.name})" in page
        assert picture.read_bytes().startswith(b"\x89PNG")
        assert picture.stat().st_size < 300_000


def test_the_column_label_rounds_to_whole_percent() -> None:
    assert PreviewColumn("x", 0.2708, 0.2708).label == "hides 27%"
    assert PreviewColumn("x", 0.071, 0.262).label == "hides 7–26%"
    assert PreviewColumn("x", 0.2496, 0.2504).label == "hides 25%"
