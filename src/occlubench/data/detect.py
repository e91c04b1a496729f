"""Which built-in reader a ``--data`` source needs, told from its content: FER2013 or a generic image folder.

Only names are looked at (a folder's listing, a zip's directory, a file's first bytes); nothing is decoded, so
detection costs milliseconds even on the 35,887-file FER2013 zip. The rules, in order:

* a CSV whose header has ``emotion`` / ``pixels``, or a zip holding ``fer2013.csv``, ``icml_face_data.csv`` or
  ``train.csv`` and no image folders: ``fer2013``;
* train/ and test/ folders (no val/) whose files carry FER2013's ``Training_`` / ``PublicTest_`` / ``PrivateTest_``
  prefixes, or whose class folders all carry FER2013 class names: ``fer2013``;
* any other folder or zip of class folders holding images (see :mod:`occlubench.data.imagefolder`): ``imagefolder``;
* anything else: undecided, and the benchmark's own reader reports what is wrong with the source.

``--dataset NAME`` skips detection.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from pathlib import Path

from occlubench.data.imagefolder import SPLIT_FOLDERS, locate_layout
from occlubench.data.imageset import FER2013_CLASSES
from occlubench.data.sources import FolderTree, is_junk, read_csv_header

DETECTED_DATASETS = frozenset({"fer2013", "imagefolder", "synthetic_faces"})
"""Benchmarks whose spec names one of these readers get the reader detected from ``--data``; a plugin dataset named
by a spec reads its own sources and is never second-guessed."""

FALLBACK_DATASET = "fer2013"
"""The reader used when a benchmark generates its data but ``--data`` is given and its content is undecided."""

_FER_PREFIXES = ("training_", "publictest_", "privatetest_")
_FER_CSV_MEMBERS = frozenset({"fer2013.csv", "icml_face_data.csv", "train.csv"})
_FER_CLASSES = frozenset(FER2013_CLASSES)
_HEAD_BYTES = 1 << 16


def detect_dataset(source: str | os.PathLike[str]) -> str | None:
    """The built-in reader for a source: ``"fer2013"``, ``"imagefolder"``, or None when the content does not say.

    Never raises for a bad source: an unreadable or damaged one is undecided, and the reader chosen then says what is
    wrong with it.

    Examples:
        >>> detect_dataset("fer2013.zip")  # doctest: +SKIP
        'fer2013'
        >>> detect_dataset("my_faces/")  # doctest: +SKIP
        'imagefolder'
    """
    path = Path(source).expanduser()
    try:
        if path.is_dir():
            return detect_from_paths(FolderTree(path).paths)
        with path.open("rb") as file:
            head = file.read(_HEAD_BYTES)
        if head.startswith(b"PK") or path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:  # reads the central directory only: nothing is extracted
                names = [name.replace("\\", "/") for name in archive.namelist()]
            return detect_from_paths([name for name in names if not name.endswith("/") and not is_junk(name)])
    # A damaged zip raises a zoo of types (BadZipFile, ValueError, struct.error, ...); undecided, like any bad source.
    except Exception:
        return None
    header = read_csv_header(head)
    if header is not None and {"emotion", "pixels"} & set(header):
        return "fer2013"
    return None


def detect_from_paths(paths: Sequence[str]) -> str | None:
    """The reader for a tree of relative POSIX file paths (a folder's or zip's files), by the rules above."""
    located = locate_layout(paths)
    if located is None:
        csv_members = any(path.rsplit("/", 1)[-1].lower() in _FER_CSV_MEMBERS for path in paths)
        return "fer2013" if csv_members else None
    root, kind = located
    if kind == "splits" and _is_fer_layout([path[len(root) :] for path in paths if path.startswith(root)]):
        return "fer2013"
    return "imagefolder"


def _is_fer_layout(relative: Sequence[str]) -> bool:
    """FER2013's layout: train/ and test/ only, its file-name prefixes or only its class names as class folders."""
    split_folders = {path.split("/", 1)[0].lower() for path in relative if "/" in path}
    if {SPLIT_FOLDERS.get(folder) for folder in split_folders} & {"val"}:
        return False  # FER2013 has no val/ folder: a val/ says the layout is someone else's
    in_splits = [path.split("/") for path in relative if path.split("/", 1)[0].lower() in ("train", "test")]
    if any(parts[-1].lower().startswith(_FER_PREFIXES) for parts in in_splits):
        return True
    class_folders = {parts[1].lower() for parts in in_splits if len(parts) > 2}
    return bool(class_folders) and class_folders <= _FER_CLASSES


def choose_dataset(default: str, source: str | os.PathLike[str] | None, forced: str | None = None) -> str:
    """The dataset reader a run uses.

    Args:
        default: the benchmark spec's dataset.
        source: ``--data``, or None.
        forced: ``--dataset NAME``, which always wins.

    Returns:
        ``forced`` if given; else ``default`` without a source or when ``default`` is not a built-in reader; else the
        detected reader, falling back to ``default`` (or FER2013's reader, for a generated dataset) when undecided.

    Raises:
        UnknownNameError: ``forced`` is not a registered dataset.
    """
    from occlubench.data.registry import DATASETS

    if forced is not None:
        DATASETS.get(forced)  # an unknown name fails here, with close matches
        return forced
    if source is None or default not in DETECTED_DATASETS:
        return default
    detected = detect_dataset(source)
    if detected is not None:
        return detected
    return default if default != "synthetic_faces" else FALLBACK_DATASET
