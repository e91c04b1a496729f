"""Errors a user can cause. The CLI turns each into one line on stderr and exit code 2."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class OcclubenchError(Exception):
    """Base class of every user-facing error: a clear message, optionally a hint on how to fix it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UnknownNameError(OcclubenchError, KeyError):
    """A benchmark, model, occluder, dataset or preset name that is not registered."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else f"known: {', '.join(known)}"
        super().__init__(f"unknown {kind} {name!r}", hint)
        self.kind = kind
        self.name = name


class DataError(OcclubenchError):
    """The dataset given with --data is missing, unreadable or malformed."""


class ConfigError(OcclubenchError):
    """An option, preset, spec file or run directory that does not fit."""


class RunDirError(OcclubenchError):
    """The output directory cannot be used (unwritable, or holds a run of another config)."""


def close_matches(name: str, known: Iterable[str]) -> list[str]:
    """Return up to three names in ``known`` that look like ``name``."""
    return difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
