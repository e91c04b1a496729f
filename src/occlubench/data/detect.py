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
import struct
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
_EOCD_SIZE = 22 + 0xFFFF  # the end-of-central-directory record and the longest comment after it


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
            names = [name.replace("\\", "/") for name in zip_member_names(path)]
            return detect_from_paths([name for name in names if not name.endswith("/") and not _maybe_junk(name)])
    # A damaged zip raises a zoo of types (BadZipFile, ValueError, struct.error, ...); undecided, like any bad source.
    except Exception:
        return None
    header = read_csv_header(head)
    if header is not None and {"emotion", "pixels"} & set(header):
        return "fer2013"
    return None


def zip_member_names(path: Path) -> list[str]:
    """The member names of a zip, from its central directory; nothing is extracted or decompressed.

    A plain archive's directory is parsed directly (10x faster than ``zipfile`` on FER2013's 35,903 members, which
    matters because every run detects its source); anything unusual (zip64, data before the archive, a comment that
    hides the end record) is left to ``zipfile``.
    """
    with path.open("rb") as file:
        size = file.seek(0, os.SEEK_END)
        tail_size = min(size, _EOCD_SIZE)
        file.seek(size - tail_size)
        tail = file.read(tail_size)
        end = tail.rfind(b"PK\x05\x06")
        names: list[str] = []
        if end >= 0 and end + 22 <= len(tail):
            count, directory_size, directory_offset = struct.unpack_from("<HII", tail, end + 10)
            if directory_offset + directory_size == size - tail_size + end:  # no zip64, nothing prepended
                file.seek(directory_offset)
                directory = file.read(directory_size)
                position = 0
                while position + 46 <= len(directory) and directory.startswith(b"PK\x01\x02", position):
                    flags = struct.unpack_from("<H", directory, position + 8)[0]
                    name_size, extra_size, comment_size = struct.unpack_from("<HHH", directory, position + 28)
                    raw = directory[position + 46 : position + 46 + name_size]
                    codec = "ascii" if raw.isascii() else "utf-8" if flags & 0x800 else "cp437"
                    names.append(raw.decode(codec, "replace"))
                    position += 46 + name_size + extra_size + comment_size
                if len(names) == count and position == len(directory):
                    return names
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def _maybe_junk(path: str) -> bool:
    """:func:`is_junk`, with a quick test first: almost no path is clutter."""
    return (path.startswith(".") or "/." in path or "__MACOSX" in path or ".ini" in path or ".db" in path) and (
        is_junk(path)
    )


def detect_from_paths(paths: Sequence[str]) -> str | None:
    """The reader for a tree of relative POSIX file paths (a folder's or zip's files), by the rules above."""
    located = locate_layout(paths)
    if located is None:
        csv_members = any(path.rsplit("/", 1)[-1].lower() in _FER_CSV_MEMBERS for path in paths)
        return "fer2013" if csv_members else None
    root, kind = located
    relative = [path[len(root) :] for path in paths if path.startswith(root)] if root else paths
    if kind == "splits" and _is_fer_layout(relative):
        return "fer2013"
    return "imagefolder"


def _is_fer_layout(relative: Sequence[str]) -> bool:
    """FER2013's layout: train/ and test/ only, its file-name prefixes or only its class names as class folders."""
    class_folders: set[str] = set()
    prefixed = False
    for path in relative:
        top, _, rest = path.partition("/")
        top = top.lower()
        if SPLIT_FOLDERS.get(top) == "val":
            return False  # FER2013 has no val/ folder: a val/ says the layout is someone else's
        if top in ("train", "test") and "/" in rest:
            class_folder, _, below = rest.partition("/")
            class_folders.add(class_folder.lower())
            prefixed = prefixed or below.rpartition("/")[2].lower().startswith(_FER_PREFIXES)
    return prefixed or (bool(class_folders) and class_folders <= _FER_CLASSES)


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
