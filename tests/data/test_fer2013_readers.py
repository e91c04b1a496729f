"""FER2013 readers: every source form gives the same splits, labels, ids and pixels as the data it encodes."""

from __future__ import annotations

import csv
import gzip
import hashlib
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from occlubench.data.fer2013 import (
    SOURCE_FORMATS,
    describe_source,
    load_fer2013,
    load_fer2013_with_info,
)
from occlubench.data.imageset import FER2013_CLASSES, ImageSet

SPLIT_OF_USAGE = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}


def assert_matches_source(splits: dict[str, ImageSet], data: Any, row_of_id: dict[str, int]) -> None:
    """Every image, label and split equals the generating data; every generated image appears exactly once."""
    seen = []
    for split, imageset in splits.items():
        assert imageset.classes == FER2013_CLASSES
        assert imageset.images.dtype == torch.uint8
        assert imageset.images.shape[1:] == (1, 48, 48)
        rows = [row_of_id[i] for i in imageset.ids]
        assert all(SPLIT_OF_USAGE[data.usages[row]] == split for row in rows)
        assert torch.equal(imageset.labels, torch.from_numpy(data.labels[rows]))
        assert torch.equal(imageset.images[:, 0], torch.from_numpy(data.images[rows]))
        seen += rows
    assert sorted(seen) == list(range(len(data.labels)))


def test_image_folder_reads_splits_labels_ids_and_pixels(tiny_fer: Any, fer_folder: Path) -> None:
    splits, info = load_fer2013_with_info(fer_folder)
    assert set(splits) == {"train", "val", "test"}
    assert_matches_source(splits, tiny_fer, {name: k for k, name in enumerate(tiny_fer.file_names)})
    assert info["format"] == "image-folder"
    assert info["split_note"].startswith("official")
    assert info["counts"] == {"train": 14, "val": 7, "test": 7}
    assert list(splits["train"].ids) == sorted(splits["train"].ids)
    assert splits["val"].ids[0].startswith("test/angry/PublicTest_")


@pytest.mark.parametrize("wrapper", [None, "fer2013", "archive/fer2013"])
def test_zip_reads_the_same_as_the_folder_with_or_without_wrapper(
    fer_factory: Any, tiny_fer: Any, fer_folder: Path, tmp_path: Path, wrapper: str | None
) -> None:
    archive = fer_factory.zip_folder(fer_folder, tmp_path / "download.zip", wrapper=wrapper)
    from_zip, info = load_fer2013_with_info(archive)
    from_folder = load_fer2013(fer_folder)
    assert info["format"] == "image-folder-zip"
    assert info["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    for split in from_folder:
        assert from_zip[split].ids == from_folder[split].ids  # ids never carry the wrapper folder
        assert torch.equal(from_zip[split].images, from_folder[split].images)
        assert torch.equal(from_zip[split].labels, from_folder[split].labels)


def test_fer2013_csv_reads_rows_in_order(tiny_fer: Any, fer_csv: Path) -> None:
    splits, info = load_fer2013_with_info(fer_csv)
    assert_matches_source(splits, tiny_fer, {f"row{k}": k for k in range(len(tiny_fer.labels))})
    assert info["format"] == "fer2013-csv"
    assert "Usage" in info["split_note"]
    assert splits["val"].ids == tuple(f"row{k}" for k in tiny_fer.rows_of("PublicTest"))


def test_icml_csv_with_spaced_headers_and_other_column_order(tiny_fer: Any, icml_csv: Path) -> None:
    assert icml_csv.read_text().startswith("emotion, Usage, pixels")
    splits = load_fer2013(icml_csv)
    assert_matches_source(splits, tiny_fer, {f"row{k}": k for k in range(len(tiny_fer.labels))})


def test_kaggle_train_csv_gives_only_train(tiny_fer: Any, kaggle_train_csv: Path) -> None:
    splits, info = load_fer2013_with_info(kaggle_train_csv)
    assert set(splits) == {"train"}
    rows = tiny_fer.rows_of("Training")
    assert len(splits["train"]) == len(rows)
    assert splits["train"].ids == tuple(f"row{k}" for k in range(len(rows)))  # rows of train.csv itself
    assert torch.equal(splits["train"].images[:, 0], torch.from_numpy(tiny_fer.images[rows]))
    assert torch.equal(splits["train"].labels, torch.from_numpy(tiny_fer.labels[rows]))
    assert info["format"] == "kaggle-train-csv"
    assert info["split_note"].startswith("train only")


def test_folder_and_csv_give_identical_pixels(tiny_fer: Any, fer_folder: Path, fer_csv: Path) -> None:
    from_folder, from_csv = load_fer2013(fer_folder), load_fer2013(fer_csv)
    row_of_file = {name: k for k, name in enumerate(tiny_fer.file_names)}
    for split in ("train", "val", "test"):
        rows = [row_of_file[i] for i in from_folder[split].ids]
        order = torch.tensor([from_csv[split].ids.index(f"row{k}") for k in rows])
        assert torch.equal(from_folder[split].images, from_csv[split].images[order])
        assert torch.equal(from_folder[split].labels, from_csv[split].labels[order])


@pytest.mark.parametrize(
    ("fixture", "member", "expected_format"),
    [("fer_csv", "fer2013/fer2013.csv", "fer2013-csv-zip"), ("kaggle_train_csv", "train.csv", "kaggle-train-csv-zip")],
)
def test_zip_holding_the_csv_reads_like_the_csv(
    fixture: str, member: str, expected_format: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    table = request.getfixturevalue(fixture)
    archive = tmp_path / "archive.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.write(table, member)
        zipped.writestr("README.txt", "FER2013")
    splits, info = load_fer2013_with_info(archive)
    expected = load_fer2013(table)
    assert info["format"] == expected_format
    assert describe_source(archive) == SOURCE_FORMATS[expected_format]
    assert set(splits) == set(expected)
    for split in expected:
        assert splits[split].ids == expected[split].ids
        assert torch.equal(splits[split].images, expected[split].images)


def test_jpeg_pixels_equal_what_pil_decodes(fer_factory: Any, tmp_path: Path) -> None:
    data = fer_factory.make_tiny_fer(suffix=".jpg", seed=3)
    folder = fer_factory.write_image_folder(data, tmp_path / "jpegs", quality=75)
    splits = load_fer2013(folder)
    for imageset in splits.values():
        for i, image_id in enumerate(imageset.ids):
            expected = np.array(Image.open(folder / image_id).convert("L"))  # what the study's loader saw
            assert torch.equal(imageset.images[i, 0], torch.from_numpy(expected)), image_id


def test_unprefixed_test_folder_is_halved_into_val_and_test(fer_factory: Any, tmp_path: Path) -> None:
    data = fer_factory.make_tiny_fer({"Training": 1, "PublicTest": 3, "PrivateTest": 2})
    folder = fer_factory.write_image_folder(data, tmp_path / "plain")
    for path in sorted(folder.rglob("*.png")):  # other FER downloads: no split prefixes at all
        path.rename(path.with_name(path.name.split("_", 1)[1]))
    splits, info = load_fer2013_with_info(folder)
    assert "stratified half of test/" in info["split_note"]
    test_folder_ids = {p.relative_to(folder).as_posix() for p in (folder / "test").rglob("*.png")}
    assert set(splits["val"].ids) | set(splits["test"].ids) == test_folder_ids
    assert not set(splits["val"].ids) & set(splits["test"].ids)
    assert set(splits["val"].class_counts().values()) == {2}  # floor(5 / 2) of every class
    assert set(splits["test"].class_counts().values()) == {3}
    assert len(splits["train"]) == 7
    again = load_fer2013(folder, refresh=True)
    assert again["val"].ids == splits["val"].ids  # seeded: the same halves every time


def test_class_folder_names_are_case_insensitive_and_missing_classes_allowed(
    fer_factory: Any, tiny_fer: Any, tmp_path: Path
) -> None:
    folder = fer_factory.write_image_folder(tiny_fer, tmp_path / "cased")
    for split in ("train", "test"):
        (folder / split / "happy").rename(folder / split / "HAPPY")
        for image in (folder / split / "disgust").iterdir():
            image.unlink()
        (folder / split / "disgust").rmdir()
    splits = load_fer2013(folder)
    assert splits["train"].classes == FER2013_CLASSES
    counts = splits["train"].class_counts()
    assert counts["happy"] == 2
    assert counts["disgust"] == 0
    assert any(i.startswith("train/HAPPY/") for i in splits["train"].ids)


def test_operating_system_clutter_is_ignored_silently(fer_folder: Path, tmp_path: Path, recwarn: Any) -> None:
    (fer_folder / ".DS_Store").write_bytes(b"\0\1")
    (fer_folder / "train" / "angry" / ".DS_Store").write_bytes(b"\0\1")
    (fer_folder / "train" / "angry" / "Thumbs.db").write_bytes(b"\0\1")
    (fer_folder / "README.txt").write_text("FER2013")
    splits = load_fer2013(fer_folder)
    assert len(splits["train"]) == 14
    assert not [w for w in recwarn if "skipped" in str(w.message)]


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("fer_folder", "image-folder"),
        ("fer_zip", "image-folder-zip"),
        ("fer_csv", "fer2013-csv"),
        ("icml_csv", "fer2013-csv"),
        ("kaggle_train_csv", "kaggle-train-csv"),
    ],
)
def test_describe_source_names_each_form(fixture: str, expected: str, request: pytest.FixtureRequest) -> None:
    source = request.getfixturevalue(fixture)
    assert describe_source(source) == SOURCE_FORMATS[expected]
    assert load_fer2013_with_info(source)[1]["format"] == expected


REAL_TRAIN_COUNTS = {
    "angry": 3995,
    "disgust": 436,
    "fear": 4097,
    "happy": 7215,
    "neutral": 4965,
    "sad": 4830,
    "surprise": 3171,
}
REAL_TEST_FOLDER_COUNTS = {
    "angry": 958,
    "disgust": 111,
    "fear": 1024,
    "happy": 1774,
    "neutral": 1233,
    "sad": 1247,
    "surprise": 831,
}


@pytest.mark.realdata
def test_real_fer2013_zip(real_fer_zip: Path, fer_cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.set_num_threads(1)
    start = time.perf_counter()
    splits, info = load_fer2013_with_info(real_fer_zip, cache_dir=fer_cache_dir)
    first = time.perf_counter() - start
    start = time.perf_counter()
    cached, cached_info = load_fer2013_with_info(real_fer_zip, cache_dir=fer_cache_dir)
    second = time.perf_counter() - start
    with capsys.disabled():
        print(f"\nreal FER2013 zip: first read {first:.2f} s, cached load {second:.3f} s")

    assert info["sha256"] == "42d69dc3e774c3db9de49f5ba908e4a5d60d6c998d10211a410172f421ff73f3"
    assert info["counts"] == {"train": 28709, "val": 3589, "test": 3589}
    assert info["warnings"] == []
    assert splits["train"].class_counts() == REAL_TRAIN_COUNTS
    test_folder = splits["val"].concat(splits["test"])
    assert test_folder.class_counts() == REAL_TEST_FOLDER_COUNTS
    assert all(i.split("/")[2].startswith("PublicTest_") for i in splits["val"].ids)
    assert all(i.split("/")[2].startswith("PrivateTest_") for i in splits["test"].ids)

    predictions = Path(real_fer_zip).parents[1] / "reference" / "seed_baseline_predictions.csv.gz"
    if predictions.is_file():  # ids are the study's file names, so its predictions line up with our images
        with gzip.open(predictions, "rt") as file:
            study_files = {row["file"] for row in csv.DictReader(file)}
        assert study_files == set(test_folder.ids)

    assert cached_info["cached"]
    assert second < 1.5  # target 0.5 s; slack for a loaded 2-core machine
    for split in splits:
        assert cached[split].ids == splits[split].ids
        assert torch.equal(cached[split].images, splits[split].images)
        assert torch.equal(cached[split].labels, splits[split].labels)
