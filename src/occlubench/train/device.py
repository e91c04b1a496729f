"""Device and precision choice: CUDA when asked or available, bf16 autocast only where the hardware has it.

Also the few device-specific speed settings of the engine: cuDNN's autotuner on CUDA, a bigger evaluation batch on
CUDA, and host-to-device copies of the per-step random parameters that do not make the host wait for the GPU.
"""

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


CPU_EVAL_BATCH_SIZE = 512
"""Evaluation batch on a CPU: big enough to amortize per-call overhead, small enough to stay in cache."""

CUDA_EVAL_BATCH_SIZE = 2048
"""Evaluation batch on CUDA: 48x48 images are tiny, so small batches leave the GPU waiting on kernel launches."""


def default_eval_batch_size(device: torch.device) -> int:
    """The evaluation batch size the engine uses on ``device`` when none is given.

    CPU results do not depend on it being changed elsewhere: the CPU value is the one the engine always used.
    """
    return CUDA_EVAL_BATCH_SIZE if device.type == "cuda" else CPU_EVAL_BATCH_SIZE


def default_compile_mode(device: torch.device) -> str:
    """The ``torch.compile`` mode for training on ``device``, where compilation is asked for.

    On CUDA, ``reduce-overhead``: a ResNet50 step on 48x48 images is hundreds of small kernels, so launching them is
    what bounds it, and CUDA graphs replay them with one launch. Elsewhere ``default`` (fused elementwise kernels).
    """
    return "reduce-overhead" if device.type == "cuda" else "default"


def configure_backend(device: torch.device) -> None:
    """Speed settings that change no CPU number: cuDNN's autotuner for the fixed-shape training batches on CUDA."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True


def host_to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Copy a small CPU tensor to ``device`` without making the host wait for the GPU.

    ``.to("cuda")`` from ordinary (pageable) memory synchronizes with the GPU, so a copy per training step would stop
    the host from queueing the next step while the GPU finishes this one. From pinned memory the copy is queued like
    a kernel; torch's pinned-memory cache keeps the buffer alive until the copy has run. Elsewhere this is ``.to``.
    """
    if device.type != "cuda" or tensor.device.type != "cpu":
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)
