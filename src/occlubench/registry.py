"""One generic registry for occluders, models, datasets and benchmarks, with entry-point plugins.

A registry maps a name to an object (a class or a factory) and a one-line description. Third-party packages add
entries through an entry-point group (e.g. ``occlubench.occluders``); the group is loaded on the first lookup, and a
plugin that fails to import is one warning, never a crash.
"""

from __future__ import annotations

import fnmatch
import inspect
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Generic, TypeVar

from occlubench.errors import ConfigError, UnknownNameError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """A registered object with its name and one-line description."""

    name: str
    obj: T
    description: str


def first_doc_line(obj: object) -> str:
    """The first line of an object's docstring, or an empty string."""
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0].strip() if doc.strip() else ""


class Registry(Generic[T]):
    """Name -> object map of one kind of thing (``kind`` is used in error messages)."""

    def __init__(self, kind: str, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._entries: dict[str, Entry[T]] = {}
        self._plugins_loaded = entry_point_group is None

    def register(self, name: str, obj: T, description: str | None = None, *, replace: bool = False) -> T:
        """Add ``obj`` under ``name``; a duplicate name is an error unless ``replace``."""
        if not name or not isinstance(name, str):
            raise ConfigError(f"a {self.kind} name must be a non-empty string, got {name!r}")
        if name in self._entries and not replace:
            raise ConfigError(f"{self.kind} {name!r} is already registered", "pick another name or pass replace=True")
        self._entries[name] = Entry(name, obj, description if description is not None else first_doc_line(obj))
        return obj

    def decorator(self, name: str, description: str | None = None) -> Callable[[T], T]:
        """``@registry.decorator("name")``: register the decorated class or function."""

        def wrap(obj: T) -> T:
            return self.register(name, obj, description)

        return wrap

    def unregister(self, name: str) -> None:
        """Remove an entry (for tests and interactive use)."""
        self._entries.pop(name, None)

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        assert self.entry_point_group is not None
        for ep in metadata.entry_points(group=self.entry_point_group):
            try:
                loaded = ep.load()
            except Exception as exc:  # a broken plugin must not break occlubench
                warnings.warn(
                    f"occlubench: skipped {self.kind} plugin {ep.name!r} ({ep.value}): {type(exc).__name__}: {exc}",
                    RuntimeWarning,
                    stacklevel=3,
                )
                continue
            # A plugin may register itself on import (decorator); otherwise register what the entry point names.
            if ep.name not in self._entries:
                self.register(ep.name, loaded)

    def get(self, name: str) -> T:
        """The object registered under ``name``; ``UnknownNameError`` with close matches otherwise."""
        return self.entry(name).obj

    def entry(self, name: str) -> Entry[T]:
        """The full entry registered under ``name``."""
        if name not in self._entries:
            self._load_plugins()
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self._entries) from None

    def names(self, pattern: str | None = None) -> list[str]:
        """Registered names, sorted in registration order, optionally filtered by a glob ``pattern``."""
        self._load_plugins()
        names = list(self._entries)
        return [n for n in names if fnmatch.fnmatch(n, pattern)] if pattern else names

    def entries(self) -> Iterator[Entry[T]]:
        """Every entry, in registration order."""
        self._load_plugins()
        return iter(list(self._entries.values()))

    def __contains__(self, name: object) -> bool:
        self._load_plugins()
        return name in self._entries

    def __len__(self) -> int:
        self._load_plugins()
        return len(self._entries)
