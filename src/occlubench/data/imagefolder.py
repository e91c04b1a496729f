"""Image-folder datasets: your own classes and images, as a folder or a zip, at any size and channel count.

Two layouts, found at the source's root or inside up to two wrapper folders (``my_faces/...`` in a zip):

* **splits**: ``<root>/train/<class>/<image>``, ``<root>/test/<class>/<image>`` and optionally
  ``<root>/val/<class>/<image>`` (``valid`` and ``validation`` are read as ``val``; folder names in any case).
  Without ``val/``, val is a seeded, class-stratified ``val_fraction`` (default 0.1) of ``train/``.
* **pool**: ``<root>/<class>/<image>``: one pool, split into train / val / test by a seeded, class-stratified ratio
  (default 0.7 / 0.15 / 0.15).

Images may sit deeper inside a class folder (``cat/2021/a.jpg`` is a ``cat``). Class names are the class folders'
names, sorted, or the lines of a ``classes.txt`` beside them, whose order is then the label order. Images are
converted once to the benchmark's input and the result is kept in the decode cache shared with FER2013:

* **size** (``WxH``): by default the most common image size, scaled down (aspect kept) when its longer side exceeds
  :data:`MAX_DEFAULT_SIDE`; images of another size are resized by the **resize** policy, ``crop`` (default: scale
  to cover the target, keeping the aspect ratio, then centre-crop; torchvision's ``Resize`` + ``CenterCrop``) or
  ``stretch`` (scale each axis to the target). Resampling is bilinear with antialiasing; images already at the target
  size are kept pixel for pixel.
* **channels**: 1 (grayscale) or 3 (RGB); by default 1 when every image is grayscale (a gray file mode, or RGB with
  three equal channels), else 3. Colour becomes gray by ITU-R 601 luma (PIL's ``convert("L")``), gray becomes RGB
  by repeating it; alpha is dropped.

The split never depends on the run's ``--seed`` (it has its own ``split_seed``, default 0), so runs with different
seeds are evaluated on the same test images. ``info`` records the layout, the classes' origin, the size, channels
and resize policy with where each came from, and the split rule.
"""

from __future__ import annotations

import io
import math
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from occlubench.data.cache import DecodeCache
from occlubench.data.fer2013 import IMAGE_SUFFIXES, DataWarning
from occlubench.data.imageset import ImageSet
from occlubench.data.sources import FileTree, open_tree, resolve_source
from occlubench.errors import ConfigError, DataError

READER_VERSION = 1
"""Bumped whenever decoding changes, so that cache entries written by an older reader are not used."""

SPLITS: tuple[str, ...] = ("train", "val", "test")
SPLIT_FOLDERS: dict[str, str] = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}
"""Folder names (lower-cased) of the splits layout, and the split each one holds."""

CLASSES_FILE = "classes.txt"
DEFAULT_VAL_FRACTION = 0.1
"""Share of ``train/`` carved out as val when the splits layout has no ``val/``."""
DEFAULT_POOL_FRACTIONS: tuple[float, float, float] = (0.7, 0.15, 0.15)
"""train / val / test shares of a pool."""
MAX_DEFAULT_SIDE = 256
"""The default size (the most common one) is scaled down so that its longer side is at most this."""

FORMATS: dict[str, str] = {
    "imagefolder": "image folder of class folders",
    "imagefolder-zip": "zip of class folders",
}
_MAX_IMAGE_PIXELS = 4096 * 4096  # larger "images" are treated as not images (decompression bombs)
_KEEP_BLOB_BYTES = 1 << 30  # files read for probing are kept for decoding up to this total, re-read beyond it
_DECODE_CHUNK = 1024  # images decoded and resized together; bounds the temporary native-size arrays
_MAX_DECODE_THREADS = 8
_GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "F", "I;16", "I;16B", "I;16L", "I;16N"})
_OPTION_NAMES = ("size", "channels", "resize", "val_fraction", "test_fraction", "split_seed")


class ResizePolicy(str, Enum):
    """How an image of another shape is brought to the target size."""

    CROP = "crop"
    STRETCH = "stretch"

    @property
    def description(self) -> str:
        if self is ResizePolicy.CROP:
            return "crop: scaled to cover the target, aspect ratio kept, then centre-cropped (bilinear, antialiased)"
        return "stretch: each axis scaled to the target, aspect ratio not kept (bilinear, antialiased)"


@dataclass(frozen=True)
class ImageFolderOptions:
    """What a user can set about reading an image folder (the ``dataset_options`` of a run).

    Attributes:
        size: target (width, height); None = the most common image size (see the module docs).
        channels: 1 or 3; None = 1 when every image is grayscale, else 3.
        resize: how images of another size are resized.
        val_fraction: share of each class carved out as val (None: 0.1 of train/, or 0.15 of a pool).
        test_fraction: share of each class of a pool used as test (the splits layout has its own test/).
        split_seed: seed of the stratified split; independent of the run's seed.
    """

    size: tuple[int, int] | None = None
    channels: int | None = None
    resize: ResizePolicy = ResizePolicy.CROP
    val_fraction: float | None = None
    test_fraction: float = DEFAULT_POOL_FRACTIONS[2]
    split_seed: int = 0

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> ImageFolderOptions:
        """Parse ``dataset_options`` (values may be strings, as ``--dataset-option size=64`` gives them).

        Raises:
            ConfigError: an unknown option or a value out of range, in one line.
        """
        unknown = sorted(set(options) - set(_OPTION_NAMES))
        if unknown:
            raise ConfigError(
                f"unknown imagefolder option(s): {', '.join(unknown)}", f"known: {', '.join(_OPTION_NAMES)}"
            )
        size = _parse_size(options["size"]) if options.get("size") not in (None, "auto") else None
        channels = _parse_channels(options.get("channels"))
        try:
            resize = ResizePolicy(str(options.get("resize", "crop")).lower())
        except ValueError:
            raise ConfigError(f"imagefolder option resize={options['resize']!r}", "use crop or stretch") from None
        val = options.get("val_fraction")
        val_fraction = None if val is None else _parse_fraction("val_fraction", val)
        test_fraction = _parse_fraction("test_fraction", options.get("test_fraction", DEFAULT_POOL_FRACTIONS[2]))
        if (val_fraction or DEFAULT_POOL_FRACTIONS[1]) + test_fraction >= 1:
            raise ConfigError(
                f"imagefolder options val_fraction + test_fraction = {(val_fraction or 0.15) + test_fraction:g}",
                "they must leave some images for training (sum below 1)",
            )
        split_seed = options.get("split_seed", 0)
        try:
            split_seed = int(split_seed)
        except (TypeError, ValueError):
            raise ConfigError(f"imagefolder option split_seed={split_seed!r} is not an integer") from None
        if not 0 <= split_seed < 2**63:
            raise ConfigError(f"imagefolder option split_seed={split_seed} is out of range (0 .. 2**63-1)")
        return cls(size, channels, resize, val_fraction, test_fraction, split_seed)

    def cache_namespace(self) -> str:
        """The decode-cache namespace: the reader version and every option that changes the decoded pixels."""
        size = "auto" if self.size is None else f"{self.size[0]}x{self.size[1]}"
        channels = "auto" if self.channels is None else str(self.channels)
        return f"imagefolder-r{READER_VERSION}-s{size}-c{channels}-{self.resize.value}"


def _parse_size(value: Any) -> tuple[int, int]:
    """``64`` -> (64, 64); ``"100x80"`` -> (100, 80) (width x height); ``[100, 80]`` likewise."""
    try:
        if isinstance(value, str):
            parts = value.lower().replace(" ", "").split("x")
            width, height = (int(parts[0]), int(parts[0])) if len(parts) == 1 else (int(parts[0]), int(parts[1]))
            if len(parts) > 2:
                raise ValueError
        elif isinstance(value, Sequence):
            width, height = (int(v) for v in value)
        else:
            width = height = int(value)
    except (TypeError, ValueError):
        hint = "use N (square) or WIDTHxHEIGHT, e.g. 64 or 100x80"
        raise ConfigError(f"imagefolder option size={value!r}", hint) from None
    if not (8 <= width <= 4096 and 8 <= height <= 4096):
        raise ConfigError(f"imagefolder option size={value!r} is out of range", "each side must be 8 .. 4096 pixels")
    return width, height


def _parse_channels(value: Any) -> int | None:
    text = str(value).lower() if value is not None else "auto"
    named = {"auto": None, "1": 1, "gray": 1, "grey": 1, "grayscale": 1, "l": 1, "3": 3, "rgb": 3, "color": 3}
    if text not in named:
        raise ConfigError(f"imagefolder option channels={value!r}", "use 1 (gray), 3 (rgb) or auto")
    return named[text]


def _parse_fraction(name: str, value: Any) -> float:
    try:
        fraction = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"imagefolder option {name}={value!r} is not a number") from None
    if not 0 < fraction < 1:
        raise ConfigError(f"imagefolder option {name}={value!r} must be between 0 and 1 (exclusive)")
    return fraction


# --- layout -----------------------------------------------------------------------------------------------------


def locate_layout(paths: Sequence[str]) -> tuple[str, str] | None:
    """Where an image-folder layout sits among relative file paths, and which one it is.

    Returns:
        ``(root, "splits")`` when a folder named train / val / test sits at ``root``; ``(root, "pool")`` when class
        folders holding image files do; ``root`` is ``""`` or up to two wrapper folders (``"my_faces/"``). None when
        neither is found.
    """
    prefix = ""
    for _ in range(3):
        below = [path[len(prefix) :] for path in paths if path.startswith(prefix)] if prefix else paths
        folders = {path.partition("/")[0] for path in below if "/" in path}
        if {folder.lower() for folder in folders} & set(SPLIT_FOLDERS):
            return prefix, "splits"
        images = [path for path in below if "/" in path and _is_image_name(path)]
        if len(folders) == 1 and not any(path.count("/") == 1 for path in images):
            prefix += folders.pop() + "/"  # a wrapper folder: everything sits deeper
            continue
        return (prefix, "pool") if images else None
    return None


def _is_image_name(path: str) -> bool:
    return "." + path.rpartition(".")[2].lower() in IMAGE_SUFFIXES


class _ImageFile(NamedTuple):
    path: str  # in the tree
    id: str  # relative to the layout root
    label: int
    group: str  # "train" / "val" / "test" for the splits layout, "pool" for a pool


@dataclass
class _Layout:
    root: str
    kind: str  # "splits" or "pool"
    classes: tuple[str, ...]
    classes_from: str
    files: list[_ImageFile]
    notes: list[str] = field(default_factory=list)


def _read_layout(tree: FileTree) -> _Layout:
    kind_name = "zip" if tree.source.is_file() else "folder"
    if not tree.paths:
        raise DataError(f"{tree.source}: the {kind_name} is empty")
    located = locate_layout(tree.paths)
    if located is None:
        raise DataError(
            f"{tree.source}: no class folders with images in this {kind_name}",
            "expected <root>/<class>/<image> or <root>/train/<class>/<image> and <root>/test/<class>/<image>",
        )
    root, kind = located
    where = f" inside {root.rstrip('/')!r}" if root else ""
    found: list[tuple[str, str, str, str]] = []  # (path, id, class folder, group)
    skipped: list[str] = []
    ignored: set[str] = set()
    for path in tree.paths:
        if not path.startswith(root):
            continue
        relative = path[len(root) :]
        parts = relative.split("/")
        if len(parts) == 1:
            continue  # README, licence, classes.txt: no part of the layout
        if kind == "splits":
            group = SPLIT_FOLDERS.get(parts[0].lower())
            if group is None:
                ignored.add(parts[0])
                continue
            class_name, depth = (parts[1] if len(parts) > 2 else None), 3
        else:
            group, class_name, depth = "pool", parts[0], 2
        if class_name is None or len(parts) < depth or not _is_image_name(relative):
            skipped.append(relative)
            continue
        found.append((path, relative, class_name, group))
    notes = []
    if ignored:
        names = ", ".join(repr(name) for name in sorted(ignored))
        notes.append(f"ignored folder(s) {names} beside the train/val/test folders")
    if kind == "splits":
        groups = {group for _, _, _, group in found}
        for needed in ("train", "test"):
            if needed not in groups:
                raise DataError(
                    f"{tree.source}: no images in a {needed}/ folder{where}",
                    "the splits layout needs train/<class>/<image> and test/<class>/<image> (val/ is optional)",
                )
    folders = sorted({class_name for _, _, class_name, _ in found})
    classes, classes_from = _class_names(tree, root, folders)
    index = {name: label for label, name in enumerate(classes)}
    files = [_ImageFile(path, id_, index[name], group) for path, id_, name, group in found]
    if skipped:
        notes.append(f"skipped {len(skipped)} file(s) that are not images in a class folder (e.g. {skipped[0]!r})")
    return _Layout(root, kind, classes, classes_from, files, notes)


def _class_names(tree: FileTree, root: str, folders: list[str]) -> tuple[tuple[str, ...], str]:
    """The class names in label order: ``classes.txt`` when present, else the class folders sorted."""
    listed_path = root + CLASSES_FILE
    if listed_path not in tree.paths:
        if len(folders) < 2:
            shown = f"only {folders[0]!r}" if folders else "none"
            raise DataError(f"{tree.source}: a classifier needs at least two class folders with images, found {shown}")
        return tuple(folders), "class folder names, sorted"
    try:
        text = tree.read(listed_path, 1 << 20).decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(f"{tree.source}: {listed_path} is not UTF-8 text") from err
    lines = [line.strip() for line in text.splitlines()]
    classes = [line for line in lines if line and not line.startswith("#")]
    repeated = sorted(name for name, count in Counter(classes).items() if count > 1)
    if repeated:
        raise DataError(f"{tree.source}: {listed_path} lists {repeated[0]!r} more than once")
    if len(classes) < 2:
        raise DataError(f"{tree.source}: {listed_path} lists {len(classes)} class(es); a classifier needs two or more")
    unlisted = [name for name in folders if name not in set(classes)]
    if unlisted:
        names = ", ".join(repr(name) for name in unlisted)
        hint = "list them or remove them"
        raise DataError(f"{tree.source}: class folder(s) {names} not listed in {listed_path}", hint)
    return tuple(classes), CLASSES_FILE


# --- decoding -----------------------------------------------------------------------------------------------------


def resize_images(
    images: torch.Tensor, size: tuple[int, int], policy: ResizePolicy = ResizePolicy.CROP
) -> torch.Tensor:
    """Bring a batch of same-size images to ``size``: bilinear, antialiased; already that size -> the same pixels.

    Args:
        images: uint8 (B, C, h, w).
        size: target (width, height).
        policy: ``crop`` scales to cover the target (aspect kept) then centre-crops; ``stretch`` scales each axis.

    Returns:
        uint8 (B, C, height, width).
    """
    width, height = size
    h, w = images.shape[-2:]
    if (h, w) == (height, width):
        return images
    if policy is ResizePolicy.CROP:
        scale = max(height / h, width / w)
        scaled = (max(height, round(h * scale)), max(width, round(w * scale)))
    else:
        scaled = (height, width)
    x = images
    if scaled != (h, w):
        x = F.interpolate(images.float(), size=scaled, mode="bilinear", antialias=True, align_corners=False)
        x = x.round_().clamp_(0, 255).to(torch.uint8)
    top, left = (scaled[0] - height) // 2, (scaled[1] - width) // 2
    return x[..., top : top + height, left : left + width].contiguous()


@dataclass
class _Probe:
    sizes: list[tuple[int, int] | None]  # (width, height) per file; None: not an image
    gray: list[bool]  # whether the file's mode is grayscale
    blobs: list[bytes | None]  # the file's bytes when kept for decoding


def _probe(tree: FileTree, files: Sequence[_ImageFile]) -> _Probe:
    """Read every file once and its image header (size, mode) without decoding the pixels."""
    from PIL import Image

    probe = _Probe([], [], [])
    kept = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PIL's DecompressionBombWarning: such sizes are refused below anyway
        for file in files:
            blob = tree.read(file.path)
            size, gray = None, False
            try:
                with Image.open(io.BytesIO(blob)) as image:
                    size, gray = image.size, image.mode in _GRAY_MODES
            # PIL raises many types on damaged or foreign files (OSError, ValueError, SyntaxError, ...): not an image.
            except Exception:
                size = None
            if size is not None and not (0 < size[0] * size[1] <= _MAX_IMAGE_PIXELS):
                size = None
            probe.sizes.append(size)
            probe.gray.append(gray)
            keep = size is not None and kept + len(blob) <= _KEEP_BLOB_BYTES
            kept += len(blob) if keep else 0
            probe.blobs.append(blob if keep else None)
    return probe


def _decode_pixels(blob: bytes, gray: bool) -> np.ndarray | None:
    """One file's pixels: (h, w) uint8 when ``gray`` else (h, w, 3); None when it cannot be decoded."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(blob)) as image:
            image.load()
            if image.mode.startswith("I;16"):
                wide = np.asarray(image, dtype=np.uint16) >> 8
                pixels = wide.astype(np.uint8)
                return pixels if gray else np.repeat(pixels[..., None], 3, axis=2)
            if image.mode in ("I", "F"):
                pixels = np.clip(np.asarray(image, dtype=np.float64), 0, 255).round().astype(np.uint8)
                return pixels if gray else np.repeat(pixels[..., None], 3, axis=2)
            return np.asarray(image.convert("L" if gray else "RGB"), dtype=np.uint8).copy()
    # Damaged files fail here in PIL's many ways; the caller counts them as skipped.
    except Exception:
        return None


@dataclass
class _DecodedFolder:
    images: torch.Tensor  # uint8 (N, C, H, W), N = number of decodable files
    keep: np.ndarray  # indices into the layout's files of the decoded images
    image_info: dict[str, Any]
    notes: list[str]


def _decode_folder(tree: FileTree, layout: _Layout, options: ImageFolderOptions) -> _DecodedFolder:
    probe = _probe(tree, layout.files)
    readable = [i for i, size in enumerate(probe.sizes) if size is not None]
    if not readable:
        raise DataError(f"{tree.source}: none of the files in the class folders could be read as an image")
    sizes = Counter(probe.sizes[i] for i in readable)
    (common, common_count) = sizes.most_common(1)[0]
    if options.size is not None:
        target, size_from = options.size, "option size"
    else:
        target = _capped(common)
        size_from = f"most common image size {common[0]}x{common[1]} ({common_count} of {len(readable)} images)"
        if target != common:
            size_from += f", scaled down to a longer side of {MAX_DEFAULT_SIDE}"
    all_gray = all(probe.gray[i] for i in readable)
    channels = options.channels if options.channels is not None else (1 if all_gray else 3)
    decode_gray = channels == 1 or all_gray
    width, height = target
    out = torch.empty((len(readable), channels, height, width), dtype=torch.uint8)
    ok = np.zeros(len(readable), dtype=bool)
    equal_channels = True
    workers = max(1, min(torch.get_num_threads(), _MAX_DECODE_THREADS))
    with ThreadPoolExecutor(workers) as pool:  # PIL decodes without the GIL
        for start in range(0, len(readable), _DECODE_CHUNK):
            chunk = readable[start : start + _DECODE_CHUNK]
            blobs = [probe.blobs[i] or tree.read(layout.files[i].path) for i in chunk]
            arrays = list(pool.map(lambda blob: _decode_pixels(blob, decode_gray), blobs))
            by_shape: dict[tuple[int, ...], list[int]] = {}
            for position, array in enumerate(arrays):
                if array is not None:
                    by_shape.setdefault(array.shape, []).append(position)
            for members in by_shape.values():
                batch = torch.from_numpy(np.stack([arrays[p] for p in members]))
                batch = batch.unsqueeze(1) if batch.ndim == 3 else batch.permute(0, 3, 1, 2)
                if batch.shape[1] == 1 and channels == 3:
                    batch = batch.expand(-1, 3, -1, -1)
                batch = resize_images(batch, target, options.resize)
                if channels == 3 and not decode_gray:
                    equal_channels &= bool((batch[:, 0] == batch[:, 1]).all() and (batch[:, 1] == batch[:, 2]).all())
                rows = torch.tensor([start + p for p in members])
                out[rows] = batch
                ok[start + np.array(members)] = True
    channels_from = "option channels" if options.channels is not None else "every image is grayscale"
    if options.channels is None and not all_gray:
        channels_from = "some images are colour"
        if equal_channels:
            out, channels = out[:, :1].clone(), 1
            channels_from = "every image is grayscale (colour files with three equal channels)"
    keep = np.array(readable, dtype=np.int64)[ok]
    images = out[torch.from_numpy(np.flatnonzero(ok))] if not ok.all() else out
    notes = []
    unreadable = len(layout.files) - len(keep)
    if unreadable:
        decoded = set(keep.tolist())
        first = next(i for i in range(len(layout.files)) if i not in decoded)
        example = layout.files[first].id
        notes.append(f"skipped {unreadable} file(s) that could not be decoded as images (e.g. {example!r})")
    other = [i for i in keep.tolist() if probe.sizes[i] != target]
    if other:
        w, h = probe.sizes[other[0]] or (0, 0)
        notes.append(
            f"resized {len(other)} image(s) that were not {width}x{height} to {width}x{height} by "
            f"{options.resize.value} (e.g. {layout.files[other[0]].id!r} was {w}x{h})"
        )
    image_info = {
        "width": width,
        "height": height,
        "channels": channels,
        "resize": options.resize.description,
        "size_from": size_from,
        "channels_from": channels_from,
        "sizes_found": {f"{w}x{h}": n for (w, h), n in sizes.most_common(5)},
    }
    return _DecodedFolder(images, keep, image_info, notes)


def _capped(size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    longer = max(width, height)
    if longer <= MAX_DEFAULT_SIDE:
        return size
    scale = MAX_DEFAULT_SIDE / longer
    return max(8, round(width * scale)), max(8, round(height * scale))


# --- splitting ------------------------------------------------------------------------------------------------------


def stratified_split(
    labels: torch.Tensor, fractions: Sequence[float], generator: torch.Generator, num_classes: int | None = None
) -> list[torch.Tensor]:
    """Split indices into parts holding ``fractions`` of every class, at random within each class.

    Per class, each part gets the floor of its share and the leftover images go to the largest remainders (ties to
    the earlier part), so each part holds its share of every class to within one image; and when a class has at least
    as many images as there are parts, every part gets at least one (taken from the largest part), which for a class
    too small to give every part a whole image overrides the share. The same generator seed gives the same split.

    Args:
        labels: int64 (N,) class indices.
        fractions: one share per part, summing to 1.
        generator: the source of randomness (seed it for a reproducible split).
        num_classes: number of classes (default: ``labels.max() + 1``).

    Returns:
        One sorted int64 index tensor per part.
    """
    if not math.isclose(sum(fractions), 1.0, abs_tol=1e-9) or min(fractions) < 0:
        raise ValueError(f"fractions must be non-negative and sum to 1, got {list(fractions)}")
    classes = num_classes if num_classes is not None else (int(labels.max()) + 1 if len(labels) else 0)
    shares = torch.tensor(list(fractions), dtype=torch.float64)
    parts: list[list[torch.Tensor]] = [[] for _ in fractions]
    for label in range(classes):
        members = torch.nonzero(labels == label).flatten()
        n = len(members)
        if n == 0:
            continue
        exact = shares * n
        counts = exact.floor().long()
        remainders = exact - counts
        for part in torch.argsort(-remainders, stable=True)[: n - int(counts.sum())].tolist():
            counts[part] += 1
        if n >= len(fractions):
            for part in torch.nonzero((counts == 0) & (shares > 0)).flatten().tolist():
                counts[part] += 1
                counts[int(torch.argmax(counts))] -= 1
        shuffled = members[torch.randperm(n, generator=generator)]
        for part, chunk in enumerate(torch.split(shuffled, counts.tolist())):
            parts[part].append(chunk)
    return [torch.sort(torch.cat(chunks)).values if chunks else torch.empty(0, dtype=torch.long) for chunks in parts]


def _split(
    groups: Mapping[str, ImageSet], layout_kind: str, options: ImageFolderOptions
) -> tuple[dict[str, ImageSet], str]:
    """The train / val / test splits of the decoded groups, and a note saying how they were made."""
    generator = torch.Generator().manual_seed(options.split_seed)
    if layout_kind == "pool":
        val = options.val_fraction if options.val_fraction is not None else DEFAULT_POOL_FRACTIONS[1]
        test = options.test_fraction
        pool = groups["pool"]
        parts = stratified_split(pool.labels, (1 - val - test, val, test), generator, pool.num_classes)
        note = (
            f"one pool of class folders, split per class at random: train {1 - val - test:g} / val {val:g} / "
            f"test {test:g} (split seed {options.split_seed})"
        )
        return {split: pool.subset(part) for split, part in zip(SPLITS, parts, strict=True)}, note
    splits = dict(groups)
    if "val" in splits:
        return {split: splits[split] for split in SPLITS}, "folders: train/, val/ and test/"
    val = options.val_fraction if options.val_fraction is not None else DEFAULT_VAL_FRACTION
    train = splits["train"]
    kept, carved = stratified_split(train.labels, (1 - val, val), generator, train.num_classes)
    note = f"folders train/ and test/; val = {val:g} of train/ per class at random (split seed {options.split_seed})"
    return {"train": train.subset(kept), "val": train.subset(carved), "test": splits["test"]}, note


# --- loading --------------------------------------------------------------------------------------------------------


def load_image_folder(
    source: str | Path,
    options: ImageFolderOptions | Mapping[str, Any] | None = None,
    *,
    cache_dir: Path | None = None,
    refresh: bool = False,
) -> dict[str, ImageSet]:
    """Read an image-folder dataset (folder or zip) into train / val / test ImageSets, decoding only the first time.

    Args:
        source: a folder or zip in the splits or pool layout (see the module docs).
        options: :class:`ImageFolderOptions` or a mapping of them (``{"size": 64, "channels": 3}``).
        cache_dir: where decoded sources are kept; default ``$OCCLUBENCH_CACHE`` or ``~/.cache/occlubench``.
        refresh: decode again even if the cache holds this source.

    Returns:
        ``"train"``, ``"val"``, ``"test"`` -> ImageSet of uint8 ``(N, C, H, W)`` images.

    Raises:
        DataError: the source is missing, unreadable or not an image-folder layout; the message names the problem.
        ConfigError: an unknown or invalid option.

    Examples:
        >>> splits = load_image_folder("my_faces/", {"size": 64})  # doctest: +SKIP
        >>> splits["train"].classes, splits["train"].image_shape  # doctest: +SKIP
        (('calm', 'happy', 'tense'), (3, 64, 64))
    """
    return load_image_folder_with_info(source, options, cache_dir=cache_dir, refresh=refresh)[0]


def load_image_folder_with_info(
    source: str | Path,
    options: ImageFolderOptions | Mapping[str, Any] | None = None,
    *,
    cache_dir: Path | None = None,
    refresh: bool = False,
) -> tuple[dict[str, ImageSet], dict[str, Any]]:
    """Like :func:`load_image_folder`, and also say what was read and how.

    Returns:
        The splits, and an info dict: ``format``, ``description``, ``layout`` (splits / pool), ``classes_from``,
        ``image`` (width, height, channels, resize policy, and where each came from), ``split_note``, ``counts``,
        ``warnings``, ``reader_version``, ``sha256``, ``source`` and ``cached``.
    """
    if not isinstance(options, ImageFolderOptions):
        options = ImageFolderOptions.from_mapping(options or {})
    path = resolve_source(source)
    cache = DecodeCache(cache_dir)
    key = cache.key_for(path, options.cache_namespace(), rehash=refresh)
    entry = None if refresh else cache.load(key)
    if entry is not None:
        groups, info = entry.splits, entry.info
    else:
        groups, info = _decode(path, options)
        info["sha256"] = key.fingerprint
        cache.store(key, groups, info)
    splits, note = _split(groups, info["layout"], options)
    for message in info.get("warnings", []):
        warnings.warn(f"{path}: {message}", DataWarning, stacklevel=2)
    counts = {split: len(imageset) for split, imageset in splits.items()}
    empty = [split for split, count in counts.items() if count == 0]
    if empty:
        raise DataError(
            f"{path}: too few images for a {' / '.join(empty)} split ({sum(counts.values())} images in all)",
            "add images, or lower val_fraction / test_fraction",
        )
    return splits, {**info, "split_note": note, "counts": counts, "source": str(path), "cached": entry is not None}


def _decode(path: Path, options: ImageFolderOptions) -> tuple[dict[str, ImageSet], dict[str, Any]]:
    if path.is_file():
        with path.open("rb") as file:
            head = file.read(4)
        if not head.startswith(b"PK") and path.suffix.lower() != ".zip":
            raise DataError(
                f"{path}: not a folder or zip of images", "the imagefolder dataset reads folders and .zip files"
            )
    with open_tree(path) as tree:
        layout = _read_layout(tree)
        decoded = _decode_folder(tree, layout, options)
    labels = torch.tensor([layout.files[i].label for i in decoded.keep.tolist()], dtype=torch.int64)
    group_of = np.array([layout.files[i].group for i in decoded.keep.tolist()])
    groups = {}
    for group in ("train", "val", "test", "pool"):
        rows = np.flatnonzero(group_of == group)
        if rows.size:
            index = torch.from_numpy(rows)
            ids = tuple(layout.files[i].id for i in decoded.keep[rows].tolist())
            groups[group] = ImageSet(decoded.images[index], labels[index], ids, layout.classes)
    notes = layout.notes + decoded.notes
    for group, imageset in groups.items():
        missing = [name for name, count in imageset.class_counts().items() if count == 0]
        if missing and group != "val":
            shown = ", ".join(repr(name) for name in missing[:5]) + (", ..." if len(missing) > 5 else "")
            where = "the pool" if group == "pool" else f"{group}/"
            notes.append(f"{len(missing)} class(es) have no images in {where}: {shown}")
    source_format = "imagefolder-zip" if path.is_file() else "imagefolder"
    layout_text = "train/val/test/<class>/<image>" if layout.kind == "splits" else "<class>/<image>"
    info: dict[str, Any] = {
        "format": source_format,
        "description": f"{FORMATS[source_format]} ({layout_text})",
        "layout": layout.kind,
        "root": layout.root,
        "classes_from": layout.classes_from,
        "image": decoded.image_info,
        "warnings": notes,
        "reader_version": READER_VERSION,
    }
    return groups, info
