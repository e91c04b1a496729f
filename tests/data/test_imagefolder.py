"""The image-folder reader: both layouts, folders and zips, RGB and gray, mixed sizes, classes.txt, splits, errors."""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from occlubench.data.fer2013 import DataWarning
from occlubench.data.imagefolder import (
    ImageFolderOptions,
    ResizePolicy,
    load_image_folder,
    load_image_folder_with_info,
    locate_layout,
    resize_images,
    stratified_split,
)
from occlubench.data.registry import load_dataset
from occlubench.errors import ConfigError, DataError

CLASSES = ("calm", "happy", "tense")


def write_dataset(
    root: Path,
    *,
    splits: Sequence[str] | None = None,
    per_class: int = 6,
    classes: Sequence[str] = CLASSES,
    sizes: Sequence[tuple[int, int]] = ((64, 64),),
    mode: str = "RGB",
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """PNG images under ``root/<split>/<class>/`` (or ``root/<class>/`` for a pool); sizes (width, height) cycle.

    Returns:
        The written pixels by id (path relative to ``root``): (H, W) for gray, (H, W, 3) for RGB.
    """
    rng = np.random.default_rng(seed)
    written = {}
    k = 0
    for split in splits or [""]:
        for name in classes:
            for i in range(per_class):
                width, height = sizes[k % len(sizes)]
                k += 1
                shape = (height, width) if mode == "L" else (height, width, 3)
                pixels = rng.integers(0, 256, shape, dtype=np.uint8)
                relative = f"{split}/{name}/img{i:03d}.png".lstrip("/")
                path = root / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(pixels, mode=mode).save(path)
                written[relative] = pixels
    return written


def zip_tree(folder: Path, archive: Path, wrapper: str | None = None) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(folder.rglob("*")):
            name = path.relative_to(folder).as_posix()
            name = f"{wrapper}/{name}" if wrapper else name
            zipped.writestr(name + "/", b"") if path.is_dir() else zipped.write(path, name)
    return archive


def as_chw(pixels: np.ndarray) -> torch.Tensor:
    tensor = torch.from_numpy(pixels)
    return tensor.unsqueeze(0) if tensor.ndim == 2 else tensor.permute(2, 0, 1)


def all_ids(splits: dict) -> list[str]:
    return [i for split in splits.values() for i in split.ids]


# --- layouts --------------------------------------------------------------------------------------------------------


def test_locate_layout() -> None:
    assert locate_layout(["cat/a.png", "dog/b.jpg", "README.md"]) == ("", "pool")
    assert locate_layout(["faces/cat/a.png", "faces/dog/b.png"]) == ("faces/", "pool")
    assert locate_layout(["x/y/Train/cat/a.png", "x/y/Test/cat/b.png"]) == ("x/y/", "splits")
    assert locate_layout(["cat/a.png"]) == ("", "pool")  # one class: found, refused later with a clear message
    assert locate_layout(["notes.txt", "docs/readme.md"]) is None
    assert locate_layout([]) is None


def test_pool_folder_rgb_mixed_sizes(tmp_path: Path) -> None:
    written = write_dataset(tmp_path / "pets", per_class=10, sizes=((64, 64), (64, 64), (100, 80)))
    with pytest.warns(DataWarning, match=r"resized 10 image\(s\) that were not 64x64 to 64x64 by crop"):
        splits, info = load_image_folder_with_info(tmp_path / "pets")
    assert set(splits) == {"train", "val", "test"}
    assert {split.classes for split in splits.values()} == {CLASSES}
    assert sorted(all_ids(splits)) == sorted(written), "every image in exactly one split"
    assert {split.image_shape for split in splits.values()} == {(3, 64, 64)}
    assert info["layout"] == "pool"
    assert info["format"] == "imagefolder"
    assert info["image"]["width"] == 64
    assert info["image"]["channels"] == 3
    assert info["image"]["size_from"] == "most common image size 64x64 (20 of 30 images)"
    assert info["image"]["resize"].startswith("crop")
    assert "train 0.7 / val 0.15 / test 0.15 (split seed 0)" in info["split_note"]
    assert info["counts"] == {"train": 21, "val": 6, "test": 3}
    for split in splits.values():  # images already at the target size keep their pixels exactly
        for k, image_id in enumerate(split.ids):
            if written[image_id].shape[:2] == (64, 64):
                assert torch.equal(split.images[k], as_chw(written[image_id]))
            assert split.labels[k] == CLASSES.index(image_id.split("/")[0])


def test_splits_zip_gray_in_a_wrapper_carves_val_from_train(tmp_path: Path) -> None:
    written = write_dataset(tmp_path / "src", splits=("train", "test"), per_class=10, mode="L", sizes=((40, 50),))
    archive = zip_tree(tmp_path / "src", tmp_path / "faces.zip", wrapper="my_faces")
    splits, info = load_image_folder_with_info(archive)
    assert info["format"] == "imagefolder-zip"
    assert info["layout"] == "splits"
    assert info["root"] == "my_faces/"
    assert splits["train"].image_shape == (1, 50, 40), "gray files stay one channel, sizes are (width, height)"
    assert sorted(splits["test"].ids) == sorted(i for i in written if i.startswith("test/"))
    assert sorted(splits["train"].ids + splits["val"].ids) == sorted(i for i in written if i.startswith("train/"))
    assert splits["val"].class_counts() == dict.fromkeys(CLASSES, 1), "0.1 of each class's 10 train images"
    assert "val = 0.1 of train/ per class at random (split seed 0)" in info["split_note"]
    image_id = splits["test"].ids[0]
    assert torch.equal(splits["test"].images[0], as_chw(written[image_id]))


def test_splits_layout_with_a_val_folder_uses_it(tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_dataset(root, splits=("Train", "Validation", "TEST"), per_class=2)
    splits, info = load_image_folder_with_info(root)
    assert [len(splits[s]) for s in ("train", "val", "test")] == [6, 6, 6]
    assert all(i.startswith("Validation/") for i in splits["val"].ids)
    assert info["split_note"] == "folders: train/, val/ and test/"


def test_images_deeper_in_a_class_folder_belong_to_it(tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_dataset(root, per_class=4)
    (root / "calm" / "2021").mkdir()
    Image.new("RGB", (64, 64)).save(root / "calm" / "2021" / "extra.png")
    splits = load_image_folder(root)
    ids = all_ids(splits)
    assert "calm/2021/extra.png" in ids
    assert sum(split.class_counts()["calm"] for split in splits.values()) == 5


# --- classes --------------------------------------------------------------------------------------------------------


def test_classes_txt_sets_the_label_order(tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_dataset(root, per_class=4)
    (root / "classes.txt").write_text("# label order\ntense\n\ncalm\nhappy\n", encoding="utf-8")
    splits, info = load_image_folder_with_info(root)
    assert splits["train"].classes == ("tense", "calm", "happy")
    assert info["classes_from"] == "classes.txt"
    for split in splits.values():
        for image_id, label in zip(split.ids, split.labels.tolist(), strict=True):
            assert split.classes[label] == image_id.split("/")[0]


@pytest.mark.parametrize(
    ("listing", "message"),
    [
        ("calm\nhappy\n", "class folder(s) 'tense' not listed in classes.txt"),
        ("calm\nhappy\ntense\ncalm\n", "classes.txt lists 'calm' more than once"),
        ("calm\n", "classes.txt lists 1 class(es); a classifier needs two or more"),
    ],
)
def test_classes_txt_mistakes_are_data_errors(tmp_path: Path, listing: str, message: str) -> None:
    root = tmp_path / "data"
    write_dataset(root, per_class=3)
    (root / "classes.txt").write_text(listing, encoding="utf-8")
    with pytest.raises(DataError, match=re.escape(message)):
        load_image_folder(root)


# --- size, channels, resize -----------------------------------------------------------------------------------------


def test_size_option_is_width_by_height(tmp_path: Path) -> None:
    write_dataset(tmp_path / "data", per_class=4)
    with pytest.warns(DataWarning, match="to 100x80 by stretch"):
        splits, info = load_image_folder_with_info(tmp_path / "data", {"size": "100x80", "resize": "stretch"})
    assert splits["train"].image_shape == (3, 80, 100)
    assert info["image"]["size_from"] == "option size"
    with pytest.warns(DataWarning, match="to 32x32 by crop"):
        assert load_image_folder(tmp_path / "data", {"size": 32})["test"].image_shape == (3, 32, 32)


def test_channels_option_converts_like_pil(tmp_path: Path) -> None:
    written = write_dataset(tmp_path / "rgb", per_class=3)
    gray = load_image_folder(tmp_path / "rgb", {"channels": 1})["train"]
    assert gray.image_shape == (1, 64, 64)
    expected = np.asarray(Image.fromarray(written[gray.ids[0]]).convert("L"))
    assert torch.equal(gray.images[0, 0], torch.from_numpy(expected.copy()))
    written = write_dataset(tmp_path / "gray", per_class=3, mode="L")
    rgb = load_image_folder(tmp_path / "gray", {"channels": "rgb"})["train"]
    assert rgb.image_shape == (3, 64, 64)
    assert torch.equal(rgb.images[0], as_chw(written[rgb.ids[0]]).expand(3, -1, -1))


def test_rgb_files_with_equal_channels_are_read_as_gray(tmp_path: Path) -> None:
    root = tmp_path / "data"
    written = write_dataset(root, per_class=3, mode="L")
    for image_id, pixels in written.items():  # re-save as 3-channel RGB files holding gray pictures
        Image.fromarray(np.repeat(pixels[..., None], 3, axis=2), mode="RGB").save(root / image_id)
    splits, info = load_image_folder_with_info(root)
    assert splits["train"].image_shape == (1, 64, 64)
    assert info["image"]["channels_from"] == "every image is grayscale (colour files with three equal channels)"
    assert torch.equal(splits["train"].images[0], as_chw(written[splits["train"].ids[0]]))


def test_sixteen_bit_gray_is_scaled_to_eight_bits(tmp_path: Path) -> None:
    root = tmp_path / "data"
    rng = np.random.default_rng(0)
    expected = {}
    for name in CLASSES:
        (root / name).mkdir(parents=True)
        for i in range(3):
            wide = rng.integers(0, 65536, (32, 32), dtype=np.uint16)
            Image.fromarray(wide).save(root / name / f"{i}.png")  # mode I;16
            expected[f"{name}/{i}.png"] = (wide >> 8).astype(np.uint8)
    splits = load_image_folder(root)
    assert splits["train"].image_shape == (1, 32, 32)
    assert torch.equal(splits["train"].images[0, 0], torch.from_numpy(expected[splits["train"].ids[0]]))


def test_resize_policies() -> None:
    # 100 wide x 80 high: the 10 outer columns on each side white, the middle 80x80 a flat 100.
    image = torch.full((1, 1, 80, 100), 100, dtype=torch.uint8)
    image[..., :10] = 255
    image[..., -10:] = 255
    cropped = resize_images(image, (64, 64), ResizePolicy.CROP)
    stretched = resize_images(image, (64, 64), ResizePolicy.STRETCH)
    assert cropped.shape == stretched.shape == (1, 1, 64, 64)
    assert torch.all(cropped[..., 2:-2] == 100), "crop keeps the centre, aspect kept: the white sides are cut away"
    assert stretched[..., :5].float().mean() > 200, "stretch keeps everything, squeezed"
    assert resize_images(image, (100, 80)) is image, "already the target size: the very same pixels"
    # A crop of only one axis: 100x80 -> 80x80 needs no resampling, just the central columns.
    assert torch.equal(resize_images(image, (80, 80)), image[..., 10:90])


def test_default_size_of_large_images_is_capped(tmp_path: Path) -> None:
    write_dataset(tmp_path / "big", per_class=3, sizes=((512, 384),), mode="L")
    with pytest.warns(DataWarning, match="that were not 256x192 to 256x192"):
        splits, info = load_image_folder_with_info(tmp_path / "big")
    assert splits["train"].image_shape == (1, 192, 256)
    assert info["image"]["size_from"].endswith("scaled down to a longer side of 256")


# --- splitting ------------------------------------------------------------------------------------------------------


def test_stratified_split_is_deterministic_and_keeps_class_ratios() -> None:
    counts = [50, 30, 7, 3, 1]
    labels = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])[torch.randperm(91)]
    fractions = (0.7, 0.15, 0.15)

    def split(seed: int) -> list[torch.Tensor]:
        return stratified_split(labels, fractions, torch.Generator().manual_seed(seed))

    parts = split(0)
    assert all(torch.equal(a, b) for a, b in zip(parts, split(0), strict=True)), "same seed, same split"
    assert not all(torch.equal(a, b) for a, b in zip(parts, split(1), strict=True)), "another seed, another split"
    assert torch.equal(torch.sort(torch.cat(parts)).values, torch.arange(91)), "disjoint and complete"
    for part, fraction in zip(parts, fractions, strict=True):
        per_class = torch.bincount(labels[part], minlength=len(counts)).tolist()
        for c, n in enumerate(counts):
            if n * min(fractions) >= 1:
                assert abs(per_class[c] - fraction * n) < 1, f"class {c}: {per_class[c]} of {n} for {fraction}"
            if n >= len(fractions):
                assert per_class[c] >= 1, f"class {c} with {n} images has one in every part"


def test_pool_split_follows_split_seed_not_the_run_seed(tmp_path: Path) -> None:
    write_dataset(tmp_path / "data", per_class=8)
    by_run_seed = [load_dataset("imagefolder", tmp_path / "data", seed=seed).splits["test"].ids for seed in (0, 7)]
    assert by_run_seed[0] == by_run_seed[1]
    other = load_dataset("imagefolder", tmp_path / "data", options={"split_seed": 3}).splits["test"].ids
    assert other != by_run_seed[0]
    assert load_dataset("imagefolder", tmp_path / "data", options={"split_seed": 3}).splits["test"].ids == other


def test_decoded_once_then_served_from_the_cache(tmp_path: Path, fer_cache_dir: Path) -> None:
    write_dataset(tmp_path / "data", per_class=4)
    first, info = load_image_folder_with_info(tmp_path / "data")
    again, info_again = load_image_folder_with_info(tmp_path / "data")
    assert not info["cached"]
    assert info_again["cached"]
    assert all(torch.equal(first[s].images, again[s].images) and first[s].ids == again[s].ids for s in first)
    assert len(list(fer_cache_dir.glob("imagefolder-r1-sauto-cauto-crop-*.safetensors"))) == 1
    with pytest.warns(DataWarning, match="to 32x32"):
        _, resized = load_image_folder_with_info(tmp_path / "data", {"size": 32})
    assert not resized["cached"], "other pixels, another cache entry"


# --- mistakes -------------------------------------------------------------------------------------------------------


def test_non_images_and_broken_files_are_skipped_with_warnings(tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_dataset(root, per_class=4)
    (root / "README.md").write_text("top-level files are no part of the layout")
    (root / "calm" / "notes.txt").write_text("not an image")
    (root / "happy" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    with pytest.warns(DataWarning) as caught:
        splits = load_image_folder(root)
    messages = sorted(str(w.message).split(": ", 1)[1] for w in caught)
    assert messages == [
        "skipped 1 file(s) that are not images in a class folder (e.g. 'calm/notes.txt')",
        "skipped 1 file(s) that could not be decoded as images (e.g. 'happy/broken.jpg')",
    ]
    assert len(all_ids(splits)) == 12


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda root: root.mkdir(), "the folder is empty"),
        (lambda root: write_dataset(root, classes=("solo",)), "at least two class folders with images, found only"),
        (lambda root: (root.mkdir(), (root / "a.txt").write_text("x")), "no class folders with images in this folder"),
        (lambda root: write_dataset(root, splits=("train",)), "no images in a test/ folder"),
        (lambda root: write_dataset(root, per_class=2), r"too few images for a val / test split \(6 images in all\)"),
    ],
)
def test_bad_layouts_are_one_line_data_errors(tmp_path: Path, build, message: str) -> None:
    build(tmp_path / "data")
    with pytest.raises(DataError, match=message) as caught:
        load_image_folder(tmp_path / "data")
    assert "\n" not in str(caught.value)


def test_a_csv_is_not_an_image_folder(tmp_path: Path) -> None:
    table = tmp_path / "data.csv"
    table.write_text("label,path\n0,a.png\n")
    with pytest.raises(DataError, match="not a folder or zip of images"):
        load_image_folder(table)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sise": 64}, "unknown imagefolder option"),
        ({"size": "big"}, "imagefolder option size='big'"),
        ({"size": 4}, "out of range"),
        ({"channels": 2}, "imagefolder option channels=2"),
        ({"resize": "fit"}, "imagefolder option resize='fit'"),
        ({"val_fraction": 1.5}, "must be between 0 and 1"),
        ({"val_fraction": 0.5, "test_fraction": 0.5}, "val_fraction \\+ test_fraction = 1"),
        ({"split_seed": "x"}, "split_seed='x' is not an integer"),
    ],
)
def test_bad_options_are_config_errors(options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ImageFolderOptions.from_mapping(options)


def test_options_from_strings() -> None:
    parsed = ImageFolderOptions.from_mapping({"size": "100x80", "channels": "1", "val_fraction": "0.2"})
    assert (parsed.size, parsed.channels, parsed.val_fraction) == ((100, 80), 1, 0.2)
    assert parsed.cache_namespace() == "imagefolder-r1-s100x80-c1-crop"


# --- fuzzing --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def valid_zip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    root = tmp_path_factory.mktemp("fuzz")
    write_dataset(root / "src", splits=("train", "test"), per_class=3, sizes=((16, 16), (20, 12)))
    (root / "src" / "classes.txt").write_text("tense\ncalm\nhappy\n")
    return zip_tree(root / "src", root / "valid.zip", wrapper="faces").read_bytes()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, 2**31), st.integers(0, 255)), min_size=1, max_size=8), n=st.integers())
def test_a_damaged_zip_is_read_or_refused_in_one_line(valid_zip: bytes, tmp_path: Path, edits: list, n: int) -> None:
    data = bytearray(valid_zip)
    for position, value in edits:
        data[position % len(data)] = value
    source = tmp_path / f"{n}.zip"
    source.write_bytes(bytes(data))
    refused: Exception | None = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            splits = load_image_folder(source, cache_dir=tmp_path / "cache")
    except (DataError, ConfigError) as err:  # anything else escapes and fails the test
        refused = err
    if refused is not None:
        assert "\n" not in str(refused)
    else:
        assert set(splits) == {"train", "val", "test"}
