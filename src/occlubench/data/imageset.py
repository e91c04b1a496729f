"""ImageSet: one split of a dataset as tensors, the single format every reader produces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

FER2013_CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")


@dataclass(frozen=True)
class ImageSet:
    """One split of a dataset, decoded.

    Attributes:
        images: uint8 tensor (N, C, H, W), pixel values 0..255.
        labels: int64 tensor (N,), indices into ``classes``.
        ids: one identifier per image (file name relative to the source root, or ``row<k>`` of a CSV).
        classes: class names, in label order.
    """

    images: torch.Tensor
    labels: torch.Tensor
    ids: tuple[str, ...]
    classes: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError(f"images must be uint8 (N, C, H, W), got {self.images.dtype} {tuple(self.images.shape)}")
        if self.labels.dtype != torch.int64 or self.labels.shape != (self.images.shape[0],):
            raise ValueError("labels must be int64 (N,) matching images")
        if len(self.ids) != self.images.shape[0]:
            raise ValueError("ids must have one entry per image")

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of every image."""
        c, h, w = self.images.shape[1:]
        return int(c), int(h), int(w)

    def class_counts(self) -> dict[str, int]:
        """Number of images per class name."""
        counts = torch.bincount(self.labels, minlength=len(self.classes)).tolist()
        return dict(zip(self.classes, counts, strict=True))

    def subset(self, indices: torch.Tensor | Sequence[int]) -> ImageSet:
        """The images at ``indices`` (in that order)."""
        idx = torch.as_tensor(indices, dtype=torch.long)
        return ImageSet(self.images[idx], self.labels[idx], tuple(self.ids[i] for i in idx.tolist()), self.classes)

    def concat(self, other: ImageSet) -> ImageSet:
        """This set followed by ``other`` (same classes and image shape)."""
        if other.classes != self.classes:
            raise ValueError("cannot concatenate ImageSets with different classes")
        return ImageSet(
            torch.cat([self.images, other.images]),
            torch.cat([self.labels, other.labels]),
            self.ids + other.ids,
            self.classes,
        )

    def stratified_limit(self, limit: int, generator: torch.Generator | None = None) -> ImageSet:
        """At most ``limit`` images, keeping class proportions (each present class keeps at least one image)."""
        n = len(self)
        if limit >= n:
            return self
        g = generator if generator is not None else torch.Generator().manual_seed(0)
        counts = torch.bincount(self.labels, minlength=len(self.classes))
        quota = torch.floor(counts.double() * limit / n).long()
        quota = torch.where((counts > 0) & (quota == 0), torch.ones_like(quota), quota)
        # Hand out what rounding left over to the largest remainders, deterministically.
        leftover = limit - int(quota.sum())
        if leftover > 0:
            remainder = counts.double() * limit / n - quota.double()
            remainder[quota >= counts] = -1.0
            for c in torch.argsort(remainder, descending=True, stable=True)[:leftover].tolist():
                quota[c] += 1
        chosen = []
        for c in range(len(self.classes)):
            members = torch.nonzero(self.labels == c).flatten()
            if len(members) == 0 or quota[c] == 0:
                continue
            perm = members[torch.randperm(len(members), generator=g)[: int(quota[c])]]
            chosen.append(perm)
        idx = torch.sort(torch.cat(chosen)).values
        return self.subset(idx)
