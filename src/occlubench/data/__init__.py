"""Datasets: readers (FER2013 folder/zip/CSV, synthetic faces) that produce ImageSets, and the decode cache."""

from __future__ import annotations

from occlubench.data.imageset import FER2013_CLASSES, ImageSet

__all__ = ["FER2013_CLASSES", "ImageSet"]

from occlubench.data.synthetic import SYNTHETIC_CUES, synthetic_faces

__all__ += ["SYNTHETIC_CUES", "synthetic_faces"]
