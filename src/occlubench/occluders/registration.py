"""The occluder registry: register, look up, build and list occluders by name (plugins via entry points)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from occlubench.errors import ConfigError
from occlubench.occluders.base import Occluder, constructor_parameters
from occlubench.registry import Registry, first_doc_line

#: Every occluder by name. Third-party packages add theirs through the ``occlubench.occluders`` entry-point group.
OCCLUDERS: Registry[type[Occluder]] = Registry("occluder", "occlubench.occluders")


def register_occluder(name: str) -> Callable[[type[Occluder]], type[Occluder]]:
    """Class decorator: register an Occluder subclass under ``name`` (and set its ``name`` attribute).

    The first line of the class docstring becomes its one-line description in ``occlubench list``.
    """

    def wrap(cls: type[Occluder]) -> type[Occluder]:
        if not (inspect.isclass(cls) and issubclass(cls, Occluder)):
            raise ConfigError(f"@register_occluder({name!r}) decorates Occluder subclasses; got {cls!r}")
        if not first_doc_line(cls) or first_doc_line(cls) == first_doc_line(Occluder):
            raise ConfigError(f"occluder {name!r} needs a docstring whose first line says what it hides")
        OCCLUDERS.register(name, cls)
        cls.name = name
        return cls

    return wrap


def create_occluder(name: str, **kwargs: Any) -> Occluder:
    """Build the occluder registered under ``name`` with keyword parameters.

    Raises:
        UnknownNameError: no occluder of that name (the message lists close matches).
        ConfigError: a parameter it does not take, or a value out of range (one line naming the parameter).
    """
    cls = OCCLUDERS.get(name)
    if not (inspect.isclass(cls) and issubclass(cls, Occluder)):
        raise ConfigError(f"occluder {name!r} is registered as {cls!r}, which is not an Occluder subclass")
    accepted = constructor_parameters(cls)
    for key in kwargs:
        if key not in accepted:
            raise ConfigError(f"occluder {name!r} has no parameter {key!r}", f"its parameters: {', '.join(accepted)}")
    try:
        occluder = cls(**kwargs)
    except (TypeError, ValueError) as exc:  # a plugin's own checks; ours raise ConfigError already
        raise ConfigError(f"occluder {name!r}: {exc}") from exc
    if "name" not in vars(cls):  # registered by an entry point without the decorator
        occluder.name = name
    return occluder


def occluder_from_spec(spec: Mapping[str, Any]) -> Occluder:
    """Rebuild an occluder from :meth:`Occluder.spec` output (e.g. read back from a results file)."""
    if not isinstance(spec, Mapping) or "name" not in spec:
        raise ConfigError(f"an occluder spec is a mapping with 'name' and 'params'; got {spec!r}")
    params = spec.get("params") or {}
    if not isinstance(params, Mapping):
        raise ConfigError(f"occluder spec 'params' must be a mapping; got {params!r}")
    return create_occluder(str(spec["name"]), **params)


def list_occluders(pattern: str | None = None) -> list[str]:
    """Registered occluder names in registration order, optionally filtered by a glob (``"quadrant_*"``)."""
    return OCCLUDERS.names(pattern)


def describe_occluders() -> dict[str, str]:
    """Name -> one-line description of every registered occluder."""
    return {entry.name: entry.description for entry in OCCLUDERS.entries()}
