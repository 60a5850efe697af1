"""The episode checkpointer's serializer: task states, outcomes and decisions as tagged JSON.

The episode graph keeps the task's own typed values in its state; ``TaskStateSerializer`` is the
``serde=`` of its checkpointer (SQLite, PostgreSQL or in memory), so nodes never encode or decode.
Why not LangGraph's default serializer: msgpack turns tuples into lists (a revived state would no
longer equal, or hash like, the one the task produced) and reviving arbitrary classes needs an
allow-list. Here every value round-trips exactly (tuples stay tuples, mappings keep non-string keys,
numpy arrays keep dtype and shape) and only classes of the allowed packages (``tasks``) are written or
rebuilt, so a checkpoint cannot name an arbitrary constructor. Values holding other classes
(LangGraph's own) go to LangGraph's serializer unchanged.

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

ALLOWED_PACKAGES = ("tasks",)
"""Packages whose classes a checkpoint may hold (tests pass their own list, with ``tests``)."""

MOVED: dict[str, str] = {}
"""Class paths of earlier checkpoints -> where those classes live now (``module:Qualname``), so run
folders written before a class moved stay resumable."""


class StateCodecError(ValueError):
    """A value cannot be stored, or a stored value names a class outside the allowed packages."""


def _class_path(obj: Any, allowed: tuple[str, ...]) -> str:
    cls = type(obj)
    if cls.__module__.split(".")[0] not in allowed:
        raise StateCodecError(f"{cls.__module__}:{cls.__qualname__} is not in {allowed}")
    return f"{cls.__module__}:{cls.__qualname__}"


def _resolve(path: str, allowed: tuple[str, ...]) -> type:
    path = MOVED.get(path, path)
    module, _, qualname = path.partition(":")
    if module.split(".")[0] not in allowed:
        raise StateCodecError(f"refusing to rebuild {path}: not in {allowed}")
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


def to_tree(value: Any, allowed: tuple[str, ...] = ALLOWED_PACKAGES) -> Any:
    """Encode ``value`` as JSON-compatible data with type tags where JSON would lose information; a class
    outside ``allowed`` is refused (``StateCodecError``), as decoding would refuse it."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, enum.Enum):
        return {"__enum__": _class_path(value, allowed), "value": to_tree(value.value, allowed)}
    if isinstance(value, int | float):
        return value
    if isinstance(value, np.generic):
        return {"__np__": value.dtype.str, "value": value.item()}
    if isinstance(value, np.ndarray):
        return {"__nd__": value.dtype.str, "shape": list(value.shape), "data": value.tolist()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: to_tree(getattr(value, f.name), allowed) for f in dataclasses.fields(value) if f.init}
        return {"__dc__": _class_path(value, allowed), "fields": fields}
    if isinstance(value, BaseModel):
        return {"__pd__": _class_path(value, allowed), "fields": {k: to_tree(getattr(value, k), allowed) for k in value.model_fields}}
    if isinstance(value, tuple):
        return {"__tuple__": [to_tree(v, allowed) for v in value]}
    if isinstance(value, frozenset | set):
        tag = "__frozenset__" if isinstance(value, frozenset) else "__set__"
        return {tag: sorted((to_tree(v, allowed) for v in value), key=json.dumps)}
    if isinstance(value, list):
        return [to_tree(v, allowed) for v in value]
    if isinstance(value, Mapping):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: to_tree(v, allowed) for k, v in value.items()}
        return {"__map__": [[to_tree(k, allowed), to_tree(v, allowed)] for k, v in value.items()]}
    raise StateCodecError(f"cannot store a {type(value).__name__} in a checkpoint")


def from_tree(tree: Any, allowed: tuple[str, ...] = ALLOWED_PACKAGES) -> Any:
    """Inverse of :func:`to_tree`."""
    if isinstance(tree, list):
        return [from_tree(v, allowed) for v in tree]
    if not isinstance(tree, dict):
        return tree
    if "__tuple__" in tree:
        return tuple(from_tree(v, allowed) for v in tree["__tuple__"])
    if "__dc__" in tree:
        cls = _resolve(tree["__dc__"], allowed)
        return cls(**{k: from_tree(v, allowed) for k, v in tree["fields"].items()})
    if "__pd__" in tree:
        cls = _resolve(tree["__pd__"], allowed)
        return cls(**{k: from_tree(v, allowed) for k, v in tree["fields"].items()})
    if "__enum__" in tree:
        return _resolve(tree["__enum__"], allowed)(from_tree(tree["value"], allowed))
    if "__nd__" in tree:
        return np.asarray(tree["data"], dtype=np.dtype(tree["__nd__"])).reshape(tree["shape"])
    if "__np__" in tree:
        return np.dtype(tree["__np__"]).type(tree["value"])
    if "__frozenset__" in tree:
        return frozenset(from_tree(v, allowed) for v in tree["__frozenset__"])
    if "__set__" in tree:
        return {from_tree(v, allowed) for v in tree["__set__"]}
    if "__map__" in tree:
        return {from_tree(k, allowed): from_tree(v, allowed) for k, v in tree["__map__"]}
    return {k: from_tree(v, allowed) for k, v in tree.items()}


def encode(value: Any, allowed: tuple[str, ...] = ALLOWED_PACKAGES) -> str:
    """``value`` as a JSON string."""
    return json.dumps(to_tree(value, allowed), separators=(",", ":"))


def decode(text: str | bytes, allowed: tuple[str, ...] = ALLOWED_PACKAGES) -> Any:
    return from_tree(json.loads(text), allowed)


TREE = "llamac-tree"
"""The type name a ``TaskStateSerializer`` gives its own payloads."""


class TaskStateSerializer:
    """``SerializerProtocol`` of the episode checkpointer: values made of the allowed packages' classes and
    plain data as tagged JSON; anything else (LangGraph's own values) through LangGraph's default."""

    def __init__(self, allowed: tuple[str, ...] = ALLOWED_PACKAGES) -> None:
        from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

        self.allowed = allowed
        self.fallback = JsonPlusSerializer()

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        try:
            return TREE, encode(obj, self.allowed).encode()
        except StateCodecError:
            return self.fallback.dumps_typed(obj)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        kind, payload = data
        return decode(payload, self.allowed) if kind == TREE else self.fallback.loads_typed(data)


def typed(value: Any, allowed: tuple[str, ...] = ALLOWED_PACKAGES) -> Any:
    """A value of the episode state as nodes use it. Checkpoints written before this serializer kept task
    values as ``encode``'s JSON strings; a string is decoded here, the one place that still does."""
    return decode(value, allowed) if isinstance(value, str) else value
