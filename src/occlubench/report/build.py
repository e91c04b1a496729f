"""``build_report``: a run directory in, ``report.md`` + ``figures/*.png`` + a self-contained ``report.html`` out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from occlubench.errors import RunDirError
from occlubench.report.document import Section, pictures, render_html, render_markdown
from occlubench.report.rundata import RunData, load_run
from occlubench.report.sections import REPORT_SECTIONS
from occlubench.storage import atomic_write_bytes, atomic_write_text

FIGURES_DIR = "figures"


@dataclass(frozen=True)
class ReportFiles:
    """What :func:`build_report` wrote."""

    directory: Path
    markdown: Path
    html: Path
    figures: tuple[Path, ...]


def build_sections(run: RunData, only: Sequence[str] | None = None) -> list[Section]:
    """Run every registered section builder (or those named in ``only``) and keep the sections they return."""
    names = list(only) if only is not None else REPORT_SECTIONS.names()
    built = (REPORT_SECTIONS.get(name)(run) for name in names)
    return [section for section in built if section is not None]


def report_title(run: RunData) -> str:
    """``demo: fer_cnn, preset smoke, protocol official``."""
    config = run.config
    return f"{run.benchmark}: {config.get('model')}, preset {config.get('preset')}, protocol {config.get('protocol')}"


def build_report(run_dir: str | Path, out_dir: str | Path | None = None) -> ReportFiles:
    """Write a run's report from its files alone: no training, no evaluation, no data download.

    Args:
        run_dir: the run directory (``--out`` of ``occlubench run``).
        out_dir: where to write; default ``<run_dir>/report``.

    Returns:
        The written paths: ``report.md`` (pictures linked from ``figures/``) and ``report.html`` (pictures embedded,
        opens from disk).

    Raises:
        RunDirError: not a readable run directory, or ``out_dir`` cannot be written.
    """
    run = load_run(run_dir)
    out = Path(out_dir).expanduser() if out_dir is not None else run.root / "report"
    if out.exists() and not out.is_dir():
        raise RunDirError(f"report output {out} exists and is not a directory")
    sections = build_sections(run)
    title = report_title(run)
    figures_dir = out / FIGURES_DIR
    written = []
    for picture in pictures(sections):
        path = figures_dir / f"{picture.name}.png"
        atomic_write_bytes(path, picture.png)
        written.append(path)
    for stale in figures_dir.glob("*.png"):  # pictures of an earlier report that this one no longer has
        if stale not in written:
            stale.unlink()
    subtitle = f"run directory `{run.root}`, started {run.results.get('created', '?')}"
    markdown, html = out / "report.md", out / "report.html"
    atomic_write_text(markdown, render_markdown(title, sections, figures_dir=FIGURES_DIR))
    atomic_write_text(html, render_html(title, sections, subtitle=subtitle))
    return ReportFiles(out, markdown, html, tuple(written))
