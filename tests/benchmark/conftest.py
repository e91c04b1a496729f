"""A tiny FER2013 zip in the image-folder layout, as users download it."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from occlubench.data.imageset import FER2013_CLASSES


def write_tiny_fer_zip(path: Path, per_class: tuple[int, int, int] = (8, 3, 3), seed: int = 0) -> Path:
    """train/<class>/Training_*.jpg and test/<class>/{PublicTest,PrivateTest}_*.jpg, 48x48 grayscale JPEGs."""
    rng = np.random.default_rng(seed)
    n_train, n_public, n_private = per_class
    with zipfile.ZipFile(path, "w") as archive:
        k = 0
        for label, name in enumerate(FER2013_CLASSES):
            for prefix, folder, count in (
                ("Training", "train", n_train),
                ("PublicTest", "test", n_public),
                ("PrivateTest", "test", n_private),
            ):
                for _ in range(count):
                    pixels = rng.integers(0, 60, (48, 48), dtype=np.uint8)
                    pixels[6 * label : 6 * label + 10, 10:38] = 230  # a class cue
                    buffer = io.BytesIO()
                    Image.fromarray(pixels, mode="L").save(buffer, format="JPEG", quality=95)
                    archive.writestr(f"{folder}/{name}/{prefix}_{k:05d}.jpg", buffer.getvalue())
                    k += 1
    return path


@pytest.fixture(scope="session")
def tiny_fer_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_fer_zip(tmp_path_factory.mktemp("fer") / "fer2013-tiny.zip")
