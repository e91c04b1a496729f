"""Benchmark specs as TOML: catalog entries round-trip, hand-written files get defaults, bad files get one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import occlubench as ob
from occlubench.benchmark import BENCHMARKS, get_benchmark, load_spec, spec_from_dict, spec_to_toml
from occlubench.benchmark.specfile import tomllib
from occlubench.benchmark.toml_writer import dumps_toml
from occlubench.cli.app import app
from occlubench.errors import ConfigError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

MINIMAL = """
name = "mine"
dataset = "synthetic_faces"
model = "fer_cnn"
"""


@pytest.mark.parametrize("name", BENCHMARKS.names())
def test_every_catalog_entry_round_trips_through_toml(name: str, tmp_path: Path) -> None:
    spec = get_benchmark(name)
    text = spec_to_toml(spec)
    assert spec_from_dict(tomllib.loads(text)) == spec
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    loaded = get_benchmark(str(path))
    assert loaded == spec
    assert loaded.source == str(path)
    assert [c.label for c in loaded.conditions()] == [c.label for c in spec.conditions()]


def test_a_minimal_file_gets_the_datasets_presets_and_a_baseline(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(MINIMAL)
    spec = load_spec(path)
    assert spec.name == "mine"
    assert not spec.needs_data
    assert [t.name for t in spec.trainings] == ["full"]
    assert [c.label for c in spec.conditions()] == ["full"]
    assert spec.presets == get_benchmark("demo").presets
    assert spec.default_preset == "quick"
    assert spec.seeds == (0,)


def test_the_example_file_reads_with_its_conveniences() -> None:
    spec = get_benchmark(str(EXAMPLES / "eyes_or_mouth.toml"))
    mix = spec.training("eyes-or-mouth")
    assert mix.occlusion == "mix"
    assert mix.recipe == "finetune"  # init_from given: fine-tuning is the default recipe
    assert dict(mix.mix) == {"eyes_band": 0.4, "mouth_band": 0.4, "full": 0.2}
    demo_quick = get_benchmark("demo").presets["quick"]
    assert spec.presets["quick"].finetune == demo_quick.finetune.with_overrides(epochs=3)
    assert spec.presets["quick"].baseline == demo_quick.baseline
    assert spec.condition("mouth-gray").kwargs == {"fill": "gray"}
    labels = [c.label for c in spec.conditions()]
    assert "random_patch@0.2" in labels
    assert "mouth_band@0.4" in labels
    assert sum(label.startswith("grid4_") for label in labels) == 16


def test_toml_writer_escapes_and_nests() -> None:
    document = {
        "text": 'quote " backslash \\ newline \n tab \t unicode é',
        "odd key": 1,
        "floats": [0.1, 1e-9, -2.5],
        "mixed": ["a", {"b": 1, "c": [1, 2]}],
        "table": {"inner": {"x": True}, "y": False, "empty": {}},
        "rows": [{"a": 1}, {"a": 2, "m": {"k": 0.5}}],
        "skipped": None,
    }
    back = tomllib.loads(dumps_toml(document, comment="two\nlines"))
    expected = {k: v for k, v in document.items() if k != "skipped"}
    assert back == expected


BAD_FILES = [
    ("nmae = 'x'\n" + MINIMAL, "nmae: unknown key in the file (did you mean 'name'?)"),
    (MINIMAL.replace("synthetic_faces", "fer2014"), "dataset: unknown 'fer2014' (did you mean 'fer2013'?)"),
    (MINIMAL.replace("fer_cnn", "resnet5O"), "model: unknown 'resnet5O'"),
    (MINIMAL + "evaluations = ['full', 'uper']\n", "evaluations[1]: unknown condition 'uper' (did you mean 'upper'?)"),
    (
        MINIMAL + "[[trainings]]\nname = 'full'\n[[trainings]]\nname = 'x'\ninit_from = 'full'\nrecipe = 'fine'\n",
        "trainings[1].recipe: unknown 'fine'",
    ),
    (
        MINIMAL + "[[trainings]]\nname = 'full'\n[[trainings]]\nname = 'x'\ninit_from = 'full'\n"
        "mix = { upper = 0.5, lower = 0.4 }\n",
        "trainings[1].mix: probabilities must sum to 1, got 0.9",
    ),
    (
        MINIMAL + "evaluations = [{ label = 'e', occluder = 'eyes_band', params = { top = 2.0 } }]\n",
        "evaluations[0]: top must be in [0, 1]; got 2.0",
    ),
    (
        MINIMAL + "evaluations = [{ label = 'e', occluder = 'eyes_band', params = { size = 2 } }]\n",
        "evaluations[0]: occluder 'eyes_band' has no parameter 'size'",
    ),
    (
        MINIMAL + "severity_occluders = ['upper']\nseverities = [0.0, 0.3]\n",
        "severity_occluders: occluder 'upper' has no severity knob",
    ),
    (MINIMAL + "severity_occluders = ['random_patch']\n", "severities: severity_occluders and severities go together"),
    (MINIMAL + "grids = [0]\n", "grids[0]: must be an integer in [1, 64], got 0"),
    (
        MINIMAL + "[presets.fast]\nbase = 'quick'\n[presets.fast.baseline]\nepochs = 0\n",
        "presets.fast.baseline.epochs: must be an integer in [1, 100000], got 0",
    ),
    (
        MINIMAL + "[presets.fast]\nbase = 'quick'\n[presets.fast.baseline]\nepoch = 3\n",
        "presets.fast.baseline.epoch: unknown key in presets.fast.baseline (did you mean 'epochs'?)",
    ),
    (MINIMAL + "default_preset = 'paper'\n", "default_preset: unknown 'paper'"),
    ("name = 'x'\nmodel = [1\n", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_an_invalid_file_is_one_line_naming_the_key(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_spec(path)
    assert message in str(info.value)
    assert str(info.value).startswith(f"{path}: ")
    assert str(info.value).count(str(path)) == 1
    assert "\n" not in str(info.value)


def test_unknown_values_name_the_allowed_ones(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(MINIMAL + "grid_fill = 'pink'\n")
    with pytest.raises(ConfigError, match=r"grid_fill: unknown 'pink' \(allowed: black, gray, mean, noise, blur\)"):
        load_spec(path)


def test_a_missing_spec_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"spec file .*nothere\.toml does not exist"):
        get_benchmark(str(tmp_path / "nothere.toml"))


def test_the_cli_turns_an_invalid_file_into_exit_code_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(MINIMAL.replace("fer_cnn", "fer-cnn"))
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "model: unknown 'fer-cnn' (did you mean 'fer_cnn'?" in lines[0]
    assert not (tmp_path / "out").exists()


def test_the_guides_example_file_is_a_valid_spec(tmp_path: Path) -> None:
    guide = EXAMPLES.parent / "docs" / "guides" / "benchmark-toml.md"
    example = re.findall(r"```toml\n(.*?)```", guide.read_text(), flags=re.S)[0]
    path = tmp_path / "my_bench.toml"
    path.write_text(example)
    spec = load_spec(path)
    assert spec.seeds == (0, 1, 2)
    assert spec.presets["tiny"].limit == 512
    assert spec.presets["tiny"].baseline.epochs == 2
    assert len(spec.conditions()) == 6 + 5 * 6 + 16 + 64


def test_spec_and_api_accept_a_file_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(MINIMAL)
    assert ob.get_benchmark(str(path)).name == "mine"
