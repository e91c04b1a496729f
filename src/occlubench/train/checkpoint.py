"""Training-state checkpoints for resume: one ``.safetensors`` file, written atomically, with JSON metadata.

Tensors (model, best model, optimizer buffers) go in the safetensors body; everything else (epoch, history, best
epoch, optimizer hyper-parameters, the job's config hash) goes in its metadata as one JSON string. Nothing is pickled.

That is the whole state a resumed training needs: the learning-rate schedule is a function of the epoch
(``Recipe.lr_at``), and every random draw of epoch ``k`` (batch order, crops, flips, occlusions, dropout) comes from
generators seeded by ``(seed, k)`` in ``fit``, so no scheduler or RNG state has to be saved to continue bit-exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from occlubench.storage import load_tensors, save_tensors


@dataclass
class TrainState:
    """What a resumed training needs: weights, optimizer, best-so-far, history, and where it stopped."""

    epoch: int  # epochs completed
    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    best_model: dict[str, torch.Tensor]
    best_epoch: int
    best_score: float
    history: list[dict[str, Any]] = field(default_factory=list)
    config_hash: str = ""


def _flatten_optimizer(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, Any] = {"param_groups": state["param_groups"], "state": {}}
    for idx, entries in state["state"].items():
        meta["state"][str(idx)] = {}
        for key, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{idx}.{key}"] = value
            else:
                meta["state"][str(idx)][key] = value
    return tensors, meta


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {int(k): dict(v) for k, v in meta["state"].items()}
    for name, value in tensors.items():
        _, idx, key = name.split(".", 2)
        state.setdefault(int(idx), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def save_train_state(path: Path, state: TrainState) -> None:
    """Write ``state`` to ``path`` atomically."""
    optim_tensors, optim_meta = _flatten_optimizer(state.optimizer)
    tensors = {f"model.{k}": v for k, v in state.model.items()}
    tensors.update({f"best.{k}": v for k, v in state.best_model.items()})
    tensors.update(optim_tensors)
    meta = {
        "epoch": state.epoch,
        "best_epoch": state.best_epoch,
        "best_score": state.best_score,
        "history": state.history,
        "config_hash": state.config_hash,
        "optimizer": optim_meta,
    }
    save_tensors(path, tensors, metadata={"occlubench_train_state": json.dumps(meta)})


def load_train_state(path: Path) -> TrainState | None:
    """Read a state written by ``save_train_state``; None if the file is absent or unreadable."""
    if not path.is_file():
        return None
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            meta = json.loads((handle.metadata() or {})["occlubench_train_state"])
        tensors = load_tensors(path)
    except Exception:  # a torn or foreign file: start that job again rather than crash
        return None
    model = {k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")}
    best = {k.removeprefix("best."): v for k, v in tensors.items() if k.startswith("best.")}
    optim = {k: v for k, v in tensors.items() if k.startswith("optim.")}
    return TrainState(
        epoch=int(meta["epoch"]),
        model=model,
        optimizer=_unflatten_optimizer(optim, meta["optimizer"]),
        best_model=best,
        best_epoch=int(meta["best_epoch"]),
        best_score=float(meta["best_score"]),
        history=list(meta["history"]),
        config_hash=str(meta.get("config_hash", "")),
    )
