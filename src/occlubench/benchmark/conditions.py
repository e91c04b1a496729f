"""Evaluation conditions: a label (the matrix column) and the occluder spec that produces it.

Plain conditions are occluder names used as labels (``upper``, ``face_mask``; ``full`` is the ``none`` occluder).
Severity conditions (``random_patch@0.3``) and grid cells (``grid4_r1c2``) carry what reports need to draw curves and
maps: the severity, or the grid size and cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from occlubench.errors import ConfigError

CLEAN = "full"
"""The condition label of an unoccluded image (the study's "full face"); its occluder is ``none``."""

CLEAN_OCCLUDER = "none"

Params = tuple[tuple[str, Any], ...]
"""Occluder parameters as sorted (name, value) pairs, lists frozen into tuples: hashable, comparable."""


def freeze(value: Any) -> Any:
    """Lists (and tuples) become tuples, recursively, so parameters read from JSON or TOML compare equal."""
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), freeze(v)) for k, v in value.items()))
    return value


def thaw(value: Any) -> Any:
    """Tuples become lists, recursively: the JSON/TOML form of a frozen value."""
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def occluder_name(condition: str) -> str:
    """The registered occluder behind a plain condition label (``full`` is the ``none`` occluder)."""
    return CLEAN_OCCLUDER if condition == CLEAN else condition


@dataclass(frozen=True)
class GridCell:
    """Cell ``index`` (row-major) of a ``k`` x ``k`` grid."""

    k: int
    index: int

    @property
    def row(self) -> int:
        return self.index // self.k

    @property
    def col(self) -> int:
        return self.index % self.k

    def box(self) -> tuple[float, float, float, float]:
        """(top, bottom, left, right) of the cell, fractions of the image."""
        return (self.row / self.k, (self.row + 1) / self.k, self.col / self.k, (self.col + 1) / self.k)

    def to_dict(self) -> dict[str, int]:
        return {"k": self.k, "index": self.index, "row": self.row, "col": self.col}


@dataclass(frozen=True)
class EvaluationCondition:
    """One column of the matrix: its label and the occluder (name + parameters) that makes it.

    Attributes:
        label: the column label, ``evaluated_on`` in results; unique within a benchmark.
        occluder: a registered occluder name (``none`` for the clean image).
        params: the occluder's keyword parameters, frozen (see :data:`Params`).
        severity: the point of a severity curve this condition is (its curve is the occluder's name), or None.
        grid: the grid cell this condition hides (region maps), or None.
    """

    label: str
    occluder: str
    params: Params = ()
    severity: float | None = None
    grid: GridCell | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label.strip():
            raise ConfigError(f"an evaluation condition needs a non-empty label, got {self.label!r}")
        object.__setattr__(self, "params", freeze(dict(self.params)))

    @property
    def kwargs(self) -> dict[str, Any]:
        """The parameters as keyword arguments of ``create_occluder`` (tuples become lists)."""
        return {k: thaw(v) for k, v in self.params}

    @property
    def is_plain(self) -> bool:
        """An occluder name with its defaults used as the label (``upper``), or ``full``."""
        return (
            not self.params
            and self.severity is None
            and self.grid is None
            and self.occluder == occluder_name(self.label)
        )

    def build(self) -> Any:
        """The occluder callable, or None for the clean image (no occluder call at all)."""
        if self.occluder == CLEAN_OCCLUDER and not self.params:
            return None
        from occlubench.occluders import create_occluder

        return create_occluder(self.occluder, **self.kwargs)

    def cell_fields(self) -> dict[str, Any]:
        """The optional fields a results cell of this condition carries (none for a plain condition)."""
        if self.is_plain:
            return {}
        fields: dict[str, Any] = {"occluder": self.occluder, "params": self.kwargs}
        if self.severity is not None:
            fields["severity"] = self.severity
        if self.grid is not None:
            fields["grid"] = self.grid.to_dict()
        return fields

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``label``, ``occluder``, ``params``, and ``severity`` / ``grid`` when set."""
        out: dict[str, Any] = {"label": self.label, "occluder": self.occluder, "params": self.kwargs}
        if self.severity is not None:
            out["severity"] = self.severity
        if self.grid is not None:
            out["grid"] = {"k": self.grid.k, "index": self.grid.index}
        return out


def plain_condition(label: str) -> EvaluationCondition:
    """``upper`` -> the ``upper`` occluder with its defaults; ``full`` -> no occlusion."""
    return EvaluationCondition(label, occluder_name(label))


def plain_conditions(*labels: str) -> tuple[EvaluationCondition, ...]:
    """``plain_condition`` of each label, in order."""
    return tuple(plain_condition(label) for label in labels)


def as_condition(value: str | EvaluationCondition) -> EvaluationCondition:
    """A condition from a plain label or a condition (returned as is)."""
    if isinstance(value, EvaluationCondition):
        return value
    if isinstance(value, str):
        return plain_condition(value)
    raise ConfigError(f"an evaluation condition is a label or an EvaluationCondition, got {value!r}")


def severity_label(occluder: str, severity: float) -> str:
    """``random_patch@0.3``: the column label of one point of a severity curve."""
    return f"{occluder}@{severity:g}"


def grid_label(k: int, index: int) -> str:
    """``grid4_r1c2``: the column label of one cell of a k x k grid (row 1, column 2, both from 0)."""
    return f"grid{k}_r{index // k}c{index % k}"


def grid_conditions(k: int, fill: str = "gray") -> tuple[EvaluationCondition, ...]:
    """The k x k cells of a ``grid_cell`` occlusion map, row-major, each hidden with ``fill``."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 64:
        raise ConfigError(f"a grid size must be an integer in 1..64, got {k!r}")
    return tuple(
        EvaluationCondition(
            grid_label(k, i), "grid_cell", (("fill", fill), ("index", i), ("k", k)), grid=GridCell(k, i)
        )
        for i in range(k * k)
    )


def unique_by_label(conditions: list[EvaluationCondition]) -> tuple[EvaluationCondition, ...]:
    """Conditions in order with repeats dropped; one label naming two different occluders is an error."""
    seen: dict[str, EvaluationCondition] = {}
    for condition in conditions:
        known = seen.get(condition.label)
        if known is None:
            seen[condition.label] = condition
        elif known != condition:
            raise ConfigError(
                f"evaluation label {condition.label!r} names two different conditions",
                f"{known.to_dict()} and {condition.to_dict()}",
            )
    return tuple(seen.values())
