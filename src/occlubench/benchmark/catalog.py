"""The catalog of named benchmarks, with ``fer2013-halves`` (the reference study) and ``demo``."""

from __future__ import annotations

from occlubench.benchmark.spec import CLEAN, BenchmarkSpec, Preset, TrainingCondition
from occlubench.registry import Registry
from occlubench.train.recipe import Recipe

BENCHMARKS: Registry[BenchmarkSpec] = Registry("benchmark")

HALVES = ("upper", "lower", "left", "right")

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


def halves_trainings(halves: tuple[str, ...] = HALVES) -> tuple[TrainingCondition, ...]:
    """The study's plan: a baseline on full faces, then one fine-tune per half, each from the baseline."""
    baseline = TrainingCondition(CLEAN)
    finetunes = tuple(TrainingCondition(half, occlusion=half, init_from=CLEAN, recipe="finetune") for half in halves)
    return (baseline, *finetunes)


def register_benchmark(spec: BenchmarkSpec) -> BenchmarkSpec:
    """Add ``spec`` to the catalog under its name."""
    return BENCHMARKS.register(spec.name, spec, spec.description)


def get_benchmark(name: str) -> BenchmarkSpec:
    """The catalog entry called ``name`` (``UnknownNameError`` with close matches otherwise)."""
    return BENCHMARKS.get(name)


def list_benchmarks() -> list[str]:
    """Names of the catalog's benchmarks."""
    return BENCHMARKS.names()


register_benchmark(
    BenchmarkSpec(
        name="fer2013-halves",
        description="The reference study: ResNet50 on FER2013, a baseline and 4 half-face fine-tunes, 5x5 matrix",
        dataset="fer2013",
        model="resnet50",
        trainings=halves_trainings(),
        evaluations=(CLEAN, *HALVES),
        presets=FER2013_PRESETS,
        default_preset="paper",
        needs_data=True,
        headline="Which half of the face matters for emotion recognition, and does fine-tuning on it recover?",
    )
)

DEMO_PRESETS = {
    "quick": Preset(
        "quick",
        "about a minute on 2 CPU cores: 150 synthetic faces per class, baseline 5 epochs, fine-tunes 2 epochs",
        Recipe(epochs=5, batch_size=32, lr=0.05, momentum=0.9, weight_decay=5e-4, lr_step_epochs=3, crop_padding=2,
               hflip=False),
        Recipe(epochs=2, batch_size=32, lr=0.01, momentum=0.9, weight_decay=5e-4, lr_step_epochs=2, crop_padding=0,
               hflip=False),
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
        evaluations=(CLEAN, *HALVES),
        presets=DEMO_PRESETS,
        default_preset="quick",
        needs_data=False,
        headline="A benchmark whose right answer is known: each class's cues sit in documented halves of the face.",
    )
)
