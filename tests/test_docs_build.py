"""The documentation site builds with ``mkdocs build --strict``: no broken link, no missing page, no bad docstring.

CI runs the same command: ``.venv/bin/mkdocs build --strict`` from the repository root.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python"):
        pytest.importorskip(module, reason="the docs extra is not installed (pip install -e '.[docs]')")
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    cli = (site / "cli" / "index.html").read_text()
    for command in ("occlubench run", "occlubench list", "occlubench report", "occlubench leaderboard"):
        assert command in cli, command  # generated from the Typer app at build time
    assert "--report" in cli
    presets = (site / "concepts" / "presets" / "index.html").read_text()
    assert "<!-- presets -->" not in presets
    assert "smoke" in presets
    boards = list((site / "leaderboards").glob("*/index.html"))
    assert boards, "no leaderboard page was built"
    assert any('class="ob-sortable"' in p.read_text() for p in boards)
    assert (site / "javascripts" / "tablesort.js").is_file()
