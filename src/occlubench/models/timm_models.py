"""``timm:<name>``: any timm model, when the optional timm extra is installed."""

from __future__ import annotations

from pathlib import Path

from occlubench.errors import ConfigError
from occlubench.models.spec import ModelSpec
from occlubench.models.weights import load_into, read_state_dict


def create_timm_model(name: str, num_classes: int, weights: str | Path | None, *, in_channels: int = 1) -> ModelSpec:
    """Build ``timm.create_model(name)`` for ``num_classes`` with the model's own normalization."""
    try:
        import timm
    except ImportError:
        raise ConfigError(f"timm:{name} needs timm, which is not installed", "pip install 'occlubench[timm]'") from None
    if name not in timm.list_models():
        from occlubench.errors import UnknownNameError

        raise UnknownNameError("timm model", name, timm.list_models())
    pretrained = weights is not None and str(weights).lower() == "imagenet"
    try:
        net = timm.create_model(name, pretrained=pretrained, num_classes=num_classes, in_chans=3)
    except Exception as exc:
        raise ConfigError(f"timm could not build {name}: {str(exc).splitlines()[0]}") from None
    if weights is not None and not pretrained:
        load_into(net, read_state_dict(Path(weights)), str(weights))
    cfg = net.pretrained_cfg if hasattr(net, "pretrained_cfg") else {}
    mean = tuple(cfg.get("mean", (0.485, 0.456, 0.406)))
    std = tuple(cfg.get("std", (0.229, 0.224, 0.225)))
    return ModelSpec(net, in_channels=3, mean=mean, std=std, name=f"timm:{name}")
