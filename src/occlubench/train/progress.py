"""Progress events: the engine reports through a callback and never touches the terminal itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProgressEvent:
    """One thing that happened.

    ``kind`` is one of: ``job_start``, ``step``, ``epoch_end``, ``job_end``, ``job_reused``, ``eval_start``,
    ``eval_step``, ``eval_end``, ``message``. ``job`` names the training or evaluation job.
    """

    kind: str
    job: str
    epoch: int = 0
    epochs: int = 0
    step: int = 0
    steps: int = 0
    loss: float | None = None
    train_accuracy: float | None = None
    val_accuracy: float | None = None
    seconds: float | None = None
    message: str = ""


ProgressCallback = Callable[[ProgressEvent], None]


def ignore_progress(event: ProgressEvent) -> None:
    """The default callback: do nothing."""
