"""Named training recipes, shipped as data (``recipes.toml``) and validated here.

A recipe fixes everything a run needs beyond its seed: the task shape, the observation encoding, the
shaping scale, the network size, the PPO settings, the wall-time budget and the target the run is
measured against. ``recipe(name, algo)`` resolves STEER's recipe with the algorithm's overrides;
``shipped_policy`` finds the trained policy shipped under ``rl_bridge/policies``. Training a recipe is
``rl_bridge.train.train_recipe`` (``policy_for`` there: the shipped policy, or one trained now).
"""

from __future__ import annotations

import tomllib
from dataclasses import fields, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rl_bridge.algorithms.ppo import PPOConfig
from rl_bridge.envs import EnvSpec
from rl_bridge.errors import RLUsageError
from rl_bridge.observations import ENCODINGS

RECIPES_FILE = Path(__file__).with_name("recipes.toml")
POLICIES_DIR = Path(__file__).with_name("policies")
RECIPE_ALGOS = ("steer", "mappo", "happo", "mat", "step")
_PPO_FIELDS = {f.name for f in fields(PPOConfig)} - {"leader_timescale", "follower_first", "distinct_inputs"}


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TaskShape(Frozen):
    """The task a recipe trains on: a grid size and difficulty, or allocation's number of agents."""

    kind: Literal["grid", "alloc"]
    size: str = "2x2"
    difficulty: Literal["easy", "hard"] = "easy"
    agents: int = Field(10, ge=1)


class Target(Frozen):
    """What a run of the recipe should reach: ``metric`` (from the greedy evaluation) at least
    ``at_least`` on the golden and on fresh instances, within ``minutes`` of training."""

    metric: Literal["success", "normalised_last", "normalised_mean"]
    at_least: float = Field(ge=0.0, le=1.0)
    minutes: float = Field(gt=0)


class Recipe(Frozen):
    name: str
    algo: Literal["steer", "mappo", "happo", "mat", "step"] = "steer"
    task: TaskShape
    observation: str = "targets"
    shaping: float = Field(0.0, ge=0.0)
    network: dict[str, int | str] = {}
    ppo: dict[str, float | int] = {}
    budget_minutes: float = Field(gt=0)
    target: Target
    warm_start: str | None = None
    """A smaller recipe whose shipped policy (same algorithm) initialises the network: a curriculum over
    sizes (``rl_bridge.warm_start``)."""
    select: Literal["last", "validation"] = "last"
    """Which network the run keeps: the last, or the best by the target's metric on the validation
    instances (``rl_bridge.train.Checkpoints``; never the golden or fresh ones it is scored on)."""

    @field_validator("observation")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        if value not in ENCODINGS:
            raise ValueError(f"observation must be one of {', '.join(ENCODINGS)}, got {value!r}")
        return value

    @field_validator("ppo")
    @classmethod
    def _known_ppo_fields(cls, value: dict[str, float | int]) -> dict[str, float | int]:
        unknown = sorted(set(value) - _PPO_FIELDS)
        if unknown:
            raise ValueError(f"unknown PPO settings {unknown}; known: {sorted(_PPO_FIELDS)}")
        return value

    def env_spec(self) -> EnvSpec:
        t = self.task
        return EnvSpec(t.kind, size=t.size, difficulty=t.difficulty, agents=t.agents,
                       observation=self.observation, shaping=self.shaping)

    def ppo_config(self) -> PPOConfig:
        return replace(PPOConfig(), **self.ppo)  # type: ignore[arg-type]


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@cache
def _table(path: Path = RECIPES_FILE) -> dict[str, dict[str, Any]]:
    try:
        return dict(tomllib.loads(path.read_text())["recipes"])
    except (OSError, tomllib.TOMLDecodeError, KeyError) as err:
        raise RLUsageError(f"cannot read the recipes in {path}: {err}") from None


def recipe_names() -> tuple[str, ...]:
    return tuple(_table())


def recipe(name: str, algo: str | None = None, path: Path = RECIPES_FILE) -> Recipe:
    """The recipe ``name`` for ``algo`` (STEER's when None), validated."""
    table = _table(path)
    if name not in table:
        raise RLUsageError(f"--recipe: unknown recipe {name!r}; choose one of {', '.join(table)}")
    algo = algo or "steer"
    if algo not in RECIPE_ALGOS:
        raise RLUsageError(f"--algo: recipes cover {', '.join(RECIPE_ALGOS)}, not {algo!r}")
    data = dict(table[name])
    overrides = data.pop("algos", {})
    if algo != "steer":
        if algo not in overrides:
            raise RLUsageError(f"--algo: recipe {name} has no settings for {algo}")
        data = _merge(data, overrides[algo])
    try:
        return Recipe(name=name, algo=algo, **data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RLUsageError(f"recipe {name} ({algo}) in {path.name}: {where}: {first['msg']}") from None


def recipe_for(task: Any) -> str | None:
    """The recipe name for a task shape (an ``EnvSpec`` or a task object), or None."""
    if isinstance(task, EnvSpec):
        kind, size, difficulty, agents = task.kind, task.size, task.difficulty, task.agents
    else:
        family = getattr(task, "family", "")
        kind = "alloc" if family == "alloc" else "grid" if family.startswith("grid") else ""
        size = f"{getattr(task, 'rows', 0)}x{getattr(task, 'cols', 0)}"
        difficulty, agents = getattr(task, "difficulty", "easy"), getattr(task, "n_agents", 0)
    for name in recipe_names():
        t = recipe(name).task
        if t.kind == kind and (t.agents == agents if kind == "alloc" else (t.size, t.difficulty) == (size, difficulty)):
            return name
    return None


def shipped_policy(name: str, algo: str = "steer", seed: int = 0) -> Path | None:
    """The run folder of a policy shipped with the package for this recipe, or None."""
    folder = POLICIES_DIR / name / algo / f"seed{seed}"
    return folder if (folder / "config.json").is_file() and (folder / "model.pt").is_file() else None
