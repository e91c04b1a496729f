"""Training-state checkpoints: safetensors plus JSON metadata, exact round trip, no pickle, torn files ignored."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from occlubench.storage import save_tensors
from occlubench.train.checkpoint import TrainState, load_train_state, save_train_state


def trained_state() -> TrainState:
    """A state as fit() saves it: weights, SGD momentum buffers and param groups, best-so-far, history."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
    for _ in range(2):
        optimizer.zero_grad()
        model(torch.randn(8, 4)).square().mean().backward()
        optimizer.step()
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return TrainState(
        epoch=2,
        model=weights,
        optimizer=optimizer.state_dict(),
        best_model={k: v + 1 for k, v in weights.items()},
        best_epoch=1,
        best_score=0.375,
        history=[{"epoch": 1, "val_accuracy": 0.375, "val_loss": None}, {"epoch": 2, "val_accuracy": 0.25}],
        config_hash="0123abcd",
    )


def test_a_state_round_trips_exactly(tmp_path: Path) -> None:
    state = trained_state()
    path = tmp_path / "baseline.state.safetensors"
    save_train_state(path, state)
    loaded = load_train_state(path)
    assert loaded is not None
    assert (loaded.epoch, loaded.best_epoch, loaded.best_score, loaded.config_hash) == (2, 1, 0.375, "0123abcd")
    assert loaded.history == state.history
    for key, value in state.model.items():
        assert torch.equal(loaded.model[key], value)
        assert torch.equal(loaded.best_model[key], state.best_model[key])
    assert loaded.optimizer["param_groups"] == state.optimizer["param_groups"]
    assert loaded.optimizer["state"].keys() == state.optimizer["state"].keys()
    for index, entries in state.optimizer["state"].items():
        assert torch.equal(loaded.optimizer["state"][index]["momentum_buffer"], entries["momentum_buffer"])


def test_the_loaded_optimizer_state_drives_sgd_exactly_as_the_original(tmp_path: Path) -> None:
    state = trained_state()
    save_train_state(tmp_path / "s.safetensors", state)
    loaded = load_train_state(tmp_path / "s.safetensors")
    assert loaded is not None
    results = []
    for source in (state, loaded):
        model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
        model.load_state_dict(source.model)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
        optimizer.load_state_dict(source.optimizer)
        optimizer.zero_grad()
        model(torch.ones(8, 4) * torch.arange(8.0)[:, None]).square().mean().backward()
        optimizer.step()
        results.append(model.state_dict())
    assert all(torch.equal(results[0][k], results[1][k]) for k in results[0])


def test_the_file_is_plain_safetensors_with_json_metadata(tmp_path: Path) -> None:
    path = tmp_path / "s.safetensors"
    save_train_state(path, trained_state())
    with safe_open(str(path), framework="pt") as handle:
        meta = json.loads(handle.metadata()["occlubench_train_state"])
        names = set(handle.keys())
    assert meta["epoch"] == 2
    assert {"model.0.weight", "best.0.weight", "optim.0.momentum_buffer"} <= names
    assert b"\x80\x04" not in path.read_bytes()[:16]  # no pickle protocol header anywhere near the start


def test_an_infinite_best_score_survives(tmp_path: Path) -> None:
    """Before any validation image, the best score is -inf: it must come back as -inf, not break the file."""
    state = trained_state()
    state.best_score = -math.inf
    save_train_state(tmp_path / "s.safetensors", state)
    loaded = load_train_state(tmp_path / "s.safetensors")
    assert loaded is not None
    assert loaded.best_score == -math.inf


@pytest.mark.parametrize("damage", ["truncated", "foreign", "absent", "garbage"])
def test_a_torn_foreign_or_missing_state_is_ignored(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "s.safetensors"
    if damage == "truncated":
        save_train_state(path, trained_state())
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "foreign":
        save_tensors(path, {"w": torch.zeros(2)}, metadata={"format": "someone else's"})
    elif damage == "garbage":
        path.write_bytes(b"\x80\x04\x95 a pickle, or anything else")
    assert load_train_state(path) is None
