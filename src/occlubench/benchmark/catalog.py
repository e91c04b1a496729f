"""The catalog of named benchmarks: ``fer2013-halves`` (the reference study), its severity and region variants, and
the synthetic ``demo`` family. ``get_benchmark`` also reads a spec from a TOML file.
"""

from __future__ import annotations

from pathlib import Path

from occlubench.benchmark.conditions import plain_conditions
from occlubench.benchmark.severity import DEFAULT_SEVERITIES
from occlubench.benchmark.spec import CLEAN, BenchmarkSpec, Preset, TrainingCondition
from occlubench.registry import Registry
from occlubench.train.recipe import Recipe

BENCHMARKS: Registry[BenchmarkSpec] = Registry("benchmark")

HALVES = ("upper", "lower", "left", "right")

MIX = "mix"
#: The generalist's draw: each training image gets one of the four halves or stays whole, with equal odds. ``full``
#: is in the set so that the one model also keeps the baseline's job (clean faces) instead of trading clean
#: accuracy for occluded accuracy as each specialist does; its row then answers whether one model can replace all
#: five of the study's models.
HALVES_MIX: tuple[tuple[str, float], ...] = ((CLEAN, 0.2), *((half, 0.2) for half in HALVES))

#: Occluders of the severity benchmarks: two random ones, a mask rising from the chin and bands over eyes and mouth.
SEVERITY_OCCLUDERS = ("random_patch", "random_erasing", "face_mask", "eyes_band", "mouth_band")
REGION_GRIDS = (4, 8)

# The study's recipe (../shared/reference/README.md): SGD 0.01, momentum 0.9, batch 128, lr x0.1 every 5 epochs.
STUDY_BASELINE = Recipe(
    epochs=30, batch_size=128, lr=0.01, momentum=0.9, weight_decay=1e-3, lr_step_epochs=5, crop_padding=4, hflip=True
)
STUDY_FINETUNE = Recipe(
    epochs=15, batch_size=128, lr=0.01, momentum=0.9, weight_decay=5e-4, lr_step_epochs=5, crop_padding=0, hflip=True
)

FER2013_PRESETS = {
    "paper": Preset(
        "paper",
        "the study's recipe: baseline 30 epochs, fine-tunes 15 epochs, lr x0.1 every 5 epochs, all images",
        STUDY_BASELINE,
        STUDY_FINETUNE,
    ),
    "quick": Preset(
        "quick",
        "CPU-sized: baseline 6 epochs (lr x0.1 every 2), fine-tunes 2 epochs (lr x0.1 after 1), all images",
        STUDY_BASELINE.with_overrides(epochs=6, lr_step_epochs=2),
        STUDY_FINETUNE.with_overrides(epochs=2, lr_step_epochs=1),
    ),
    "smoke": Preset(
        "smoke",
        "seconds, for tests: 1 epoch each, batch 64, at most 256 images per split",
        STUDY_BASELINE.with_overrides(epochs=1, batch_size=64),
        STUDY_FINETUNE.with_overrides(epochs=1, batch_size=64),
        limit=256,
    ),
}


def mix_training(mix: tuple[tuple[str, float], ...] = HALVES_MIX, name: str = MIX) -> TrainingCondition:
    """A generalist fine-tune from the baseline: each training image occluded by one member of ``mix``."""
    return TrainingCondition(name, occlusion=MIX, init_from=CLEAN, recipe="finetune", mix=mix)


def halves_trainings(halves: tuple[str, ...] = HALVES, *, mix: bool = True) -> tuple[TrainingCondition, ...]:
    """The study's plan: a baseline on full faces, one fine-tune per half, and (``mix``) one generalist fine-tune."""
    baseline = TrainingCondition(CLEAN)
    finetunes = tuple(TrainingCondition(half, occlusion=half, init_from=CLEAN, recipe="finetune") for half in halves)
    return (baseline, *finetunes, *((mix_training(),) if mix else ()))


def register_benchmark(spec: BenchmarkSpec) -> BenchmarkSpec:
    """Add ``spec`` to the catalog under its name."""
    return BENCHMARKS.register(spec.name, spec, spec.description)


def is_spec_file(name: str | Path) -> bool:
    """Whether ``name`` means a spec file rather than a catalog name: it ends in ``.toml`` or is an existing file."""
    return str(name).lower().endswith(".toml") or Path(name).expanduser().is_file()


def get_benchmark(name: str | Path) -> BenchmarkSpec:
    """The catalog entry called ``name``, or the spec in the TOML file ``name`` (``my_bench.toml``).

    Raises:
        UnknownNameError: neither a catalog name nor a file (the message lists close matches).
        ConfigError: a spec file that is missing, not TOML, or invalid (one line naming the key).
    """
    if is_spec_file(name):
        from occlubench.benchmark.specfile import load_spec

        return load_spec(name)
    return BENCHMARKS.get(str(name))


def list_benchmarks() -> list[str]:
    """Names of the catalog's benchmarks."""
    return BENCHMARKS.names()


register_benchmark(
    BenchmarkSpec(
        name="fer2013-halves",
        description="The reference study: ResNet50 on FER2013, baseline, 4 half-face fine-tunes and a mix, 6x5 matrix",
        dataset="fer2013",
        model="resnet50",
        trainings=halves_trainings(),
        evaluations=plain_conditions(CLEAN, *HALVES),
        presets=FER2013_PRESETS,
        default_preset="paper",
        needs_data=True,
        headline="Which half of the face matters for emotion recognition, does fine-tuning on it recover, and can "
        "one model trained on a mix of halves match the four specialists?",
    )
)

register_benchmark(
    BenchmarkSpec(
        name="fer2013-severity",
        description="ResNet50 on FER2013, one baseline, accuracy vs. occluded fraction 0-0.6 for five occluders",
        dataset="fer2013",
        model="resnet50",
        trainings=(TrainingCondition(CLEAN),),
        evaluations=plain_conditions(CLEAN),
        severity_occluders=SEVERITY_OCCLUDERS,
        severities=DEFAULT_SEVERITIES,
        presets=FER2013_PRESETS,
        default_preset="paper",
        needs_data=True,
        headline="How fast does accuracy fall as more of the face is hidden, and does it matter how it is hidden?",
    )
)

register_benchmark(
    BenchmarkSpec(
        name="fer2013-regions",
        description="ResNet50 on FER2013, one baseline, occlusion-sensitivity maps (4x4 and 8x8 grid) per class",
        dataset="fer2013",
        model="resnet50",
        trainings=(TrainingCondition(CLEAN),),
        evaluations=plain_conditions(CLEAN),
        grids=REGION_GRIDS,
        presets=FER2013_PRESETS,
        default_preset="paper",
        needs_data=True,
        headline="Which parts of the face does the model read each emotion from?",
    )
)

DEMO_PRESETS = {
    "quick": Preset(
        "quick",
        "about a minute on 2 CPU cores: 150 synthetic faces per class, baseline 5 epochs, fine-tunes 2 epochs",
        Recipe(
            epochs=5,
            batch_size=32,
            lr=0.02,
            momentum=0.9,
            weight_decay=5e-4,
            lr_step_epochs=3,
            crop_padding=2,
            hflip=False,
        ),
        Recipe(
            epochs=2,
            batch_size=32,
            lr=0.01,
            momentum=0.9,
            weight_decay=5e-4,
            lr_step_epochs=2,
            crop_padding=0,
            hflip=False,
        ),
        dataset_options={"train_per_class": 150, "val_per_class": 30, "test_per_class": 60},
    ),
    "smoke": Preset(
        "smoke",
        "seconds, for tests: 40 faces per class, 1 epoch each",
        Recipe(epochs=1, batch_size=32, lr=0.05, momentum=0.9, weight_decay=5e-4, crop_padding=0, hflip=False),
        Recipe(epochs=1, batch_size=32, lr=0.01, momentum=0.9, weight_decay=5e-4, crop_padding=0, hflip=False),
        dataset_options={"train_per_class": 40, "val_per_class": 10, "test_per_class": 10},
    ),
}

register_benchmark(
    BenchmarkSpec(
        name="demo",
        description="Synthetic faces with known cue regions, fer_cnn, the fer2013-halves plan; no download, ~1 min",
        dataset="synthetic_faces",
        model="fer_cnn",
        trainings=halves_trainings(),
        evaluations=plain_conditions(CLEAN, *HALVES),
        presets=DEMO_PRESETS,
        default_preset="quick",
        needs_data=False,
        headline="A benchmark whose right answer is known: each class's cues sit in documented halves of the face.",
    )
)

register_benchmark(
    BenchmarkSpec(
        name="demo-severity",
        description="Synthetic faces, fer_cnn, one baseline, the fer2013-severity curves; no download",
        dataset="synthetic_faces",
        model="fer_cnn",
        trainings=(TrainingCondition(CLEAN),),
        evaluations=plain_conditions(CLEAN),
        severity_occluders=SEVERITY_OCCLUDERS,
        severities=DEFAULT_SEVERITIES,
        presets=DEMO_PRESETS,
        default_preset="quick",
        needs_data=False,
        headline="Accuracy vs. hidden fraction on faces whose cues sit in known places: bands over them hurt most.",
    )
)

register_benchmark(
    BenchmarkSpec(
        name="demo-regions",
        description="Synthetic faces, fer_cnn, one baseline, the fer2013-regions maps; no download",
        dataset="synthetic_faces",
        model="fer_cnn",
        trainings=(TrainingCondition(CLEAN),),
        evaluations=plain_conditions(CLEAN),
        grids=REGION_GRIDS,
        presets=DEMO_PRESETS,
        default_preset="quick",
        needs_data=False,
        headline="Occlusion sensitivity whose right answer is known: each class's map should light up on its cues.",
    )
)
