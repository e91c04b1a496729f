"""Tiny FER2013 datasets in every form users have: image folders (PNG or JPEG), zips of them, and the three CSVs.

All forms encode the same images: row ``k`` of the CSVs is ``file_names[k]`` in the folders, so readers can be
checked pixel for pixel against each other and against the generating arrays.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from occlubench.data.cache import CACHE_ENV
from occlubench.data.imageset import FER2013_CLASSES

USAGE_SPLIT = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"


@dataclass(frozen=True)
class TinyFer:
    """A tiny FER2013: ``images[k]`` has ``labels[k]``, ``usages[k]`` and lives at ``file_names[k]`` in folders."""

    images: np.ndarray  # uint8 (N, 48, 48)
    labels: np.ndarray  # int64 (N,)
    usages: tuple[str, ...]  # Training / PublicTest / PrivateTest
    file_names: tuple[str, ...]  # "train/angry/Training_0.png"

    def rows_of(self, usage: str) -> list[int]:
        return [k for k, u in enumerate(self.usages) if u == usage]

    def rows_of_split(self, split: str) -> list[int]:
        return [k for k, u in enumerate(self.usages) if USAGE_SPLIT[u] == split]


def make_tiny_fer(per_class: dict[str, int] | None = None, seed: int = 0, suffix: str = ".png") -> TinyFer:
    """Random 48x48 images, ``per_class[usage]`` of every class and usage (default 2 / 1 / 1), rows interleaved."""
    per_class = per_class or {"Training": 2, "PublicTest": 1, "PrivateTest": 1}
    rng = np.random.default_rng(seed)
    labels, usages = [], []
    for usage, count in per_class.items():
        for label in range(len(FER2013_CLASSES)):
            labels += [label] * count
            usages += [usage] * count
    order = rng.permutation(len(labels))  # CSV rows not grouped by split or class, as in the real file
    labels = [labels[i] for i in order]
    usages = [usages[i] for i in order]
    names = []
    for k, (label, usage) in enumerate(zip(labels, usages, strict=True)):
        folder = "train" if usage == "Training" else "test"
        names.append(f"{folder}/{FER2013_CLASSES[label]}/{usage}_{1000 + k}{suffix}")
    images = rng.integers(0, 256, size=(len(labels), 48, 48), dtype=np.uint8)
    return TinyFer(images, np.array(labels, dtype=np.int64), tuple(usages), tuple(names))


def write_image_folder(data: TinyFer, root: Path, *, quality: int = 95) -> Path:
    """Write every image at its file name under ``root`` (PNG lossless; JPEG at ``quality``)."""
    for image, name in zip(data.images, data.file_names, strict=True):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".jpg":
            Image.fromarray(image, mode="L").save(path, quality=quality)
        else:
            Image.fromarray(image, mode="L").save(path)
    return root


def zip_folder(folder: Path, archive: Path, *, wrapper: str | None = None, stored: bool = False) -> Path:
    """Zip a folder's files (optionally under one wrapper folder), with directory entries as real zips have."""
    compression = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(archive, "w", compression) as zipped:
        for path in sorted(folder.rglob("*")):
            name = path.relative_to(folder).as_posix()
            if wrapper:
                name = f"{wrapper}/{name}"
            if path.is_dir():
                zipped.writestr(name + "/", b"")
            else:
                zipped.write(path, name)
    return archive


def write_fer_csv(data: TinyFer, path: Path, *, icml: bool = False, kaggle_train: bool = False) -> Path:
    """``fer2013.csv`` (emotion,pixels,Usage), ``icml_face_data.csv`` (emotion, Usage, pixels) or Kaggle train.csv."""
    pixels = [" ".join(map(str, image.reshape(-1).tolist())) for image in data.images]
    lines = []
    if kaggle_train:
        lines.append("emotion,pixels")
        lines += [f"{data.labels[k]},{pixels[k]}" for k in data.rows_of("Training")]
    elif icml:
        lines.append("emotion, Usage, pixels")
        lines += [f"{label}, {usage}, {p}" for label, usage, p in zip(data.labels, data.usages, pixels, strict=True)]
    else:
        lines.append("emotion,pixels,Usage")
        lines += [f'{label},"{p}",{usage}' for label, usage, p in zip(data.labels, data.usages, pixels, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class FerFactory:
    """The generators above, handed to tests as the ``fer_factory`` fixture (test modules cannot import conftest)."""

    make_tiny_fer = staticmethod(make_tiny_fer)
    write_image_folder = staticmethod(write_image_folder)
    zip_folder = staticmethod(zip_folder)
    write_fer_csv = staticmethod(write_fer_csv)


@pytest.fixture
def fer_factory() -> type[FerFactory]:
    return FerFactory


@pytest.fixture(autouse=True)
def fer_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh decode cache per test, also as $OCCLUBENCH_CACHE: tests never touch the user's home cache."""
    directory = tmp_path / "occlubench-cache"
    monkeypatch.setenv(CACHE_ENV, str(directory))
    return directory


@pytest.fixture(scope="session")
def tiny_fer() -> TinyFer:
    return make_tiny_fer()


@pytest.fixture
def fer_folder(tiny_fer: TinyFer, tmp_path: Path) -> Path:
    return write_image_folder(tiny_fer, tmp_path / "fer2013")


@pytest.fixture
def fer_zip(fer_folder: Path, tmp_path: Path) -> Path:
    return zip_folder(fer_folder, tmp_path / "fer2013.zip")


@pytest.fixture
def fer_csv(tiny_fer: TinyFer, tmp_path: Path) -> Path:
    return write_fer_csv(tiny_fer, tmp_path / "fer2013.csv")


@pytest.fixture
def icml_csv(tiny_fer: TinyFer, tmp_path: Path) -> Path:
    return write_fer_csv(tiny_fer, tmp_path / "icml_face_data.csv", icml=True)


@pytest.fixture
def kaggle_train_csv(tiny_fer: TinyFer, tmp_path: Path) -> Path:
    return write_fer_csv(tiny_fer, tmp_path / "train.csv", kaggle_train=True)


@pytest.fixture
def real_fer_zip() -> Path:
    """The real FER2013 zip in ../shared/data, or skip."""
    path = SHARED / "data" / "fer2013.zip"
    if not path.is_file():
        pytest.skip(f"real FER2013 zip not found at {path}")
    return path
