"""``--executor ray``: the plan as a graph, clear errors without Ray, and (slow) a real local Ray cluster.

The slow tests start a real Ray cluster on this machine: one in this process (``ray.init(num_cpus=2)``) to run the
demo plan with its fine-tunes side by side, and one inside a CLI subprocess that is SIGKILLed, with all its Ray
workers, in the middle of a fine-tune, then resumed by the same command.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from occlubench.benchmark import get_benchmark
from occlubench.benchmark.ray_executor import plan_nodes

DEMO_SMOKE = ("run", "demo", "--preset", "smoke", "--device", "cpu", "--bootstrap", "0")


def test_the_plan_is_a_graph_whose_nodes_come_after_what_they_need() -> None:
    nodes = plan_nodes(get_benchmark("fer2013-halves"))
    keys = [node.key for node in nodes]
    assert len(nodes) == 12  # 6 trainings, each trained then evaluated
    assert nodes[0].key == "train baseline"
    assert nodes[0].after == ()
    for node in nodes:
        assert all(keys.index(parent) < keys.index(node.key) for parent in node.after)
        if node.kind == "evaluate":
            assert node.after == (node.key.replace("evaluate", "train", 1),)
    fine_tunes = [n for n in nodes if n.kind == "train" and n.key != "train baseline"]
    assert {n.after for n in fine_tunes} == {("train baseline",)}  # independent of each other: they can overlap


def test_ray_executor_without_ray_installed_is_a_one_line_error(
    kit: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError, as where it is not installed
    out = tmp_path / "run"
    done = kit.invoke(*DEMO_SMOKE, "--executor", "ray", "--out", out)
    assert done.exit_code == 2
    assert done.stderr_lines == [
        "error: --executor ray needs Ray, which is not installed (pip install 'occlubench[ray]')"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--executor", "dask"), "error: unknown executor 'dask' (use one of: local, ray)"),
        (("--address", "ray://head:10001"), "error: --address is the Ray cluster of --executor ray"),
    ],
)
def test_bad_executor_options_are_one_line_errors(
    kit: Any, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    out = tmp_path / "run"
    done = kit.invoke(*DEMO_SMOKE, *args, "--out", out)
    assert done.exit_code == 2
    assert len(done.stderr_lines) == 1
    assert done.stderr_lines[0].startswith(message)
    assert not out.exists()


@pytest.fixture
def local_ray() -> Iterator[Any]:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def accuracies(results: dict[str, Any]) -> dict[tuple[str, str], float]:
    return {(c["trained_on"], c["evaluated_on"]): c["metrics"]["accuracy"] for c in results["cells"]}


@pytest.mark.slow
def test_ray_runs_the_demo_plan_with_fine_tunes_in_parallel_to_the_local_executors_numbers(
    local_ray: Any, kit: Any, tmp_path: Path
) -> None:
    from occlubench.benchmark import run_benchmark

    ray_result = run_benchmark("demo", out=tmp_path / "ray", preset="smoke", bootstrap=0, executor="ray", device="cpu")
    local = kit.invoke(*DEMO_SMOKE, "--out", tmp_path / "local")  # one thread, as each Ray task
    assert local.exit_code == 0, local.stderr

    ray_results = ray_result.results
    local_results = kit.read_results(tmp_path / "local")
    assert ray_results["complete"]
    assert ray_results["config_hash"] == local_results["config_hash"]
    assert accuracies(ray_results) == accuracies(local_results)
    assert kit.compared(ray_results)["cells"] == kit.compared(local_results)["cells"]

    nodes = {n["node"]: n for n in ray_results["executor"]["nodes"]}
    assert len(nodes) == 12
    assert ray_results["executor"]["name"] == "ray"
    assert local_results["executor"] == {"name": "local"}
    fine_tunes = [nodes[k] for k in nodes if k.startswith("train finetune")]
    assert all(n["started"] >= nodes["train baseline"]["ended"] for n in fine_tunes), "a fine-tune before its parent"
    overlapping = sum(a["started"] < b["ended"] and b["started"] < a["ended"] for a in fine_tunes for b in fine_tunes)
    assert overlapping > len(fine_tunes), "two Ray workers: fine-tunes must run side by side"


@pytest.mark.slow
def test_a_ray_run_killed_mid_fine_tune_resumes_without_redoing_finished_nodes(kit: Any, tmp_path: Path) -> None:
    pytest.importorskip("ray")
    out = tmp_path / "killed"
    command = (*DEMO_SMOKE, "--finetune-epochs", "3", "--executor", "ray", "--out", out)
    checkpoints = out / "checkpoints"
    log = tmp_path / "killed.log"
    with log.open("w") as stderr:
        # Its own session: the SIGKILL reaches the driver and the local Ray cluster it started, workers included.
        process = subprocess.Popen(
            kit.cli_command(*command),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=kit.subprocess_env(),
            start_new_session=True,
        )
        deadline = time.monotonic() + 400
        try:
            while not (
                (checkpoints / "baseline.safetensors").exists() and list(checkpoints.glob("finetune-*.state.*"))
            ):
                assert process.poll() is None, f"the run ended before a fine-tune's first epoch: {log.read_text()}"
                assert time.monotonic() < deadline, "no fine-tune epoch state within 400 s"
                time.sleep(0.05)
            os.killpg(process.pid, signal.SIGKILL)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    interrupted = sorted(p.name.split(".")[0] for p in checkpoints.glob("finetune-*.state.*"))
    assert interrupted, "killed too late: no fine-tune was mid-training"

    resumed = kit.run_cli_subprocess(*command, timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    results = kit.read_results(out)
    assert results["complete"]
    assert "train baseline" in results["executor"]["reused"], "the finished baseline was trained again"
    assert "train baseline" not in {n["node"] for n in results["executor"]["nodes"]}
    for job in interrupted:
        history = json.loads((out / "history" / f"{job}.json").read_text())
        assert history["resumed_from_epoch"] >= 1, f"{job} restarted from scratch instead of its last epoch"
    assert not list(out.rglob("*.state.safetensors"))

    reference = kit.invoke(*DEMO_SMOKE, "--finetune-epochs", "3", "--out", tmp_path / "reference")
    assert reference.exit_code == 0, reference.stderr
    assert accuracies(results) == accuracies(kit.read_results(tmp_path / "reference"))
