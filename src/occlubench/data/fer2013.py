"""FER2013 readers: the image-folder layout (as a folder or a zip), the original CSV and Kaggle's train.csv.

Every form becomes the same ``{"train", "val", "test"} -> ImageSet`` dict (uint8 ``(N, 1, 48, 48)``, labels in
:data:`~occlubench.data.imageset.FER2013_CLASSES` order), decoded once and then served from the decode cache.

Splits:
    * Image folders: the file-name prefix decides, ``Training_*`` -> train, ``PublicTest_*`` -> val,
      ``PrivateTest_*`` -> test (the official FER2013 split). Unprefixed files in ``train/`` are train; when ``test/``
      holds no prefixed files at all (other FER downloads), val is a seeded, class-stratified half of ``test/`` and
      test is the other half. ``info["split_note"]`` says which rule applied.
    * CSVs: the ``Usage`` column (Training / PublicTest / PrivateTest); Kaggle's train.csv has no such column and
      yields only "train". Image ids are ``row<k>``, k the 0-based data row.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

from occlubench.data.cache import DecodeCache
from occlubench.data.imageset import FER2013_CLASSES, ImageSet
from occlubench.data.sources import (
    MAX_TABLE_BYTES,
    FileTree,
    FolderTree,
    ZipTree,
    parse_pixel_rows,
    read_csv_header,
    read_csv_table,
    resolve_source,
)
from occlubench.errors import DataError

SOURCE_FORMATS: dict[str, str] = {
    "image-folder": "FER2013 image folder",
    "image-folder-zip": "FER2013 image-folder zip",
    "fer2013-csv": "FER2013 CSV (emotion, pixels, Usage)",
    "kaggle-train-csv": "Kaggle FER2013 train.csv (emotion, pixels; train split only)",
    "fer2013-csv-zip": "zip holding a FER2013 CSV (emotion, pixels, Usage)",
    "kaggle-train-csv-zip": "zip holding Kaggle's FER2013 train.csv (train split only)",
}
"""The source forms :func:`load_fer2013` reads, by the id ``info["format"]`` reports, with a one-line description.

* ``image-folder``: ``train/<class>/*.jpg`` and ``test/<class>/*.jpg`` (any image type, any case of class names).
* ``image-folder-zip``: the same in a ``.zip``, at its root or inside one wrapper folder (``fer2013/train/...``).
* ``fer2013-csv``: ``fer2013.csv`` or its twin ``icml_face_data.csv``: ``emotion`` (0..6), ``pixels`` (2304
  space-separated integers 0..255, row-major 48x48), ``Usage``; headers may carry spaces (`` Usage``).
* ``kaggle-train-csv``: Kaggle's ``train.csv``: ``emotion`` and ``pixels`` only.
* ``fer2013-csv-zip`` / ``kaggle-train-csv-zip``: a zip holding ``fer2013.csv``, ``icml_face_data.csv`` or
  ``train.csv`` (as Kaggle's downloads come), read in memory.
"""

SPLITS: tuple[str, ...] = ("train", "val", "test")
IMAGE_SIZE = 48
READER_VERSION = 1
"""Bumped whenever decoding changes, so that cache entries written by an older reader are not used."""
VAL_SPLIT_SEED = 0
"""Seed of the stratified val/test halving of an unprefixed ``test/`` folder."""

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"})
_CLASS_INDEX = {name: index for index, name in enumerate(FER2013_CLASSES)}
_PREFIX_SPLITS = {"training_": 0, "publictest_": 1, "privatetest_": 2}  # -> index into SPLITS
_USAGE_SPLITS = {"training": "train", "publictest": "val", "privatetest": "test"}
_CSV_MEMBERS = ("fer2013.csv", "icml_face_data.csv", "train.csv")  # preferred first when a zip holds several
_LABEL_CELLS = {str(index): index for index in range(len(FER2013_CLASSES))}
_JPEG_MAGIC = b"\xff\xd8\xff"
_MAX_IMAGE_PIXELS = 4096 * 4096  # larger "images" are treated as not images (decompression bombs)
_MAX_DECODE_THREADS = 8
_MIN_BLOBS_PER_THREAD = 512  # below this a thread costs more than it saves
_OFFICIAL_FOLDER_NOTE = "official: Training / PublicTest / PrivateTest (file-name prefixes)"
_OFFICIAL_CSV_NOTE = "official: Training / PublicTest / PrivateTest (Usage column)"
_TRAIN_ONLY_NOTE = "train only: Kaggle's train.csv has no Usage column, so there is no val or test split"
_CARVED_NOTE = (
    "test/ has no PublicTest_/PrivateTest_ prefixes: val = class-stratified half of test/ "
    f"(seed {VAL_SPLIT_SEED}), test = the other half"
)


class DataWarning(UserWarning):
    """The data were readable but not as expected (images resized or converted, non-image files skipped)."""


def describe_source(source: str | Path) -> str:
    """What kind of FER2013 source a path is, e.g. ``"FER2013 image-folder zip"``.

    Raises:
        DataError: the path is missing, unreadable, or not a FER2013 source this module reads.
    """
    plan, tree = _plan(resolve_source(source))
    if tree is not None:
        tree.close()
    return SOURCE_FORMATS[plan.format]


def load_fer2013(source: str | Path, *, cache_dir: Path | None = None, refresh: bool = False) -> dict[str, ImageSet]:
    """Read FER2013 from any of its usual forms into ImageSets, decoding only the first time.

    Args:
        source: an image folder, a zip of it, ``fer2013.csv`` / ``icml_face_data.csv``, Kaggle's ``train.csv``, or a
            zip holding one of those CSVs (see :data:`SOURCE_FORMATS`).
        cache_dir: where decoded sources are kept; default ``$OCCLUBENCH_CACHE`` or ``~/.cache/occlubench``.
        refresh: decode again even if the cache holds this source.

    Returns:
        ``"train"``, ``"val"``, ``"test"`` (those present) -> ImageSet of uint8 ``(N, 1, 48, 48)`` images.

    Raises:
        DataError: the source is missing, unreadable or malformed; the message names the file and the problem.

    Examples:
        >>> splits = load_fer2013("fer2013.zip")  # doctest: +SKIP
        >>> len(splits["train"]), len(splits["val"]), len(splits["test"])  # doctest: +SKIP
        (28709, 3589, 3589)
    """
    return load_fer2013_with_info(source, cache_dir=cache_dir, refresh=refresh)[0]


def load_fer2013_with_info(
    source: str | Path, *, cache_dir: Path | None = None, refresh: bool = False
) -> tuple[dict[str, ImageSet], dict[str, Any]]:
    """Like :func:`load_fer2013`, and also say what was read and how the splits were obtained.

    Returns:
        The splits, and an info dict: ``format`` (a :data:`SOURCE_FORMATS` key), ``description``, ``sha256`` (of
        the file; for a folder, of its file listing with sizes and mtimes), ``split_note`` (which split rule
        applied), ``counts`` (images per split), ``warnings`` (what was resized, converted or skipped),
        ``reader_version``, ``source`` (absolute path) and ``cached`` (whether the cache served it).

    Raises:
        DataError: the source is missing, unreadable or malformed. Nothing is written to the cache then.
    """
    path = resolve_source(source)
    cache = DecodeCache(cache_dir)
    key = cache.key_for(path, f"fer2013-r{READER_VERSION}", rehash=refresh)
    entry = None if refresh else cache.load(key)
    if entry is not None:
        splits, info = entry.splits, entry.info
    else:
        splits, info = _decode(path)
        info["sha256"] = key.fingerprint
        cache.store(key, splits, info)
    for message in info.get("warnings", []):
        warnings.warn(f"{path}: {message}", DataWarning, stacklevel=2)
    return splits, {**info, "source": str(path), "cached": entry is not None}


@dataclass(frozen=True)
class _Plan:
    """How to read a source: its format, and for a zip the layout root or the CSV member to read."""

    format: str
    layout_root: str = ""
    csv_member: str | None = None


def _plan(path: Path) -> tuple[_Plan, FileTree | None]:
    """Identify a source; the open tree (folder or zip) comes back with the plan so that it is listed only once."""
    if path.is_dir():
        tree: FileTree = FolderTree(path)
        return _plan_tree(tree, "image-folder"), tree
    try:
        with path.open("rb") as file:
            head = file.read(1 << 16)
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror or err})") from err
    if path.suffix.lower() == ".zip" or head.startswith(b"PK"):
        tree = ZipTree(path)
        try:
            return _plan_tree(tree, "image-folder-zip"), tree
        except DataError:
            tree.close()
            raise
    header = read_csv_header(head)
    if path.suffix.lower() == ".csv" or (header is not None and {"emotion", "pixels"} & set(header)):
        return _Plan("fer2013-csv" if header is not None and "usage" in header else "kaggle-train-csv"), None
    raise DataError(
        f"{path}: not a FER2013 source this reader knows",
        "pass the image-folder zip or folder, fer2013.csv, icml_face_data.csv or train.csv (extract .tar.gz first)",
    )


def _plan_tree(tree: FileTree, folder_format: str) -> _Plan:
    kind = "zip" if folder_format.endswith("zip") else "folder"
    if not tree.paths:
        raise DataError(f"{tree.source}: the {kind} is empty")
    root = _find_layout_root(tree.paths)
    if root is not None:
        return _Plan(folder_format, layout_root=root)
    member = _find_csv_member(tree.paths) if kind == "zip" else None
    if member is not None:
        csv_format = "kaggle-train-csv-zip" if member.lower().endswith("train.csv") else "fer2013-csv-zip"
        return _Plan(csv_format, csv_member=member)
    tops = sorted({path.split("/", 1)[0] for path in tree.paths})
    shown = ", ".join(repr(name) for name in tops[:8]) + (", ..." if len(tops) > 8 else "")
    raise DataError(
        f"{tree.source}: no train/ or test/ folder in this {kind} (top level holds {shown})",
        "expected train/<class>/*.jpg and test/<class>/*.jpg, optionally inside one wrapper folder",
    )


def _find_layout_root(paths: Sequence[str]) -> str | None:
    """The prefix under which ``train/`` or ``test/`` sit: ``""``, or up to two wrapper folders deep."""
    prefix = ""
    for _ in range(3):
        tops = {path[len(prefix) :].split("/", 1)[0] for path in paths if "/" in path[len(prefix) :]}
        if {top.lower() for top in tops} & {"train", "test"}:
            return prefix
        if len(tops) != 1:
            return None
        prefix += tops.pop() + "/"
        paths = [path for path in paths if path.startswith(prefix)]
    return None


def _find_csv_member(paths: Sequence[str]) -> str | None:
    for wanted in _CSV_MEMBERS:
        matches = sorted((path.count("/"), path) for path in paths if path.rsplit("/", 1)[-1].lower() == wanted)
        if matches:
            return matches[0][1]
    return None


@dataclass
class _Decoded:
    """What a reader produced before caching: splits, how they were split, and warnings without the path."""

    splits: dict[str, ImageSet]
    split_note: str
    warnings: list[str] = field(default_factory=list)
    csv_format: str | None = None  # for a CSV, what its header says it is: "fer2013-csv" or "kaggle-train-csv"


def _decode(path: Path) -> tuple[dict[str, ImageSet], dict[str, Any]]:
    plan, tree = _plan(path)
    if tree is None:
        try:
            data = path.read_bytes()
        except OSError as err:
            raise DataError(f"{path}: cannot read ({err.strerror or err})") from err
        decoded = _read_csv(data, str(path))
    else:
        with tree:
            if plan.csv_member is not None:
                decoded = _read_csv(tree.read(plan.csv_member, MAX_TABLE_BYTES), f"{path}:{plan.csv_member}")
            else:
                decoded = _read_image_tree(tree, plan.layout_root)
    source_format = plan.format
    if decoded.csv_format is not None:  # the header decides, whatever the file's name suggested
        source_format = decoded.csv_format + ("-zip" if plan.csv_member is not None else "")
    info: dict[str, Any] = {
        "format": source_format,
        "description": SOURCE_FORMATS[source_format],
        "split_note": decoded.split_note,
        "counts": {split: len(imageset) for split, imageset in decoded.splits.items()},
        "warnings": decoded.warnings,
        "reader_version": READER_VERSION,
    }
    return decoded.splits, info


# --- CSV forms ---------------------------------------------------------------------------------------------------


def _read_csv(data: bytes, name: str) -> _Decoded:
    table = read_csv_table(data, name)
    hint = None
    if "pixels" in table.columns and "emotion" not in table.columns:
        hint = "Kaggle's test.csv has no labels: use train.csv, fer2013.csv or icml_face_data.csv"
    table.require("emotion", "pixels", hint=hint)
    labels = _parse_labels(table.columns["emotion"], name)
    if "usage" in table.columns:
        usage = _parse_usage(table.columns["usage"], name)
        note, csv_format = _OFFICIAL_CSV_NOTE, "fer2013-csv"
    else:
        usage = np.full(table.num_rows, "train")
        note, csv_format = _TRAIN_ONLY_NOTE, "kaggle-train-csv"
    pixels = parse_pixel_rows(table.columns["pixels"], IMAGE_SIZE * IMAGE_SIZE, name)
    images = torch.from_numpy(pixels).reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE)
    label_tensor = torch.from_numpy(labels)
    splits = {}
    for split in SPLITS:
        rows = np.flatnonzero(usage == split)
        if rows.size:
            index = torch.from_numpy(rows)
            ids = tuple(f"row{row}" for row in rows.tolist())
            splits[split] = ImageSet(images[index], label_tensor[index], ids, FER2013_CLASSES)
    return _Decoded(splits, note, csv_format=csv_format)


def _parse_labels(cells: Sequence[str], name: str) -> np.ndarray:
    labels = np.array([_LABEL_CELLS.get(cell.strip(), -1) for cell in cells], dtype=np.int64)
    for row in np.flatnonzero(labels < 0).tolist():
        cell = cells[row].strip()
        try:
            value = int(cell)
        except ValueError:
            raise DataError(f"{name} row {row}: emotion {cell[:20]!r} is not an integer label 0..6") from None
        if not 0 <= value < len(FER2013_CLASSES):
            raise DataError(f"{name} row {row}: emotion label {value} outside 0..6")
        labels[row] = value
    return labels


def _parse_usage(cells: Sequence[str], name: str) -> np.ndarray:
    splits = [_USAGE_SPLITS.get(cell.strip().lower(), "") for cell in cells]
    if "" in splits:
        row = splits.index("")
        raise DataError(
            f"{name} row {row}: unknown Usage {cells[row][:30]!r} (expected Training, PublicTest or PrivateTest)"
        )
    return np.array(splits)


# --- image-folder forms ------------------------------------------------------------------------------------------


class _ImageFile(NamedTuple):
    path: str  # in the tree
    id: str  # relative to the layout root: "train/angry/Training_1.jpg"
    label: int
    split: int  # index into SPLITS from the file-name prefix; _UNPREFIXED_TEST or train's 0 when unprefixed


_UNPREFIXED_TEST = -1


def _read_image_tree(tree: FileTree, root: str) -> _Decoded:
    files, skipped = _list_image_files(tree, root)
    decoded = _decode_images([tree.read(file.path) for file in files])
    skipped += [files[i].id for i in np.flatnonzero(~decoded.ok).tolist()]
    notes = []
    if skipped:
        notes.append(f"skipped {len(skipped)} file(s) that are not images in a class folder (e.g. {skipped[0]!r})")
    if decoded.resized:
        index, (width, height) = decoded.resized[0]
        notes.append(
            f"resized {len(decoded.resized)} image(s) that were not {IMAGE_SIZE}x{IMAGE_SIZE} to "
            f"{IMAGE_SIZE}x{IMAGE_SIZE} (e.g. {files[index].id!r} was {width}x{height})"
        )
    if decoded.converted:
        index, mode = decoded.converted[0]
        notes.append(
            f"converted {len(decoded.converted)} image(s) that were not 8-bit grayscale to grayscale "
            f"(e.g. {files[index].id!r} was {mode})"
        )
    keep = np.flatnonzero(decoded.ok)
    if not keep.size:
        raise DataError(f"{tree.source}: none of the files in train/ and test/ could be decoded as an image")
    images = decoded.images[torch.from_numpy(keep)]
    labels = torch.tensor([files[i].label for i in keep.tolist()], dtype=torch.int64)
    split_codes = np.array([files[i].split for i in keep.tolist()], dtype=np.int64)
    note = _OFFICIAL_FOLDER_NOTE
    unprefixed = np.flatnonzero(split_codes == _UNPREFIXED_TEST)
    if unprefixed.size:
        note = _CARVED_NOTE
        generator = torch.Generator().manual_seed(VAL_SPLIT_SEED)
        in_val = _stratified_half(labels[torch.from_numpy(unprefixed)], generator).numpy()
        split_codes[unprefixed] = np.where(in_val, SPLITS.index("val"), SPLITS.index("test"))
    splits = {}
    for code, split in enumerate(SPLITS):
        members = np.flatnonzero(split_codes == code)
        if members.size:
            index = torch.from_numpy(members)
            ids = tuple(files[i].id for i in keep[members].tolist())
            splits[split] = ImageSet(images[index], labels[index], ids, FER2013_CLASSES)
    return _Decoded(splits, note, notes)


def _list_image_files(tree: FileTree, root: str) -> tuple[list[_ImageFile], list[str]]:
    """The image files of the layout, and the ids of files skipped for not being images in a class folder."""
    files: list[_ImageFile] = []
    skipped: list[str] = []
    unknown: dict[str, str] = {}
    seen: set[str] = set()
    for path in tree.paths:
        if not path.startswith(root):
            continue
        relative = path[len(root) :]
        parts = relative.split("/")
        folder = parts[0].lower()
        if folder not in ("train", "test") or len(parts) < 2:
            continue  # other top-level files (README, licences) are no part of the layout
        seen.add(folder)
        if len(parts) != 3:
            skipped.append(relative)
            continue
        label = _CLASS_INDEX.get(parts[1].lower())
        if label is None:
            unknown.setdefault(parts[1], relative)
            continue
        name = parts[2].lower()
        if "." + name.rpartition(".")[2] not in IMAGE_SUFFIXES:
            skipped.append(relative)
            continue
        split = next((code for prefix, code in _PREFIX_SPLITS.items() if name.startswith(prefix)), None)
        if split is None:
            split = _UNPREFIXED_TEST if folder == "test" else SPLITS.index("train")
        files.append(_ImageFile(path, relative, label, split))
    if unknown:
        names = ", ".join(repr(name) for name in sorted(unknown))
        raise DataError(
            f"{tree.source}: unknown class folder(s) {names} (e.g. {next(iter(unknown.values()))!r}); "
            f"expected the FER2013 classes {', '.join(FER2013_CLASSES)} (any case)"
        )
    for folder in ("train", "test"):
        if folder not in seen:
            where = f" inside {root.rstrip('/')!r}" if root else ""
            raise DataError(
                f"{tree.source}: no {folder}/ folder{where}", "expected train/<class>/*.jpg and test/<class>/*.jpg"
            )
    in_test = [file for file in files if file.id[:5].lower() == "test/"]
    prefixed = [file.id for file in in_test if file.split != _UNPREFIXED_TEST]
    unprefixed = [file.id for file in in_test if file.split == _UNPREFIXED_TEST]
    if prefixed and unprefixed:
        raise DataError(
            f"{tree.source}: test/ mixes files with and without the PublicTest_/PrivateTest_ prefixes "
            f"(e.g. {prefixed[0]!r} and {unprefixed[0]!r})"
        )
    if not files:
        raise DataError(f"{tree.source}: no image files in the class folders of train/ and test/")
    return files, skipped


def _stratified_half(labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A boolean mask choosing, in every class, a random ``floor(n / 2)`` of its members."""
    chosen = torch.zeros(len(labels), dtype=torch.bool)
    for label in range(len(FER2013_CLASSES)):
        members = torch.nonzero(labels == label).flatten()
        chosen[members[torch.randperm(len(members), generator=generator)[: len(members) // 2]]] = True
    return chosen


@dataclass
class _DecodedImages:
    images: torch.Tensor  # uint8 (N, 1, 48, 48); rows where ok is False are zeros
    ok: np.ndarray  # bool (N,)
    resized: list[tuple[int, tuple[int, int]]] = field(default_factory=list)  # (index, original width x height)
    converted: list[tuple[int, str]] = field(default_factory=list)  # (index, original PIL mode)


def _decode_images(blobs: Sequence[bytes]) -> _DecodedImages:
    """Decode image files to 48x48 grayscale: 48x48 grayscale JPEGs with libjpeg-turbo, everything else via PIL."""
    result = _DecodedImages(
        torch.zeros((len(blobs), 1, IMAGE_SIZE, IMAGE_SIZE), dtype=torch.uint8), np.zeros(len(blobs), dtype=bool)
    )
    jpegs = [i for i, blob in enumerate(blobs) if blob.startswith(_JPEG_MAGIC)]
    decoded = _decode_jpegs([blobs[i] for i in jpegs])
    good = [(i, image) for i, image in zip(jpegs, decoded, strict=True) if image is not None]
    if good:
        result.images[torch.tensor([i for i, _ in good])] = torch.stack([image for _, image in good])
        result.ok[[i for i, _ in good]] = True
    for i in np.flatnonzero(~result.ok).tolist():
        _decode_with_pil(blobs[i], i, result)
    return result


def _decode_jpegs(blobs: Sequence[bytes]) -> list[torch.Tensor | None]:
    """Decode JPEGs with torchvision (2-3x faster than PIL, same pixels), in ``torch.get_num_threads()`` threads.

    Returns:
        Per blob, its (1, 48, 48) pixels, or None when it is not a 48x48 single-channel JPEG libjpeg can read:
        PIL then decodes, converts or resizes it.
    """
    if not blobs:
        return []
    from torchvision.io import decode_jpeg  # lazy: a cached load never needs torchvision

    workers = max(1, min(torch.get_num_threads(), _MAX_DECODE_THREADS, len(blobs) // _MIN_BLOBS_PER_THREAD))
    size = -(-len(blobs) // workers)
    chunks = [blobs[start : start + size] for start in range(0, len(blobs), size)]
    # Filters are process-wide: set here, they also cover the worker threads (catch_warnings is not thread-safe).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # non-writable buffers; libjpeg's notes on damaged files (PIL re-reads those)
        if workers == 1:
            decoded = [_decode_jpeg_chunk(chunk, decode_jpeg) for chunk in chunks]
        else:
            with ThreadPoolExecutor(workers) as pool:  # libjpeg runs without the GIL
                decoded = list(pool.map(lambda chunk: _decode_jpeg_chunk(chunk, decode_jpeg), chunks))
    return [image for chunk in decoded for image in chunk]


def _decode_jpeg_chunk(blobs: Sequence[bytes], decode_jpeg: Callable[..., Any]) -> list[torch.Tensor | None]:
    from torchvision.io import ImageReadMode

    tensors = [torch.frombuffer(blob, dtype=torch.uint8) for blob in blobs]
    try:
        images = decode_jpeg(tensors, mode=ImageReadMode.UNCHANGED)
    except RuntimeError:  # one bad file fails the whole batch: decode one by one, the bad ones go to PIL
        images = [_decode_jpeg_or_none(tensor, decode_jpeg) for tensor in tensors]
    expected = (1, IMAGE_SIZE, IMAGE_SIZE)
    return [image if image is not None and tuple(image.shape) == expected else None for image in images]


def _decode_jpeg_or_none(data: torch.Tensor, decode_jpeg: Callable[..., Any]) -> torch.Tensor | None:
    from torchvision.io import ImageReadMode

    try:
        return decode_jpeg(data, mode=ImageReadMode.UNCHANGED)
    except RuntimeError:
        return None


def _decode_with_pil(blob: bytes, index: int, result: _DecodedImages) -> None:
    """Decode any image PIL reads, convert it to grayscale L and resize it to 48x48, noting what was changed."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(blob)) as image:
            size, mode = image.size, image.mode
            if size[0] * size[1] > _MAX_IMAGE_PIXELS:
                return
            gray = image.convert("L")
            if size != (IMAGE_SIZE, IMAGE_SIZE):
                gray = gray.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BICUBIC)
            pixels = np.asarray(gray, dtype=np.uint8)
    # PIL raises many types on damaged files (OSError, ValueError, SyntaxError, struct.error, ...): not an image.
    except Exception:
        return
    result.images[index, 0] = torch.from_numpy(pixels.copy())
    result.ok[index] = True
    if size != (IMAGE_SIZE, IMAGE_SIZE):
        result.resized.append((index, size))
    if mode != "L":
        result.converted.append((index, mode))
