"""A small TOML writer for benchmark specs: enough of TOML 1.0 to write what ``tomllib`` reads back unchanged.

Python reads TOML (``tomllib``) but does not write it; a spec is a few tables of scalars and arrays, so a writer of our
own avoids a dependency. Tables become ``[sections]``, lists of tables ``[[arrays of tables]]``, tables inside arrays
(or inside arrays of tables) inline tables; ``None`` values are left out (TOML has no null).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def _is_table_list(value: Any) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and bool(value)
        and all(isinstance(v, Mapping) for v in value)
    )


def toml_value(value: Any) -> str:
    """One value in inline form: a string, number, bool, array or inline table."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        # JSON's escapes (\" \\ \n \t \uXXXX) are all valid in a TOML basic string.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        items = [f"{_key(str(k))} = {toml_value(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML: {value!r}")


def _table(lines: list[str], path: list[str], table: Mapping[str, Any], *, header: bool) -> None:
    scalars, subtables = [], []
    for key, value in table.items():
        if value is None:
            continue
        if (isinstance(value, Mapping) and value) or _is_table_list(value):
            subtables.append((key, value))
        else:
            scalars.append(f"{_key(str(key))} = {toml_value(value)}")
    # A table holding only tables needs no header of its own: [a.b] defines [a] implicitly.
    if header and (scalars or not subtables):
        lines += ["", "[" + ".".join(_key(p) for p in path) + "]"]
    lines += scalars
    for key, value in subtables:
        if isinstance(value, Mapping):
            _table(lines, [*path, str(key)], value, header=True)
        else:
            for item in value:
                lines += ["", "[[" + ".".join(_key(p) for p in [*path, str(key)]) + "]]"]
                lines += [f"{_key(str(k))} = {toml_value(v)}" for k, v in item.items() if v is not None]


def dumps_toml(document: Mapping[str, Any], *, comment: str = "") -> str:
    """``document`` as TOML text (``tomllib.loads`` gives it back, ``None`` values left out).

    Args:
        document: string keys; values str, int, float, bool, None, lists and mappings of those.
        comment: written first, each line prefixed with ``# ``.
    """
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    _table(lines, [], document, header=False)
    return "\n".join(lines).lstrip("\n") + "\n"
