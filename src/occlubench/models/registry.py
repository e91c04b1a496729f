"""The model registry: ``register_model``, ``create_model``, ``list_models``.

A model factory takes ``num_classes`` and ``weights`` (and optionally ``in_channels``) and returns a ``ModelSpec``.
``timm:<name>`` builds any timm model when timm is installed (the ``occlubench[timm]`` extra).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from occlubench.errors import ConfigError
from occlubench.models.spec import ModelSpec
from occlubench.registry import Registry


class ModelFactory(Protocol):
    def __call__(self, num_classes: int, weights: str | Path | None = None, **kwargs: object) -> ModelSpec: ...


MODELS: Registry[ModelFactory] = Registry("model", "occlubench.models")


def register_model(name: str, description: str | None = None) -> Callable[[ModelFactory], ModelFactory]:
    """Decorator: register a factory ``(num_classes, weights=None, **kw) -> ModelSpec`` under ``name``."""
    return MODELS.decorator(name, description)


def list_models(pattern: str | None = None) -> list[str]:
    """Names of the registered models (``timm:<name>`` is also accepted by ``create_model``)."""
    return MODELS.names(pattern)


def describe_models() -> dict[str, str]:
    """Model name -> one-line description."""
    return {e.name: e.description for e in MODELS.entries()}


def create_model(name: str, num_classes: int, weights: str | Path | None = None, *, in_channels: int = 1) -> ModelSpec:
    """Build a registered model for ``num_classes`` classes.

    Args:
        name: a registered name (``list_models()``) or ``timm:<timm model name>``.
        num_classes: size of the classification head.
        weights: ``None``/``"none"`` (random init), ``"imagenet"`` (torchvision's weights, needs internet once),
            or a path to a ``.safetensors`` / ``.pt`` state dict.
        in_channels: channels of the dataset's images (1 for FER2013); factories that accept it adapt to it.

    Raises:
        UnknownNameError: for an unknown name. ConfigError: for weights that cannot be had.
    """
    if num_classes < 2:
        raise ConfigError(f"a classifier needs at least 2 classes, got {num_classes}")
    if isinstance(weights, str) and weights.lower() == "none":
        weights = None
    if name.startswith("timm:"):
        from occlubench.models.timm_models import create_timm_model

        return create_timm_model(name.removeprefix("timm:"), num_classes, weights, in_channels=in_channels)
    factory = MODELS.get(name)
    kwargs: dict[str, object] = {}
    if "in_channels" in inspect.signature(factory).parameters:
        kwargs["in_channels"] = in_channels
    spec = factory(num_classes, weights, **kwargs)
    if not isinstance(spec, ModelSpec):
        raise ConfigError(f"model factory {name!r} returned {type(spec).__name__}, not a ModelSpec")
    spec.name = name
    return spec
