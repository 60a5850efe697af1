"""Task states and outcomes as tagged JSON, so any checkpointer stores them exactly.

Why not hand the frozen dataclasses to LangGraph's serializer directly: msgpack turns tuples into
lists (a revived state would no longer equal, or hash like, the one the task produced) and reviving
arbitrary classes needs an allow-list. Here every value round-trips exactly (tuples stay tuples,
mappings keep non-string keys, numpy arrays keep dtype and shape) and only classes from the
``tasks`` package may be rebuilt, so a checkpoint cannot name an arbitrary constructor.

A task needs no ``to_dict``/``from_dict``: frozen dataclasses, pydantic models, enums, numpy arrays
and the built-in containers are handled generically.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel

ALLOWED_PACKAGES = ("tasks", "tests")
"""Modules whose classes a checkpoint may rebuild (``tests`` for the tasks defined in tests)."""


class StateCodecError(ValueError):
    """A value cannot be stored, or a stored value names a class outside the allowed packages."""


def _class_path(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}:{cls.__qualname__}"


def _resolve(path: str) -> type:
    module, _, qualname = path.partition(":")
    if module.split(".")[0] not in ALLOWED_PACKAGES:
        raise StateCodecError(f"refusing to rebuild {path}: not in {ALLOWED_PACKAGES}")
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


def to_tree(value: Any) -> Any:
    """Encode ``value`` as JSON-compatible data with type tags where JSON would lose information."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, enum.Enum):
        return {"__enum__": _class_path(value), "value": to_tree(value.value)}
    if isinstance(value, int | float):
        return value
    if isinstance(value, np.generic):
        return {"__np__": value.dtype.str, "value": value.item()}
    if isinstance(value, np.ndarray):
        return {"__nd__": value.dtype.str, "shape": list(value.shape), "data": value.tolist()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: to_tree(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return {"__dc__": _class_path(value), "fields": fields}
    if isinstance(value, BaseModel):
        return {"__pd__": _class_path(value), "fields": {k: to_tree(getattr(value, k)) for k in value.model_fields}}
    if isinstance(value, tuple):
        return {"__tuple__": [to_tree(v) for v in value]}
    if isinstance(value, frozenset | set):
        tag = "__frozenset__" if isinstance(value, frozenset) else "__set__"
        return {tag: sorted((to_tree(v) for v in value), key=json.dumps)}
    if isinstance(value, list):
        return [to_tree(v) for v in value]
    if isinstance(value, Mapping):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: to_tree(v) for k, v in value.items()}
        return {"__map__": [[to_tree(k), to_tree(v)] for k, v in value.items()]}
    raise StateCodecError(f"cannot store a {type(value).__name__} in a checkpoint")


def from_tree(tree: Any) -> Any:
    """Inverse of :func:`to_tree`."""
    if isinstance(tree, list):
        return [from_tree(v) for v in tree]
    if not isinstance(tree, dict):
        return tree
    if "__tuple__" in tree:
        return tuple(from_tree(v) for v in tree["__tuple__"])
    if "__dc__" in tree:
        cls = _resolve(tree["__dc__"])
        return cls(**{k: from_tree(v) for k, v in tree["fields"].items()})
    if "__pd__" in tree:
        cls = _resolve(tree["__pd__"])
        return cls(**{k: from_tree(v) for k, v in tree["fields"].items()})
    if "__enum__" in tree:
        return _resolve(tree["__enum__"])(from_tree(tree["value"]))
    if "__nd__" in tree:
        return np.asarray(tree["data"], dtype=np.dtype(tree["__nd__"])).reshape(tree["shape"])
    if "__np__" in tree:
        return np.dtype(tree["__np__"]).type(tree["value"])
    if "__frozenset__" in tree:
        return frozenset(from_tree(v) for v in tree["__frozenset__"])
    if "__set__" in tree:
        return {from_tree(v) for v in tree["__set__"]}
    if "__map__" in tree:
        return {from_tree(k): from_tree(v) for k, v in tree["__map__"]}
    return {k: from_tree(v) for k, v in tree.items()}


def encode(value: Any) -> str:
    """``value`` as a JSON string (what the episode graph keeps in its checkpointed state)."""
    return json.dumps(to_tree(value), separators=(",", ":"))


def decode(text: str) -> Any:
    return from_tree(json.loads(text))
