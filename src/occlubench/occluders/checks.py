"""Parameter checks for occluder constructors: each bad value is one ``ConfigError`` line naming the parameter."""

from __future__ import annotations

import math
from collections.abc import Sequence

from occlubench.errors import ConfigError


def check_fraction(name: str, value: object, low: float = 0.0, high: float = 1.0) -> float:
    """``value`` as a float in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a number in [{low:g}, {high:g}]; got {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"{name} must be in [{low:g}, {high:g}]; got {value!r}")
    return float(value)


def check_positive(name: str, value: object) -> float:
    """``value`` as a finite float > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a number > 0; got {value!r}")
    return float(value)


def check_int(name: str, value: object, low: int, high: int) -> int:
    """``value`` as an int in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{name} must be an integer in [{low}, {high}]; got {value!r}")
    return value


def check_interval(name: str, value: object, low: float = 0.0, high: float = math.inf) -> tuple[float, float]:
    """``value`` as an ordered pair ``(a, b)`` with ``low <= a <= b <= high``."""
    ok = isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2
    if ok:
        a, b = value  # type: ignore[misc]
        ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (a, b))
        ok = ok and low <= a <= b <= high
    if not ok:
        raise ConfigError(f"{name} must be a pair (min, max) with {low:g} <= min <= max <= {high:g}; got {value!r}")
    return float(value[0]), float(value[1])  # type: ignore[index]


def check_points(name: str, value: object, min_points: int = 3) -> tuple[tuple[float, float], ...]:
    """``value`` as at least ``min_points`` (x, y) pairs, each coordinate a fraction in [0, 1]."""
    try:
        points = tuple((float(x), float(y)) for x, y in value)  # type: ignore[union-attr, misc]
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a list of (x, y) pairs; got {value!r}") from None
    if len(points) < min_points or not all(0.0 <= c <= 1.0 for p in points for c in p):
        raise ConfigError(f"{name} must hold at least {min_points} (x, y) pairs with coordinates in [0, 1]")
    return points
