"""Model registry: factories that return a ModelSpec (network + its own input preprocessing)."""

from __future__ import annotations

from occlubench.models import fer_cnn as _fer_cnn  # noqa: F401  (registers fer_cnn)
from occlubench.models import torchvision_models as _torchvision_models  # noqa: F401  (registers resnets)
from occlubench.models.registry import MODELS, create_model, describe_models, list_models, register_model
from occlubench.models.spec import STUDY_MEAN, STUDY_STD, ModelSpec

__all__ = [
    "MODELS",
    "STUDY_MEAN",
    "STUDY_STD",
    "ModelSpec",
    "create_model",
    "describe_models",
    "list_models",
    "register_model",
]
