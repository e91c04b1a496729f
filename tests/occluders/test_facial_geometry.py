"""The facial occluders' default geometry lands on the features of real FER2013 faces (their mean face)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from occlubench.occluders import create_occluder

FER2013_ZIP = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "fer2013.zip"


@pytest.fixture(scope="module")
def mean_face() -> torch.Tensor:
    """The mean of 400 training faces, (48, 48) in [0, 1]."""
    if not FER2013_ZIP.is_file():
        pytest.skip(f"FER2013 zip not found at {FER2013_ZIP}")
    from PIL import Image

    with zipfile.ZipFile(FER2013_ZIP) as archive:
        names = sorted(n for n in archive.namelist() if n.startswith("train/") and n.endswith(".jpg"))[::72][:400]
        faces = [np.asarray(Image.open(io.BytesIO(archive.read(n))).convert("L"), dtype=np.float32) for n in names]
    return torch.from_numpy(np.mean(faces, axis=0) / 255.0)


def hidden(name: str) -> torch.Tensor:
    return create_occluder(name).mask(torch.zeros(1, 1, 48, 48))[0, 0]


@pytest.mark.realdata
def test_bands_cover_eyes_nose_and_mouth(mean_face: torch.Tensor) -> None:
    centre = mean_face[:, 16:32].mean(dim=1)  # brightness per row over the central columns
    eyes_row = 10 + int(centre[10:24].argmin())  # the dark band of the eyes in the upper half
    nose_row = 20 + int(centre[20:30].argmax())  # the bright nose tip
    mouth_row = 32 + int(centre[32:46].argmin())  # the dark line of the mouth
    assert hidden("eyes_band")[eyes_row].all()
    assert hidden("nose_band")[nose_row].all()
    assert hidden("mouth_band")[mouth_row].all()
    for row, band in ((eyes_row, "eyes_band"), (nose_row, "nose_band"), (mouth_row, "mouth_band")):
        rows = hidden(band).any(dim=1).nonzero().flatten()
        assert rows[0] + 2 <= row <= rows[-1] - 2, f"{band} rows {rows.tolist()} leave a margin around row {row}"


@pytest.mark.realdata
def test_sunglasses_cover_the_eyes_and_the_face_mask_the_mouth(mean_face: torch.Tensor) -> None:
    eye_rows = mean_face[14:21]
    # Search the face's columns only: hair and background make the image borders darker than the eyes.
    left_eye = 8 + int(eye_rows[:, 8:22].mean(dim=0).argmin())
    right_eye = 26 + int(eye_rows[:, 26:40].mean(dim=0).argmin())
    eye_row = 14 + int(mean_face[14:21, left_eye].argmin())
    lenses = hidden("sunglasses")
    assert lenses[eye_row, left_eye]
    assert lenses[eye_row, right_eye]
    mouth_row = 32 + int(mean_face[32:46, 16:32].mean(dim=1).argmin())
    mask = hidden("face_mask")
    assert mask[mouth_row, 14:34].all(), "the whole mouth is under the mask"
    assert not mask[eye_row].any(), "the eyes stay visible above the mask"
