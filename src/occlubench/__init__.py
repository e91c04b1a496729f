"""occlubench: how well image classifiers hold up when part of the image is hidden."""

from __future__ import annotations

__version__ = "0.1.0"
