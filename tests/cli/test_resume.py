"""Runs that survive: a killed, disk-full or re-run command resumes to exactly the numbers of an uninterrupted run.

Every comparison is against ``reference_run`` (conftest): the same command run once, uninterrupted, in this process.
The main test is a real kill: a subprocess is SIGKILLed as soon as its first epoch checkpoint exists.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import torch
import typer
from safetensors.torch import load_file

from occlubench import storage
from occlubench.benchmark import get_benchmark
from occlubench.benchmark.runner import _Runner

JOBS = tuple(t.job for t in get_benchmark("fer2013-halves").trainings)
BASELINE_EPOCHS = 5  # RESUME_OPTIONS


def assert_same_weights(run_dir: Path, reference_dir: Path) -> None:
    for job in JOBS:
        ours = load_file(str(run_dir / "checkpoints" / f"{job}.safetensors"))
        theirs = load_file(str(reference_dir / "checkpoints" / f"{job}.safetensors"))
        assert ours.keys() == theirs.keys()
        assert all(torch.equal(ours[k], theirs[k]) for k in ours), f"{job}: weights differ from the reference"


def assert_clean_finished_run(run_dir: Path) -> None:
    assert not list(run_dir.rglob("*.state.safetensors")), "training states must go once their job is done"
    assert not list(run_dir.rglob(f".*{storage.TEMPORARY_SUFFIX}")), "no temporary file may be left behind"


def copy_run(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".lock"))
    return target


def test_a_run_killed_after_its_first_epoch_checkpoint_resumes_to_identical_results(
    kit: Any, reference_run: Any, tmp_path: Path
) -> None:
    out = tmp_path / "killed"
    state = out / "checkpoints" / "baseline.state.safetensors"
    log = tmp_path / "killed.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            kit.cli_command(*reference_run.command(out)),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=kit.subprocess_env(),
        )
        deadline = time.monotonic() + 240
        try:
            while not state.exists():
                assert process.poll() is None, f"the run ended before its first epoch checkpoint: {log.read_text()}"
                assert time.monotonic() < deadline, "no epoch checkpoint within 240 s"
                time.sleep(0.002)
            os.kill(process.pid, signal.SIGKILL)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert state.is_file()
    assert not (out / "checkpoints" / "baseline.safetensors").exists(), "killed too late: the baseline had finished"

    done = kit.invoke(*reference_run.command(out))  # the same command again (in this process: one import less)

    assert done.exit_code == 0, done.stderr
    history = json.loads((out / "history" / "baseline.json").read_text())
    assert 1 <= history["resumed_from_epoch"] < BASELINE_EPOCHS, "the training restarted instead of resuming"
    assert [e["epoch"] for e in history["epochs"]] == list(range(1, BASELINE_EPOCHS + 1))
    assert kit.compared(kit.read_results(out)) == kit.compared(reference_run.results)
    assert_same_weights(out, reference_run.run_dir)
    assert_clean_finished_run(out)


def test_rerunning_a_finished_command_reuses_every_model_and_prediction(
    kit: Any, reference_run: Any, tmp_path: Path
) -> None:
    out = copy_run(reference_run.run_dir, tmp_path / "again")
    kept = {k: v for k, v in kit.snapshot(out).items() if k.startswith(("checkpoints", "predictions", "history"))}

    result = kit.invoke(*reference_run.command(out))

    assert result.exit_code == 0, result.stderr
    assert [line for line in result.stderr_lines if "reused" in line] == [
        f"{job}: reused {job}.safetensors" for job in JOBS
    ]
    assert {k: v for k, v in kit.snapshot(out).items() if k in kept} == kept, "reused files must not be rewritten"
    assert kit.compared(kit.read_results(out)) == kit.compared(reference_run.results)


def test_another_config_in_the_same_out_is_refused_naming_the_difference(
    kit: Any, reference_run: Any, tmp_path: Path
) -> None:
    before = kit.snapshot(reference_run.run_dir)
    command = reference_run.command(reference_run.run_dir)

    result = kit.invoke(*command, "--seed", "3", "--finetune-epochs", "2")

    assert result.exit_code == 2
    assert result.stderr_lines == [
        f"error: --out {reference_run.run_dir} holds a run of another configuration "
        "(recipes.finetune.epochs: 1 -> 2; seed: 0 -> 3) (use another --out, or --overwrite to replace that run)"
    ]
    assert kit.snapshot(reference_run.run_dir) == before


def test_overwrite_replaces_a_run_of_another_config_and_keeps_other_files(
    kit: Any, reference_run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = copy_run(reference_run.run_dir, tmp_path / "replaced")
    (out / "notes.txt").write_text("mine")  # not a file of the run: --overwrite must keep it
    monkeypatch.setattr(_Runner, "train", _stop)  # what follows the claim is an ordinary run

    result = kit.invoke(*kit.RUN, "--epochs", "1", "--data", reference_run.data, "--out", out, "--overwrite")

    assert result.exit_code == 0, result.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["config"]["recipes"]["baseline"]["epochs"] == 1
    assert config["hash"] != reference_run.results["config_hash"]
    assert sorted(p.name for p in out.iterdir() if p.name != ".lock") == ["config.json", "notes.txt"]
    assert (out / "notes.txt").read_text() == "mine"


def _stop(*args: Any, **kwargs: Any) -> None:
    raise typer.Exit(0)


def _fail_writes(monkeypatch: pytest.MonkeyPatch, should_fail: Any) -> list[Path]:
    """Make ``storage``'s disk writes raise ENOSPC (after writing half the bytes) where ``should_fail(target)``."""
    real = storage._write_file
    failed: list[Path] = []

    def write(fd: int, data: bytes, target: Path) -> None:
        if not should_fail(Path(target)):
            real(fd, data, target)
            return
        failed.append(Path(target))
        with os.fdopen(fd, "wb") as handle:
            handle.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(storage, "_write_file", write)
    return failed


def test_a_failed_checkpoint_write_after_the_history_resumes_to_identical_results(
    kit: Any, reference_run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gap between ``history/<job>.json`` and ``checkpoints/<job>.safetensors``: the state must carry it."""
    out = tmp_path / "gap"
    target = out / "checkpoints" / "baseline.safetensors"
    failed = _fail_writes(monkeypatch, lambda path: path == target)

    first = kit.invoke(*reference_run.command(out))

    assert failed == [target]
    assert first.exit_code == 2
    assert first.stderr_lines[-1] == (
        f"error: cannot write {target}: No space left on device "
        "(free some space, then re-run the same command to resume)"
    )
    assert (out / "history" / "baseline.json").is_file()
    assert not target.exists()
    assert (out / "checkpoints" / "baseline.state.safetensors").is_file()
    assert not list(out.rglob(f".*{storage.TEMPORARY_SUFFIX}"))
    monkeypatch.undo()

    second = kit.invoke(*reference_run.command(out))

    assert second.exit_code == 0, second.stderr
    assert json.loads((out / "history" / "baseline.json").read_text())["resumed_from_epoch"] == BASELINE_EPOCHS
    assert kit.compared(kit.read_results(out)) == kit.compared(reference_run.results)
    assert_same_weights(out, reference_run.run_dir)
    assert_clean_finished_run(out)


def test_a_state_left_after_the_checkpoint_was_written_is_removed_on_resume(
    kit: Any, reference_run: Any, tmp_path: Path
) -> None:
    """Killed between saving ``checkpoints/<job>.safetensors`` and deleting its training state."""
    out = copy_run(reference_run.run_dir, tmp_path / "leftover")
    leftover = out / "checkpoints" / "finetune-left.state.safetensors"
    shutil.copy(out / "checkpoints" / "finetune-left.safetensors", leftover)
    torn = out / f".results.json.abc123{storage.TEMPORARY_SUFFIX}"  # what a kill during a results write leaves
    torn.write_text('{"cells": [')

    result = kit.invoke(*reference_run.command(out))

    assert result.exit_code == 0, result.stderr
    assert not leftover.exists()
    assert not torn.exists()
    assert kit.compared(kit.read_results(out)) == kit.compared(reference_run.results)


@pytest.mark.slow
def test_a_full_disk_stops_the_run_cleanly_and_the_same_command_resumes_it(
    kit: Any, reference_run: Any, tmpfs: Any, tmp_path: Path
) -> None:
    """A real full disk: ``--out`` on a small tmpfs, filled so that the second epoch checkpoint does not fit.

    Slow (two runs); the same failure, simulated, is in the default run: the checkpoint-gap test above.
    """
    disk = tmpfs("32m")
    checkpoint_bytes = (reference_run.run_dir / "checkpoints" / "baseline.safetensors").stat().st_size
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    filler = disk / "filler"
    filler.write_bytes(b"\0" * (free - int(4.5 * checkpoint_bytes)))  # room for one state (~3 models), not two
    out = disk / "run"

    first = kit.invoke(*reference_run.command(out))

    state = out / "checkpoints" / "baseline.state.safetensors"
    assert first.exit_code == 2
    assert first.stderr_lines[-1] == (
        f"error: cannot write {state}: No space left on device "
        "(free some space, then re-run the same command to resume)"
    )
    assert state.is_file(), "the first epoch's state fitted and must still be there"
    assert not list(out.rglob(f".*{storage.TEMPORARY_SUFFIX}"))
    filler.unlink()

    second = kit.invoke(*reference_run.command(out))

    assert second.exit_code == 0, second.stderr
    assert json.loads((out / "history" / "baseline.json").read_text())["resumed_from_epoch"] == 1
    assert kit.compared(kit.read_results(out)) == kit.compared(reference_run.results)
    assert_same_weights(out, reference_run.run_dir)


def test_a_run_directory_in_use_by_another_run_is_refused_untouched(
    kit: Any, reference_run: Any, tmp_path: Path
) -> None:
    """The directory lock: a second run of the same command while the first one is alive must not write there."""
    import fcntl

    out = copy_run(reference_run.run_dir, tmp_path / "busy")
    with (out / ".lock").open("a+b") as other_run:  # a lock on another open file: as another process holds it
        fcntl.flock(other_run.fileno(), fcntl.LOCK_EX)
        before = kit.snapshot(out)
        result = kit.invoke(*reference_run.command(out))
    assert result.exit_code == 2
    assert result.stderr_lines == [
        f"error: --out {out} is in use by another occlubench run (wait for it to finish, or use another --out)"
    ]
    assert kit.snapshot(out) == before
