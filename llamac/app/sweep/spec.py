"""A sweep spec (TOML): which coordinators play which task instances, how often, on what token budget.

::

    name = "compare_small"
    budget_tokens = 400_000            # one budget for every LLM call of the sweep

    [coordinators.greedy]
    kind = "greedy"

    [coordinators.llamac-lean]
    kind = "llamac"
    preset = "lean"                    # or the knobs: critics, actor_gate, assessor, actor_context, rounds

    [coordinators.steer]
    kind = "steer"
    train = { steps = 30_000 }         # the sweep trains one policy per task shape and seed first
    # train = { recipe = "auto", minutes = 20 }   # ... or under the shape's rl_bridge recipe, capped at 20 min
    # policies = "path/to/runs"        # ... or uses policies trained by rl_bridge.train

    [coordinators.student]
    kind = "student"
    teacher = "steer"                  # distilled from that entry's policies

    [[experiments]]
    coordinators = ["greedy", "llamac-lean", "steer", "student"]
    tasks = [{ family = "grid", difficulty = "easy", sizes = ["2x2"], instances = [0, 1] },
             { family = "alloc", agents = [5], seeds = [0] }]
    seeds = [0]                        # per coordinator: RL training seed, else the repetition

One cell is one episode: (task instance, coordinator entry, seed). The spec is validated by pydantic
and every problem is reported as one line that names the field (``SpecError``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from graphs.context import DEFAULT_PRESET, KNOBS, PRESETS, resolve_knobs
from llamac.app.run_config import CoordinatorSpec, TaskSpec
from tasks.alloc import MAX_AGENTS

LLM_KINDS = ("llamac", "hmas2")
TRAINED_KINDS = ("steer", "mappo", "happo", "mat", "step")
KINDS = ("greedy", *LLM_KINDS, *TRAINED_KINDS, "student")


class SpecError(ValueError):
    """A sweep spec the user has to correct (one line, exit 2)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrainBlock(_Strict):
    """Train the entry's policies inside the sweep, on random instances of each task's shape."""

    recipe: str | None = None
    """A named rl_bridge recipe (``rl_bridge/recipes.toml``), or ``auto``: the recipe of each cell's task
    shape (its network, observation encoding, shaping, PPO settings and wall-time budget); unset: the
    trainer's defaults for the task family."""
    steps: int | None = Field(default=None, gt=0)
    """Environment steps per policy (overrides the recipe's or the default budget)."""
    minutes: float | None = Field(default=None, gt=0)
    """Wall-time cap per policy in minutes (overrides the recipe's ``budget_minutes``): training stops at
    whichever comes first, the steps or the minutes, and the run records how far it got."""
    n_envs: int | None = Field(default=None, gt=0)
    episode_length: int | None = Field(default=None, gt=0)


class DistillBlock(_Strict):
    """How students are distilled from the teacher's policies (``rl_bridge.distill``)."""

    teacher_steps: int = Field(default=20_000, gt=0)
    epochs: int = Field(default=30, gt=0)
    variant: Literal["sampled", "full"] = "sampled"


class _Entry(_Strict):
    """One coordinator as the sweep runs it; the table's ``coordinator`` column is its name. Its knob
    fields (``critics``, ``actor_gate``, ... as ``graphs.context.KNOBS`` declares them) are added below."""

    kind: Literal[KINDS]  # type: ignore[valid-type]
    preset: Literal[tuple(PRESETS)] | None = None  # type: ignore[valid-type]
    local_model: str | None = None
    policies: str | None = None
    """A folder of trained runs (``rl_bridge.train --out``): the run of this kind, task shape and seed."""
    train: TrainBlock | None = None
    teacher: str | None = None
    """For ``student``: the name of the STEER entry whose policies are distilled."""
    distill: DistillBlock = DistillBlock()
    max_steps: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _fits_kind(self) -> _Entry:
        given = [key for key in ("preset", "local_model", *(k.key for k in KNOBS)) if getattr(self, key) is not None]
        if self.kind not in LLM_KINDS and given:
            raise ValueError(f"{given[0]} applies to llamac/hmas2, not {self.kind}")
        if self.kind == "hmas2":
            llamac_only = {"preset", *(k.key for k in KNOBS if k.llamac_only)}
            wrong = [key for key in given if key in llamac_only]
            if wrong:
                raise ValueError(f"{wrong[0]} is a LLaMAC knob; hmas2 has no critics or rule-gated actors")
        if self.kind in TRAINED_KINDS:
            if (self.policies is None) == (self.train is None):
                raise ValueError(f"a {self.kind} entry needs exactly one of policies or train")
        elif self.policies is not None or self.train is not None:
            if self.kind != "student" or self.train is not None:
                raise ValueError(f"policies/train apply to trained coordinators, not {self.kind}")
        if self.kind == "student":
            if (self.teacher is None) == (self.policies is None):
                raise ValueError("a student entry needs exactly one of teacher or policies")
        elif self.teacher is not None:
            raise ValueError(f"teacher applies to student entries, not {self.kind}")
        return self

    def knobs(self) -> dict[str, Any]:
        """The knobs this entry runs with: its preset's (``DEFAULT_PRESET`` when none), then single knobs on top."""
        if self.kind not in LLM_KINDS:
            return {}
        return resolve_knobs(self.kind, self.preset, {k.key: getattr(self, k.key) for k in KNOBS})

    def coordinator_spec(self, policy: str | None) -> Any:
        """What a cell's config.json records, so ``llamac.run resume CELL`` rebuilds the same coordinator."""
        preset = (self.preset or DEFAULT_PRESET) if self.kind == "llamac" else None
        return CoordinatorSpec(name=self.kind, policy=policy, preset=preset,
                               local_model=self.local_model, **self.knobs())


CoordinatorEntry = create_model(
    "CoordinatorEntry", __base__=_Entry,
    **{k.key: ((Literal[k.choices] if k.choices else Annotated[int, Field(ge=0)]) | None, None)  # type: ignore[valid-type]
       for k in KNOBS},
)


def _whole_numbers(value: Any) -> Any:
    """``"0-9"`` -> ``[0, ..., 9]``; lists pass through (pydantic checks their items)."""
    if isinstance(value, str):
        first, sep, last = value.partition("-")
        if sep and first.strip().isdigit() and last.strip().isdigit() and int(first) <= int(last):
            return list(range(int(first), int(last) + 1))
        raise ValueError(f"expected a list of whole numbers or a range like '0-9', got {value!r}")
    return value


Ids = Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)]


class GridTasks(_Strict):
    family: Literal["grid"]
    difficulty: Literal["easy", "hard"] | list[Literal["easy", "hard"]] = "easy"
    sizes: list[str] = Field(min_length=1)
    instances: Ids | None = None
    """Golden instances (0-9); the default when neither instances nor seeds is given is 0-9."""
    seeds: Ids | None = None
    """Fresh instances drawn from these seeds."""

    _ids = field_validator("instances", "seeds", mode="before")(_whole_numbers)

    @field_validator("sizes")
    @classmethod
    def _sizes(cls, sizes: list[str]) -> list[str]:
        from tasks.base import TaskError
        from tasks.catalog import parse_size

        for size in sizes:
            try:
                parse_size(size)
            except TaskError as exc:
                raise ValueError(str(exc)) from None
        return sizes

    @model_validator(mode="after")
    def _one_source(self) -> GridTasks:
        if self.instances is not None and self.seeds is not None:
            raise ValueError("give instances (golden) or seeds (fresh), not both")
        if self.instances is not None and max(self.instances) > 9:
            raise ValueError(f"golden instances are 0-9, got {max(self.instances)}")
        return self

    def specs(self) -> Iterator[TaskSpec]:
        from tasks.catalog import parse_size

        difficulties = [self.difficulty] if isinstance(self.difficulty, str) else self.difficulty
        for difficulty in difficulties:
            for size in self.sizes:
                rows, cols = parse_size(size)
                if self.seeds is not None:
                    for seed in self.seeds:
                        yield TaskSpec(family="grid", rows=rows, cols=cols, difficulty=difficulty, seed=seed)
                else:
                    for k in self.instances if self.instances is not None else range(10):
                        yield TaskSpec(family="grid", rows=rows, cols=cols, difficulty=difficulty, instance=k)


class AllocTasks(_Strict):
    family: Literal["alloc"]
    agents: list[Annotated[int, Field(ge=1, le=MAX_AGENTS)]] = Field(min_length=1)
    seeds: Ids = [0]
    """Instance seeds (each draws the hidden mu and sigma)."""

    _ids = field_validator("seeds", mode="before")(_whole_numbers)

    def specs(self) -> Iterator[TaskSpec]:
        for n in self.agents:
            for seed in self.seeds:
                yield TaskSpec(family="alloc", agents=n, seed=seed)


class MatrixTasks(_Strict):
    family: Literal["matrix"]
    games: list[str] = Field(min_length=1)
    """Game names; Penalty is written with its k, e.g. ``penalty:-100``."""

    @field_validator("games")
    @classmethod
    def _games(cls, games: list[str]) -> list[str]:
        for game in games:
            cls._split(game)
        return games

    @staticmethod
    def _split(game: str) -> tuple[str, float | None]:
        from tasks.matrix import GAMES

        name, _, k = game.partition(":")
        if name not in GAMES:
            raise ValueError(f"unknown matrix game {name!r}; choose one of {', '.join(GAMES)}")
        if (name == "penalty") != bool(k):
            raise ValueError(f"{game!r}: write penalty with its k (penalty:-100); other games take none")
        try:
            return name, float(k) if k else None
        except ValueError:
            raise ValueError(f"{game!r}: k must be a number") from None

    def specs(self) -> Iterator[TaskSpec]:
        for game in self.games:
            name, k = self._split(game)
            yield TaskSpec(family="matrix", game=name, k=k)


TaskGroup = Annotated[GridTasks | AllocTasks | MatrixTasks, Field(discriminator="family")]


class Experiment(_Strict):
    """Every listed coordinator on every instance of every task group, once per seed."""

    coordinators: list[str] = Field(min_length=1)
    tasks: list[TaskGroup] = Field(min_length=1)
    seeds: Ids = [0]

    _ids = field_validator("seeds", mode="before")(_whole_numbers)


class SweepSpec(_Strict):
    name: str = "sweep"
    budget_tokens: int | None = Field(default=None, gt=0)
    """Tokens (prompt + completion) all LLM cells of the sweep may spend together; unlimited when unset."""
    llm_concurrency: int = Field(default=4, gt=0)
    """LLM cells in flight at once per process (the local model server answers one request at a time)."""
    checkpoint: Literal["sqlite", "postgres"] = "sqlite"
    coordinators: dict[str, CoordinatorEntry] = Field(min_length=1)  # type: ignore[valid-type]
    experiments: list[Experiment] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> SweepSpec:
        for i, exp in enumerate(self.experiments):
            for name in exp.coordinators:
                if name not in self.coordinators:
                    raise ValueError(f"experiments[{i}].coordinators: no coordinator named {name!r} "
                                     f"(defined: {', '.join(self.coordinators)})")
        for name, entry in self.coordinators.items():
            if not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
                raise ValueError(f"coordinators.{name}: names may hold letters, digits, '-', '_' and '.' only")
            if entry.teacher is not None:
                teacher = self.coordinators.get(entry.teacher)
                if teacher is None or teacher.kind != "steer":
                    raise ValueError(f"coordinators.{name}.teacher: {entry.teacher!r} is not a steer entry of this spec")
        return self

    def cells(self) -> list[Cell]:
        """Every cell once, in a stable order (experiments, then tasks, then coordinators, then seeds)."""
        seen: dict[str, Cell] = {}
        for exp in self.experiments:
            for group in exp.tasks:
                for task in group.specs():
                    for name in exp.coordinators:
                        for seed in exp.seeds:
                            cell = Cell(task, name, self.coordinators[name], seed)
                            seen.setdefault(cell.id, cell)
        return list(seen.values())


@dataclass(frozen=True)
class Cell:
    """One episode of the sweep: a task instance, a coordinator entry and a seed."""

    task: TaskSpec
    coordinator: str
    entry: Any
    """The ``CoordinatorEntry``."""
    seed: int

    @property
    def id(self) -> str:
        return f"{self.task.label()}/{self.coordinator}/s{self.seed}"

    @property
    def is_llm(self) -> bool:
        return self.entry.kind in LLM_KINDS


def _field_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        elif item in ("grid", "alloc", "matrix") and parts and parts[-1].endswith("]"):
            continue  # the union's tag pydantic adds to the path
        else:
            parts.append(str(item))
    return ".".join(parts) or "(top level)"


def parse_spec(data: dict[str, Any], source: str = "spec") -> SweepSpec:
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise SpecError(f"{source}: {_field_path(first['loc'])}: {message}{more}") from None


def load_spec(path: str | Path) -> SweepSpec:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SpecError(f"no sweep spec at {path}") from None
    except IsADirectoryError:
        raise SpecError(f"{path} is a folder, not a sweep spec (.toml)") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path} is not valid TOML: {exc}") from None
    return parse_spec(data, str(path))
