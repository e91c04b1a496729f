"""``--executor ray``: the plan's nodes as Ray tasks, writing into one run directory on a shared path.

A plan is a graph: each training after its parent (the baseline first, then its fine-tunes), each evaluation after
its training; seeds and models are independent. Every node becomes a Ray task with its CPU/GPU needs and its
parents' results as arguments, so Ray starts it only when they are done, and runs the fine-tunes and evaluations
side by side on whatever the cluster has free.

A task rebuilds the run's state in its worker (the dataset comes from that machine's cache), checks that it computes
the driver's configuration hash, and trains or predicts exactly as the local executor would, writing the checkpoint
or the predictions file into the run directory. The driver submits only the nodes whose files are missing (so a
resumed plan never redoes finished work, and an interrupted training continues from its last epoch), then runs the
local loop, which finds every file and only assembles the cells, tests and reports.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from occlubench.errors import ConfigError, OcclubenchError
from occlubench.train.progress import ProgressCallback, ProgressEvent

if TYPE_CHECKING:
    from occlubench.benchmark.runner import _Runner
    from occlubench.benchmark.spec import BenchmarkSpec

TASK_RETRIES = 3
"""Times Ray reruns a task whose worker or machine died; a rerun resumes the training from its last epoch."""


@dataclass(frozen=True)
class PlanNode:
    """One unit of work: ``kind`` ``train`` or ``evaluate`` of the training named ``training``, after ``after``."""

    key: str
    kind: str
    training: str
    after: tuple[str, ...] = ()


def plan_nodes(spec: BenchmarkSpec) -> list[PlanNode]:
    """The plan's graph, in an order where every node comes after the nodes it needs."""
    nodes: list[PlanNode] = []
    for training in spec.trainings:
        parent = (f"train {spec.training(training.init_from).job}",) if training.init_from else ()
        nodes.append(PlanNode(f"train {training.job}", "train", training.name, parent))
        nodes.append(PlanNode(f"evaluate {training.job}", "evaluate", training.name, (f"train {training.job}",)))
    return nodes


def _is_done(runner: _Runner, node: PlanNode) -> bool:
    condition = runner.spec.training(node.training)
    if node.kind == "train":
        return runner.is_trained(condition)
    return runner.is_trained(condition) and runner.stored_predictions(condition) is not None


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("--executor ray needs Ray, which is not installed", "pip install 'occlubench[ray]'") from None
    return ray


def _connect(ray: Any, address: str | None) -> bool:
    """Connect to the cluster (``address``, else ``RAY_ADDRESS``, else a new local one); True if we must disconnect."""
    if ray.is_initialized():  # the caller's ray.init(...) (a test's local cluster, a notebook's connection)
        return False
    try:
        if address is None and not os.environ.get("RAY_ADDRESS"):
            ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    except ConnectionError as exc:
        where = address or os.environ["RAY_ADDRESS"]
        raise ConfigError(f"cannot connect to the Ray cluster at {where}: {exc}") from None
    return True


def _task_resources(ray: Any, device: str) -> dict[str, float]:
    """A GPU per task when the run is on CUDA (``auto``: when the cluster has GPUs), and one CPU either way."""
    if device == "cpu":
        gpus = 0.0
    elif device.startswith("cuda"):
        gpus = 1.0
    else:
        gpus = 1.0 if ray.cluster_resources().get("GPU", 0) >= 1 else 0.0
    return {"num_cpus": 1.0, "num_gpus": gpus}


def run_nodes_on_ray(runner: _Runner, data: str | Path | None, progress: ProgressCallback, device: str) -> None:
    """Run every unfinished node of ``runner``'s plan as Ray tasks on ``device``; return when all are done."""
    ray = _import_ray()
    runner.hash_jobs()
    nodes = [node for node in plan_nodes(runner.spec) if not _is_done(runner, node)]
    finished = {node.key for node in plan_nodes(runner.spec)} - {node.key for node in nodes}
    for key in sorted(finished):
        progress(ProgressEvent("job_reused", key, message=f"ray: {key} already done, not resubmitted"))
    if not nodes:
        return
    disconnect = _connect(ray, runner.options.ray_address)
    try:
        resources = _task_resources(ray, device)
        task_device = "cpu" if resources["num_gpus"] == 0 else "cuda"  # Ray gives each GPU task one visible GPU
        payload = {
            "spec": runner.spec,
            "options": replace(runner.options, device=task_device, executor="local"),
            "data": str(Path(data).expanduser().resolve()) if data is not None else None,
            "out": str(runner.run.root.resolve()),
            "config_hash": runner.hash,
        }
        remote = ray.remote(_run_node).options(max_retries=TASK_RETRIES, retry_exceptions=False, **resources)
        started = time.perf_counter()
        refs: dict[str, Any] = {}
        for node in nodes:  # parents first: plan order; a parent's ref as an argument makes Ray wait for it
            refs[node.key] = remote.remote(payload, node, *[refs[k] for k in node.after if k in refs])
            progress(ProgressEvent("message", node.key, message=f"ray: submitted {node.key}"))
        reports: list[dict[str, Any]] = []
        waiting = list(refs.values())
        while waiting:
            ready, waiting = ray.wait(waiting, num_returns=1)
            report = _result(ray, ready[0])
            reports.append(report)
            runner.timings[f"ray {report['node']}"] = report["seconds"]
            where = f"{report['host']} ({report['device']})"
            message = f"ray: {report['node']} done in {report['seconds']:.1f} s on {where}"
            progress(ProgressEvent("message", report["node"], message=message))
        runner.executor_info = {
            "name": "ray",
            "wall_seconds": time.perf_counter() - started,
            "task_resources": resources,
            "nodes": reports,
            "reused": sorted(finished),
        }
    finally:
        if disconnect:
            ray.shutdown()


def _result(ray: Any, ref: Any) -> dict[str, Any]:
    """A task's report, or its error: occlubench's own errors keep their one-line message."""
    try:
        return dict(ray.get(ref))
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, OcclubenchError):
            raise cause from None
        raise


def _run_node(payload: dict[str, Any], node: PlanNode, *after: Any) -> dict[str, Any]:
    """The body of one Ray task: rebuild the run in this worker, then train or predict ``node``."""
    import torch

    from occlubench.benchmark.runner import _Runner, run_dataset_options
    from occlubench.data.registry import load_dataset
    from occlubench.train.progress import ignore_progress

    started, started_at = time.perf_counter(), time.time()
    spec, options = payload["spec"], payload["options"]
    cpus = int(float(os.environ.get("OMP_NUM_THREADS", "1") or 1))
    torch.set_num_threads(max(1, cpus))  # the CPUs Ray gave this task, not every core of the machine
    preset = spec.preset(options.preset)
    loaded = load_dataset(
        options.dataset, payload["data"], seed=options.seed, options=run_dataset_options(spec, preset, options)
    )
    runner = _Runner(spec, options, loaded, Path(payload["out"]), ignore_progress)
    if runner.hash != payload["config_hash"]:
        raise ConfigError(
            f"a Ray worker on {socket.gethostname()} computes another configuration than the driver",
            "install the same occlubench version and dataset on every machine of the cluster",
        )
    runner.hash_jobs()
    condition = spec.training(node.training)
    model = runner.train(condition)  # an evaluation node finds its checkpoint and only loads it
    if node.kind == "evaluate":
        runner.predict(condition, model)
    return {
        "node": node.key,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "device": str(runner.device),
        "threads": torch.get_num_threads(),
        "seconds": time.perf_counter() - started,
        "started": started_at,  # wall clock (epoch seconds): shows which nodes overlapped
        "ended": time.time(),
    }
