"""Datasets: readers (FER2013 folder/zip/CSV, synthetic faces) that produce ImageSets, and the decode cache."""

from __future__ import annotations

from occlubench.data.imageset import FER2013_CLASSES, ImageSet

__all__ = ["FER2013_CLASSES", "ImageSet"]

from occlubench.data.synthetic import SYNTHETIC_CUES, synthetic_faces

__all__ += ["SYNTHETIC_CUES", "synthetic_faces"]

from occlubench.data.cache import CacheWarning, default_cache_dir  # noqa: E402 (appended export block)
from occlubench.data.fer2013 import (  # noqa: E402
    SOURCE_FORMATS,
    DataWarning,
    describe_source,
    load_fer2013,
    load_fer2013_with_info,
)

__all__ += [
    "SOURCE_FORMATS",
    "CacheWarning",
    "DataWarning",
    "default_cache_dir",
    "describe_source",
    "load_fer2013",
    "load_fer2013_with_info",
]
