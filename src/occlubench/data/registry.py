"""Dataset registry: a name -> loader that returns the splits of a dataset and what was read.

Loaders take the ``--data`` source (or None for generated datasets), the run's seed and the run's
``dataset_options`` (the preset's, then ``--dataset-option``), and return a ``LoadedDataset`` whose ``info`` is
recorded in ``results.json``. Built in: ``fer2013``, ``imagefolder`` and ``synthetic_faces``; other packages add
readers with :func:`register_dataset` or through the entry-point group ``occlubench.datasets``. Which reader a run
uses: :func:`occlubench.data.detect.choose_dataset`.

Examples:
    >>> @register_dataset("my_faces")  # doctest: +SKIP
    ... def my_faces(source, *, seed, options):
    ...     \"\"\"My lab's faces: a folder of class folders, read at 64x64 RGB.\"\"\"
    ...     splits, info = load_image_folder_with_info(source, {"size": 64, "channels": 3})
    ...     return LoadedDataset(splits, info)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from occlubench.data.imageset import ImageSet
from occlubench.errors import ConfigError, DataError
from occlubench.registry import Registry


@dataclass(frozen=True)
class LoadedDataset:
    """The splits of a dataset (``train``, ``val``, ``test``) and a JSON-able description of the source."""

    splits: Mapping[str, ImageSet]
    info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def classes(self) -> tuple[str, ...]:
        return next(iter(self.splits.values())).classes


class DatasetLoader(Protocol):
    def __call__(self, source: Path | None, *, seed: int, options: Mapping[str, Any]) -> LoadedDataset: ...


DATASETS: Registry[DatasetLoader] = Registry("dataset", "occlubench.datasets")


def register_dataset(name: str, description: str | None = None) -> Callable[[DatasetLoader], DatasetLoader]:
    """Decorator: register a dataset loader under ``name``."""
    return DATASETS.decorator(name, description)


def list_datasets() -> list[str]:
    """Names of the registered datasets."""
    return DATASETS.names()


def load_dataset(
    name: str, source: str | Path | None, *, seed: int = 0, options: Mapping[str, Any] | None = None
) -> LoadedDataset:
    """Load dataset ``name`` from ``source`` and check it has what a benchmark needs (train, val, test)."""
    loader = DATASETS.get(name)
    loaded = loader(Path(source).expanduser() if source is not None else None, seed=seed, options=options or {})
    missing = [s for s in ("train", "val", "test") if s not in loaded.splits or len(loaded.splits[s]) == 0]
    if missing:
        raise DataError(f"the dataset has no {' / '.join(missing)} images", "a benchmark needs train, val and test")
    return loaded


@register_dataset("fer2013")
def _fer2013(source: Path | None, *, seed: int, options: Mapping[str, Any]) -> LoadedDataset:
    """FER2013: image-folder layout (folder or zip), fer2013.csv / icml_face_data.csv, or Kaggle's train.csv."""
    if source is None:
        raise ConfigError("this benchmark needs --data PATH to FER2013 (its zip, folder or CSV)")
    from occlubench.data.fer2013 import load_fer2013_with_info

    splits, info = load_fer2013_with_info(source)
    if "test" not in splits:
        raise DataError(
            f"{source} holds training images only (Kaggle's train.csv has no labels for its test images)",
            "use the image-folder zip, fer2013.csv or icml_face_data.csv",
        )
    return LoadedDataset(splits, info)


@register_dataset("imagefolder")
def _imagefolder(source: Path | None, *, seed: int, options: Mapping[str, Any]) -> LoadedDataset:
    """Your images: <root>/<class>/<image> or <root>/{train,val,test}/<class>/<image>, folder or zip, any size."""
    if source is None:
        raise ConfigError("the imagefolder dataset needs --data PATH (a folder or zip of class folders)")
    from occlubench.data.imagefolder import load_image_folder_with_info

    # The split has its own split_seed option, not the run's seed: every seed is evaluated on the same test images.
    splits, info = load_image_folder_with_info(source, options)
    return LoadedDataset(splits, info)


@register_dataset("synthetic_faces")
def _synthetic(source: Path | None, *, seed: int, options: Mapping[str, Any]) -> LoadedDataset:
    """Procedural 48x48 faces whose expression cues sit in known regions (needs no download)."""
    from occlubench.data.synthetic import synthetic_faces

    size = int(options.get("size", 48))
    counts = {
        "train": int(options.get("train_per_class", 300)),
        "val": int(options.get("val_per_class", 60)),
        "test": int(options.get("test_per_class", 100)),
    }
    # Disjoint seeds per split: the three splits never share a face.
    splits = {
        split: synthetic_faces(n, seed=seed * 3 + offset + 1_000, size=size)
        for offset, (split, n) in enumerate(counts.items())
    }
    info = {"format": "synthetic faces", "split_note": f"generated per split, {counts} per class", "size": size}
    return LoadedDataset(splits, info)
