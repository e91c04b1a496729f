"""fit() on two real gloo ranks: full-batch gradient descent must give a single process's weights and metrics.

With the whole training split as one (global) batch, the order of the images and the shard boundaries do not
matter: the mean of the two ranks' shard gradients is the full-batch gradient. So any error in sharding, in the
per-rank batch size, in DDP's averaging, in the reduced training statistics or in the gathered validation shows up
as a difference from the single-process run, far above float rounding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from torch import nn

from occlubench.data.imageset import ImageSet
from occlubench.distributed import Distributed
from occlubench.train.fit import fit
from occlubench.train.recipe import Recipe

N_TRAIN, N_VAL, EPOCHS = 40, 11, 4  # an odd validation split: shards of 6 and 5 rows


def _splits() -> tuple[ImageSet, ImageSet]:
    g = torch.Generator().manual_seed(7)
    classes = ("a", "b", "c")

    def make(n: int, offset: int) -> ImageSet:
        labels = torch.arange(n) % 3
        images = torch.randint(0, 256, (n, 1, 8, 8), generator=g, dtype=torch.uint8)
        images[:, :, :2] = (labels * 100).to(torch.uint8).reshape(-1, 1, 1, 1)  # a learnable cue: the top rows
        return ImageSet(images, labels, tuple(f"{offset + i}" for i in range(n)), classes)

    return make(N_TRAIN, 0), make(N_VAL, 1000)


def _model() -> nn.Module:
    torch.manual_seed(3)
    return nn.Sequential(
        nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 3)
    )  # no BatchNorm: no per-rank stats


RECIPE = Recipe(epochs=EPOCHS, batch_size=N_TRAIN, lr=0.5, momentum=0.9, weight_decay=1e-4, crop_padding=0, hflip=False)


def _fit(dist: Distributed) -> tuple[dict[str, torch.Tensor], list[dict[str, Any]]]:
    train, val = _splits()
    model = _model()
    result = fit(model, train, val, RECIPE, device=torch.device("cpu"), seed=0, dist=dist)
    return result.best_state, result.history


def _worker(rank: int, init_file: str, out: str) -> None:
    torch.set_num_threads(1)
    torch_dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    try:
        state, history = _fit(Distributed(rank=rank, world_size=2, local_rank=rank))
        torch.save({"state": state, "history": history}, f"{out}.{rank}")
    finally:
        torch_dist.destroy_process_group()


def test_two_ranks_of_full_batch_descent_give_the_single_process_weights_and_metrics(tmp_path: Path) -> None:
    mp.start_processes(_worker, args=(str(tmp_path / "init"), str(tmp_path / "out")), nprocs=2, start_method="spawn")
    torch.set_num_threads(1)
    single_state, single_history = _fit(Distributed())

    ranks = [torch.load(tmp_path / f"out.{rank}", weights_only=False) for rank in (0, 1)]
    for rank in ranks:
        for key, value in single_state.items():
            torch.testing.assert_close(rank["state"][key], value, rtol=1e-5, atol=1e-6)
        for got, want in zip(rank["history"], single_history, strict=True):
            assert got["val_accuracy"] == want["val_accuracy"]
            assert abs(got["train_loss"] - want["train_loss"]) < 1e-5
            assert abs(got["val_loss"] - want["val_loss"]) < 1e-5
            assert got["train_accuracy"] == want["train_accuracy"]
    assert single_history[-1]["train_loss"] < single_history[0]["train_loss"], "the toy problem must be learned"
