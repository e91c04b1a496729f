"""A new model in a few lines: register a factory by name, run a benchmark with it, print its accuracy matrix.

Run it with ``python examples/custom_model.py [RUN_DIR]``: the demo benchmark (synthetic faces, no download) at its
``smoke`` preset, seconds on a CPU; the run directory is a temporary one unless RUN_DIR is given.
"""

from __future__ import annotations

import sys
import tempfile

from torch import nn

import occlubench as ob


@ob.register_model("tiny_cnn")
def tiny_cnn(num_classes: int, weights: str | None = None, in_channels: int = 1) -> ob.ModelSpec:
    """Two conv layers and a linear head: a model small enough to train in seconds."""
    net = nn.Sequential(
        nn.Conv2d(in_channels, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, num_classes),
    )  # fmt: skip
    # The spec carries the model's own normalization: occluders always work on [0, 1] pixels, before it.
    return ob.ModelSpec(net, in_channels=in_channels, mean=(0.5,) * in_channels, std=(0.25,) * in_channels)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as scratch:
        out = sys.argv[1] if len(sys.argv) > 1 else scratch
        result = ob.run_benchmark("demo", model="tiny_cnn", preset="smoke", out=out, bootstrap=0)
        matrix = result.matrix("accuracy")  # {trained on: {evaluated on: accuracy}}
        columns = list(next(iter(matrix.values())))
        print("accuracy, trained on (rows) x evaluated on (columns)")
        print(f"{'':>10}" + "".join(f"{c:>8}" for c in columns))
        for row, values in matrix.items():
            print(f"{row:>10}" + "".join(f"{values[c]:>8.3f}" for c in columns))
