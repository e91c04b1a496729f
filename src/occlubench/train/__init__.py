"""Training and evaluation engine: device-resident data, batched augmentation and occlusion, AMP, checkpoints."""

from __future__ import annotations

from occlubench.train.device import autocast_dtype, resolve_device
from occlubench.train.fit import FitResult, fit
from occlubench.train.predict import predict_conditions
from occlubench.train.progress import ProgressCallback, ProgressEvent
from occlubench.train.recipe import Recipe

__all__ = [
    "FitResult",
    "ProgressCallback",
    "ProgressEvent",
    "Recipe",
    "autocast_dtype",
    "fit",
    "predict_conditions",
    "resolve_device",
]
