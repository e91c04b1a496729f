"""Reports and leaderboards, built from the files of finished runs only (never retraining or re-evaluating).

This layer imports neither typer nor rich: the CLI (``occlubench report``, ``occlubench leaderboard``) wraps it.

Examples:
    >>> from occlubench.report import build_leaderboards, build_report
    >>> files = build_report("runs/demo-smoke")  # doctest: +SKIP
    >>> files.html  # doctest: +SKIP
    PosixPath('runs/demo-smoke/report/report.html')
    >>> build_leaderboards(["runs/a", "runs/b"], "docs/leaderboards")  # doctest: +SKIP
"""

from __future__ import annotations

# isort: off
# Imported for their registrations, in the order the report shows the sections.
from occlubench.report import core_sections, optional_sections, gallery  # noqa: F401

# isort: on
from occlubench.report.build import ReportFiles, build_report, build_sections
from occlubench.report.command import reproduce_command
from occlubench.report.document import Paragraph, Picture, Section, Table
from occlubench.report.leaderboard import LeaderboardRow, build_leaderboards, collect_rows, leaderboard_markdown
from occlubench.report.rundata import Predictions, RunData, load_run
from occlubench.report.sections import REPORT_SECTIONS, register_section

__all__ = [
    "REPORT_SECTIONS",
    "LeaderboardRow",
    "Paragraph",
    "Picture",
    "Predictions",
    "ReportFiles",
    "RunData",
    "Section",
    "Table",
    "build_leaderboards",
    "build_report",
    "build_sections",
    "collect_rows",
    "leaderboard_markdown",
    "load_run",
    "register_section",
    "reproduce_command",
]
