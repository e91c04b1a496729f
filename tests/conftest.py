"""Shared test settings: small thread count, a private decode cache, paths to the shared reference data."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FER2013_ZIP = SHARED / "data" / "fer2013.zip"

torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the user's ~/.cache/occlubench from a test."""
    monkeypatch.setenv("OCCLUBENCH_CACHE", str(tmp_path_factory.getbasetemp() / "occlubench-cache"))
