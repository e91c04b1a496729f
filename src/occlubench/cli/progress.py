"""Rich progress bars for the runner's ProgressEvents: one bar per job with epoch, loss, val accuracy and ETA."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from occlubench.train.progress import ProgressEvent


class RichProgress:
    """A ProgressCallback that draws with rich; use as a context manager around the run."""

    def __init__(self, console: Console | None = None, *, enabled: bool = True) -> None:
        self.enabled = enabled  # False on torchrun's other ranks: one process draws, not N
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.description:<22}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self.started = False

    def __enter__(self) -> RichProgress:
        return self  # the display starts with the first event: an error before it leaves stderr one clean line

    def __exit__(self, *exc: object) -> None:
        if self.started:
            self.progress.__exit__(*exc)  # type: ignore[arg-type]

    def _task(self, job: str, total: int) -> TaskID:
        if job not in self.tasks:
            self.tasks[job] = self.progress.add_task(job, total=max(1, total), info="")
        return self.tasks[job]

    def __call__(self, event: ProgressEvent) -> None:
        if not self.enabled:
            return
        if not self.started:
            self.progress.start()
            self.started = True
        if event.kind == "job_start":
            task = self._task(event.job, event.epochs * event.steps)
            self.progress.update(
                task, completed=event.epoch * event.steps, info=f"epoch {event.epoch + 1}/{event.epochs}"
            )
        elif event.kind == "step":
            task = self.tasks.get(event.job)
            if task is not None:
                done = (event.epoch - 1) * event.steps + event.step
                self.progress.update(task, completed=done)
        elif event.kind == "epoch_end":
            task = self.tasks.get(event.job)
            if task is not None:
                info = f"epoch {event.epoch}/{event.epochs} loss {event.loss:.3f} val acc {event.val_accuracy:.3f}"
                self.progress.update(task, info=info)
        elif event.kind == "job_reused":
            self.console.print(f"[dim]{event.message}[/dim]")
        elif event.kind == "eval_step":
            task = self._task(event.job, event.steps)
            self.progress.update(task, completed=event.step, info="all conditions, one sweep")
        elif event.kind == "message":
            self.console.print(event.message)
