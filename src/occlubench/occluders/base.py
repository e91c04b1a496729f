"""Occluder: the base class of every occluder, a kornia intensity augmentation with an explicit generator.

kornia splits an augmentation into sampling (``forward_parameters``: random numbers -> a dict of (B,) tensors) and
applying (``apply_transform``: pixels + that dict -> pixels). Occluder keeps that split, so an occluder composes with
``kornia.augmentation.AugmentationSequential`` and a recorded ``_params`` dict replays the same pixels, and adds what
kornia lacks: every random number comes from the ``generator`` passed to the call (kornia 0.9 only uses torch's
global generators and silently drops a ``generator=`` keyword), and the region is a boolean mask you can ask for.

A new occluder overrides one method, :meth:`Occluder.region`, returning a bool mask built from a
:class:`~occlubench.occluders.grid.PixelGrid`; a random one also overrides :meth:`Occluder.sample_params`.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from enum import Enum
from typing import Any, ClassVar

import torch
from kornia.augmentation import IntensityAugmentationBase2D
from torch import Tensor

from occlubench.errors import DataError
from occlubench.occluders.checks import check_fraction, check_positive
from occlubench.occluders.fills import Fill, fill_values
from occlubench.occluders.grid import PixelGrid

Params = dict[str, Tensor]


class Occluder(IntensityAugmentationBase2D):
    """Hide part of each image (base class: subclass it and override ``region``).

    Args:
        fill: what hidden pixels become: ``"black"`` (0.0, the default, as in the reference study), ``"gray"`` (0.5),
            ``"mean"`` (each image's mean, per channel), ``"noise"`` (uniform noise from the generator) or
            ``"blur"`` (a Gaussian blur of the image, ``kornia.filters.gaussian_blur2d``).
        p: probability that a given image is occluded at all (kornia's per-sample gate); 1.0 occludes every image.
        blur_sigma: sigma of the ``"blur"`` fill as a fraction of the shorter image side.

    Shape:
        images: (B, C, H, W) or (C, H, W), float in [0, 1], any device. The output has the input's shape, dtype and
        device; pixels outside the region are copied bit for bit.

    Examples:
        >>> @register_occluder("chin_band")
        ... class ChinBand(Occluder):
        ...     '''Hide the chin: the bottom 15% of the rows.'''
        ...     def region(self, grid, params):
        ...         return grid.rect(top=0.85)
    """

    name: ClassVar[str] = ""
    #: ``torch.compile(occluder)`` hides the same pixels as eager mode and, with the black, gray and noise fills,
    #: paints the same values (mean and blur fills may differ in the last bit: a different reduction order).
    compile_safe: ClassVar[bool] = True

    def __init__(self, *, fill: str | Fill = "black", p: float = 1.0, blur_sigma: float = 0.08) -> None:
        super().__init__(p=check_fraction("p", p), p_batch=1.0, same_on_batch=False, keepdim=True)
        self.fill = Fill.parse(fill)
        self.blur_sigma = check_positive("blur_sigma", blur_sigma)
        # A region without random parameters depends only on the image size: built once per (H, W, device, dtype).
        self._fixed_cache: dict[tuple[Any, ...], tuple[Tensor, Tensor, Tensor]] = {}

    # ----------------------------------------------------------------------------------------------- to override
    def region(self, grid: PixelGrid, params: Params) -> Tensor:
        """The hidden region: bool, broadcastable to (B, 1, H, W), True where hidden.

        Args:
            grid: pixel-centre coordinates of the images, on their device.
            params: what :meth:`sample_params` drew, each (B,) on the images' device (empty for fixed regions).
        """
        raise NotImplementedError(f"{type(self).__name__} must override region(grid, params)")

    def sample_params(
        self, batch_size: int, height: int, width: int, generator: torch.Generator | None, device: torch.device
    ) -> Params:
        """Draw the per-sample random parameters, each a (B,) tensor; fixed regions draw nothing.

        Draw on ``device`` with ``generator`` (it may be None: torch's default generator for that device).
        """
        return {}

    def target_fraction(self, height: int, width: int) -> float | None:
        """The fraction of an image this occluder is meant to hide (its ``severity``, or its fixed area).

        None when it has no single target (e.g. a random area drawn from a range).
        """
        severity = getattr(self, "severity", None)
        return None if severity is None else float(severity)

    # ------------------------------------------------------------------------------------------------ public API
    def forward(
        self,
        input: Tensor,
        params: Params | None = None,
        *,
        generator: torch.Generator | None = None,
        **kwargs: Any,
    ) -> Tensor:
        """Occlude ``input``; same ``generator`` state -> same pixels. ``params`` replays an earlier draw."""
        _check_images(input)
        if params is None:
            params = self.forward_parameters(self.transform_tensor(input).shape, generator, input.device)
        return super().forward(input, params=params, **kwargs)

    def forward_parameters(
        self,
        batch_shape: tuple[int, ...] | torch.Size,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> Params:
        """Draw everything random for a batch: the gate (``batch_prob``), the region's parameters, the noise fill.

        Numbers are drawn on the generator's device (so a CPU generator gives the same numbers for CPU and CUDA
        images); without a generator, on ``device`` (default: the occluder's kornia RNG device) with torch's default
        generator, which is what kornia containers get when they call this with a shape only.
        """
        b, c, h, w = (int(s) for s in batch_shape[-4:])
        if generator is not None:
            where = generator.device
        else:
            where = torch.device(device) if device is not None else self.device
        if self.p >= 1.0:
            gate = torch.ones(b, device=where)
        elif self.p <= 0.0:
            gate = torch.zeros(b, device=where)
        else:  # same draw and order as kornia's per-sample gate
            gate = (torch.rand(b, generator=generator, device=where) < self.p).float()
        params = dict(self.sample_params(b, h, w, generator, where))
        if self.fill is Fill.NOISE:
            params["noise"] = torch.rand(b, c, h, w, generator=generator, device=where)
        params["batch_prob"] = gate
        params["forward_input_shape"] = torch.tensor((b, c, h, w), dtype=torch.long)
        return params

    def apply_transform(
        self, input: Tensor, params: Params, flags: dict[str, Any], transform: Tensor | None = None
    ) -> Tensor:
        """Paint the fill into the region (kornia's apply step; kornia's gate then restores skipped images)."""
        if self.has_fixed_region and self.fill in (Fill.BLACK, Fill.GRAY):
            # One multiply (black) or multiply-add (gray) with cached masks: x * 1 + 0 is x and x * 0 + v is v
            # exactly, for every finite pixel, at the cost of a plain copy of the batch.
            _, keep, painted = self._fixed_masks(*input.shape[-2:], input.device, input.dtype)
            return input * keep if self.fill is Fill.BLACK else torch.addcmul(painted, input, keep)
        params = _on_device(params, input.device)
        region = self._region(input.shape, input.device, params)
        fill = fill_values(input, self.fill, params.get("noise"), self.blur_sigma)
        return torch.where(region, fill, input)

    def mask(self, images: Tensor, generator: torch.Generator | None = None, *, params: Params | None = None) -> Tensor:
        """Bool (B, 1, H, W), True where ``self(images, generator=...)`` with the same generator state hides."""
        _check_images(images)
        x = self.transform_tensor(images)
        if params is None:
            params = self.forward_parameters(x.shape, generator, x.device)
        params = _on_device(params, x.device)
        region = self._region(x.shape, x.device, params)
        if self.p >= 1.0:  # kornia ignores the gate at p == 1 (its fast path); so do we
            return region
        return region & (params["batch_prob"] > 0.5).reshape(-1, 1, 1, 1)

    def hidden_fraction(
        self, images: Tensor, generator: torch.Generator | None = None, *, params: Params | None = None
    ) -> Tensor:
        """Float (B,): the fraction of each image's pixels actually hidden (0 for images the gate skipped)."""
        return self.mask(images, generator, params=params).float().mean(dim=(1, 2, 3))

    def spec(self) -> dict[str, Any]:
        """``{"name": ..., "params": {...}}``, JSON-serializable: exactly which occluder ran.

        ``create_occluder(spec["name"], **spec["params"])`` rebuilds it.
        """
        params = {}
        for key in constructor_parameters(type(self)):
            if not hasattr(self, key):
                raise TypeError(f"{type(self).__name__} must store its __init__ parameter {key!r} as self.{key}")
            params[key] = _jsonable(getattr(self, key))
        return {"name": self.name, "params": params}

    def __repr__(self) -> str:
        spec = self.spec()
        args = ", ".join(f"{k}={v!r}" for k, v in spec["params"].items())
        return f"{type(self).__name__}(name={spec['name']!r}, {args})"

    @property
    def has_fixed_region(self) -> bool:
        """True when the region has no random parameters (``sample_params`` not overridden): the same every call."""
        return type(self).sample_params is Occluder.sample_params

    # ---------------------------------------------------------------------------------------------------- helpers
    def _region(self, shape: torch.Size, device: torch.device, params: Params) -> Tensor:
        b, _, h, w = shape
        if self.has_fixed_region:
            return self._fixed_masks(h, w, device, torch.float32)[0].expand(b, 1, h, w)
        return self.region(PixelGrid(h, w, device), params).expand(b, 1, h, w)

    def _fixed_masks(self, h: int, w: int, device: torch.device, dtype: torch.dtype) -> tuple[Tensor, Tensor, Tensor]:
        """A fixed region as (region bool, keep = 1 outside it, painted = the fill inside it), each (1, 1, H, W)."""
        key = (int(h), int(w), torch.device(device), dtype, self.fill)
        masks = self._fixed_cache.get(key)
        if masks is None:
            region = self.region(PixelGrid(h, w, device), {}).expand(1, 1, h, w).contiguous()
            keep = (~region).to(dtype)
            painted = region.to(dtype) * (0.5 if self.fill is Fill.GRAY else 0.0)
            masks = self._fixed_cache[key] = (region, keep, painted)
        return masks


def constructor_parameters(cls: type[Occluder]) -> dict[str, inspect.Parameter]:
    """The keyword parameters an occluder class accepts: its ``__init__`` and, through ``**kwargs``, its bases'."""
    found: dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        forwards_kwargs = False
        for param in list(inspect.signature(init).parameters.values())[1:]:
            if param.kind is inspect.Parameter.VAR_KEYWORD:
                forwards_kwargs = True
            elif param.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
                found.setdefault(param.name, param)
        if klass is Occluder or not forwards_kwargs:
            break
    return found


def _check_images(images: Tensor) -> None:
    if not isinstance(images, Tensor) or not images.is_floating_point() or images.ndim not in (3, 4):
        got = f"{images.dtype} {tuple(images.shape)}" if isinstance(images, Tensor) else type(images).__name__
        raise DataError(
            f"occluders take float images (B, C, H, W) or (C, H, W) in [0, 1]; got {got}",
            "convert uint8 images with images.float() / 255",
        )


def _on_device(params: Mapping[str, Tensor], device: torch.device) -> Params:
    return {k: v.to(device) if isinstance(v, Tensor) else v for k, v in params.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Tensor):
        return value.tolist()
    return value
