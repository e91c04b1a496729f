"""torchvision ResNets, as the reference study used them: 3-channel input, no resizing, a new ``fc`` head."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from occlubench.errors import ConfigError
from occlubench.models.registry import register_model
from occlubench.models.spec import STUDY_MEAN, STUDY_STD, ModelSpec
from occlubench.models.weights import load_into, read_state_dict

# torchvision is imported inside the factories: importing it pulls in torch._dynamo (seconds of CLI start-up).
_IMAGENET_WEIGHTS = {"resnet18": "ResNet18_Weights.IMAGENET1K_V1", "resnet50": "ResNet50_Weights.IMAGENET1K_V2"}


def _imagenet_weights(arch: str) -> object:
    import torchvision

    enum_name, member = _IMAGENET_WEIGHTS[arch].split(".")
    return getattr(getattr(torchvision.models, enum_name), member)


def _resnet(arch: str, num_classes: int, weights: str | Path | None) -> ModelSpec:
    import torchvision

    builder = getattr(torchvision.models, arch)
    if weights is None:
        net = builder(num_classes=num_classes)
    elif str(weights).lower() == "imagenet":
        try:
            net = builder(weights=_imagenet_weights(arch))
        except Exception as exc:  # no internet, proxy, corrupt download: all end the same way for the user
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ConfigError(
                f"could not get torchvision's ImageNet weights for {arch}: {reason}",
                "they download once from the internet into ~/.cache/torch; offline, pass --weights PATH "
                "to a local .pth/.safetensors file",
            ) from None
        net.fc = nn.Linear(net.fc.in_features, num_classes)
    else:
        net = builder(num_classes=num_classes)
        load_into(net, read_state_dict(Path(weights)), str(weights))
    return ModelSpec(net, in_channels=3, mean=STUDY_MEAN, std=STUDY_STD, name=arch)


@register_model("resnet50")
def resnet50(num_classes: int, weights: str | Path | None = None) -> ModelSpec:
    """torchvision ResNet50 (25.6M parameters), the reference study's network; grayscale repeated to RGB."""
    return _resnet("resnet50", num_classes, weights)


@register_model("resnet18")
def resnet18(num_classes: int, weights: str | Path | None = None) -> ModelSpec:
    """torchvision ResNet18 (11.2M parameters); grayscale repeated to RGB."""
    return _resnet("resnet18", num_classes, weights)
