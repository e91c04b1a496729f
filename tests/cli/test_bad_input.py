"""Bad input on the command line: one ``error: ...`` line on stderr, exit code 2, and ``--out`` left exactly as it was.

One test per kind of bad input. Each runs the real command in-process (``CliRunner``) on a tiny generated dataset and
checks the whole of stderr, so a traceback, a usage block or a second line fails the test.
"""

from __future__ import annotations

import os
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
import torch
import typer

from occlubench.benchmark import runner
from occlubench.benchmark.rundir import RunDir
from occlubench.data.imageset import FER2013_CLASSES

CLASS_LIST = ", ".join(FER2013_CLASSES)


@pytest.fixture
def fer_folder(kit: Any, tmp_path: Path) -> Path:
    return kit.write_fer_folder(tmp_path / "fer2013")


@pytest.fixture
def fer_zip(kit: Any, fer_folder: Path, tmp_path: Path) -> Path:
    return kit.zip_folder(fer_folder, tmp_path / "fer2013.zip")


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "runs" / "out"


def assert_refused(kit: Any, args: list[Any], out: Path, expected: str, *, regex: bool = False) -> str:
    """Run the CLI; it must print exactly one line, ``expected`` (or matching it), exit 2 and leave ``out`` alone."""
    before = kit.snapshot(out)
    result = kit.invoke(*args)
    assert result.exit_code == 2, (result.exit_code, result.stderr, result.exception)
    assert result.stdout == ""
    assert len(result.stderr_lines) == 1, result.stderr
    line = result.stderr_lines[0]
    if regex:
        assert re.fullmatch(expected, line), line
    else:
        assert line == expected
    assert kit.snapshot(out) == before, "--out must be left exactly as it was"
    return line


def run_args(kit: Any, data: Path | str, out: Path, *extra: str) -> list[Any]:
    return [*kit.RUN, "--data", data, "--out", out, *extra]


# --- --data: paths --------------------------------------------------------------------------------------------------


def test_missing_data(kit: Any, tmp_path: Path, out: Path) -> None:
    missing = tmp_path / "nowhere" / "fer2013.zip"
    assert_refused(kit, run_args(kit, missing, out), out, f"error: --data {missing} does not exist")


def test_unreadable_data_by_permission(kit: Any, fer_zip: Path, out: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file whatever its mode (see the read-error test below)")
    fer_zip.chmod(0)
    try:
        assert_refused(kit, run_args(kit, fer_zip, out), out, f"error: {fer_zip}: not readable (permission denied)")
    finally:
        fer_zip.chmod(0o644)


def test_unreadable_data_by_read_error(kit: Any, out: Path) -> None:
    """A file that exists, passes every permission check and fails to read: ``/proc/self/mem`` at offset 0."""
    mem = Path("/proc/self/mem")
    if not mem.exists():
        pytest.skip("needs Linux /proc")
    expected = f"error: /proc/{os.getpid()}/mem: cannot read (Input/output error)"  # the path, resolved
    assert_refused(kit, run_args(kit, mem, out), out, expected)


def test_empty_folder(kit: Any, tmp_path: Path, out: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_refused(kit, run_args(kit, empty, out), out, f"error: {empty}: the folder is empty")


# --- --data: zips ---------------------------------------------------------------------------------------------------


def test_not_a_zip(kit: Any, tmp_path: Path, out: Path) -> None:
    fake = tmp_path / "fer2013.zip"
    fake.write_text("<html>a download page, not the dataset</html>")
    expected = f"error: {fake}: not a valid zip file (corrupt, truncated or another format): File is not a zip file"
    assert_refused(kit, run_args(kit, fake, out), out, expected)


def test_truncated_zip(kit: Any, fer_zip: Path, out: Path) -> None:
    data = fer_zip.read_bytes()
    fer_zip.write_bytes(data[: len(data) * 2 // 3])
    expected = f"error: {re.escape(str(fer_zip))}: not a valid zip file \\(corrupt, truncated or another format\\): .+"
    assert_refused(kit, run_args(kit, fer_zip, out), out, expected, regex=True)


def test_corrupt_zip_member(kit: Any, fer_folder: Path, tmp_path: Path, out: Path) -> None:
    """Bytes flipped inside one stored member: its CRC no longer matches."""
    archive = tmp_path / "corrupt.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zipped:
        for path in sorted(fer_folder.rglob("*.png")):
            zipped.write(path, path.relative_to(fer_folder).as_posix())
    with zipfile.ZipFile(archive) as zipped:
        victim = zipped.infolist()[5]
        start = victim.header_offset + 30 + len(victim.filename.encode()) + 100
    data = bytearray(archive.read_bytes())
    data[start : start + 8] = bytes(255 - b for b in data[start : start + 8])
    archive.write_bytes(bytes(data))
    expected = (
        f"error: {re.escape(str(archive))}: member '{re.escape(victim.filename)}' cannot be read "
        r"\(corrupt zip\?\): Bad CRC-32 .+"
    )
    assert_refused(kit, run_args(kit, archive, out), out, expected, regex=True)


@pytest.mark.parametrize("member", ["../../escaped.txt", "/tmp/occlubench-escaped.txt"])
def test_zip_member_with_unsafe_path_is_refused_and_never_extracted(
    kit: Any, fer_folder: Path, tmp_path: Path, out: Path, member: str
) -> None:
    archive = kit.zip_folder(fer_folder, tmp_path / "unsafe.zip", extra_members=[(member, b"pwned")])
    expected = f"error: {archive}: refusing zip member with an unsafe path {member!r} (absolute or with '..')"
    assert_refused(kit, run_args(kit, archive, out), out, expected)
    assert not (tmp_path.parent / "escaped.txt").exists()
    assert not Path("/tmp/occlubench-escaped.txt").exists()


# --- --data: layout -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["folder", "zip"])
def test_unknown_class_names(kit: Any, tmp_path: Path, out: Path, form: str) -> None:
    classes = (*FER2013_CLASSES[:3], "Joy", *FER2013_CLASSES[4:])  # "happy" named otherwise
    source = kit.write_fer_folder(tmp_path / "fer", classes=classes)
    if form == "zip":
        source = kit.zip_folder(source, tmp_path / "fer.zip")
    expected = (
        f"error: {source}: unknown class folder(s) 'Joy' (e.g. 'test/Joy/PrivateTest_30.png'); "
        f"expected the FER2013 classes {CLASS_LIST} (any case)"
    )
    assert_refused(kit, run_args(kit, source, out), out, expected)


@pytest.mark.parametrize("form", ["folder", "zip"])
def test_no_test_folder(kit: Any, tmp_path: Path, out: Path, form: str) -> None:
    source = kit.write_fer_folder(tmp_path / "fer", folders=("train",))
    if form == "zip":
        source = kit.zip_folder(source, tmp_path / "fer.zip")
    expected = f"error: {source}: no test/ folder (expected train/<class>/*.jpg and test/<class>/*.jpg)"
    assert_refused(kit, run_args(kit, source, out), out, expected)


@pytest.fixture
def stop_after_the_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """End the run with exit 0 where it would claim ``--out``: the data were accepted, training is not the point."""

    def claim(self: RunDir, *args: Any, **kwargs: Any) -> bool:
        raise typer.Exit(0)

    monkeypatch.setattr(RunDir, "claim", claim)


@pytest.mark.usefixtures("stop_after_the_data")
def test_images_not_48x48_are_resized_with_one_warning(kit: Any, tmp_path: Path, out: Path) -> None:
    """Resized, not refused: FER2013 re-uploads come at other sizes, and 48x48 is what every model here expects."""
    source = kit.write_fer_folder(tmp_path / "fer64", size=64)
    result = kit.invoke(*run_args(kit, source, out))
    assert result.exit_code == 0, result.stderr
    assert result.stderr_lines == [
        f"warning: {source}: resized 35 image(s) that were not 48x48 to 48x48 "
        "(e.g. 'test/angry/PrivateTest_00.png' was 64x64)"
    ]


@pytest.mark.usefixtures("stop_after_the_data")
def test_non_image_files_are_skipped_and_counted_in_one_warning(kit: Any, fer_folder: Path, out: Path) -> None:
    (fer_folder / "train" / "happy" / "notes.txt").write_text("collected by hand")
    (fer_folder / "test" / "sad" / "PrivateTest_99.jpg").write_bytes(b"not a jpeg at all")
    (fer_folder / "train" / "fear" / "Training_98.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    result = kit.invoke(*run_args(kit, fer_folder, out))
    assert result.exit_code == 0, result.stderr
    assert result.stderr_lines == [
        f"warning: {fer_folder}: skipped 3 file(s) that are not images in a class folder (e.g. 'train/happy/notes.txt')"
    ]


# --- --data: CSV ----------------------------------------------------------------------------------------------------


def _csv(kit: Any, tmp_path: Path, row: int, column: int, value: str) -> Path:
    rows = kit.fer_csv_rows()
    rows[row][column] = value
    return kit.write_fer_csv(tmp_path / "fer2013.csv", rows)


def test_csv_wrong_pixel_count(kit: Any, tmp_path: Path, out: Path) -> None:
    rows = kit.fer_csv_rows()
    rows[4][1] += " 17"
    source = kit.write_fer_csv(tmp_path / "fer2013.csv", rows)
    expected = f"error: {source} row 4: 2305 pixel values, expected 2304"
    assert_refused(kit, run_args(kit, source, out), out, expected)


def test_csv_non_integer_pixel(kit: Any, tmp_path: Path, out: Path) -> None:
    pixels = kit.fer_csv_rows()[7][1].split()
    pixels[10] = "12.5"
    source = _csv(kit, tmp_path, 7, 1, " ".join(pixels))
    expected = f"error: {source} row 7: non-integer pixel '12.5' (pixel 10)"
    assert_refused(kit, run_args(kit, source, out), out, expected)


def test_csv_unknown_usage(kit: Any, tmp_path: Path, out: Path) -> None:
    source = _csv(kit, tmp_path, 2, 2, "Validation")
    expected = f"error: {source} row 2: unknown Usage 'Validation' (expected Training, PublicTest or PrivateTest)"
    assert_refused(kit, run_args(kit, source, out), out, expected)


@pytest.mark.parametrize("label", ["7", "-1"])
def test_csv_label_outside_0_to_6(kit: Any, tmp_path: Path, out: Path, label: str) -> None:
    source = _csv(kit, tmp_path, 11, 0, label)
    expected = f"error: {source} row 11: emotion label {label} outside 0..6"
    assert_refused(kit, run_args(kit, source, out), out, expected)


# --- names ----------------------------------------------------------------------------------------------------------


def test_unknown_benchmark_suggests_close_names(kit: Any, fer_zip: Path, out: Path) -> None:
    args = ["run", "fer2013-halfs", "--data", fer_zip, "--out", out]
    expected = r"error: unknown benchmark 'fer2013-halfs' \(did you mean 'fer2013-halves'(, '[\w-]+')*\?\)"
    assert_refused(kit, args, out, expected, regex=True)


def test_unknown_model_suggests_close_names(kit: Any, fer_zip: Path, out: Path) -> None:
    args = [*run_args(kit, fer_zip, out), "--model", "resnet5O"]
    assert_refused(
        kit, args, out, r"error: unknown model 'resnet5O' \(did you mean 'resnet50'(, '\w+')*\?\)", regex=True
    )


def test_unknown_preset_suggests_close_names(kit: Any, fer_zip: Path, out: Path) -> None:
    args = [*run_args(kit, fer_zip, out), "--preset", "quik"]
    assert_refused(kit, args, out, r"error: unknown preset 'quik' \(did you mean 'quick'(, '[\w-]+')*\?\)", regex=True)


def test_unknown_occluder_in_a_benchmark_spec_suggests_close_names(
    kit: Any, fer_zip: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No CLI option takes an occluder name; a benchmark (here a registered one) can name one that does not exist."""
    from dataclasses import replace

    from occlubench.benchmark import catalog

    spec = replace(catalog.get_benchmark("fer2013-halves"), name="halves-typo", evaluations=("full", "uper"))
    monkeypatch.setattr(catalog.BENCHMARKS, "_entries", dict(catalog.BENCHMARKS._entries))
    catalog.register_benchmark(spec)
    args = ["run", "halves-typo", "--data", fer_zip, "--out", out, *kit.RUN[2:]]
    expected = r"error: unknown occluder 'uper' \(did you mean 'upper'(, '[\w-]+')*\?\)"
    assert_refused(kit, args, out, expected, regex=True)


# --- weights --------------------------------------------------------------------------------------------------------


class _Payload:
    """Unpickling this runs code: what a booby-trapped checkpoint does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.write_text, (self.marker, "code ran"))


def test_weights_with_pickled_code_are_refused_and_never_run(
    kit: Any, fer_zip: Path, tmp_path: Path, out: Path
) -> None:
    marker = tmp_path / "code-ran"
    weights = tmp_path / "model.pt"
    weights.write_bytes(pickle.dumps({"conv.weight": torch.zeros(1), "hook": _Payload(marker)}))
    expected = (
        f"error: cannot read weights {weights}: it holds pickled objects, not just tensors, and is not unpickled "
        "(occlubench reads .safetensors or a plain state dict of tensors, never arbitrary pickles)"
    )
    assert_refused(kit, [*run_args(kit, fer_zip, out), "--weights", weights], out, expected)
    assert not marker.exists()


def test_missing_weights_file(kit: Any, fer_zip: Path, tmp_path: Path, out: Path) -> None:
    weights = tmp_path / "nope.safetensors"
    expected = f"error: weights file not found: {weights}"
    assert_refused(kit, [*run_args(kit, fer_zip, out), "--weights", weights], out, expected)


# --- device and --out -----------------------------------------------------------------------------------------------


@pytest.fixture
def no_data_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unusable --out must fail before the data are read (minutes for the real FER2013 on a first run)."""

    def load_dataset(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the data were read before --out was checked")

    monkeypatch.setattr(runner, "load_dataset", load_dataset)


def test_device_cuda_without_cuda(kit: Any, fer_zip: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    args = [*run_args(kit, fer_zip, out), "--device", "cuda"]
    expected = "error: --device cuda was asked for, but this torch build sees no CUDA device (use --device cpu)"
    assert_refused(kit, args, out, expected)


@pytest.mark.usefixtures("no_data_loading")
def test_out_under_a_regular_file(kit: Any, fer_zip: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "results.txt"
    blocker.write_text("a file where a folder should be")
    out = blocker / "run"
    expected = f"error: cannot create --out {out}: {blocker} is not a directory"
    assert_refused(kit, run_args(kit, fer_zip, out), out, expected)
    assert blocker.read_text() == "a file where a folder should be"


@pytest.mark.usefixtures("no_data_loading")
def test_out_is_a_file(kit: Any, fer_zip: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.write_text("not a folder")
    assert_refused(kit, run_args(kit, fer_zip, out), out, f"error: --out {out} exists and is not a directory")


@pytest.mark.usefixtures("no_data_loading")
def test_out_in_a_read_only_place(kit: Any, fer_zip: Path, tmp_path: Path, tmpfs: Any) -> None:
    """Permission bits do not stop root, a read-only file system does: use whichever binds this user."""
    if os.geteuid() == 0:
        parent = tmpfs("1m", read_only=True)
    else:
        parent = tmp_path / "locked"
        parent.mkdir()
        parent.chmod(0o555)
    out = parent / "run"
    expected = f"error: cannot create --out {out}: {parent} is not writable"
    assert_refused(kit, run_args(kit, fer_zip, out), out, expected)


@pytest.mark.usefixtures("no_data_loading")
def test_out_is_a_non_empty_folder_of_something_else(kit: Any, fer_zip: Path, tmp_path: Path) -> None:
    out = tmp_path / "Documents"
    out.mkdir()
    (out / "thesis.tex").write_text(r"\documentclass{article}")
    expected = (
        f"error: --out {out} is a non-empty directory that holds no occlubench run (pick a new or empty directory)"
    )
    assert_refused(kit, run_args(kit, fer_zip, out), out, expected)


# --- option values and usage ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--epochs", "0"], "error: --epochs must be at least 1, got 0"),
        (
            ["--batch-size", "1"],
            "error: --batch-size must be at least 2, got 1 (BatchNorm cannot train on one image per step)",
        ),
        (["--seed", "-1"], "error: --seed must be an integer in 0..4294967295, got -1"),
        (["--protocol", "oficial"], "error: unknown protocol 'oficial' (use one of: official, study)"),
        (["--precision", "fp16"], "error: unknown precision 'fp16' (use auto, bf16 or fp32)"),
    ],
    ids=["epochs-0", "batch-size-1", "negative-seed", "protocol", "precision"],
)
def test_bad_option_values(kit: Any, fer_zip: Path, out: Path, extra: list[str], expected: str) -> None:
    assert_refused(kit, [*run_args(kit, fer_zip, out), *extra], out, expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "demo", "--epochs", "2x"], r"error: Invalid value for '--epochs': .+ \(see 'occlubench run --help'\)"),
        (["run", "demo", "--frobnicate"], r"error: No such option: --frobnicate \(see 'occlubench run --help'\)"),
        (["run"], r"error: Missing argument 'benchmark'\. \(see 'occlubench run --help'\)"),
        (["rnu", "demo"], r"error: No such command 'rnu'\. Did you mean 'run'\? \(see 'occlubench --help'\)"),
    ],
    ids=["bad-integer", "unknown-option", "missing-argument", "unknown-command"],
)
def test_usage_errors_are_one_line_too(kit: Any, out: Path, args: list[str], expected: str) -> None:
    with_out = [*args, "--out", out] if len(args) > 2 else args
    assert_refused(kit, with_out, out, expected, regex=True)
