"""``occlubench report`` and ``occlubench leaderboard``: thin commands over :mod:`occlubench.report`.

Registered on the app by importing this module (``cli/app.py`` does, at its end).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from occlubench.cli.app import app, console
from occlubench.cli.errors import user_errors


def write_report(run_dir: Path, out: Path | None = None) -> Path:
    """Build a run's report and say where it is; returns the HTML path (also used by ``run --report``)."""
    from occlubench.report import build_report

    with console.status("writing the report"):
        files = build_report(run_dir, out)
    console.print(
        f"[green]report[/green]: {files.html} ({len(files.figures)} figures; {files.markdown.name} beside it)"
    )
    return files.html


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (the --out of `occlubench run`).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output directory (default: RUN_DIR/report).")] = None,
) -> None:
    """Write report.md and a self-contained report.html of a finished run, from its files alone."""
    with user_errors():
        write_report(run_dir, out)


@app.command()
def leaderboard(
    run_dirs: Annotated[list[Path], typer.Argument(help="Run directories, of any benchmarks, presets and protocols.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder of the pages (one per benchmark, plus index.md).")
    ] = Path("docs/leaderboards"),
) -> None:
    """Build one leaderboard page per benchmark from run result files (separate tables per protocol and preset)."""
    with user_errors():
        from occlubench.report import build_leaderboards

        with console.status("building leaderboards"):
            pages = build_leaderboards(run_dirs, out)
        for page in pages:
            console.print(f"[green]wrote[/green] {page}")
