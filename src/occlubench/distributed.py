"""Data-parallel runs under ``torchrun``: who this process is, its shard of a split, and the collectives it needs.

``torchrun --nproc_per_node N -m occlubench run ...`` starts N copies of the CLI with ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK`` set. Each copy holds an interleaved shard of every split (rows ``rank::world_size``) on its own device;
``fit`` wraps the model in ``DistributedDataParallel`` so gradients are averaged over the ranks, and evaluation
gathers every rank's probabilities back into the split's order. Only rank 0 writes the run directory, which must be
on a path every rank sees (one machine, or a shared filesystem across machines).

Without ``torchrun`` (or with one process) everything here is a no-op: :data:`SINGLE` is the default everywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as torch_dist

from occlubench.data.imageset import ImageSet
from occlubench.errors import ConfigError


@dataclass(frozen=True)
class Distributed:
    """This process's place in a data-parallel job: rank ``rank`` of ``world_size``, ``local_rank`` on its node."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes files and draws progress."""
        return self.rank == 0


SINGLE = Distributed()
"""One process, no collectives: what every function assumes unless told otherwise."""


def from_environment() -> Distributed:
    """The job torchrun (or a launcher setting ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``) started; else ``SINGLE``."""
    try:
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError:
        raise ConfigError("RANK, WORLD_SIZE and LOCAL_RANK must be integers (as torchrun sets them)") from None
    if world_size < 1 or not 0 <= rank < world_size:
        raise ConfigError(f"RANK={rank} is not a rank of WORLD_SIZE={world_size}")
    return Distributed(rank=rank, world_size=world_size, local_rank=local_rank)


def rank_device(name: str, dist: Distributed) -> str:
    """The device option for this rank: with several ranks, ``auto``/``cuda`` mean this rank's own GPU."""
    if dist.enabled and name in ("auto", "cuda") and torch.cuda.is_available():
        if dist.local_rank >= torch.cuda.device_count():
            raise ConfigError(
                f"local rank {dist.local_rank} has no GPU: this machine has {torch.cuda.device_count()}",
                "start at most one process per GPU (torchrun --nproc_per_node)",
            )
        return f"cuda:{dist.local_rank}"
    return name


def init_process_group(dist: Distributed, device: torch.device) -> None:
    """Join the job's process group (NCCL on CUDA, gloo on CPU); a no-op for one process or when already joined."""
    if not dist.enabled or torch_dist.is_initialized():
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    # Long timeout: rank 0 may spend minutes on a bootstrap or a checkpoint write while the others wait at a barrier.
    torch_dist.init_process_group(backend, timeout=timedelta(hours=2))


def shutdown(dist: Distributed) -> None:
    """Leave the process group (so the job ends without NCCL/gloo warnings)."""
    if dist.enabled and torch_dist.is_initialized():
        torch_dist.destroy_process_group()


def barrier(dist: Distributed) -> None:
    """Wait until every rank gets here (e.g. until rank 0 has written a file the others will read)."""
    if dist.enabled:
        torch_dist.barrier()


def _comm_device(tensor: torch.Tensor) -> torch.device:
    """Where a collective's tensors must be: the GPU for NCCL, the CPU for gloo."""
    return torch.device("cuda", torch.cuda.current_device()) if torch_dist.get_backend() == "nccl" else tensor.device


def all_reduce_sum(tensor: torch.Tensor, dist: Distributed) -> torch.Tensor:
    """The sum of ``tensor`` over every rank (``tensor`` itself for one process)."""
    if not dist.enabled:
        return tensor
    reduced = tensor.detach().to(_comm_device(tensor), copy=True)
    torch_dist.all_reduce(reduced)
    return reduced.to(tensor.device)


def shard_indices(n: int, dist: Distributed) -> torch.Tensor:
    """This rank's rows of an ``n``-row split: ``rank, rank + world_size, ...`` (every class spread over the ranks)."""
    return torch.arange(dist.rank, n, dist.world_size)


def shard(data: ImageSet, dist: Distributed) -> ImageSet:
    """This rank's interleaved shard of ``data`` (``data`` itself for one process)."""
    return data.subset(shard_indices(len(data), dist)) if dist.enabled else data


def smallest_shard(n: int, dist: Distributed) -> int:
    """Rows of the smallest shard: every rank runs this many training rows' worth of steps, so none waits forever."""
    return n // dist.world_size


def gather_shards(local: torch.Tensor, n: int, dist: Distributed) -> torch.Tensor:
    """Every rank's rows of an ``n``-row result (each rank passes its :func:`shard`'s), back in the split's order."""
    if not dist.enabled:
        return local
    size = -(-n // dist.world_size)  # the largest shard; smaller ones are padded to it for all_gather
    device = _comm_device(local)
    padded = torch.zeros((size, *local.shape[1:]), dtype=local.dtype, device=device)
    padded[: len(local)] = local.to(device)
    gathered = [torch.empty_like(padded) for _ in range(dist.world_size)]
    torch_dist.all_gather(gathered, padded)
    full = torch.empty((n, *local.shape[1:]), dtype=local.dtype)
    for rank, part in enumerate(gathered):
        rows = torch.arange(rank, n, dist.world_size)
        full[rows] = part[: len(rows)].to("cpu")
    return full.to(local.device)


def broadcast_flag(flag: bool, dist: Distributed) -> bool:
    """Rank 0's ``flag`` on every rank (decisions read from files must not differ between ranks)."""
    if not dist.enabled:
        return flag
    value = torch.tensor([1 if flag else 0], dtype=torch.int64)
    value = value.to(_comm_device(value))
    torch_dist.broadcast(value, src=0)
    return bool(value.item())
