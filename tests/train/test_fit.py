from __future__ import annotations

from pathlib import Path

import torch

import occlubench as ob
from occlubench.data.imageset import FER2013_CLASSES, ImageSet
from occlubench.train import Recipe, fit, predict_conditions
from occlubench.train.checkpoint import load_train_state


def _toy_split(n: int, seed: int) -> ImageSet:
    """Class k is a bright square at a class-specific place: learnable in a few steps."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 7
    images = (torch.rand(n, 1, 48, 48, generator=g) * 60).to(torch.uint8)
    for k in range(7):
        r, c = 6 * k, 40 - 5 * k
        images[labels == k, :, r : r + 8, c : c + 8] = 250
    return ImageSet(images, labels, tuple(f"img{i}" for i in range(n)), FER2013_CLASSES)


RECIPE = Recipe(epochs=2, batch_size=32, lr=0.05, crop_padding=2, hflip=True)


def _fit(state_path: Path | None = None, epochs: int = 2) -> tuple[torch.nn.Module, list[dict]]:
    torch.manual_seed(123)  # identical init for every call
    model = ob.create_model("fer_cnn", 7)
    result = fit(
        model,
        _toy_split(112, 0),
        _toy_split(56, 1),
        RECIPE.with_overrides(epochs=epochs),
        device=torch.device("cpu"),
        seed=5,
        train_occlusion=ob.create_occluder("lower"),
        state_path=state_path,
        config_hash="h",
    )
    return model, result.history


def test_fit_learns_and_records_history() -> None:
    _, history = _fit(epochs=2)
    assert [h["epoch"] for h in history] == [1, 2]
    assert history[-1]["lr"] == RECIPE.lr
    assert all(h["seconds"] > 0 for h in history)


def test_fit_is_bit_identical_for_the_same_seed() -> None:
    a, history_a = _fit()
    b, history_b = _fit()
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(va, vb), k
    assert [h["train_loss"] for h in history_a] == [h["train_loss"] for h in history_b]


def test_resuming_from_an_epoch_checkpoint_equals_the_uninterrupted_run(tmp_path: Path) -> None:
    uninterrupted, history = _fit(epochs=2)
    state = tmp_path / "job.state.safetensors"
    _fit(state_path=state, epochs=1)  # "killed" after epoch 1: its state file holds epoch 1
    assert load_train_state(state).epoch == 1
    resumed, resumed_history = _fit(state_path=state, epochs=2)
    for (k, va), vb in zip(uninterrupted.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(va, vb), k
    assert [h["train_loss"] for h in resumed_history] == [h["train_loss"] for h in history]


def test_a_state_of_another_config_is_not_resumed(tmp_path: Path) -> None:
    state = tmp_path / "job.state.safetensors"
    _fit(state_path=state, epochs=1)
    model = ob.create_model("fer_cnn", 7)
    result = fit(
        model,
        _toy_split(64, 0),
        _toy_split(28, 1),
        RECIPE.with_overrides(epochs=1),
        device=torch.device("cpu"),
        state_path=state,
        config_hash="other",
    )
    assert result.resumed_from_epoch == 0


def test_one_sweep_over_all_conditions_equals_separate_passes() -> None:
    model = ob.create_model("fer_cnn", 7).eval()
    data = _toy_split(70, 2)
    conditions = {"full": None, "upper": ob.create_occluder("upper"), "patch": ob.create_occluder("random_patch")}
    together = predict_conditions(model, data, conditions, device=torch.device("cpu"), batch_size=32, seed=1)
    for name, occluder in conditions.items():
        alone = predict_conditions(model, data, {name: occluder}, device=torch.device("cpu"), batch_size=32, seed=1)
        assert torch.allclose(together[name], alone[name], atol=1e-6), name
    assert together["full"].shape == (70, 7)
    assert torch.allclose(together["full"].sum(1), torch.ones(70), atol=1e-5)
