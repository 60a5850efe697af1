"""Vectorised environments: many episodes stepped as one batch of numpy arrays, in one process.

Two adapters over the shared task objects, both with the same face (``reset``/``step`` on arrays
``obs [E, n, d]``, ``state [E, d_s]``, ``mask [E, n, A]``, ``rewards [E, n]``, ``done [E]``):

* ``MatrixVecEnv`` drives a ``tasks.matrix.MatrixGame`` through its payoff arrays and ``batch_step``:
  one numpy call steps all E episodes.
* ``TaskVecEnv`` drives E task instances (grid, allocation) through ``Task.step`` in a loop and
  stacks their ``arrays`` views; the dynamics are exactly the ones the LLM coordinators see.

Finished episodes reset automatically; their per-agent returns (and success) are collected in
``finished`` so trainers can log training curves. ``TaskVecEnv`` may read the states through another
observation encoding (``rl_bridge.observations``) and hand the learner shaped rewards
(``rl_bridge.shaping``); ``finished`` always holds the environment's own returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from rl_bridge.shaping import Shaping
from tasks.base import ArrayView, Task
from tasks.matrix import MatrixGame


def network_shape(env: Any, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The dimensions an algorithm's networks take from a vectorised env (``MatrixVecEnv``, ``TaskVecEnv``
    or a wrapper of one), with any network options (``d``, ``hidden``, ...) on top: what
    ``algorithms.build`` is given."""
    return {"n_agents": env.n_agents, "obs_dim": env.obs_dim, "state_dim": env.state_dim,
            "n_actions": env.n_actions, **(options or {})}


@dataclass(frozen=True)
class Arrays:
    obs: np.ndarray  # float32 [E, n, obs_dim]
    state: np.ndarray  # float32 [E, state_dim]
    mask: np.ndarray  # bool [E, n, A]


@dataclass(frozen=True)
class EpisodeEnd:
    returns: np.ndarray  # [n]
    success: bool
    length: int


class MatrixVecEnv:
    """E copies of one matrix game, stepped with the game's own ``batch_step``."""

    def __init__(self, game: MatrixGame, n_envs: int):
        self.game, self.n_envs = game, n_envs
        self.n_agents, self.n_actions = len(game.agents), game.n_actions
        self.obs_dim, self.state_dim = game.obs_dim, game.state_dim
        self.finished: list[EpisodeEnd] = []

    def reset(self, seed: int | None = None) -> Arrays:
        e = self.n_envs
        self.t, self.branch = np.zeros(e, dtype=np.int64), np.zeros(e, dtype=np.int64)
        self.returns = np.zeros((e, self.n_agents), dtype=np.float64)
        self.joints: list[list[tuple[int, int]]] = [[] for _ in range(e)]
        return self._arrays()

    def _arrays(self) -> Arrays:
        obs = self.game.batch_obs(self.t, self.branch)
        return Arrays(
            obs=np.repeat(obs[:, None], self.n_agents, axis=1),
            state=obs,
            mask=np.ones((self.n_envs, self.n_agents, self.n_actions), dtype=bool),
        )

    def step(self, actions: np.ndarray) -> tuple[Arrays, np.ndarray, np.ndarray]:
        rewards, self.branch, done = self.game.batch_step(self.t, self.branch, actions[:, 0], actions[:, 1])
        self.returns += rewards
        self.t = self.t + 1
        for e in np.flatnonzero(done):
            self.finished.append(EpisodeEnd(self.returns[e].copy(), False, int(self.t[e])))
        self.t[done], self.branch[done], self.returns[done] = 0, 0, 0.0
        return self._arrays(), rewards, done


class TaskVecEnv:
    """E task instances stepped one by one through ``Task.step`` and stacked into arrays.

    ``make_task(rng)`` draws a fresh instance (a new grid, a new allocation problem) whenever an
    episode ends, so training never sees only one layout.
    """

    def __init__(self, make_task: Callable[[np.random.Generator], Task], n_envs: int, seed: int = 0,
                 observe: Callable[[Task, Any], ArrayView] | None = None, shaping: Shaping | None = None):
        self.make_task, self.n_envs = make_task, n_envs
        self.observe = observe or (lambda task, state: task.arrays(state))
        self.shaping = shaping or Shaping()
        self.rng = np.random.default_rng(seed)
        probe = make_task(np.random.default_rng(seed))
        view = self.observe(probe, probe.initial_state())
        self.n_agents, self.n_actions = len(probe.agents), probe.n_actions
        self.obs_dim, self.state_dim = view.obs.shape[1], view.state.shape[0]
        self.finished: list[EpisodeEnd] = []

    def reset(self, seed: int | None = None) -> Arrays:
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.tasks = [self.make_task(self.rng) for _ in range(self.n_envs)]
        self.states: list[Any] = [task.initial_state() for task in self.tasks]
        self.returns = np.zeros((self.n_envs, self.n_agents))
        self.lengths = np.zeros(self.n_envs, dtype=np.int64)
        return self._arrays()

    def _arrays(self) -> Arrays:
        views = [self.observe(task, state) for task, state in zip(self.tasks, self.states, strict=True)]
        return Arrays(
            obs=np.stack([v.obs for v in views]).astype(np.float32),
            state=np.stack([v.state for v in views]).astype(np.float32),
            mask=np.stack([v.mask for v in views]).astype(bool),
        )

    def step(self, actions: np.ndarray) -> tuple[Arrays, np.ndarray, np.ndarray]:
        """The learner's rewards (the environment's, plus the shaping term if any) and dones."""
        rewards = np.zeros((self.n_envs, self.n_agents), dtype=np.float32)
        done = np.zeros(self.n_envs, dtype=bool)
        for e, (task, state) in enumerate(zip(self.tasks, self.states, strict=True)):
            out = task.step(state, task.actions_from_indices(state, actions[e]))
            own = np.array([out.rewards.get(agent, 0.0) for agent in task.agents], dtype=np.float32)
            self.returns[e] += own
            rewards[e] = own + self.shaping.term(task, state, out.state, out.done)
            self.lengths[e] += 1
            done[e] = out.done
            if out.done:
                self.finished.append(EpisodeEnd(self.returns[e].copy(), bool(out.success), int(self.lengths[e])))
                self.tasks[e] = self.make_task(self.rng)
                self.states[e] = self.tasks[e].initial_state()
                self.returns[e], self.lengths[e] = 0.0, 0
            else:
                self.states[e] = out.state
        return self._arrays(), rewards, done


VecEnv = MatrixVecEnv | TaskVecEnv
