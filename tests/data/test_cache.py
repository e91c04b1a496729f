"""The decode cache: hits are fast and equal, changes invalidate, corruption is rebuilt, the index spares re-hashing."""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch

from occlubench.data import cache as cache_module
from occlubench.data.cache import CACHE_ENV, CacheWarning, default_cache_dir
from occlubench.data.fer2013 import DataWarning, load_fer2013, load_fer2013_with_info
from occlubench.data.imageset import ImageSet


def entries(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.safetensors"))


def assert_same_splits(left: dict[str, ImageSet], right: dict[str, ImageSet]) -> None:
    assert set(left) == set(right)
    for split in left:
        assert left[split].ids == right[split].ids
        assert left[split].classes == right[split].classes
        assert torch.equal(left[split].images, right[split].images)
        assert torch.equal(left[split].labels, right[split].labels)


def bump_mtime(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


@pytest.mark.parametrize("fixture", ["fer_zip", "fer_folder", "fer_csv"])
def test_second_load_is_a_fast_equal_cache_hit(
    fixture: str, fer_cache_dir: Path, request: pytest.FixtureRequest
) -> None:
    source = request.getfixturevalue(fixture)
    first, info = load_fer2013_with_info(source, cache_dir=fer_cache_dir)
    assert not info["cached"]
    assert len(entries(fer_cache_dir)) == 1
    start = time.perf_counter()
    second, second_info = load_fer2013_with_info(source, cache_dir=fer_cache_dir)
    assert time.perf_counter() - start < 0.5
    assert second_info["cached"]
    assert_same_splits(first, second)
    assert {k: v for k, v in second_info.items() if k != "cached"} == {k: v for k, v in info.items() if k != "cached"}


def test_changed_csv_invalidates_the_entry_and_drops_the_old_one(fer_csv: Path, fer_cache_dir: Path) -> None:
    before = load_fer2013(fer_csv)
    old_entries = entries(fer_cache_dir)
    lines = fer_csv.read_text().splitlines()
    label = int(lines[1].split(",", 1)[0])
    lines[1] = f"{(label + 1) % 7}," + lines[1].split(",", 1)[1]
    fer_csv.write_text("\n".join(lines) + "\n")
    bump_mtime(fer_csv)
    after, info = load_fer2013_with_info(fer_csv)
    assert not info["cached"]
    changed = [split for split in after if not torch.equal(after[split].labels, before[split].labels)]
    assert len(changed) == 1
    assert entries(fer_cache_dir) != old_entries
    assert len(entries(fer_cache_dir)) == 1  # the stale entry was removed


def test_changed_folder_invalidates_the_entry(fer_folder: Path, fer_cache_dir: Path) -> None:
    before = load_fer2013(fer_folder)
    victim = fer_folder / before["train"].ids[0]
    victim.unlink()
    after, info = load_fer2013_with_info(fer_folder)
    assert not info["cached"]
    assert len(after["train"]) == len(before["train"]) - 1


def test_environment_variable_chooses_the_cache_and_the_argument_overrides_it(
    fer_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_env = tmp_path / "env-cache"
    monkeypatch.setenv(CACHE_ENV, str(from_env))
    assert default_cache_dir() == from_env
    load_fer2013(fer_csv)
    assert len(entries(from_env)) == 1
    explicit = tmp_path / "explicit-cache"
    load_fer2013(fer_csv, cache_dir=explicit)
    assert len(entries(explicit)) == 1
    assert len(entries(from_env)) == 1


def test_default_cache_dir_is_under_the_home_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "occlubench"


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip_pixel", "empty"])
def test_corrupt_entry_is_detected_and_rebuilt(damage: str, fer_zip: Path, fer_cache_dir: Path) -> None:
    expected = load_fer2013(fer_zip)
    (entry,) = entries(fer_cache_dir)
    data = bytearray(entry.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "garbage":
        data = bytearray(b"not a safetensors file at all" * 10)
    elif damage == "flip_pixel":
        data[-100] ^= 0xFF  # inside the last tensor's bytes: only the checksum can tell
    else:
        data = bytearray()
    entry.write_bytes(bytes(data))
    with pytest.warns(CacheWarning, match="corrupt decode-cache file"):
        rebuilt, info = load_fer2013_with_info(fer_zip)
    assert not info["cached"]
    assert_same_splits(rebuilt, expected)
    again, info = load_fer2013_with_info(fer_zip)
    assert info["cached"]
    assert_same_splits(again, expected)


def test_index_spares_rehashing_until_the_file_changes(fer_zip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    os.utime(fer_zip, ns=(time.time_ns() - 3600 * 10**9,) * 2)  # a download from an hour ago
    load_fer2013(fer_zip)
    hashed: list[Path] = []
    real_sha256 = cache_module._file_sha256
    monkeypatch.setattr(cache_module, "_file_sha256", lambda path: hashed.append(path) or real_sha256(path))
    assert load_fer2013_with_info(fer_zip)[1]["cached"]
    assert hashed == []
    bump_mtime(fer_zip)  # same bytes, new mtime: hash again, and it is still the same entry
    assert load_fer2013_with_info(fer_zip)[1]["cached"]
    assert hashed == [fer_zip]


def test_file_rewritten_within_one_mtime_tick_is_not_mistaken_for_the_old_one(fer_csv: Path) -> None:
    """Same size, same mtime, other bytes: a file hashed right after it was written is hashed again next time."""
    before = load_fer2013(fer_csv)
    stat = fer_csv.stat()
    text = fer_csv.read_text()
    swapped = text.replace(",Training\n", ",PrivateTesx\n", 1).replace(",PrivateTest\n", ",Training\n", 1)
    swapped = swapped.replace(",PrivateTesx\n", ",PrivateTest\n")
    assert len(swapped) == len(text)
    assert swapped != text
    fer_csv.write_text(swapped)
    os.utime(fer_csv, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after, info = load_fer2013_with_info(fer_csv)
    assert not info["cached"]
    assert len(after["train"]) == len(before["train"])
    assert after["train"].ids != before["train"].ids


def test_refresh_decodes_again(fer_csv: Path) -> None:
    load_fer2013(fer_csv)
    assert not load_fer2013_with_info(fer_csv, refresh=True)[1]["cached"]
    assert load_fer2013_with_info(fer_csv)[1]["cached"]


def test_failed_write_warns_leaves_no_temporary_file_and_still_returns_data(
    fer_csv: Path, fer_cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_save(tensors: Any, filename: Any, metadata: Any = None) -> None:
        Path(filename).write_bytes(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_module, "save_file", failing_save)
    with pytest.warns(CacheWarning, match="could not write the decode cache"):
        splits = load_fer2013(fer_csv)
    assert len(splits["train"]) == 14
    assert list(fer_cache_dir.iterdir()) == []


def test_cache_dir_that_is_a_file_only_costs_a_warning(fer_csv: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.warns(CacheWarning):
        splits = load_fer2013(fer_csv, cache_dir=blocker)
    assert len(splits["val"]) == 7


def test_data_warnings_are_repeated_on_a_cache_hit(
    fer_factory: Any, tiny_fer: Any, tmp_path: Path, fer_cache_dir: Path
) -> None:
    folder = fer_factory.write_image_folder(tiny_fer, tmp_path / "odd")
    (folder / "train" / "angry" / "notes.txt").write_text("not an image")
    with pytest.warns(DataWarning, match="skipped 1 file"):
        load_fer2013(folder)
    with pytest.warns(DataWarning, match="skipped 1 file"):
        _, info = load_fer2013_with_info(folder)
    assert info["cached"]


def test_no_temporary_files_are_left_behind(fer_zip: Path, fer_cache_dir: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_fer2013(fer_zip)
        load_fer2013(fer_zip)
    names = sorted(path.name for path in fer_cache_dir.iterdir())
    assert names == sorted([entries(fer_cache_dir)[0].name, "index.json"])


def test_changing_loaded_images_in_place_leaves_the_cache_intact(fer_zip: Path) -> None:
    expected = load_fer2013(fer_zip)
    cached = load_fer2013(fer_zip)  # memory-mapped from the entry, copy-on-write
    cached["train"].images.zero_()
    assert_same_splits(load_fer2013(fer_zip), expected)
