"""Device and precision choice: CUDA when asked or available, bf16 autocast only where the hardware has it."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path

import torch

from occlubench.errors import ConfigError


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` -> cuda if available else cpu; ``cuda`` without CUDA is a ConfigError."""
    name = (name or "auto").lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(
                "--device cuda was asked for, but this torch build sees no CUDA device", "use --device cpu"
            )
        return torch.device(name)
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        if not torch.backends.mps.is_available():
            raise ConfigError("--device mps was asked for, but MPS is not available")
        return torch.device("mps")
    raise ConfigError(f"unknown device {name!r}", "use auto, cpu, cuda, cuda:N or mps")


@functools.cache
def cpu_has_fast_bf16() -> bool:
    """True when the CPU has native bf16 matrix instructions (AVX512-BF16 or AMX); elsewhere bf16 is emulated."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def autocast_dtype(device: torch.device, precision: str = "auto") -> torch.dtype | None:
    """The autocast dtype for ``precision`` (auto|bf16|fp32) on ``device``; None means full fp32."""
    precision = precision.lower()
    if precision == "fp32":
        return None
    if precision not in ("auto", "bf16"):
        raise ConfigError(f"unknown precision {precision!r}", "use auto, bf16 or fp32")
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    if device.type == "cpu":
        return torch.bfloat16 if (precision == "bf16" or cpu_has_fast_bf16()) else None
    return None


@contextlib.contextmanager
def autocast(device: torch.device, dtype: torch.dtype | None) -> Iterator[None]:
    """``torch.autocast`` when ``dtype`` is set, a no-op otherwise."""
    if dtype is None:
        yield
    else:
        with torch.autocast(device_type=device.type, dtype=dtype):
            yield
