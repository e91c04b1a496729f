"""CLI test kit: tiny FER2013 sources, the CLI run in-process, directory snapshots and one uninterrupted reference run.

Test modules cannot import a conftest, so the helpers reach them as the ``kit`` fixture (a namespace class).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from occlubench.cli.app import app
from occlubench.data.imageset import FER2013_CLASSES

SPLITS = (("Training", "train", 3), ("PublicTest", "test", 1), ("PrivateTest", "test", 1))
"""Images per class: 21 train, 7 val, 7 test in all; a 1-epoch fer_cnn run of the whole plan takes a second."""

RUN = ("run", "fer2013-halves", "--preset", "smoke", "--model", "fer_cnn", "--device", "cpu", "--bootstrap", "0")
"""The command every bad-input test varies: the reference plan, sized for tests."""

RESUME_OPTIONS = ("--epochs", "5", "--finetune-epochs", "1", "--bootstrap", "20")
"""Enough baseline epochs that a kill after the first epoch checkpoint lands mid-training; CIs to compare too."""

COMPARED_KEYS = ("complete", "config", "config_hash", "classes", "split_sizes", "cells", "comparisons", "robustness")
"""What must be bit-identical between runs of one config (timings, dates and the environment may differ)."""


@dataclass(frozen=True)
class CliResult:
    """What one CLI invocation did."""

    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def write_fer_folder(
    root: Path,
    *,
    size: int = 48,
    classes: Sequence[str] = FER2013_CLASSES,
    folders: Sequence[str] = ("train", "test"),
    seed: int = 0,
) -> Path:
    """``train/<class>/Training_k.png`` and ``test/<class>/{PublicTest,PrivateTest}_k.png``, random gray pixels."""
    rng = np.random.default_rng(seed)
    for usage, folder, count in SPLITS:
        if folder not in folders:
            continue
        for label, name in enumerate(classes):
            directory = root / folder / name
            directory.mkdir(parents=True, exist_ok=True)
            for k in range(count):
                pixels = rng.integers(0, 80, (size, size), dtype=np.uint8)
                pixels[(label * size) // 8 : (label * size) // 8 + size // 5, size // 5 : size - size // 5] = 230
                Image.fromarray(pixels, mode="L").save(directory / f"{usage}_{label}{k}.png")
    return root


def zip_folder(folder: Path, archive: Path, extra_members: Sequence[tuple[str, bytes]] = ()) -> Path:
    """Zip a folder's files at the archive root, plus raw ``(name, bytes)`` members written as given."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zipped.write(path, path.relative_to(folder).as_posix())
        for name, data in extra_members:
            zipped.writestr(zipfile.ZipInfo(name), data)
    return archive


def fer_csv_rows(seed: int = 0) -> list[list[str]]:
    """``[emotion, pixels, Usage]`` rows of a tiny fer2013.csv, as strings, editable before writing."""
    rng = np.random.default_rng(seed)
    rows = []
    for usage, _, count in SPLITS:
        for label in range(len(FER2013_CLASSES)):
            for _ in range(count):
                rows.append([str(label), " ".join(map(str, rng.integers(0, 256, 48 * 48).tolist())), usage])
    return rows


def write_fer_csv(path: Path, rows: Sequence[Sequence[str]]) -> Path:
    path.write_text("emotion,pixels,Usage\n" + "".join(f'{e},"{p}",{u}\n' for e, p, u in rows), encoding="utf-8")
    return path


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Torch on one thread: the CPU is shared, and a run's numbers depend on its thread count (subprocesses too)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def invoke(*args: str | os.PathLike[str]) -> CliResult:
    """Run the CLI in this process, as a user would type it (on one thread, as ``subprocess_env`` runs it)."""
    with one_thread():
        result = CliRunner().invoke(app, [str(a) for a in args])
    exception = None if isinstance(result.exception, SystemExit) else result.exception
    return CliResult(result.exit_code, result.stdout, result.stderr, exception)


def subprocess_env() -> dict[str, str]:
    """The environment for a CLI subprocess: one thread (as ``invoke``: the same numbers) and this test's cache."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def cli_command(*args: str | os.PathLike[str]) -> list[str]:
    return [sys.executable, "-m", "occlubench", *(str(a) for a in args)]


def run_cli_subprocess(*args: str | os.PathLike[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command(*args), capture_output=True, text=True, env=subprocess_env(), timeout=timeout, check=False
    )


def snapshot(path: Path) -> dict[str, str] | None:
    """Every file and folder under ``path`` with a hash of its bytes; None when ``path`` does not exist."""
    if not path.exists():
        return None
    if path.is_file():
        return {".": hashlib.sha256(path.read_bytes()).hexdigest()}
    return {
        p.relative_to(path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(path.rglob("*"))
    }


def compared(results: dict[str, Any]) -> dict[str, Any]:
    return {key: results.get(key) for key in COMPARED_KEYS}


def read_results(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "results.json").read_text(encoding="utf-8"))


class Kit:
    """The helpers above, for test modules."""

    RUN = RUN
    RESUME_OPTIONS = RESUME_OPTIONS
    CliResult = CliResult
    write_fer_folder = staticmethod(write_fer_folder)
    zip_folder = staticmethod(zip_folder)
    fer_csv_rows = staticmethod(fer_csv_rows)
    write_fer_csv = staticmethod(write_fer_csv)
    invoke = staticmethod(invoke)
    subprocess_env = staticmethod(subprocess_env)
    cli_command = staticmethod(cli_command)
    run_cli_subprocess = staticmethod(run_cli_subprocess)
    snapshot = staticmethod(snapshot)
    compared = staticmethod(compared)
    read_results = staticmethod(read_results)


@pytest.fixture
def kit() -> type[Kit]:
    return Kit


@pytest.fixture(scope="session")
def fer_zip_session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny FER2013 zip shared by the tests that compare runs (its hash is part of every run's config)."""
    root = tmp_path_factory.mktemp("cli-data")
    return zip_folder(write_fer_folder(root / "fer2013"), root / "fer2013.zip")


@dataclass(frozen=True)
class ReferenceRun:
    """An uninterrupted run of ``RUN + RESUME_OPTIONS`` on ``data``."""

    data: Path
    run_dir: Path
    results: dict[str, Any]

    def command(self, out: Path) -> list[str]:
        """The same command with another ``--out``."""
        return [*RUN, *RESUME_OPTIONS, "--data", str(self.data), "--out", str(out)]


@pytest.fixture(scope="session")
def reference_run(fer_zip_session: Path, tmp_path_factory: pytest.TempPathFactory) -> ReferenceRun:
    """The uninterrupted run every resumed run must equal, bit for bit (run once per session, in this process)."""
    run_dir = tmp_path_factory.mktemp("reference") / "run"
    with pytest.MonkeyPatch.context() as patch:  # session fixtures run before the autouse private-cache fixture
        patch.setenv("OCCLUBENCH_CACHE", str(tmp_path_factory.getbasetemp() / "occlubench-cache"))
        torch.manual_seed(12345)  # the run must not depend on the global RNG it starts with
        result = invoke(*RUN, *RESUME_OPTIONS, "--data", fer_zip_session, "--out", run_dir)
    assert result.exit_code == 0, result.stderr
    return ReferenceRun(fer_zip_session, run_dir, read_results(run_dir))


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Any]:
    """``mount(size, read_only=False) -> Path``: a fresh tmpfs (root only; skips elsewhere), unmounted afterwards."""
    mounted: list[Path] = []

    def mount(size: str = "16m", *, read_only: bool = False) -> Path:
        if os.name != "posix" or os.geteuid() != 0 or shutil.which("mount") is None:
            pytest.skip("mounting a tmpfs needs root")
        point = tmp_path / f"tmpfs-{uuid.uuid4().hex[:6]}"
        point.mkdir()
        options = f"size={size}" + (",ro" if read_only else "")
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True, check=False
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        with contextlib.suppress(OSError):
            subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)
