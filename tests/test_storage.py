"""storage: atomic writes that a kill cannot tear, failures that leave the old file, tensors without pickle."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import time
from pathlib import Path

import pytest
import torch

from occlubench import storage
from occlubench.errors import RunDirError
from occlubench.storage import (
    atomic_write_json,
    atomic_write_text,
    load_tensors,
    read_json,
    read_tensor_metadata,
    remove_stale_temporaries,
    save_tensors,
)


def temporaries(folder: Path) -> list[Path]:
    return sorted(folder.rglob(f".*{storage.TEMPORARY_SUFFIX}"))


def test_json_is_strict_with_nan_and_infinity_as_null(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "results.json"
    atomic_write_json(path, {"auc": float("nan"), "inf": float("inf"), "t": torch.tensor([1.5, 2.0]), "p": path})
    assert json.loads(path.read_text()) == {"auc": None, "inf": None, "t": [1.5, 2.0], "p": str(path)}
    assert temporaries(tmp_path) == []


def test_a_kill_during_a_write_leaves_the_old_or_the_new_file_never_half(tmp_path: Path) -> None:
    """A child rewrites results.json (120 kB) in a loop and is SIGKILLed at random moments: the file always parses."""
    path = tmp_path / "results.json"
    payloads = [{"version": v, "cells": [{"metric": v, "values": list(range(10_000))}]} for v in (1, 2)]
    started = time.perf_counter()
    atomic_write_json(path, payloads[0])
    one_write = time.perf_counter() - started
    rng = random.Random(0)
    seen = set()
    for _ in range(8):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child writes until it is killed
            try:
                for k in range(10**9):
                    atomic_write_json(path, payloads[k % 2])
            finally:
                os._exit(0)
        time.sleep(rng.uniform(1.0, 4.0) * one_write)  # mostly mid-write, after a write or two
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        version = read_json(path)["version"]  # raises if the file was torn
        assert read_json(path) == payloads[version - 1]
        seen.add(version)
    assert seen == {1, 2}, "the child should have completed writes of both payloads"
    removed = remove_stale_temporaries(tmp_path)
    assert temporaries(tmp_path) == []
    assert all(p.name.startswith(".results.json.") for p in removed)


def test_a_kill_half_way_through_writing_the_bytes_leaves_the_previous_file(tmp_path: Path) -> None:
    """Deterministic: the child SIGKILLs itself with half of the new results.json written."""
    path = tmp_path / "results.json"
    atomic_write_json(path, {"complete": False, "cells": [1, 2]})
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child dies inside the write

        def die_half_way(fd: int, data: bytes, target: Path) -> None:
            os.write(fd, data[: len(data) // 2])
            os.kill(os.getpid(), signal.SIGKILL)

        storage._write_file = die_half_way
        atomic_write_json(path, {"complete": True, "cells": [1, 2, 3, 4]})
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status)
    assert os.WTERMSIG(status) == signal.SIGKILL
    assert read_json(path) == {"complete": False, "cells": [1, 2]}
    assert len(temporaries(tmp_path)) == 1, "the torn bytes went to a temporary file"
    remove_stale_temporaries(tmp_path)
    assert temporaries(tmp_path) == []


def test_a_failed_write_keeps_the_old_file_and_says_how_to_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "matrix.csv"
    atomic_write_text(path, "old\n")

    def full_disk(fd: int, data: bytes, target: Path) -> None:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data[:3])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(storage, "_write_file", full_disk)
    with pytest.raises(RunDirError) as caught:
        atomic_write_text(path, "new contents\n")
    assert str(caught.value) == (
        f"cannot write {path}: No space left on device (free some space, then re-run the same command to resume)"
    )
    assert path.read_text() == "old\n"
    assert temporaries(tmp_path) == []


def test_an_unwritable_folder_is_a_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "history"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(RunDirError, match=r"^cannot write .*history/baseline\.json: .+ \(fix that, then re-run"):
        atomic_write_json(blocker / "baseline.json", {})


def test_tensors_round_trip_with_metadata_and_no_pickle(tmp_path: Path) -> None:
    path = tmp_path / "checkpoints" / "baseline.safetensors"
    tensors = {"w": torch.arange(6.0).reshape(2, 3), "b": torch.tensor([1, 2], dtype=torch.int64)}
    save_tensors(path, tensors, metadata={"job_hash": "abc"})
    loaded = load_tensors(path)
    assert all(torch.equal(loaded[k], v) for k, v in tensors.items())
    assert read_tensor_metadata(path) == {"job_hash": "abc"}
    header_size = int.from_bytes(path.read_bytes()[:8], "little")
    assert json.loads(path.read_bytes()[8 : 8 + header_size])["__metadata__"] == {"job_hash": "abc"}


def test_a_damaged_tensor_file_is_a_clear_error_and_has_no_metadata(tmp_path: Path) -> None:
    path = tmp_path / "predictions.safetensors"
    save_tensors(path, {"p": torch.rand(4)}, metadata={"job_hash": "x"})
    path.write_bytes(path.read_bytes()[:20])
    assert read_tensor_metadata(path) is None
    assert read_tensor_metadata(tmp_path / "absent.safetensors") is None
    with pytest.raises(RunDirError, match=r"^cannot read .*predictions\.safetensors: .+\(delete it and re-run"):
        load_tensors(path)


def test_only_our_temporary_files_are_removed(tmp_path: Path) -> None:
    ours = tmp_path / "checkpoints" / ".baseline.safetensors.k2j3h4.tmp"
    ours.parent.mkdir()
    ours.write_bytes(b"half")
    theirs = [tmp_path / "notes.tmp", tmp_path / ".hidden", tmp_path / ".tmp"]
    for path in theirs:
        path.write_text("keep")
    assert remove_stale_temporaries(tmp_path) == [ours]
    assert all(path.exists() for path in theirs)


def test_atomic_files_get_the_usual_permissions(tmp_path: Path) -> None:
    import os
    import stat

    from occlubench.storage import atomic_write_text

    mask = os.umask(0)
    os.umask(mask)
    target = tmp_path / "results.json"
    atomic_write_text(target, "{}")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
