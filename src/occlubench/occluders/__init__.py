"""Occluders: batched, device-agnostic ways of hiding part of an image, looked up by name.

>>> from occlubench.occluders import create_occluder
>>> upper = create_occluder("upper")             # the study's masking: rows [0, H/2) set to 0.0
>>> hidden = upper(images, generator=g)          # doctest: +SKIP

Importing this package registers the built-ins (``list_occluders()`` shows them); third-party packages add more
through the ``occlubench.occluders`` entry-point group.
"""

from __future__ import annotations

# isort: off
# Imported for their registrations, in the order `list_occluders()` shows them: halves first, as in the study.
from occlubench.occluders import partitions, facial, stochastic  # noqa: F401

# isort: on
from occlubench.occluders.base import Occluder, Params, constructor_parameters
from occlubench.occluders.facial import SURGICAL_MASK_OUTLINE, FaceMask, HorizontalBand, Sunglasses
from occlubench.occluders.fills import Fill
from occlubench.occluders.gallery import render_gallery
from occlubench.occluders.grid import PixelGrid
from occlubench.occluders.partitions import GridCell, HalfOccluder, NoOcclusion, QuadrantOccluder
from occlubench.occluders.registration import (
    OCCLUDERS,
    create_occluder,
    describe_occluders,
    list_occluders,
    occluder_from_spec,
    register_occluder,
)
from occlubench.occluders.stochastic import BoxOccluder, RandomErasing, RandomPatch

__all__ = [
    "OCCLUDERS",
    "SURGICAL_MASK_OUTLINE",
    "BoxOccluder",
    "FaceMask",
    "Fill",
    "GridCell",
    "HalfOccluder",
    "HorizontalBand",
    "NoOcclusion",
    "Occluder",
    "Params",
    "PixelGrid",
    "QuadrantOccluder",
    "RandomErasing",
    "RandomPatch",
    "Sunglasses",
    "constructor_parameters",
    "create_occluder",
    "describe_occluders",
    "list_occluders",
    "occluder_from_spec",
    "register_occluder",
    "render_gallery",
]
