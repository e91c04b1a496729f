"""RunDir: one configuration and one process per run directory; nothing written before ``claim``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from occlubench.benchmark.rundir import RunDir, config_differences, config_hash
from occlubench.errors import RunDirError

CONFIG = {
    "seed": 0,
    "recipes": {"baseline": {"epochs": 30, "lr": 0.01}},
    "trainings": [{"name": "full", "mix": ()}, {"name": "upper", "mix": ()}],
}


def other_config(**changes: object) -> dict:
    return {**CONFIG, **changes}


@pytest.fixture
def run_dir(tmp_path: Path) -> Iterator[RunDir]:
    run = RunDir(tmp_path / "runs" / "a")
    yield run
    run.release()


def test_claiming_a_new_directory_creates_it_with_the_config(run_dir: RunDir) -> None:
    assert run_dir.claim(CONFIG) is False
    stored = json.loads(run_dir.config.read_text())
    assert stored["hash"] == config_hash(CONFIG)
    assert stored["config"]["trainings"][0] == {"name": "full", "mix": []}


def test_the_same_config_resumes(run_dir: RunDir) -> None:
    run_dir.claim(CONFIG)
    run_dir.release()
    assert run_dir.claim(json.loads(json.dumps(CONFIG))) is True  # as read back: tuples are lists, same hash


def test_another_config_is_refused_naming_each_difference(run_dir: RunDir) -> None:
    run_dir.claim(CONFIG)
    run_dir.release()
    before = run_dir.config.read_bytes()
    changed = other_config(seed=1, recipes={"baseline": {"epochs": 5, "lr": 0.01}})
    with pytest.raises(RunDirError) as caught:
        run_dir.claim(changed)
    assert str(caught.value) == (
        f"--out {run_dir.root} holds a run of another configuration (recipes.baseline.epochs: 30 -> 5; seed: 0 -> 1) "
        "(use another --out, or --overwrite to replace that run)"
    )
    assert run_dir.config.read_bytes() == before


def test_differences_inside_lists_are_named_by_index_and_tuples_equal_lists() -> None:
    new = other_config(trainings=[{"name": "full", "mix": []}, {"name": "lower", "mix": []}])
    assert config_differences(json.loads(json.dumps(CONFIG)), new) == ["trainings[1].name: upper -> lower"]
    assert config_differences(CONFIG, json.loads(json.dumps(CONFIG))) == []


def test_many_differences_are_summarised(run_dir: RunDir) -> None:
    run_dir.claim({f"k{i}": i for i in range(7)})
    run_dir.release()
    with pytest.raises(RunDirError, match=r"\(k0: 0 -> 1; k1: 1 -> 2; k2: 2 -> 3; k3: 3 -> 4; and 3 more\)"):
        run_dir.claim({f"k{i}": i + 1 for i in range(7)})


def test_an_unreadable_config_is_refused_as_such(run_dir: RunDir) -> None:
    run_dir.root.mkdir(parents=True)
    run_dir.config.write_text('{"hash": "abc", "con')
    with pytest.raises(RunDirError, match=r"holds an unreadable config\.json \(use another --out, or --overwrite"):
        run_dir.claim(CONFIG)


def test_overwrite_removes_the_runs_files_and_nothing_else(run_dir: RunDir) -> None:
    run_dir.claim(CONFIG)
    run_dir.release()
    for name in ("results.json", "checkpoints/baseline.safetensors", "history/baseline.json"):
        (run_dir.root / name).parent.mkdir(exist_ok=True)
        (run_dir.root / name).write_text("old")
    (run_dir.root / "my-notes.md").write_text("mine")
    assert run_dir.claim(other_config(seed=2), overwrite=True) is False
    assert sorted(p.name for p in run_dir.root.iterdir() if p.name != ".lock") == ["config.json", "my-notes.md"]
    assert json.loads(run_dir.config.read_text())["config"]["seed"] == 2


def test_a_folder_of_other_files_is_refused(run_dir: RunDir) -> None:
    run_dir.root.mkdir(parents=True)
    (run_dir.root / "photo.jpg").write_bytes(b"jpeg")
    with pytest.raises(RunDirError, match="is a non-empty directory that holds no occlubench run"):
        run_dir.check_usable()
    assert [p.name for p in run_dir.root.iterdir()] == ["photo.jpg"]


def test_check_usable_writes_nothing(run_dir: RunDir) -> None:
    run_dir.check_usable()
    assert not run_dir.root.exists()
    assert not run_dir.root.parent.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes whatever the permission bits say")
def test_check_usable_refuses_an_unwritable_parent(tmp_path: Path) -> None:
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        with pytest.raises(RunDirError, match="is not writable"):
            RunDir(parent / "deep" / "run").check_usable()
    finally:
        parent.chmod(0o755)


def test_a_directory_held_by_another_run_is_refused(tmp_path: Path) -> None:
    first, second = RunDir(tmp_path / "run"), RunDir(tmp_path / "run")
    first.claim(CONFIG)
    try:
        # The same process re-claiming is a resume; another holder is simulated by a foreign lock below.
        import fcntl

        first.release()
        with (tmp_path / "run" / ".lock").open("a+b") as foreign:
            fcntl.flock(foreign.fileno(), fcntl.LOCK_EX)
            with pytest.raises(RunDirError, match="is in use by another occlubench run"):
                second.claim(CONFIG)
        assert second.claim(CONFIG) is True  # free again once the other holder is gone
    finally:
        second.release()


def test_claim_removes_temporary_files_a_killed_run_left(run_dir: RunDir) -> None:
    run_dir.claim(CONFIG)
    run_dir.release()
    torn = [run_dir.root / ".results.json.x1y2.tmp", run_dir.root / "checkpoints" / ".baseline.safetensors.z9.tmp"]
    for path in torn:
        path.parent.mkdir(exist_ok=True)
        path.write_text("half")
    assert run_dir.claim(CONFIG) is True
    assert not any(path.exists() for path in torn)
