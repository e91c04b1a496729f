"""examples/custom_occluder.py runs, registers its occluder and prints a passing check."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from occlubench.occluders import create_occluder, registration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "custom_occluder.py"


def test_the_custom_occluder_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert len(EXAMPLE.read_text().splitlines()) <= 30
    try:  # in-process (a subprocess would pay torch's import again); the registration is undone below
        runpy.run_path(str(EXAMPLE), run_name="__main__")
        printed = capsys.readouterr().out
        assert "'name': 'scarf'" in printed
        assert "hides [0.25, 0.25, 0.25, 0.25]" in printed
        assert printed.strip().endswith("rest untouched: True")
        assert create_occluder("scarf").spec()["params"]["top"] == 0.7
    finally:
        registration.OCCLUDERS.unregister("scarf")
