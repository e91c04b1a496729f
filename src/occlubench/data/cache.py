"""The decode cache: a source is decoded once, then loaded from a single safetensors file in a fraction of a second.

Entries are keyed by the source's content: the sha256 of a file, or for a folder a hash of every file's relative path,
size and mtime. Hashing the 60 MB FER2013 zip on every load would cost as much as the load itself, so a small index
remembers ``absolute path -> (size, mtime_ns, sha256)`` and a file is re-hashed only when its size or mtime changed (or
when it had been written less than two seconds before it was hashed: a rewrite within the same mtime tick goes unseen).

Loaded tensors are memory-mapped copy-on-write from the entry (a load costs milliseconds, and changing the images in
place never changes the cache), which is safe because entries are never rewritten in place: every write is atomic
(temporary file + ``os.replace``). An entry that fails any check (unreadable header, wrong version, checksum mismatch,
inconsistent shapes) is reported with a :class:`CacheWarning`, deleted and rebuilt by the caller; a cache directory
that cannot be written only costs the next load a fresh decode.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import uuid
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from occlubench.data.imageset import ImageSet
from occlubench.errors import DataError

CACHE_ENV = "OCCLUBENCH_CACHE"
"""Environment variable naming the cache directory (the ``cache_dir`` argument of a loader overrides it)."""

CACHE_FORMAT = "occlubench-decode-cache"
CACHE_VERSION = 1
_INDEX_NAME = "index.json"
_INDEX_LIMIT = 256  # remembered source paths; the oldest are forgotten first
_HASH_CHUNK = 1 << 20
_SETTLED_NS = 2_000_000_000  # a file unmodified for 2 s before hashing cannot be rewritten unseen in the same tick


class CacheWarning(UserWarning):
    """The decode cache could not be used as is (corrupt entry, unwritable directory); nothing is lost but time."""


def default_cache_dir() -> Path:
    """``$OCCLUBENCH_CACHE`` if set, else ``~/.cache/occlubench``."""
    override = os.environ.get(CACHE_ENV)
    return Path(override).expanduser() if override else Path.home() / ".cache" / "occlubench"


@dataclass(frozen=True)
class CacheKey:
    """Where a decoded source lives in the cache.

    Attributes:
        source: absolute path of the source.
        namespace: reader name and version (``fer2013-r1``): a reader change must not load stale entries.
        fingerprint: sha256 of the file, or the folder's listing hash.
        file_stat: (size, mtime_ns) of a file source when it was hashed; None for a folder.
        hashed_at_ns: when the file was hashed (``time.time_ns()``); None for a folder.
    """

    source: Path
    namespace: str
    fingerprint: str
    file_stat: tuple[int, int] | None = None
    hashed_at_ns: int | None = None


@dataclass(frozen=True)
class CacheEntry:
    """A cached, decoded source: its splits and the reader's info dict (JSON-compatible)."""

    splits: dict[str, ImageSet]
    info: dict[str, Any]


class DecodeCache:
    """Decoded sources stored as safetensors files under one directory.

    Examples:
        >>> cache = DecodeCache(tmp_dir)  # doctest: +SKIP
        >>> key = cache.key_for(Path("fer2013.zip").resolve(), "fer2013-r1")  # doctest: +SKIP
        >>> entry = cache.load(key) or decode_and_store(...)  # doctest: +SKIP
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = (directory if directory is not None else default_cache_dir()).expanduser()

    def entry_path(self, key: CacheKey) -> Path:
        """The file that holds (or will hold) the entry for ``key``."""
        return self.directory / f"{key.namespace}-{key.fingerprint}.safetensors"

    def key_for(self, source: Path, namespace: str, *, rehash: bool = False) -> CacheKey:
        """The cache key of a source: re-hashes a file only if the index has no entry with its size and mtime.

        Raises:
            DataError: the source cannot be read.
        """
        if source.is_dir():
            return CacheKey(source, namespace, _folder_fingerprint(source))
        try:
            stat = source.stat()
        except OSError as err:
            raise DataError(f"{source}: cannot read ({err.strerror or err})") from err
        file_stat = (stat.st_size, stat.st_mtime_ns)
        known = None if rehash else self._read_index().get(str(source))
        if isinstance(known, dict) and [known.get("size"), known.get("mtime_ns")] == list(file_stat):
            fingerprint, hashed_at = known.get("fingerprint"), known.get("hashed_at_ns")
            # A file rewritten within one timestamp tick of its hashing keeps size and mtime ("racy git"):
            # trust the index only for files that had been left alone for a while when they were hashed.
            settled = isinstance(hashed_at, int) and hashed_at - stat.st_mtime_ns > _SETTLED_NS
            if settled and isinstance(fingerprint, str) and len(fingerprint) == 64:
                return CacheKey(source, namespace, fingerprint, file_stat, hashed_at)
        hashed_at = time.time_ns()
        return CacheKey(source, namespace, _file_sha256(source), file_stat, hashed_at)

    def load(self, key: CacheKey) -> CacheEntry | None:
        """The cached entry for ``key``, or None when there is none or it is corrupt (then it is deleted)."""
        path = self.entry_path(key)
        if not path.is_file():
            return None
        try:
            entry = _read_entry(path)
        # safetensors, json and ImageSet raise many types on a damaged file; any of them means "rebuild".
        except Exception as err:
            warnings.warn(
                f"ignoring corrupt decode-cache file {path} ({type(err).__name__}: {err}); it will be rebuilt",
                CacheWarning,
                stacklevel=2,
            )
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        self._remember(key)
        return entry

    def store(self, key: CacheKey, splits: dict[str, ImageSet], info: dict[str, Any]) -> Path | None:
        """Write an entry atomically; on failure warn and return None (the data are still good, just not cached)."""
        path = self.entry_path(key)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        tensors: dict[str, torch.Tensor] = {}
        described: dict[str, Any] = {}
        for split, imageset in splits.items():
            # Clones: safetensors refuses tensors that share storage, which views of one decoded array would.
            images, labels = imageset.images.contiguous().clone(), imageset.labels.contiguous().clone()
            tensors[f"{split}/images"], tensors[f"{split}/labels"] = images, labels
            described[split] = {
                "ids": list(imageset.ids),
                "classes": list(imageset.classes),
                "crc32": [_crc32(images), _crc32(labels)],
            }
        payload = json.dumps({"info": info, "splits": described})
        metadata = {"format": CACHE_FORMAT, "version": str(CACHE_VERSION), "payload": payload}
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            save_file(tensors, temporary, metadata=metadata)
            os.replace(temporary, path)
        except (OSError, RuntimeError) as err:
            with contextlib.suppress(OSError):
                temporary.unlink()
            warnings.warn(
                f"could not write the decode cache in {self.directory} ({err}); the source will be decoded again",
                CacheWarning,
                stacklevel=2,
            )
            return None
        self._remember(key)
        return path

    def _read_index(self) -> dict[str, Any]:
        try:
            index = json.loads((self.directory / _INDEX_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return index if isinstance(index, dict) else {}

    def _remember(self, key: CacheKey) -> None:
        """Record the key in the index and delete the entries of a previous version of the same source."""
        index = self._read_index()
        previous = index.pop(str(key.source), None)
        record: dict[str, Any] = {"fingerprint": key.fingerprint}
        if key.file_stat is not None:
            record["size"], record["mtime_ns"] = key.file_stat
            record["hashed_at_ns"] = key.hashed_at_ns
        index[str(key.source)] = record
        if previous == record:
            return  # nothing new: spare a cached load the write
        for stale in list(index)[: max(0, len(index) - _INDEX_LIMIT)]:
            del index[stale]
        old = previous.get("fingerprint") if isinstance(previous, dict) else None
        still_used = {r.get("fingerprint") for r in index.values() if isinstance(r, dict)}
        if isinstance(old, str) and old not in still_used and len(old) == 64 and old.isalnum():
            for leftover in self.directory.glob(f"*-{old}.safetensors"):
                with contextlib.suppress(OSError):
                    leftover.unlink()
        _write_json_atomically(self.directory / _INDEX_NAME, index)


def _read_entry(path: Path) -> CacheEntry:
    with safe_open(str(path), framework="pt") as file:
        metadata = file.metadata() or {}
        if metadata.get("format") != CACHE_FORMAT or metadata.get("version") != str(CACHE_VERSION):
            raise ValueError("not an occlubench decode-cache file of this version")
        payload = json.loads(metadata["payload"])
        splits = {}
        for split, described in payload["splits"].items():
            images, labels = file.get_tensor(f"{split}/images"), file.get_tensor(f"{split}/labels")
            if [_crc32(images), _crc32(labels)] != described["crc32"]:
                raise ValueError(f"checksum mismatch in split {split!r}")
            classes = tuple(described["classes"])
            if labels.numel() and not (0 <= int(labels.min()) and int(labels.max()) < len(classes)):
                raise ValueError(f"labels out of range in split {split!r}")
            splits[split] = ImageSet(images, labels, tuple(described["ids"]), classes)
    return CacheEntry(splits, dict(payload["info"]))


def _crc32(tensor: torch.Tensor) -> int:
    return zlib.crc32(tensor.contiguous().view(torch.uint8).reshape(-1).numpy())


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as file:
            while chunk := file.read(_HASH_CHUNK):
                digest.update(chunk)
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror or err})") from err
    return digest.hexdigest()


def _folder_fingerprint(folder: Path) -> str:
    """Hash of every file's relative path, size and mtime: changes whenever a file is added, removed or rewritten."""

    def fail(err: OSError) -> None:
        raise DataError(f"{err.filename}: cannot list folder ({err.strerror or err})")

    records = []
    for directory, subdirectories, files in os.walk(folder, onerror=fail):
        subdirectories.sort()
        for name in files:
            path = os.path.join(directory, name)
            try:
                stat = os.stat(path)
            except OSError as err:
                raise DataError(f"{path}: cannot read ({err.strerror or err})") from err
            records.append(f"{os.path.relpath(path, folder)}\0{stat.st_size}\0{stat.st_mtime_ns}")
    records.sort()
    return hashlib.sha256("\n".join(records).encode("utf-8", "surrogateescape")).hexdigest()


def _write_json_atomically(path: Path, value: Any) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(value), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        # The index only saves re-hashing; losing an update is harmless.
        with contextlib.suppress(OSError):
            temporary.unlink()
