"""A new occluder in a few lines: a scarf pulled up over chin and mouth, registered by name, used like a built-in."""

from __future__ import annotations

import torch

from occlubench.occluders import Occluder, PixelGrid, create_occluder, register_occluder
from occlubench.occluders.checks import check_fraction


@register_occluder("scarf")
class Scarf(Occluder):
    """Hide everything below ``top`` (a fraction of the height): a scarf over chin and mouth."""

    def __init__(self, top: float = 0.7, **kwargs: object) -> None:
        super().__init__(**kwargs)  # fill, p, blur_sigma: handled by the base class
        self.top = check_fraction("top", top)  # stored under its own name, so spec() records it

    def region(self, grid: PixelGrid, params: dict[str, torch.Tensor]) -> torch.Tensor:
        return grid.rect(top=self.top)  # True where hidden; broadcast to (B, 1, H, W)


if __name__ == "__main__":
    scarf = create_occluder("scarf", top=0.75, fill="gray")
    faces = torch.rand(4, 1, 48, 48, generator=torch.Generator().manual_seed(0))
    out = scarf(faces)
    ok = bool((out[..., 36:, :] == 0.5).all()) and torch.equal(out[..., :36, :], faces[..., :36, :])
    print(scarf.spec(), "hides", scarf.hidden_fraction(faces).tolist(), "rows 36-47 gray, rest untouched:", ok)
