"""The reference study's input pipeline against occlubench's engine: same network, batch size and steps, one process.

Study side, as its code ran: an image-folder Dataset that opens each 48x48 JPEG with PIL (as RGB), applies
``RandomCrop(48, padding=4)``, ``RandomHorizontalFlip()``, ``ToTensor()``, the half-face mask (a clone with one half
zeroed) and ``Normalize``; ``DataLoader(batch_size, shuffle=True, num_workers=2)``; the network in fp32 NCHW; a
``loss.item()`` per step for the running loss. Its evaluation makes one DataLoader pass per condition.

occlubench side, with the engine's defaults: the split decoded once and held on the device as uint8,
``occlubench.train.fit.train_step`` (crop and flip as one gather, the ``upper`` occluder, normalization inside the
model), channels_last, bf16 autocast where the device has it (``autocast_dtype(device, "auto")``), and
``predict_conditions`` for the five-condition sweep. ``--compile [MODE]`` adds a third variant: the engine's step
under ``torch.compile`` (CUDA graphs on CUDA by default), as ``fit(compile_mode=...)`` runs it.

Timings: a warm-up step first (DataLoader workers starting, cuDNN autotuning), then ``--steps`` timed steps, sides
interleaved over ``--rounds`` rounds (study first in even rounds); each side's best round is reported, with the
machine's load. Images per second = images processed / seconds (evaluation: image-conditions / seconds).

Usage (from the repository root)::

    python benchmarks/compare_study_pipeline.py                       # the CPU, then CUDA where there is one
    python benchmarks/compare_study_pipeline.py --device cpu --model fer_cnn --steps 3
    python benchmarks/compare_study_pipeline.py --device cuda --steps 100 --compile --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch import nn
from torchvision import transforms

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import describe_machine, machine_state

import occlubench as ob
from occlubench.benchmark.catalog import STUDY_BASELINE
from occlubench.data import load_fer2013
from occlubench.data.imageset import FER2013_CLASSES, ImageSet
from occlubench.models.spec import ModelSpec
from occlubench.train.device import autocast_dtype, configure_backend, default_compile_mode
from occlubench.train.fit import train_step
from occlubench.train.predict import predict_conditions

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO / ".." / "shared" / "data" / "fer2013.zip"
CONDITIONS = ("full", "upper", "lower", "left", "right")
TRAIN_OCCLUSION = "upper"


# --------------------------------------------------------------------------------------------- the study's side
class HalfMask:
    """The study's masking, after ``ToTensor()`` and before ``Normalize``: one half of the image set to 0."""

    def __init__(self, side: str) -> None:
        self.side = side

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        image = image.clone()
        h, w = image.shape[-2:]
        if self.side == "upper":
            image[:, : h // 2, :] = 0
        elif self.side == "lower":
            image[:, h // 2 :, :] = 0
        elif self.side == "left":
            image[:, :, : w // 2] = 0
        elif self.side == "right":
            image[:, :, w // 2 :] = 0
        return image


class StudyImageFolder(torch.utils.data.Dataset):
    """``root/<class>/<file>.jpg`` read with PIL on every access, as the study's folder dataset did."""

    def __init__(self, root: Path, classes: tuple[str, ...], mode: str, transform: Callable[[Any], Any]) -> None:
        self.samples = [(p, k) for k, c in enumerate(classes) for p in sorted((root / c).glob("*.jpg"))]
        self.mode = mode
        self.transform = transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        path, label = self.samples[index]
        with Image.open(path) as image:
            return self.transform(image.convert(self.mode)), label


def study_transform(spec: ModelSpec, *, train: bool, mask: str | None) -> transforms.Compose:
    steps: list[Any] = [transforms.RandomCrop(48, padding=4), transforms.RandomHorizontalFlip()] if train else []
    steps.append(transforms.ToTensor())
    if mask is not None:
        steps.append(HalfMask(mask))
    steps.append(transforms.Normalize(spec.mean.flatten().tolist(), spec.std.flatten().tolist()))
    return transforms.Compose(steps)


def study_loader(dataset: StudyImageFolder, batch_size: int, *, shuffle: bool) -> torch.utils.data.DataLoader:
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=2)


def study_train(
    net: nn.Module, dataset: StudyImageFolder, batch_size: int, steps: int, device: torch.device
) -> tuple[float, int]:
    """Seconds for ``steps`` training steps after one warm-up step, and the images they processed."""
    recipe = STUDY_BASELINE
    optimizer = torch.optim.SGD(net.parameters(), lr=recipe.lr, momentum=recipe.momentum, weight_decay=1e-3)
    criterion = nn.CrossEntropyLoss()
    net.train()
    running_loss, seen, started = 0.0, 0, 0.0
    for step, (inputs, labels) in enumerate(study_loader(dataset, batch_size, shuffle=True)):
        if step == 1:
            _sync(device)
            started = time.perf_counter()
        inputs, labels = inputs.to(device), labels.to(device)
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        if step >= 1:
            seen += len(labels)
        if step == steps:
            break
    _sync(device)
    return time.perf_counter() - started, seen


@torch.no_grad()
def study_evaluate(net: nn.Module, test_dir: Path, spec: ModelSpec, batch_size: int, device: torch.device) -> int:
    """One DataLoader pass per condition, softmax probabilities to numpy; returns image-conditions processed."""
    net.eval()
    done = 0
    mode = "RGB" if spec.in_channels == 3 else "L"
    for condition in CONDITIONS:
        mask = None if condition == "full" else condition
        transform = study_transform(spec, train=False, mask=mask)
        dataset = StudyImageFolder(test_dir, FER2013_CLASSES, mode, transform)
        chunks = []
        for inputs, _ in study_loader(dataset, batch_size, shuffle=False):
            chunks.append(torch.softmax(net(inputs.to(device)), dim=1).cpu().numpy())
            done += len(inputs)
    return done


# ------------------------------------------------------------------------------------------- occlubench's side
def occlubench_train(
    model: nn.Module,
    train: ImageSet,
    batch_size: int,
    steps: int,
    device: torch.device,
    *,
    compile_mode: str | None = None,
) -> tuple[float, int, float]:
    """Seconds for ``steps`` steps of the engine after one warm-up step, images processed, warm-up seconds."""
    recipe = STUDY_BASELINE.with_overrides(batch_size=batch_size)
    configure_backend(device)
    model.to(device).to(memory_format=torch.channels_last).train()
    forward = model if compile_mode is None else torch.compile(model, mode=compile_mode, dynamic=False)
    amp = autocast_dtype(device, "auto")
    optimizer = torch.optim.SGD(
        model.parameters(), lr=recipe.lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay
    )
    occluder = ob.create_occluder(TRAIN_OCCLUSION)
    images, labels = train.images.to(device), train.labels.to(device)
    generator = torch.Generator().manual_seed(0)
    order = torch.randperm(len(train), generator=generator).to(device)
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    seen, started, warmup = 0, 0.0, 0.0
    _sync(device)
    warm_started = time.perf_counter()
    for step in range(steps + 1):
        if step == 1:
            _sync(device)
            started = time.perf_counter()
            warmup = started - warm_started
        start = (step * batch_size) % (len(train) - batch_size + 1)
        idx = order[start : start + batch_size]
        target = labels[idx]
        loss, logits = train_step(
            forward, optimizer, images[idx], recipe, generator, target=target, occlusion=occluder, amp_dtype=amp
        )
        loss_sum += loss * len(idx)
        correct += (logits.argmax(1) == target).sum()
        if step >= 1:
            seen += len(idx)
    float(loss_sum)  # what fit reads once per epoch
    _sync(device)
    return time.perf_counter() - started, seen, warmup


def occlubench_evaluate(model: nn.Module, test: ImageSet, device: torch.device) -> int:
    conditions = {c: None if c == "full" else ob.create_occluder(c) for c in CONDITIONS}
    model.to(device).to(memory_format=torch.channels_last)
    predict_conditions(model, test, conditions, device=device, amp_dtype=autocast_dtype(device, "auto"))
    return len(test) * len(CONDITIONS)


# ----------------------------------------------------------------------------------------------------- driver
@dataclass
class Figures:
    """Images per second of each side on one device, best round of each."""

    device: str
    model: str
    batch_size: int
    steps: int
    rounds: int
    threads: int
    autocast: str
    train_study: float
    train_occlubench: float
    train_compiled: float | None
    compile_warmup_s: float | None
    compile_mode: str | None
    eval_study: float
    eval_occlubench: float
    load: str
    rounds_img_s: dict[str, list[float]]

    def lines(self) -> list[str]:
        compiled = (
            f"; compiled ({self.compile_mode}) {self.train_compiled:,.0f} img/s"
            f" ({self.train_compiled / self.train_study:.2f}x,"
            f" compile+warm-up {self.compile_warmup_s:.0f} s)"
            if self.train_compiled is not None and self.compile_warmup_s is not None
            else ""
        )
        return [
            f"[{self.device}] {self.model}, batch {self.batch_size}, {self.steps} steps x {self.rounds} rounds, "
            f"{self.threads} threads, occlubench autocast {self.autocast}; {self.load}",
            f"  training   study {self.train_study:,.1f} img/s   occlubench {self.train_occlubench:,.1f} img/s   "
            f"ratio {self.train_occlubench / self.train_study:.2f}x{compiled}",
            f"  evaluation study {self.eval_study:,.1f} img/s   occlubench {self.eval_occlubench:,.1f} img/s   "
            f"ratio {self.eval_occlubench / self.eval_study:.2f}x   (image-conditions, 5 conditions)",
        ]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _extract(source: Path, members: list[str], root: Path) -> None:
    """Copy ``members`` (``train/<class>/x.jpg``) of a zip or a folder to plain files under ``root``."""
    with contextlib.ExitStack() as stack:
        archive = None if source.is_dir() else stack.enter_context(zipfile.ZipFile(source))
        for member in members:
            target = root / member
            target.parent.mkdir(parents=True, exist_ok=True)
            if archive is None:
                shutil.copyfile(source / member, target)
            else:
                target.write_bytes(archive.read(member))


@contextlib.contextmanager
def _workdir(path: str | None) -> Iterator[Path]:
    if path is not None:
        Path(path).mkdir(parents=True, exist_ok=True)
        yield Path(path)
        return
    folder = Path(tempfile.mkdtemp(prefix="occlubench-compare-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def compare_on(device: torch.device, args: argparse.Namespace, train: ImageSet, test: ImageSet, work: Path) -> Figures:
    torch.manual_seed(0)
    spec = ob.create_model(args.model, 7)
    mode = "RGB" if spec.in_channels == 3 else "L"
    train_set = StudyImageFolder(
        work / "train", train.classes, mode, study_transform(spec, train=True, mask=TRAIN_OCCLUSION)
    )
    rates: dict[str, list[float]] = {"study": [], "occlubench": []}
    eval_rates: dict[str, list[float]] = {"study": [], "occlubench": []}
    for round_ in range(args.rounds):
        sides = ("study", "occlubench") if round_ % 2 == 0 else ("occlubench", "study")
        for side in sides:
            net = copy.deepcopy(spec)
            started = time.perf_counter()
            if side == "study":
                torch.backends.cudnn.benchmark = False  # the study's code left cuDNN's autotuner off
                seconds, seen = study_train(net.net.to(device), train_set, args.batch_size, args.steps, device)
                rates["study"].append(seen / seconds)
                eval_started = time.perf_counter()
                done = study_evaluate(net.net, work / "test", spec, args.batch_size, device)
                eval_rates["study"].append(done / (time.perf_counter() - eval_started))
            else:
                seconds, seen, _ = occlubench_train(net, train, args.batch_size, args.steps, device)
                rates["occlubench"].append(seen / seconds)
                eval_started = time.perf_counter()
                done = occlubench_evaluate(net, test, device)
                _sync(device)
                eval_rates["occlubench"].append(done / (time.perf_counter() - eval_started))
            print(f"  [{device.type}] round {round_ + 1} {side}: {time.perf_counter() - started:.1f} s", flush=True)
    amp = autocast_dtype(device, "auto")
    return Figures(
        device=torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        model=args.model,
        batch_size=args.batch_size,
        steps=args.steps,
        rounds=args.rounds,
        threads=torch.get_num_threads(),
        autocast=str(amp).removeprefix("torch.") if amp is not None else "fp32",
        train_study=max(rates["study"]),
        train_occlubench=max(rates["occlubench"]),
        train_compiled=None,
        compile_warmup_s=None,
        compile_mode=None,
        eval_study=max(eval_rates["study"]),
        eval_occlubench=max(eval_rates["occlubench"]),
        load=machine_state(),
        rounds_img_s={f"train_{k}": v for k, v in rates.items()} | {f"eval_{k}": v for k, v in eval_rates.items()},
    )


def add_compiled(figures: Figures, device: torch.device, args: argparse.Namespace, train: ImageSet) -> None:
    """Time occlubench's steps under ``torch.compile`` (after the eager rounds, so a failed compile loses nothing)."""
    mode = args.compile or default_compile_mode(device)
    torch.manual_seed(0)
    spec = ob.create_model(args.model, 7)
    try:
        seconds, seen, warmup = occlubench_train(spec, train, args.batch_size, args.steps, device, compile_mode=mode)
    except Exception as err:  # report and keep the eager figures: this variant is an experiment
        print(f"  torch.compile(mode={mode!r}) failed: {type(err).__name__}: {str(err).splitlines()[0]}", flush=True)
        return
    figures.compile_mode, figures.train_compiled, figures.compile_warmup_s = mode, seen / seconds, warmup


def _report(figures: Figures, results: list[Figures], json_path: Path | None) -> None:
    """Print the figures so far (a run stopped at a time limit keeps them) and rewrite the JSON file."""
    for line in figures.lines():
        print(line, flush=True)
    if json_path is not None:
        payload = {"machine": describe_machine(), "results": [asdict(f) for f in results]}
        json_path.write_text(json.dumps(payload, indent=2))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="fer2013.zip or its extracted folder")
    parser.add_argument(
        "--device", choices=("all", "cpu", "cuda"), default="all", help="all: the CPU, then CUDA where there is one"
    )
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=None, help="timed steps per round (CPU 2, CUDA 100)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--eval-images", type=int, default=None, help="test images evaluated (CPU 128, CUDA 7178)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads of the main process")
    parser.add_argument(
        "--compile",
        nargs="?",
        const="",
        default=None,
        metavar="MODE",
        help="also time occlubench's steps under torch.compile (MODE default: reduce-overhead on CUDA, else default)",
    )
    parser.add_argument("--workdir", help="where the JPEG folders go (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    devices = {"cpu": ["cpu"], "cuda": ["cuda"], "all": ["cpu", "cuda"]}[args.device]
    if "cuda" in devices and not torch.cuda.is_available():
        print("no CUDA device here: CUDA figures skipped", flush=True)
        devices.remove("cuda")
    print(json.dumps(describe_machine()), flush=True)
    splits = load_fer2013(args.data)
    results = []
    for name in devices:
        device = torch.device(name)
        steps = args.steps or (2 if device.type == "cpu" else 100)
        n_eval = args.eval_images or (128 if device.type == "cpu" else 7178)
        n_train = min(len(splits["train"]), args.batch_size * (steps + 1))
        g = torch.Generator().manual_seed(0)
        train = splits["train"].subset(torch.randperm(len(splits["train"]), generator=g)[:n_train])
        test_all = splits["val"].concat(splits["test"])  # the study's test folder: PublicTest + PrivateTest
        test = test_all.subset(torch.randperm(len(test_all), generator=g)[: min(n_eval, len(test_all))])
        run_args = argparse.Namespace(**{**vars(args), "steps": steps})
        with _workdir(args.workdir) as work:
            shutil.rmtree(work / "train", ignore_errors=True)
            shutil.rmtree(work / "test", ignore_errors=True)
            _extract(args.data, list(train.ids), work)
            _extract(args.data, list(test.ids), work)
            figures = compare_on(device, run_args, train, test, work)
        results.append(figures)
        _report(figures, results, args.json)
        if args.compile is not None:
            add_compiled(figures, device, run_args, train)
            _report(figures, results, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
