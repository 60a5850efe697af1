"""The task factory the CLI, sweeps and trainers use: names and strings in, task objects out.

Every user-facing parameter is checked here, so a bad ``--size``, ``--game`` or ``--k`` becomes a
``TaskError`` with a one-line message (the CLI prints it and exits 2) instead of a traceback from
deep inside a task. ``greedy_coordinator`` gives each family its non-LLM baseline so that
``--coordinator greedy`` runs everywhere.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from tasks.alloc import ResourceAllocation
from tasks.base import Task, TaskError
from tasks.baselines.alloc_hill_climber import AllocHillClimber
from tasks.baselines.grid_planner import GreedyPlanner
from tasks.baselines.matrix_oracle import MatrixGreedy
from tasks.coordinator import Coordinator
from tasks.grid_easy import GridEasy
from tasks.grid_hard import GridHard
from tasks.matrix import GAMES, MatrixGame

FAMILIES = ("grid", "alloc", "matrix")
DIFFICULTIES = {"easy": GridEasy, "hard": GridHard}
GOLDEN_INSTANCES = range(10)
MAX_SIDE = 50
"""Largest grid side accepted: generation and views grow with the cell count; 4x8 is the paper's largest."""

_SIZE = re.compile(r"\s*(\d+)\s*[xX]\s*(\d+)\s*")


def parse_size(text: str) -> tuple[int, int]:
    """``"4x8"`` -> ``(4, 8)``; anything but two whole numbers from 1 to 50 is a TaskError."""
    m = _SIZE.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        raise TaskError(f"grid size must look like RxC with whole numbers, e.g. 4x8; got {text!r}")
    rows, cols = int(m.group(1)), int(m.group(2))
    if not (1 <= rows <= MAX_SIDE and 1 <= cols <= MAX_SIDE):
        raise TaskError(f"grid size {rows}x{cols} is out of range: each side must be 1..{MAX_SIDE}")
    return rows, cols


def _whole(value: Any, what: str, low: int = 0) -> int:
    """A whole number >= ``low`` from an int or its decimal string (CLI values arrive as either)."""
    if isinstance(value, bool):
        raise TaskError(f"{what} must be a whole number >= {low}, got {value!r}")
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        value = int(value)
    if not isinstance(value, int) or value < low:
        raise TaskError(f"{what} must be a whole number >= {low}, got {value!r}")
    return value


def grid_task(
    size: str | tuple[int, int], difficulty: str = "easy", instance: int | str | None = None,
    seed: int | str | None = None,
) -> Task:
    """A Grid Transportation task: golden instance ``instance`` (default 0) or a fresh draw from ``seed``."""
    rows, cols = parse_size(size) if isinstance(size, str) else parse_size(f"{size[0]}x{size[1]}")
    kind = DIFFICULTIES.get(str(difficulty).strip().lower())
    if kind is None:
        raise TaskError(f"unknown difficulty {difficulty!r}; choose easy or hard")
    if instance is not None and seed is not None:
        raise TaskError("give an instance or a seed, not both")
    if seed is not None:
        return kind.from_seed(rows, cols, _whole(seed, "the seed"))
    k = _whole(0 if instance is None else instance, "the instance")
    if k not in GOLDEN_INSTANCES:
        raise TaskError(f"instance {k} is out of range: the golden instances are 0..{len(GOLDEN_INSTANCES) - 1}")
    return kind.from_instance(rows, cols, k)


def alloc_task(agents: int | str, seed: int | str = 0) -> ResourceAllocation:
    """A System Resource Allocation instance with ``agents`` agents; mu and sigma drawn from ``seed``."""
    return ResourceAllocation(_whole(agents, "the number of agents", low=1), _whole(seed, "the seed"))


def matrix_task(game: str, k: float | str | None = None) -> MatrixGame:
    """A STEER matrix game; ``k`` (Penalty's miscoordination payoff) may be given as a string."""
    name = str(game).strip().lower()
    if name not in GAMES:
        raise TaskError(f"unknown matrix game {game!r}; choose one of {', '.join(GAMES)}")
    if k is None:
        return MatrixGame(name)
    if isinstance(k, str):
        try:
            k = float(k)
        except ValueError:
            raise TaskError(f"k must be a number, got {k!r}") from None
    if isinstance(k, bool) or not isinstance(k, int | float) or not math.isfinite(k):
        raise TaskError(f"k must be a finite number, got {k!r}")
    return MatrixGame(name, int(k) if float(k).is_integer() else k)


def make_task(family: str, **params: Any) -> Task:
    """One entry for every family: ``make_task("grid", size="4x8", difficulty="hard", seed=3)``."""
    builders: dict[str, Callable[..., Task]] = {"grid": grid_task, "alloc": alloc_task, "matrix": matrix_task}
    builder = builders.get(family)
    if builder is None:
        raise TaskError(f"unknown task family {family!r}; choose one of {', '.join(FAMILIES)}")
    try:
        return builder(**params)
    except TypeError as exc:  # an unknown or missing keyword: the caller's mistake, say which
        raise TaskError(f"bad parameters for {family}: {exc}") from None


def greedy_coordinator(task: Task) -> Coordinator:
    """The family's non-LLM baseline: the grid's shortest-path planner, the allocation hill climber,
    the matrix games' oracle (it plays the Stackelberg path from the payoff data)."""
    if task.family in ("grid_easy", "grid_hard"):
        return GreedyPlanner()
    if task.family == "alloc":
        return AllocHillClimber()
    if task.family == "matrix":
        return MatrixGreedy()
    raise TaskError(f"no greedy coordinator for task family {task.family!r}")
