"""The dataset registry and reader detection: names, plugins, and which reader a ``--data`` source gets."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from occlubench.data import registry as dataset_registry
from occlubench.data.detect import choose_dataset, detect_dataset, detect_from_paths, zip_member_names
from occlubench.data.imageset import FER2013_CLASSES
from occlubench.data.registry import (
    DATASETS,
    LoadedDataset,
    list_datasets,
    load_dataset,
    register_dataset,
)
from occlubench.errors import ConfigError, DataError, UnknownNameError


def write_class_folders(
    root: Path, classes: tuple[str, ...], splits: tuple[str, ...] = ("",), per_class: int = 1
) -> Path:
    for split in splits:
        for name in classes:
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                Image.new("L", (8, 8), 40 * i).save(folder / f"{i}.png")
    return root


@pytest.fixture
def toy_loader() -> Iterator[str]:
    """A plugin-style dataset registered for one test."""
    seen: dict[str, Any] = {}

    @register_dataset("toy_faces", "Toy faces for a test")
    def toy(source: Path | None, *, seed: int, options: Mapping[str, Any]) -> LoadedDataset:
        from occlubench.data.synthetic import synthetic_faces

        seen.update(source=source, seed=seed, options=dict(options))
        splits = {split: synthetic_faces(2, seed=k, size=32) for k, split in enumerate(("train", "val", "test"))}
        return LoadedDataset(splits, {"format": "toy", "seen": seen})

    yield "toy_faces"
    DATASETS.unregister("toy_faces")


# --- the registry ---------------------------------------------------------------------------------------------------


def test_builtin_datasets_are_registered_with_descriptions() -> None:
    assert {"fer2013", "imagefolder", "synthetic_faces"} <= set(list_datasets())
    for name in ("fer2013", "imagefolder", "synthetic_faces"):
        description = DATASETS.entry(name).description
        assert description
        assert "\n" not in description
    assert DATASETS.entry_point_group == "occlubench.datasets"


def test_unknown_dataset_suggests_close_names() -> None:
    with pytest.raises(UnknownNameError, match="unknown dataset 'imagefoldr' \\(did you mean 'imagefolder'\\?\\)"):
        load_dataset("imagefoldr", None)


def test_register_dataset_and_load_it(toy_loader: str, tmp_path: Path) -> None:
    loaded = load_dataset(toy_loader, tmp_path, seed=3, options={"size": 32})
    assert set(loaded.splits) == {"train", "val", "test"}
    assert loaded.info["seen"] == {"source": tmp_path, "seed": 3, "options": {"size": 32}}
    with pytest.raises(Exception, match="toy_faces"):  # a duplicate is an error, never a silent overwrite
        register_dataset(toy_loader)(lambda source, *, seed, options: loaded)


def test_entry_point_plugins_are_loaded_on_first_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    def plugin(source: Path | None, *, seed: int, options: Mapping[str, Any]) -> LoadedDataset:
        """A dataset from another package."""
        raise DataError("plugin called")

    class EntryPoint:
        name, value = "plugged_faces", "other_package:plugin"

        def load(self) -> Any:
            return plugin

    def entry_points(group: str) -> list[EntryPoint]:
        return [EntryPoint()] if group == "occlubench.datasets" else []

    monkeypatch.setattr("occlubench.registry.metadata.entry_points", entry_points)
    monkeypatch.setattr(DATASETS, "_plugins_loaded", False)
    try:
        with pytest.raises(DataError, match="plugin called"):
            load_dataset("plugged_faces", None)
        assert "plugged_faces" in list_datasets()
    finally:
        DATASETS.unregister("plugged_faces")


def test_imagefolder_needs_data() -> None:
    with pytest.raises(ConfigError, match="the imagefolder dataset needs --data PATH"):
        load_dataset("imagefolder", None)


# --- detection ------------------------------------------------------------------------------------------------------


def test_fer2013_sources_are_detected_as_fer2013(
    fer_folder: Path, fer_zip: Path, fer_csv: Path, icml_csv: Path, kaggle_train_csv: Path, tmp_path: Path
) -> None:
    for source in (fer_folder, fer_zip, fer_csv, icml_csv, kaggle_train_csv):
        assert detect_dataset(source) == "fer2013", source
    csv_zip = tmp_path / "fer2013-csv.zip"
    with zipfile.ZipFile(csv_zip, "w") as zipped:
        zipped.write(fer_csv, "fer2013/fer2013.csv")
    assert detect_dataset(csv_zip) == "fer2013"


def test_fer2013_layout_rules() -> None:
    prefixed = ["train/Joy/Training_1.png", "test/happy/PrivateTest_2.png"]  # a misnamed class: still FER2013
    assert detect_from_paths(prefixed) == "fer2013"
    unprefixed = [f"{split}/{name}/{i}.jpg" for split in ("train", "test") for name in FER2013_CLASSES for i in (1, 2)]
    assert detect_from_paths(unprefixed) == "fer2013", "FER2013's class names and layout, renamed files"
    assert detect_from_paths(unprefixed[:4]) == "fer2013", "a subset of its classes"
    with_val = [*unprefixed, "val/happy/3.jpg"]
    assert detect_from_paths(with_val) == "imagefolder", "FER2013 has no val/ folder"
    pooled = [f"{name}/1.jpg" for name in FER2013_CLASSES]
    assert detect_from_paths(pooled) == "imagefolder", "FER2013's classes, but a pool"
    assert detect_from_paths(["train/cat/1.jpg", "test/dog/2.jpg"]) == "imagefolder"


@pytest.mark.parametrize("form", ["folder", "zip"])
@pytest.mark.parametrize("splits", [("",), ("train", "test")])
def test_class_folders_are_detected_as_imagefolder(tmp_path: Path, form: str, splits: tuple[str, ...]) -> None:
    source = write_class_folders(tmp_path / "pets", ("cat", "dog"), splits)
    if form == "zip":
        archive = tmp_path / "pets.zip"
        with zipfile.ZipFile(archive, "w") as zipped:
            for path in sorted(source.rglob("*.png")):
                zipped.write(path, "pets/" + path.relative_to(source).as_posix())
        source = archive
    assert detect_dataset(source) == "imagefolder"


@pytest.mark.parametrize("form", ["plain", "commented", "prepended", "stored"])
def test_zip_member_names_match_zipfile(tmp_path: Path, form: str) -> None:
    archive = tmp_path / "names.zip"
    method = zipfile.ZIP_STORED if form == "stored" else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(archive, "w", method) as zipped:
        for name in ("faces/", "faces/calm/a.png", "faces/ça va/é.png", "faces/tense/b.jpg"):
            zipped.writestr(name, b"" if name.endswith("/") else b"pixels")
        if form == "commented":
            zipped.comment = b"a zip comment after the end record"
    if form == "prepended":  # a self-extracting stub before the archive: offsets no longer match, zipfile reads it
        archive.write_bytes(b"#!/bin/sh\nexit 0\n" + archive.read_bytes())
    with zipfile.ZipFile(archive) as zipped:
        expected = zipped.namelist()
    assert zip_member_names(archive) == expected
    assert "faces/ça va/é.png" in expected


def test_undecided_sources(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "page.zip").write_text("<html>not a zip</html>")
    (tmp_path / "table.csv").write_text("label,path\n1,a.png\n")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0")
    for name in ("empty", "page.zip", "table.csv", "photo.jpg", "missing"):
        assert detect_dataset(tmp_path / name) is None, name


def test_choose_dataset(tmp_path: Path, fer_zip: Path, toy_loader: str) -> None:
    pets = write_class_folders(tmp_path / "pets", ("cat", "dog"))
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00" * 10)
    assert choose_dataset("fer2013", None) == "fer2013"
    assert choose_dataset("synthetic_faces", None) == "synthetic_faces"
    assert choose_dataset("fer2013", fer_zip) == "fer2013"
    assert choose_dataset("fer2013", pets) == "imagefolder"
    assert choose_dataset("synthetic_faces", pets) == "imagefolder", "a generated benchmark on your own data"
    assert choose_dataset("fer2013", garbage) == "fer2013", "undecided: the spec's reader says what is wrong"
    assert choose_dataset("synthetic_faces", garbage) == "fer2013"
    assert choose_dataset("fer2013", pets, "fer2013") == "fer2013", "--dataset wins"
    assert choose_dataset("fer2013", fer_zip, "imagefolder") == "imagefolder"
    assert choose_dataset(toy_loader, pets) == toy_loader, "a plugin dataset named by a spec is never overridden"
    with pytest.raises(UnknownNameError, match="unknown dataset 'fer2031'"):
        choose_dataset("fer2013", fer_zip, "fer2031")


def test_a_fer2013_layout_read_as_imagefolder_when_forced(fer_folder: Path) -> None:
    loaded = load_dataset("imagefolder", fer_folder)
    assert loaded.classes == FER2013_CLASSES  # sorted folder names are FER2013's order
    assert loaded.info["layout"] == "splits"
    assert "val = 0.1 of train/" in loaded.info["split_note"]


@pytest.mark.realdata
def test_the_real_fer2013_zip_is_detected_as_fer2013() -> None:
    real = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "fer2013.zip"
    if not real.is_file():
        pytest.skip(f"real FER2013 zip not found at {real}")
    assert detect_dataset(real) == "fer2013"


def test_registry_module_documents_the_plugin_group() -> None:
    assert "occlubench.datasets" in (dataset_registry.__doc__ or "")
