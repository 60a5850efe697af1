"""Observation encodings: what a policy reads of a task state, beside the task's own ``arrays`` view.

``task`` is the task's own view (``Task.arrays``: a 3x3 neighbourhood on the grids, the last step on
allocation). Its grid observations cannot see a target two cells away, which is why policies trained
on it stall on 2x4 and larger grids. ``targets`` names each agent's targets instead, and is the same
width for every grid size (so one network shape fits every size):

* **Easy**, per colour: boxes held here, a same-colour target here, the nearest such target's
  distance, and for each of the 4 pushes how much it brings the box closer (+1, 0, -1); then the
  agent's position, the time left, and the boxes and targets left on the whole grid.
* **Hard**, per corner of the agent's cell: the box's colour, its distance to its target, how many
  agents share the corner (where two plans can collide); per action how much it brings its box
  closer; the target colours at the agent's centre, position, time.
* **Allocation**, per agent: the step, its own last amount, its index, and for the last step, the one
  before and the best so far what that (total, reward) pair says about the hidden optimum
  (``squeeze_reading``: the reward's known Gaussian-squeeze form leaves two candidate optimal totals
  per pair; the policy learns to probe and to pick the consistent one). This is domain knowledge
  of the reward's form, stated as such; mu and sigma stay hidden.

The global state (for centralised critics) is the task's own, plus the normalised potential and the
share of boxes left. Masks are always the task's own. Both encodings are functions of the state
alone, so evaluation, coordinators and distillation read them exactly as training did.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np

from tasks.base import ArrayView, Task

ENCODINGS = ("task", "targets")
N_COLOURS = 5


def observe(encoding: str, task: Task, state: Any) -> ArrayView:
    """The arrays a policy reads under ``encoding`` (``task``: the task's own ``arrays``)."""
    return ENCODERS[encoding](task, state)


def _task_view(task: Task, state: Any) -> ArrayView:
    return task.arrays(state)


@cache
def _easy_geometry(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell-to-cell Manhattan distances [C, C], each cell's 4 neighbours in the task's direction order
    (-1 outside) [C, 4], and cell positions scaled to [0, 1] [C, 2]."""
    from tasks.grid_easy import DIRECTIONS

    ij = np.array([divmod(c, cols) for c in range(rows * cols)])
    distance = np.abs(ij[:, None, :] - ij[None, :, :]).sum(-1).astype(np.float32)
    neighbours = np.full((rows * cols, 4), -1)
    for c, (i, j) in enumerate(ij):
        for d, (di, dj) in enumerate(DIRECTIONS):
            if 0 <= i + di < rows and 0 <= j + dj < cols:
                neighbours[c, d] = (i + di) * cols + j + dj
    position = ij / np.array([max(rows - 1, 1), max(cols - 1, 1)])
    return distance, neighbours, position.astype(np.float32)


def _easy(task: Any, state: Any) -> ArrayView:
    view = task.arrays(state)
    rows, cols = task.rows, task.cols
    distance, neighbours, position = _easy_geometry(rows, cols)
    n = rows * cols
    counts = np.asarray(view.state[: n * 2 * N_COLOURS]).reshape(n, 2 * N_COLOURS) * 3.0
    boxes, targets = counts[:, :N_COLOURS], counts[:, N_COLOURS:]
    per_colour = 8
    obs = np.zeros((n, N_COLOURS, per_colour), dtype=np.float32)
    obs[:, :, 0] = np.minimum(boxes, 3) / 3.0
    obs[:, :, 1] = targets > 0
    inside = neighbours >= 0
    for ci in range(N_COLOURS):
        cells = np.flatnonzero(targets[:, ci] > 0)
        if cells.size == 0:
            obs[:, ci, 2] = 1.0
            continue
        nearest = distance[:, cells].min(1)
        obs[:, ci, 2] = nearest / max(rows + cols - 2, 1)
        obs[:, ci, 3:7] = np.where(inside, nearest[:, None] - nearest[np.maximum(neighbours, 0)], 0.0)
        obs[:, ci, 7] = 1.0
    tail = np.empty((n, 5), dtype=np.float32)
    tail[:, :2] = position
    tail[:, 2:] = (state.t / task.step_limit, boxes.sum() / 15.0, targets.sum() / 15.0)
    return ArrayView(np.concatenate([obs.reshape(n, -1), tail], axis=1), _grid_state(task, state, view.state), view.mask)


def _hard(task: Any, state: Any) -> ArrayView:
    from tasks.grid_common import COLOURS

    view = task.arrays(state)
    rows, cols = task.rows, task.cols
    scale = float(rows + cols)
    n = len(task.agents)
    per_corner = N_COLOURS + 3
    obs = np.zeros((n, 4 * per_corner + 16 + N_COLOURS + 3), dtype=np.float32)
    centres = {c: task.target_centres(state, c) for c in COLOURS}
    for cell in range(n):
        i, j = divmod(cell, cols)
        corners = task.corners_of(cell)
        for s, k in enumerate(corners):
            base = s * per_corner
            x, y = task.corner_xy(k)
            sharing = sum(1 for dx in (-1, 0) for dy in (-1, 0) if 0 <= x + dx < rows and 0 <= y + dy < cols)
            obs[cell, base + N_COLOURS + 2] = sharing / 4.0
            if len(state.places[k]) != 1:
                continue
            colour = state.places[k][0][4:]
            obs[cell, base + COLOURS.index(colour)] = 1.0
            before = task.nearest((x, y), centres[colour])
            obs[cell, base + N_COLOURS] = 1.0 if math.isinf(before) else before / scale
            obs[cell, base + N_COLOURS + 1] = 1.0
            others = [c for c in corners if c != k]
            for d, c in enumerate(others):
                after = task.nearest(task.corner_xy(c), centres[colour])
                if not math.isinf(before):
                    obs[cell, 4 * per_corner + 4 * s + d] = float(before - after)
            obs[cell, 4 * per_corner + 4 * s + 3] = float(f"target_{colour}" in state.places[cell])
        tail = 4 * per_corner + 16
        for ci, colour in enumerate(COLOURS):
            obs[cell, tail + ci] = float(f"target_{colour}" in state.places[cell])
        obs[cell, -3:] = (i / max(rows - 1, 1), j / max(cols - 1, 1), state.t / task.step_limit)
    return ArrayView(obs, _grid_state(task, state, view.state), view.mask)


def _grid_state(task: Any, state: Any, own: np.ndarray) -> np.ndarray:
    extra = np.array([task.potential(state) / (4.0 * (task.rows + task.cols)), state.boxes() / 15.0], dtype=np.float32)
    return np.concatenate([own, extra]).astype(np.float32)


X_STAR_OVER_MU = 0.5 + math.sqrt(0.375)
"""The Gaussian squeeze with sigma = mu/2 peaks at x* = (1/2 + sqrt(3/8)) mu."""


def squeeze_reading(total: float, reward: float, top: float) -> tuple[float, float, float, float]:
    """What one (total, reward) pair says about the hidden optimum: ``(x/top, d, lo, hi)``.

    The squeeze gives ``G/x = exp(-4 (x/mu - 1)^2)``, so ``d = sqrt(-ln(G/x)/4) = |x/mu - 1|`` and mu is
    ``x/(1+d)`` or ``x/(1-d)``; ``lo``/``hi`` are the optimal totals ``x*/top`` those two readings imply
    (capped at 1.5). Nothing here knows mu: the policy still has to tell the readings apart."""
    if total <= 0 or reward <= 0:
        return (total / top, 1.0, 0.0, 0.0)
    d = min(math.sqrt(max(-math.log(min(reward / total, 1.0)), 0.0) / 4.0), 1.0)
    lo = X_STAR_OVER_MU * total / (1 + d) / top
    hi = 1.5 if d >= 1.0 else min(X_STAR_OVER_MU * total / (1 - d) / top, 1.5)
    return (total / top, d, lo, hi)


def _alloc(task: Any, state: Any) -> ArrayView:
    view = task.arrays(state)
    n, top = task.n_agents, task.max_total
    history = state.history
    none = (0.0, 1.0, 0.0, 0.0)
    last = squeeze_reading(*history[-1], top) if history else none
    before = squeeze_reading(*history[-2], top) if len(history) > 1 else none
    best = squeeze_reading(*max(history, key=lambda h: h[1]), top) if history else none
    shared = [state.t / task.step_limit, float(bool(history)), *last, *before, *best]
    obs = np.empty((n, len(shared) + 2), dtype=np.float32)
    obs[:, : len(shared)] = shared
    obs[:, len(shared)] = np.asarray(state.amounts, dtype=np.float32) / 9.0
    obs[:, len(shared) + 1] = np.arange(n, dtype=np.float32) / max(n - 1, 1)
    return ArrayView(obs, np.concatenate([np.asarray(shared, dtype=np.float32), view.state]).astype(np.float32), view.mask)


def _targets(task: Task, state: Any) -> ArrayView:
    family = getattr(task, "family", "")
    if family == "grid_easy":
        return _easy(task, state)
    if family == "grid_hard":
        return _hard(task, state)
    if family == "alloc":
        return _alloc(task, state)
    return task.arrays(state)


ENCODERS: dict[str, Callable[[Task, Any], ArrayView]] = {"task": _task_view, "targets": _targets}
