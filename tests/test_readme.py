"""The README's Python example must run as written (on the demo's smoke preset)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README lost its Python example"
    monkeypatch.chdir(tmp_path)
    from occlubench.models import MODELS
    from occlubench.occluders import OCCLUDERS

    namespace: dict[str, object] = {}
    try:
        exec(compile(blocks[0], str(README), "exec"), namespace)
    finally:
        MODELS.unregister("tiny_cnn")
        OCCLUDERS.unregister("chin_band")
    assert (tmp_path / "runs" / "tiny" / "results.json").is_file()
    assert os.path.isfile(tmp_path / "runs" / "tiny" / "matrix.md")
