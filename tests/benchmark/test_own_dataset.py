"""Benchmarking your own dataset: the fer2013-halves plan on generated image folders, and occluders at other sizes."""

from __future__ import annotations

import inspect
import json
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from typer.testing import CliRunner

import occlubench as ob
from occlubench.cli.app import app
from occlubench.occluders import create_occluder, list_occluders

PLAN = ob.get_benchmark("fer2013-halves")
TRAINED = [t.name for t in PLAN.trainings]  # the baseline, one fine-tune per half (and the mix, where it is planned)
CONDITIONS = ["full", "upper", "lower", "left", "right"]
FACE_SPECIFIC = ("eyes_band", "nose_band", "mouth_band", "face_mask", "sunglasses")
SIZES = ((64, 64), (100, 80))  # (width, height)


def write_faces(
    root: Path,
    classes: Sequence[str],
    per_class: int,
    *,
    splits: Sequence[str] = ("",),
    sizes: Sequence[tuple[int, int]] = ((64, 64),),
    mode: str = "RGB",
) -> Path:
    """Noise images with a bright class-specific bar (so there is something to learn), sizes (width, height) cycling."""
    rng = np.random.default_rng(0)
    k = 0
    for split in splits:
        for label, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                width, height = sizes[k % len(sizes)]
                k += 1
                pixels = rng.integers(0, 80, (height, width, 3), dtype=np.uint8)
                top = label * height // len(classes)
                pixels[top : top + height // (2 * len(classes)), width // 4 : 3 * width // 4] = 230
                image = Image.fromarray(pixels, mode="RGB")
                (image if mode == "RGB" else image.convert("L")).save(folder / f"face{i:02d}.png")
    return root


def cli(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


SMOKE = ("--preset", "smoke", "--model", "fer_cnn", "--device", "cpu", "--bootstrap", "0")


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Torch on one thread: on a shared 2-core CPU, two threads make these training runs several times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


# --- the plan on your own data --------------------------------------------------------------------------------------


def test_fer2013_halves_plan_on_an_rgb_64x64_folder(tmp_path: Path) -> None:
    classes = ("calm", "joyful", "tense")
    data = write_faces(tmp_path / "my_faces", classes, per_class=8)
    result = ob.run_benchmark("fer2013-halves", data, tmp_path / "run", preset="smoke", model="fer_cnn", bootstrap=0)
    results = json.loads((result.run_dir / "results.json").read_text())
    assert results["complete"] is True
    assert results["classes"] == list(classes), "the matrix uses the dataset's classes"
    assert results["config"]["dataset"] == "imagefolder", "detected from the content of --data"
    assert results["config"]["data"]["split_note"].startswith("one pool of class folders, split per class")
    assert results["data"]["image"] | {"resize": None} == results["data"]["image"] | {
        "width": 64,
        "height": 64,
        "channels": 3,
        "resize": None,
    }
    assert results["split_sizes"] == {"train": 18, "select": 3, "report": 3}
    cells = results["cells"]
    assert {(c["trained_on"], c["evaluated_on"]) for c in cells} == {(t, e) for t in TRAINED for e in CONDITIONS}
    for cell in cells:
        assert cell["n"] == 3
        assert len(cell["metrics"]["confusion_matrix"]) == len(classes)
    assert (result.run_dir / "matrix.md").is_file()


def test_cli_runs_fer2013_halves_on_a_zip_of_other_classes_and_sizes(tmp_path: Path) -> None:
    """Gray 64x64 and 100x80 faces of four other classes, read at 32x32 (kept small: this trains six models)."""
    classes = ("anger", "calm", "delight", "worry")
    sizes = ((64, 64), (64, 64), (100, 80))
    folder = write_faces(tmp_path / "src", classes, per_class=4, splits=("train", "test"), sizes=sizes, mode="L")
    archive = tmp_path / "my_faces.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(folder.rglob("*.png")):
            zipped.write(path, "my_faces/" + path.relative_to(folder).as_posix())
    out = tmp_path / "run"
    code, _, stderr = cli(
        "run", "fer2013-halves", "--data", archive, "--out", out, *SMOKE, "--dataset-option", "size=32"
    )
    assert code == 0, stderr
    warnings = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert (
        "resized 32 image(s) that were not 32x32 to 32x32 by crop (e.g. 'test/anger/face00.png' was 64x64)"
        in (warnings[0])
    )
    results = json.loads((out / "results.json").read_text())
    assert results["classes"] == list(classes)
    assert results["config"]["dataset_options"] == {"size": 32}
    assert results["data"]["format"] == "imagefolder-zip"
    assert results["data"]["image"]["channels"] == 1
    assert (results["data"]["image"]["width"], results["data"]["image"]["height"]) == (32, 32)
    assert "val = 0.1 of train/ per class" in results["config"]["data"]["split_note"]
    assert results["split_sizes"] == {"train": 12, "select": 4, "report": 16}
    assert len(results["cells"]) == len(TRAINED) * len(CONDITIONS)


def test_dataset_options_and_forced_reader_reach_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--dataset and --dataset-option change what is read and are recorded (so a changed option is a new run)."""
    from occlubench.benchmark.rundir import RunDir

    data = write_faces(tmp_path / "faces", ("a", "b"), per_class=6)
    seen = {}

    def claim(self: RunDir, config: dict, **kwargs: object) -> bool:
        seen.update(config)
        raise KeyboardInterrupt  # stop before training: the config is all this test needs

    monkeypatch.setattr(RunDir, "claim", claim)
    args = ("--dataset", "imagefolder", "--dataset-option", "size=32", "--dataset-option", "resize=stretch")
    code, _, _ = cli("run", "demo", "--data", data, "--out", tmp_path / "run", *SMOKE, *args)
    assert code != 0  # the interrupt
    assert seen["dataset"] == "imagefolder"
    assert seen["dataset_options"] == {"size": 32, "resize": "stretch"}, "the demo preset's options are not imposed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--dataset", "imagefoldr"), "error: unknown dataset 'imagefoldr' (did you mean 'imagefolder'?)"),
        (("--dataset-option", "size"), "error: --dataset-option must be KEY=VALUE, got 'size'"),
        (("--dataset-option", "colour=1"), "error: unknown imagefolder option(s): colour"),
    ],
)
def test_dataset_flag_mistakes_are_one_line_errors(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    data = write_faces(tmp_path / "faces", ("a", "b"), per_class=1)
    code, _, stderr = cli("run", "fer2013-halves", "--data", data, "--out", tmp_path / "run", *SMOKE, *args)
    assert code == 2
    errors = [line for line in stderr.splitlines() if line.strip()]
    assert len(errors) == 1
    assert errors[0].startswith(message)
    assert not (tmp_path / "run").exists()


# --- occluders on other sizes ---------------------------------------------------------------------------------------


def pixels(width: int, height: int, channels: int = 3) -> torch.Tensor:
    return torch.rand(2, channels, height, width, generator=torch.Generator().manual_seed(0)) * 0.8 + 0.1


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", list_occluders())
def test_every_occluder_covers_rgb_images_of_any_size(name: str, size: tuple[int, int]) -> None:
    width, height = size
    occ = create_occluder(name)
    x = pixels(width, height)
    y = occ(x, generator=torch.Generator().manual_seed(1))
    mask = occ.mask(x, generator=torch.Generator().manual_seed(1))
    assert y.shape == x.shape
    assert mask.shape == (2, 1, height, width)
    assert torch.equal(y != x, mask.expand_as(x)), "every channel hidden in the same place"
    target = occ.target_fraction(height, width)
    if target is not None:
        hidden = mask.float().mean(dim=(1, 2, 3))
        assert torch.all((hidden - target).abs() <= 0.02), f"hid {hidden.tolist()}, meant {target}"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_halves_and_quadrants_scale_exactly(size: tuple[int, int]) -> None:
    width, height = size
    x = pixels(width, height, channels=1)
    rows, cols = torch.arange(height).view(-1, 1), torch.arange(width).view(1, -1)
    top, left = rows < height // 2, cols < width // 2
    expected = {
        "upper": top.expand(height, width),
        "lower": (~top).expand(height, width),
        "left": left.expand(height, width),
        "right": (~left).expand(height, width),
        "quadrant_tl": top & left,
        "quadrant_br": ~top & ~left,
    }
    for name, region in expected.items():
        mask = create_occluder(name).mask(x)
        assert torch.equal(mask[0, 0], region), f"{name} at {width}x{height}"


@pytest.mark.parametrize("name", FACE_SPECIFIC)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_face_specific_occluders_take_their_geometry_as_fractions(name: str, size: tuple[int, int]) -> None:
    """The same shape at twice the resolution, pooled back down, is the shape at this resolution (up to its edge)."""
    width, height = size
    occ = create_occluder(name)
    small = occ.mask(pixels(width, height, channels=1))[0, 0].float()
    large = occ.mask(pixels(2 * width, 2 * height, channels=1))[0, 0].float()
    pooled = F.avg_pool2d(large[None, None], 2)[0, 0]
    disagree = ((pooled >= 0.5) != (small > 0)).float().mean()
    assert disagree <= 0.03, f"{name}: {disagree:.3f} of the pixels differ between {width}x{height} and double"
    docs = [inspect.getdoc(cls) or "" for cls in type(occ).__mro__] + [inspect.getmodule(occ).__doc__ or ""]
    assert any("fraction" in doc for doc in docs), f"{name}'s docstrings say its geometry is in fractions"
