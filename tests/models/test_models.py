from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

import occlubench as ob
from occlubench.errors import ConfigError, UnknownNameError
from occlubench.models import STUDY_MEAN, STUDY_STD, ModelSpec


def test_registry_lists_the_builtin_models() -> None:
    assert {"resnet50", "resnet18", "fer_cnn"} <= set(ob.list_models())


@pytest.mark.parametrize("name", ["fer_cnn", "resnet18", "resnet50"])
def test_models_map_grayscale_48x48_to_logits(name: str) -> None:
    model = ob.create_model(name, num_classes=7).eval()
    with torch.no_grad():
        logits = model(torch.rand(2, 1, 48, 48))
    assert logits.shape == (2, 7)
    assert torch.isfinite(logits).all()


def test_resnet_repeats_gray_to_rgb_and_applies_the_study_normalization() -> None:
    model = ob.create_model("resnet18", num_classes=7)
    pixels = torch.zeros(1, 1, 2, 2)
    pixels[0, 0, 0, 0] = 1.0
    out = model.preprocess(pixels)
    assert out.shape == (1, 3, 2, 2)
    for c in range(3):
        assert out[0, c, 0, 0].item() == pytest.approx((1.0 - STUDY_MEAN[c]) / STUDY_STD[c])
        assert out[0, c, 1, 1].item() == pytest.approx(-STUDY_MEAN[c] / STUDY_STD[c])


def test_fer_cnn_has_a_few_hundred_thousand_parameters() -> None:
    n = sum(p.numel() for p in ob.create_model("fer_cnn", 7).parameters())
    assert 100_000 < n < 1_000_000


def test_unknown_model_suggests_close_names() -> None:
    with pytest.raises(UnknownNameError, match="resnet50"):
        ob.create_model("resnet5", 7)


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_weights_load_from_a_local_file(tmp_path: Path, suffix: str) -> None:
    source = ob.create_model("fer_cnn", 7)
    path = tmp_path / f"w{suffix}"
    state = {k: v.contiguous() for k, v in source.net.state_dict().items()}
    if suffix == ".safetensors":
        save_file(state, str(path))
    else:
        torch.save(state, path)
    loaded = ob.create_model("fer_cnn", 7, weights=path)
    x = torch.rand(3, 1, 48, 48)
    assert torch.equal(source.eval()(x), loaded.eval()(x))


def test_imagenet_style_backbone_loads_without_its_1000_class_head(tmp_path: Path) -> None:
    import torchvision

    backbone = torchvision.models.resnet18(num_classes=1000)
    path = tmp_path / "resnet18-imagenet-like.pth"
    torch.save(backbone.state_dict(), path)
    model = ob.create_model("resnet18", 7, weights=path)
    assert torch.equal(model.net.conv1.weight, backbone.conv1.weight)
    assert model.net.fc.out_features == 7


class _Evil:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (print, ("unpickled!",))


def test_weights_are_never_unpickled(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    with open(path, "wb") as handle:
        pickle.dump({"conv.weight": _Evil()}, handle)
    with pytest.raises(ConfigError, match="cannot read weights"):
        ob.create_model("fer_cnn", 7, weights=path)


def test_weights_that_match_nothing_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.safetensors"
    save_file({"unrelated.weight": torch.zeros(3)}, str(path))
    with pytest.raises(ConfigError, match="matches the network"):
        ob.create_model("fer_cnn", 7, weights=path)


def test_missing_weights_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        ob.create_model("resnet18", 7, weights=tmp_path / "nope.pt")


def test_failed_imagenet_download_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No weights are cached under this TORCH_HOME and this machine has no internet: the real download fails.
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(ConfigError, match="ImageNet weights") as info:
        ob.create_model("resnet18", 7, weights="imagenet")
    assert "--weights PATH" in str(info.value)
    assert "\n" not in str(info.value)


def test_register_model_adds_a_factory_and_refuses_duplicates() -> None:
    @ob.register_model("tiny_test_net")
    def tiny(num_classes: int, weights: str | None = None) -> ModelSpec:
        """A linear probe on 48x48 pixels (test only)."""
        net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48 * 48, num_classes))
        return ModelSpec(net, in_channels=1, mean=(0.5,), std=(0.5,))

    try:
        assert "tiny_test_net" in ob.list_models()
        assert ob.create_model("tiny_test_net", 3)(torch.rand(2, 1, 48, 48)).shape == (2, 3)
        with pytest.raises(ConfigError, match="already registered"):
            ob.register_model("tiny_test_net")(tiny)
    finally:
        from occlubench.models import MODELS

        MODELS.unregister("tiny_test_net")


def test_timm_prefix_without_timm_is_a_clear_error() -> None:
    pytest.importorskip("occlubench")
    try:
        import timm  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="occlubench\\[timm\\]"):
            ob.create_model("timm:resnet18", 7)
    else:
        assert ob.create_model("timm:resnet18", 7)(torch.rand(1, 1, 48, 48)).shape == (1, 7)
