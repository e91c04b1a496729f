"""fit(): train a ModelSpec on a device-resident split, select the best epoch on validation, resume after a kill.

The training split lives on the device as uint8. A step indexes a batch, applies the random crop and flip to the
uint8 pixels (one gather; they only move pixels), converts them to [0, 1] floats, applies the training occlusion,
and runs the model (which normalizes itself) in channels_last, under bf16 autocast where the hardware has it.
Randomness per epoch comes from generators seeded by (seed, epoch), so an epoch resumed after a kill draws exactly
what the uninterrupted run drew. Nothing in a step makes the host wait for a GPU; the epoch's training state is
written to disk on a background thread while the next epoch trains.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from occlubench.data.device_split import DeviceSplit
from occlubench.data.imageset import ImageSet
from occlubench.distributed import SINGLE, Distributed, all_reduce_sum, gather_shards, shard, smallest_shard
from occlubench.errors import ConfigError
from occlubench.train.augment import random_crop_flip
from occlubench.train.checkpoint import TrainState, load_train_state, save_train_state
from occlubench.train.device import autocast, configure_backend
from occlubench.train.predict import predict_conditions
from occlubench.train.progress import ProgressCallback, ProgressEvent, ignore_progress
from occlubench.train.recipe import Recipe

OccludeFn = Callable[..., torch.Tensor]


@dataclass
class FitResult:
    """The selected weights and how training went."""

    best_state: dict[str, torch.Tensor]
    best_epoch: int  # 1-based
    best_val_accuracy: float
    history: list[dict[str, Any]]
    resumed_from_epoch: int = 0


def _epoch_seed(seed: int, epoch: int, rank: int = 0) -> int:
    # Rank 0 draws what a single process draws; other ranks draw their own crops, flips and occlusions.
    return seed * 10_007 + epoch + rank * 1_000_000_007


def _cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


class _StateWriter:
    """Writes training states on a background thread, one at a time, so the next epoch need not wait for the disk.

    A ResNet50 state is ~280 MB (weights, best weights, momentum), fsynced: seconds per epoch on a slow disk. Each
    write is atomic (``save_train_state``), so a kill during one leaves the previous epoch's state, exactly as with a
    write in the foreground. A failed write (a full disk) is raised by the next :meth:`submit` or :meth:`finish`.
    """

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def submit(self, path: Path, state: TrainState) -> None:
        """Wait for the previous write (raising its error), then start writing ``state``."""
        self.finish()
        self._thread = threading.Thread(target=self._write, args=(path, state), name="occlubench-state-writer")
        self._thread.start()

    def finish(self) -> None:
        """Wait for the write in flight; raise its error, if it failed."""
        self.join()
        error, self._error = self._error, None
        if error is not None:
            raise error

    def join(self) -> None:
        """Wait for the write in flight, keeping its error (for cleanup while another exception propagates)."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _write(self, path: Path, state: TrainState) -> None:
        try:
            save_train_state(path, state)
        except BaseException as err:  # handed to the training thread, which raises it
            self._error = err


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    images: torch.Tensor,
    recipe: Recipe,
    generator: torch.Generator,
    *,
    target: torch.Tensor,
    occlusion: OccludeFn | None = None,
    amp_dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One training step of ``fit``: augment, occlude, forward (the model normalizes), backward, update.

    Args:
        model: the ModelSpec (or its compiled wrapper), in train mode, on ``images``' device.
        images: the batch as stored, uint8 (B, C, H, W); ``fit`` indexes it from the device-resident split.
        generator: draws the crop offsets, the flips and the occlusion, in that order.
        target: (B,) class indices on the device.

    Returns:
        The loss (a 0-dim tensor) and the logits (B, num_classes), both detached and still on the device.
    """
    # Crop and flip move pixels only: on uint8 they give the float path's exact values, at a quarter of the bytes.
    pixels = random_crop_flip(images, recipe.crop_padding, recipe.hflip, generator)
    pixels = pixels.float().div_(255.0)
    if occlusion is not None:
        pixels = occlusion(pixels, generator=generator)
    pixels = pixels.contiguous(memory_format=torch.channels_last)
    with autocast(pixels.device, amp_dtype):
        logits = model(pixels)
        loss = nn.functional.cross_entropy(logits.float(), target)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach(), logits.detach()


def rank_batch_size(batch_size: int, dist: Distributed) -> int:
    """Images per step on each rank: the recipe's (global) batch split evenly over the ranks."""
    if batch_size % dist.world_size or batch_size // dist.world_size < 2:
        raise ConfigError(
            f"batch size {batch_size} does not split over {dist.world_size} ranks",
            "use a --batch-size that is a multiple of the number of processes, at least 2 per process",
        )
    return batch_size // dist.world_size


def fit(
    model: nn.Module,
    train: ImageSet,
    val: ImageSet,
    recipe: Recipe,
    *,
    device: torch.device,
    seed: int = 0,
    train_occlusion: OccludeFn | None = None,
    val_occlusion: OccludeFn | None = None,
    amp_dtype: torch.dtype | None = None,
    state_path: Path | None = None,
    config_hash: str = "",
    progress: ProgressCallback = ignore_progress,
    job: str = "train",
    eval_batch_size: int | None = None,
    compile_mode: str | None = None,
    dist: Distributed = SINGLE,
) -> FitResult:
    """Train ``model`` in place with ``recipe`` and return the best epoch's weights (by validation accuracy).

    Args:
        train_occlusion: applied to every training batch after augmentation (pixels in [0, 1]); None for none.
        val_occlusion: applied to the validation images when selecting the epoch (the condition trained for).
        state_path: where to checkpoint after every epoch; an existing state with the same ``config_hash`` resumes.
        eval_batch_size: validation batch size; None for the device's default.
        compile_mode: None (eager) or a ``torch.compile`` mode (``default_compile_mode(device)`` picks one) for
            the full-size training batches; the last, smaller batch of an epoch and validation stay eager, so one
            graph is compiled per job. Worth it where kernel launches, not arithmetic, bound a step (ResNet50 on
            48x48 images on a fast GPU). Its numbers differ from eager ones: float rounding, and dropout draws
            from inductor's own random stream.
        dist: this process's rank in a ``torchrun`` job. With several ranks each trains on its interleaved shard
            of ``train`` with ``recipe.batch_size // world_size`` images per step (the global batch, and so the
            learning rate, stay the recipe's), gradients are averaged by ``DistributedDataParallel``, BatchNorm
            statistics are per rank (DDP's default), validation is sharded and gathered, and only rank 0 writes
            ``state_path``. Every rank returns the same weights.
    """
    configure_backend(device)
    model.to(device).to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=recipe.lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay
    )
    history: list[dict[str, Any]] = []
    best_state = _cpu_state(model)
    best_epoch, best_score, start_epoch = 0, -math.inf, 0

    resumed = load_train_state(state_path) if state_path is not None else None
    if resumed is not None and resumed.config_hash == config_hash and resumed.epoch <= recipe.epochs:
        model.load_state_dict(resumed.model)
        optimizer.load_state_dict(resumed.optimizer)
        best_state, best_epoch, best_score = resumed.best_model, resumed.best_epoch, resumed.best_score
        history, start_epoch = resumed.history, resumed.epoch

    batch_size = rank_batch_size(recipe.batch_size, dist)
    rows = smallest_shard(len(train), dist)  # every rank runs the same number of steps (DDP needs each one's grads)
    steps = max(1, rows // batch_size + (1 if rows % batch_size > 1 else 0))
    train, val_shard = shard(train, dist), shard(val, dist)
    # Resident on the device when the split fits its memory budget, else streamed batch by batch from pinned memory.
    train_images = DeviceSplit(train.images, device)
    val_images = DeviceSplit(val_shard.images, device)
    labels = train.labels.to(device)
    n = len(train)
    step_model: nn.Module = model
    if dist.enabled:
        from torch.nn.parallel import DistributedDataParallel

        # Built after a resume loaded its state; DDP starts every rank from rank 0's weights and buffers.
        step_model = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    if compile_mode is not None:
        step_model = torch.compile(step_model, mode=compile_mode, dynamic=False)
    writer = _StateWriter()
    progress(ProgressEvent("job_start", job, epoch=start_epoch, epochs=recipe.epochs, steps=steps))

    try:
        for epoch in range(start_epoch, recipe.epochs):
            started = time.perf_counter()
            torch.manual_seed(_epoch_seed(seed, epoch, dist.rank))  # dropout, anything drawing from the global RNG
            generator = torch.Generator().manual_seed(_epoch_seed(seed, epoch, dist.rank))
            lr = recipe.lr_at(epoch)
            for group in optimizer.param_groups:
                group["lr"] = lr
            model.train()
            order = torch.randperm(n, generator=generator).to(device)
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), device=device, dtype=torch.long)
            seen = 0
            for step in range(steps):
                idx = order[step * batch_size : (step + 1) * batch_size][: rows - step * batch_size]
                if len(idx) < 2:  # BatchNorm cannot train on one image
                    break
                target = labels[idx]
                loss, logits = train_step(
                    step_model if len(idx) == batch_size or dist.enabled else model,
                    optimizer,
                    train_images[idx],
                    recipe,
                    generator,
                    occlusion=train_occlusion,
                    target=target,
                    amp_dtype=amp_dtype,
                )
                loss_sum += loss * len(idx)
                correct += (logits.argmax(1) == target).sum()
                seen += len(idx)
                if step % 10 == 0 or step == steps - 1:
                    progress(
                        ProgressEvent("step", job, epoch=epoch + 1, epochs=recipe.epochs, step=step + 1, steps=steps)
                    )
            totals = all_reduce_sum(torch.stack([loss_sum.float(), correct.float()]).cpu(), dist)
            seen = int(all_reduce_sum(torch.tensor(seen), dist))
            train_loss = float(totals[0]) / max(1, seen)
            train_acc = float(totals[1]) / max(1, seen)
            conditions = {"val": val_occlusion}
            probs = predict_conditions(
                model,
                val_shard,
                conditions,
                device=device,
                amp_dtype=amp_dtype,
                batch_size=eval_batch_size,
                seed=seed,
                images_on_device=val_images,
            )["val"]
            probs = gather_shards(probs, len(val), dist)
            val_acc = float((probs.argmax(1) == val.labels).double().mean()) if len(val) else float("nan")
            val_loss = float(nn.functional.nll_loss(probs.clamp_min(1e-12).log(), val.labels)) if len(val) else None
            seconds = time.perf_counter() - started
            record = {
                "epoch": epoch + 1,
                "lr": lr,
                "train_loss": train_loss,
                "train_accuracy": train_acc,
                "val_loss": val_loss,
                "val_accuracy": val_acc,
                "seconds": seconds,
                "images_per_second": seen / seconds if seconds > 0 else None,
            }
            history.append(record)
            if val_acc > best_score:
                best_score, best_epoch, best_state = val_acc, epoch + 1, _cpu_state(model)
            if state_path is not None and dist.is_main:
                state = TrainState(
                    epoch=epoch + 1,
                    model=_cpu_state(model),
                    optimizer=copy.deepcopy(optimizer.state_dict()),
                    best_model=best_state,
                    best_epoch=best_epoch,
                    best_score=best_score,
                    history=list(history),  # a snapshot: the writer serializes it while the next epoch appends
                    config_hash=config_hash,
                )
                writer.submit(state_path, state)
            progress(
                ProgressEvent(
                    "epoch_end",
                    job,
                    epoch=epoch + 1,
                    epochs=recipe.epochs,
                    loss=train_loss,
                    train_accuracy=train_acc,
                    val_accuracy=val_acc,
                    seconds=seconds,
                )
            )
        writer.finish()
    finally:
        writer.join()  # never leave a write running behind the caller (it deletes the state once the job is done)
    model.load_state_dict(best_state)
    progress(ProgressEvent("job_end", job, epoch=recipe.epochs, epochs=recipe.epochs, val_accuracy=best_score))
    return FitResult(best_state, best_epoch, best_score, history, resumed_from_epoch=start_epoch)
