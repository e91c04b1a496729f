"""Fuzzing ``occlubench run --data`` end to end: whatever the bytes, one ``error:`` line and exit 2, or the data load.

``tests/data/test_bad_data.py`` fuzzes the readers (every failure is a DataError). This fuzzes the command: the
``--data`` checks in the CLI, the runner's order of checks, the error printer. A file the readers accept stops the
run just before ``--out`` would be claimed, so no example trains a model.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from occlubench.benchmark.rundir import RunDir

FUZZ = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
EDITS = st.lists(st.tuples(st.integers(0, 2**31), st.integers(0, 255)), min_size=1, max_size=8)


class DataAccepted(BaseException):
    """Raised where the run would claim ``--out``: the readers took the file (a BaseException: no handler eats it)."""


@pytest.fixture(autouse=True)
def _stop_before_claiming(monkeypatch: pytest.MonkeyPatch) -> None:
    def claim(self: RunDir, *args: Any, **kwargs: Any) -> bool:
        raise DataAccepted

    monkeypatch.setattr(RunDir, "claim", claim)


@pytest.fixture
def valid_sources(kit: Any, tmp_path: Path) -> dict[str, bytes]:
    """A tiny valid fer2013.csv and image-folder zip, as bytes to mutate."""
    root = tmp_path / "sources"
    csv = kit.write_fer_csv(tmp_path / "fer2013.csv", kit.fer_csv_rows()).read_bytes()
    archive = kit.zip_folder(kit.write_fer_folder(root / "fer2013"), root / "fer2013.zip").read_bytes()
    return {".csv": csv, ".zip": archive}


def run_on(kit: Any, data: bytes, suffix: str, where: Path) -> None:
    """Run the CLI on ``data``; it must be refused in one line with exit 2, or accepted; ``--out`` stays absent."""
    where.mkdir(parents=True, exist_ok=True)
    source = where / f"fer2013{suffix}"
    source.write_bytes(data)
    out = where / "out"
    try:
        result = kit.invoke(*kit.RUN, "--data", source, "--out", out)
    except DataAccepted:
        assert not out.exists()
        return
    assert result.exception is None, repr(result.exception)
    assert result.exit_code == 2, result.stderr
    errors = [line for line in result.stderr_lines if not line.startswith("warning: ")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    assert not out.exists()


def mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    buffer = bytearray(data)
    for position, value in edits:
        buffer[position % len(buffer)] = value
    return bytes(buffer[: cut % (len(buffer) + 1)] if cut is not None else buffer)


@FUZZ
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".csv", ".zip", ".jpg"]), n=st.integers(0, 10**9))
def test_random_bytes(kit: Any, tmp_path: Path, data: bytes, suffix: str, n: int) -> None:
    run_on(kit, data, suffix, tmp_path / str(n))


@FUZZ
@given(edits=EDITS, cut=st.none() | st.integers(0, 2**31), n=st.integers(0, 10**9))
def test_mutated_csv(
    kit: Any, valid_sources: dict[str, bytes], tmp_path: Path, edits: list[tuple[int, int]], cut: int | None, n: int
) -> None:
    run_on(kit, mutate(valid_sources[".csv"], edits, cut), ".csv", tmp_path / str(n))


@FUZZ
@given(edits=EDITS, cut=st.none() | st.integers(0, 2**31), n=st.integers(0, 10**9))
def test_mutated_zip(
    kit: Any, valid_sources: dict[str, bytes], tmp_path: Path, edits: list[tuple[int, int]], cut: int | None, n: int
) -> None:
    run_on(kit, mutate(valid_sources[".zip"], edits, cut), ".zip", tmp_path / str(n))


@FUZZ
@given(names=st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=4), n=st.integers(0, 10**9))
def test_zip_with_arbitrary_member_names(kit: Any, tmp_path: Path, names: list[str], n: int) -> None:
    """Absolute, ``..``, backslashed, unicode or empty-segment names: refused or read in memory, never extracted."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for name in names:
            zipped.writestr(zipfile.ZipInfo(name), b"\x89PNG not really")
    before = sorted(p.name for p in tmp_path.parent.iterdir())
    run_on(kit, buffer.getvalue(), ".zip", tmp_path / str(n))
    assert sorted(p.name for p in tmp_path.parent.iterdir()) == before
