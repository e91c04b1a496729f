"""Benchmark specs as TOML files: ``occlubench run my_bench.toml`` reads one, ``spec_to_toml`` writes one.

Every key is checked as it is read, and the first problem is one ``ConfigError`` line that names the file, the key
(``trainings[2].recipe``) and what it allows. The file's format is :meth:`BenchmarkSpec.to_dict` (so every catalog
entry round-trips), with conveniences for hand-written files: most keys have defaults, a ``mix`` may be a table
``{upper = 0.5, lower = 0.5}``, and a preset may start from one of the dataset's built-in presets (``base = "quick"``)
and change a few recipe fields. See ``docs/guides/benchmark-toml.md``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any, NoReturn

from occlubench.benchmark.conditions import CLEAN, EvaluationCondition, GridCell, as_condition, freeze
from occlubench.benchmark.spec import BenchmarkSpec, Preset, TrainingCondition
from occlubench.benchmark.toml_writer import dumps_toml
from occlubench.errors import ConfigError, OcclubenchError, close_matches
from occlubench.train.recipe import Recipe

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TOP_LEVEL_KEYS = (
    "name", "description", "headline", "dataset", "needs_data", "model", "seeds", "trainings", "evaluations",
    "severity_occluders", "severities", "grids", "grid_fill", "default_preset", "presets",
)  # fmt: skip
TRAINING_KEYS = ("name", "occlusion", "init_from", "recipe", "mix")
EVALUATION_KEYS = ("label", "occluder", "params", "severity", "grid")
PRESET_KEYS = ("name", "description", "base", "baseline", "finetune", "limit", "dataset_options")
RECIPE_KEYS = tuple(f.name for f in fields(Recipe))
RECIPE_NAMES = ("baseline", "finetune")
GENERATED_DATASETS = ("synthetic_faces",)
"""Datasets drawn by code: their specs need no ``--data`` unless the file says otherwise."""


def builtin_presets(dataset: str) -> Mapping[str, Preset]:
    """The catalog's presets for ``dataset`` (what a file's presets default to and ``base`` refers to)."""
    from occlubench.benchmark.catalog import DEMO_PRESETS, FER2013_PRESETS

    return {"fer2013": FER2013_PRESETS, "synthetic_faces": DEMO_PRESETS}.get(dataset, {})


class _Reader:
    """Reads one spec mapping, naming ``source`` and the key path in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(
        self, key: str, message: str, allowed: Sequence[str] | str | None = None, *, hint: str | None = None
    ) -> NoReturn:
        if allowed is not None:
            hint = "allowed: " + (allowed if isinstance(allowed, str) else ", ".join(map(str, allowed)))
        raise ConfigError(f"{self.source}: {key}: {message}", hint)

    def keys(self, table: Any, key: str, allowed: Sequence[str], required: Sequence[str] = ()) -> Mapping[str, Any]:
        where = key or "the file"
        if not isinstance(table, Mapping):
            self.fail(key, f"must be a table, got {_show(table)}")
        for name in table:
            if name not in allowed:
                close = close_matches(str(name), allowed)
                guess = f" (did you mean {close[0]!r}?)" if close else ""
                self.fail(_join(key, str(name)), f"unknown key in {where}{guess}", allowed)
        for name in required:
            if name not in table:
                self.fail(_join(key, name), "is required")
        return table

    def string(self, value: Any, key: str, choices: Sequence[str] | None = None) -> str:
        """``value`` as a non-empty string, one of ``choices`` when given."""
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"must be a non-empty string, got {_show(value)}")
        if choices is not None and value not in choices:
            close = close_matches(value, choices)
            guess = f" (did you mean {close[0]!r}?)" if close else ""
            self.fail(key, f"unknown {value!r}{guess}", list(choices))
        return value

    def number(self, value: Any, key: str, low: float, high: float, *, integer: bool = False) -> Any:
        kind = "an integer" if integer else "a number"
        ok = isinstance(value, int) if integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok or (isinstance(value, float) and not math.isfinite(value)):
            self.fail(key, f"must be {kind} in [{low:g}, {high:g}], got {_show(value)}")
        if not low <= value <= high:
            self.fail(key, f"must be {kind} in [{low:g}, {high:g}], got {value!r}")
        return value

    def array(self, table: Mapping[str, Any], key: str, path: str) -> list[Any]:
        value = table.get(key, [])
        if not isinstance(value, list):
            self.fail(_join(path, key), f"must be an array, got {_show(value)}")
        return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


# -------------------------------------------------------------------------------------------------------- reading
def _recipe(r: _Reader, value: Any, key: str, base: Recipe | None) -> Recipe:
    table = r.keys(value, key, RECIPE_KEYS, () if base is not None else ("epochs",))
    limits: dict[str, tuple[float, float, bool]] = {
        "epochs": (1, 100_000, True),
        "batch_size": (2, 1_000_000, True),
        "lr": (0.0, 1e3, False),
        "momentum": (0.0, 1.0, False),
        "weight_decay": (0.0, 1.0, False),
        "lr_step_epochs": (1, 100_000, True),
        "lr_gamma": (0.0, 1.0, False),
        "crop_padding": (0, 1_000, True),
    }
    values: dict[str, Any] = {}
    for name, item in table.items():
        if name == "hflip":
            if not isinstance(item, bool):
                r.fail(_join(key, name), f"must be true or false, got {_show(item)}")
            values[name] = item
        else:
            low, high, integer = limits[name]
            values[name] = r.number(item, _join(key, name), low, high, integer=integer)
            if not integer:
                values[name] = float(values[name])
    return base.with_overrides(**values) if base is not None else Recipe(**values)


def _preset(r: _Reader, name: str, value: Any, dataset: str) -> Preset:
    key = f"presets.{name}"
    table = r.keys(value, key, PRESET_KEYS)
    if "name" in table and table["name"] != name:
        r.fail(_join(key, "name"), f"must match the table's name {name!r}, got {_show(table['name'])}")
    base: Preset | None = None
    if "base" in table:
        known = builtin_presets(dataset)
        if not known:
            r.fail(_join(key, "base"), f"dataset {dataset!r} has no built-in presets to start from")
        base = known[r.string(table["base"], _join(key, "base"), list(known))]
    else:
        for part in RECIPE_NAMES:
            if part not in table:
                r.fail(_join(key, part), "is required (or start from a built-in preset with base = ...)")
    recipes = {
        part: _recipe(r, table.get(part, {}), _join(key, part), getattr(base, part) if base else None)
        for part in RECIPE_NAMES
    }
    limit = table.get("limit", base.limit if base else None)
    if limit is not None:
        limit = r.number(limit, _join(key, "limit"), 1, 10**9, integer=True)
    options = table.get("dataset_options", dict(base.dataset_options) if base else {})
    if not isinstance(options, Mapping):
        r.fail(_join(key, "dataset_options"), f"must be a table, got {_show(options)}")
    description = table.get("description", base.description if base else f"{name} (from {r.source})")
    if not isinstance(description, str):
        r.fail(_join(key, "description"), f"must be a string, got {_show(description)}")
    return Preset(name, description, recipes["baseline"], recipes["finetune"], limit, dict(options))


def _mix(r: _Reader, value: Any, key: str, occluders: Sequence[str]) -> tuple[tuple[str, float], ...]:
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, list) and all(isinstance(p, list) and len(p) == 2 for p in value):
        pairs = [(p[0], p[1]) for p in value]
    else:
        r.fail(key, f"must be a table of probabilities ({{upper = 0.5, lower = 0.5}}), got {_show(value)}")
    if not pairs:
        r.fail(key, "needs at least one member")
    out = []
    for name, probability in pairs:
        if name != CLEAN and name not in occluders:
            r.fail(f"{key}.{name}", "is not an occluder", [CLEAN, *occluders])
        out.append((str(name), float(r.number(probability, f"{key}.{name}", 0.0, 1.0))))
    total = math.fsum(p for _, p in out)
    if abs(total - 1.0) > 1e-6:
        r.fail(key, f"probabilities must sum to 1, got {total:g}")
    return tuple(out)


def _trainings(r: _Reader, data: Mapping[str, Any], occluders: Sequence[str]) -> tuple[TrainingCondition, ...]:
    items = data.get("trainings", [{"name": CLEAN}])
    if not isinstance(items, list) or not items:
        r.fail("trainings", f"must be a non-empty array of tables ([[trainings]]), got {_show(items)}")
    out: list[TrainingCondition] = []
    for i, item in enumerate(items):
        key = f"trainings[{i}]"
        table = r.keys(item, key, TRAINING_KEYS, ("name",))
        name = r.string(table["name"], _join(key, "name"))
        if any(t.name == name for t in out):
            r.fail(_join(key, "name"), f"{name!r} is trained twice")
        init_from = None
        if "init_from" in table:
            earlier = [t.name for t in out]
            if not earlier:
                r.fail(_join(key, "init_from"), "the first training starts from the model's initial weights")
            init_from = r.string(table["init_from"], _join(key, "init_from"), earlier)
        recipe = r.string(
            table.get("recipe", "finetune" if init_from else "baseline"), _join(key, "recipe"), RECIPE_NAMES
        )
        mix = _mix(r, table["mix"], _join(key, "mix"), occluders) if "mix" in table else ()
        default = "mix" if mix else CLEAN
        occlusion = r.string(table.get("occlusion", default), _join(key, "occlusion"), [CLEAN, "mix", *occluders])
        if (occlusion == "mix") != bool(mix):
            r.fail(_join(key, "mix"), 'goes with occlusion = "mix" (both or neither)')
        out.append(TrainingCondition(name, occlusion, init_from, recipe, mix))
    return tuple(out)


def _evaluations(r: _Reader, data: Mapping[str, Any], occluders: Sequence[str]) -> tuple[EvaluationCondition, ...]:
    items = data.get("evaluations", [CLEAN])
    if not isinstance(items, list):
        r.fail("evaluations", f"must be an array, got {_show(items)}")
    out = []
    for i, item in enumerate(items):
        key = f"evaluations[{i}]"
        if isinstance(item, str):
            if item != CLEAN and item not in occluders:
                close = close_matches(item, [CLEAN, *occluders])
                guess = f" (did you mean {close[0]!r}?)" if close else ""
                r.fail(
                    key,
                    f"unknown condition {item!r}{guess}",
                    "full, an occluder name, or a table with label and occluder",
                )
            out.append(as_condition(item))
            continue
        table = r.keys(item, key, EVALUATION_KEYS, ("label", "occluder"))
        label = r.string(table["label"], _join(key, "label"))
        occluder = r.string(table["occluder"], _join(key, "occluder"), occluders)
        params = table.get("params", {})
        if not isinstance(params, Mapping):
            r.fail(_join(key, "params"), f"must be a table of the occluder's parameters, got {_show(params)}")
        severity = table.get("severity")
        if severity is not None:
            severity = float(r.number(severity, _join(key, "severity"), 0.0, 1.0))
        grid = None
        if "grid" in table:
            cell = r.keys(table["grid"], _join(key, "grid"), ("k", "index"), ("k", "index"))
            k = r.number(cell["k"], _join(key, "grid.k"), 1, 64, integer=True)
            grid = GridCell(k, r.number(cell["index"], _join(key, "grid.index"), 0, k * k - 1, integer=True))
        out.append(EvaluationCondition(label, occluder, freeze(dict(params)), severity, grid))
    return tuple(out)


def spec_from_dict(data: Mapping[str, Any], source: str = "<spec>") -> BenchmarkSpec:
    """A ``BenchmarkSpec`` from its dict form (:meth:`BenchmarkSpec.to_dict`, or a hand-written TOML file's).

    Raises:
        ConfigError: the first problem found, naming ``source``, the key and the allowed values.
    """
    from occlubench.data.registry import DATASETS
    from occlubench.models import MODELS
    from occlubench.occluders import OCCLUDERS, Fill

    r = _Reader(source)
    r.keys(data, "", TOP_LEVEL_KEYS, ("name", "dataset", "model"))
    occluders = OCCLUDERS.names()
    dataset = r.string(data["dataset"], "dataset", DATASETS.names())
    needs_data = data.get("needs_data", dataset not in GENERATED_DATASETS)
    if not isinstance(needs_data, bool):
        r.fail("needs_data", f"must be true or false, got {_show(needs_data)}")
    texts = {}
    for key in ("description", "headline"):
        texts[key] = data.get(key, "")
        if not isinstance(texts[key], str):
            r.fail(key, f"must be a string, got {_show(texts[key])}")
    seeds = tuple(
        r.number(s, f"seeds[{i}]", 0, 2**32 - 1, integer=True) for i, s in enumerate(r.array(data, "seeds", ""))
    )
    if "seeds" in data and (not seeds or len(set(seeds)) != len(seeds)):
        r.fail("seeds", f"must be distinct seeds, at least one, got {list(seeds)}")
    severity_occluders = tuple(
        r.string(v, f"severity_occluders[{i}]", occluders)
        for i, v in enumerate(r.array(data, "severity_occluders", ""))
    )
    severities = tuple(
        float(r.number(v, f"severities[{i}]", 0.0, 1.0)) for i, v in enumerate(r.array(data, "severities", ""))
    )
    if len(set(severities)) != len(severities):
        r.fail("severities", f"must be distinct, got {list(severities)}")
    if bool(severity_occluders) != bool(severities):
        r.fail(
            "severities" if severity_occluders else "severity_occluders",
            "severity_occluders and severities go "
            "together (a curve needs occluders and the severities to evaluate them at)",
        )
    grids = tuple(r.number(v, f"grids[{i}]", 1, 64, integer=True) for i, v in enumerate(r.array(data, "grids", "")))
    grid_fill = r.string(data.get("grid_fill", "gray"), "grid_fill", [f.value for f in Fill])
    presets_data = data.get("presets")
    if presets_data is None:
        presets = dict(builtin_presets(dataset))
        if not presets:
            r.fail("presets", f"is required: dataset {dataset!r} has no built-in presets")
    else:
        if not isinstance(presets_data, Mapping) or not presets_data:
            r.fail("presets", f"must be a table of presets ([presets.quick] ...), got {_show(presets_data)}")
        presets = {str(name): _preset(r, str(name), value, dataset) for name, value in presets_data.items()}
    default_preset = r.string(data.get("default_preset", next(iter(presets))), "default_preset", list(presets))
    name = r.string(data["name"], "name")
    model = r.string(data["model"], "model", MODELS.names())
    trainings = _trainings(r, data, occluders)
    evaluations = _evaluations(r, data, occluders)
    try:
        spec = BenchmarkSpec(
            name=name,
            description=texts["description"] or f"a benchmark read from {source}",
            dataset=dataset,
            model=model,
            trainings=trainings,
            evaluations=evaluations,
            presets=presets,
            default_preset=default_preset,
            needs_data=needs_data,
            headline=texts["headline"],
            severity_occluders=severity_occluders,
            severities=severities,
            grids=grids,
            grid_fill=grid_fill,
            seeds=seeds or (0,),
            source=source if source != "<spec>" else None,
        )
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc.message}", exc.hint) from None
    _check_conditions(r, spec)
    return spec


def _check_conditions(r: _Reader, spec: BenchmarkSpec) -> None:
    """Build every occluder once, so a bad parameter is reported now, under its key, and not mid-run."""
    for i, condition in enumerate(spec.evaluations):
        try:
            condition.build()
        except OcclubenchError as exc:
            r.fail(f"evaluations[{i}]", exc.message, hint=exc.hint)
    try:
        conditions = spec.conditions()
    except OcclubenchError as exc:
        r.fail("severity_occluders" if spec.severity_occluders else "evaluations", exc.message, hint=exc.hint)
    for condition in conditions:
        if condition not in spec.evaluations:
            try:
                condition.build()
            except OcclubenchError as exc:
                key = "severity_occluders" if condition.severity is not None else "grids"
                r.fail(key, exc.message, hint=exc.hint)


def load_spec(path: str | Path) -> BenchmarkSpec:
    """Read a benchmark spec from a TOML file.

    Raises:
        ConfigError: a missing or unreadable file, invalid TOML, or an invalid spec (one line naming the key).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"spec file {path} does not exist", "give a catalog name (occlubench list) or a .toml file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read spec file {path}: {exc}") from None
    return spec_from_dict(data, str(path))


# -------------------------------------------------------------------------------------------------------- writing
def spec_to_toml(spec: BenchmarkSpec) -> str:
    """The spec as a TOML file that :func:`load_spec` reads back into an equal spec."""
    data = spec.to_dict()
    for training in data["trainings"]:
        if training["mix"]:
            training["mix"] = dict(training["mix"])
        else:
            del training["mix"]
    for preset in data["presets"].values():
        if not preset["dataset_options"]:
            del preset["dataset_options"]
    comment = f"occlubench benchmark spec: run it with `occlubench run {spec.name}.toml`"
    return dumps_toml(data, comment=comment)


def write_spec(spec: BenchmarkSpec, path: str | Path) -> Path:
    """Write ``spec`` as TOML to ``path`` (atomically) and return the path."""
    from occlubench.storage import atomic_write_text

    path = Path(path)
    atomic_write_text(path, spec_to_toml(spec))
    return path
