"""PettingZoo Parallel API over any Task: the RL trainers and ``parallel_api_test`` see the same dynamics.

The wrapper uses only the Task protocol (``initial_state``, ``step``, ``arrays``,
``actions_from_indices``), so it serves the grid, allocation and matrix tasks alike.

- Action space per agent: ``Discrete(task.n_actions)``.
- Observation per agent: a dict ``{"observation": Box(obs_dim) float32, "action_mask": Box(n_actions)
  int8}``; the mask is in the observation (PettingZoo's convention, which ``parallel_api_test``'s
  sampler honours), 1 = available. Box bounds come from the task's optional ``obs_bounds``
  attribute, else they are unbounded.
- ``state()`` is the task's global state vector (``arrays(state).state``).
- Episode end: ``terminated`` when the task reports ``done``; ``truncated`` instead when the task
  names the end ``step_limit``, or (a guard for tasks that never end) after ``task.step_limit`` steps.
- ``reset(seed=S)``: by default the task *instance* stays fixed (a grid's golden instance, an
  allocation's hidden mu); the seed only seeds the action spaces' samplers, so resets are
  reproducible. Pass ``task_for_seed`` (e.g. ``lambda s: GridEasy.from_seed(2, 2, s)``) to draw a
  fresh instance from each seed instead.
- ``infos[agent]`` holds the step's ``success``, ``failure``, environment ``feedback`` and the
  task's per-step numbers (``Outcome.info``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from tasks.base import AgentId, Task, TaskError


class ParallelTaskEnv(ParallelEnv):
    """A ``ParallelEnv`` view of one Task (see the module docstring for spaces and masks)."""

    metadata = {"render_modes": ["ansi"], "name": "llamac_task_v0", "is_parallelizable": True}

    def __init__(
        self,
        task: Task,
        task_for_seed: Callable[[int], Task] | None = None,
        render_mode: str | None = None,
    ) -> None:
        if render_mode not in (None, "ansi"):
            raise TaskError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        self.task = task
        self.task_for_seed = task_for_seed
        self.render_mode = render_mode
        self.possible_agents: list[AgentId] = list(task.agents)
        self.agents: list[AgentId] = []
        low, high = getattr(task, "obs_bounds", (-np.inf, np.inf))
        self._observation_spaces = {
            agent: spaces.Dict(
                {
                    "observation": spaces.Box(low, high, shape=(task.obs_dim,), dtype=np.float32),
                    "action_mask": spaces.Box(0, 1, shape=(task.n_actions,), dtype=np.int8),
                }
            )
            for agent in self.possible_agents
        }
        self._action_spaces = {agent: spaces.Discrete(task.n_actions) for agent in self.possible_agents}
        self.state_space = spaces.Box(low, high, shape=(task.state_dim,), dtype=np.float32)
        self._state: Any = task.initial_state()
        self._steps = 0

    def observation_space(self, agent: AgentId) -> spaces.Space:
        return self._observation_spaces[agent]

    def action_space(self, agent: AgentId) -> spaces.Space:
        return self._action_spaces[agent]

    def reset(
        self, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[dict[AgentId, dict[str, np.ndarray]], dict[AgentId, dict[str, Any]]]:
        if seed is not None:
            if self.task_for_seed is not None:
                self._swap_task(self.task_for_seed(seed))
            for i, agent in enumerate(self.possible_agents):
                self._action_spaces[agent].seed(seed + i)
        self._state = self.task.initial_state()
        self._steps = 0
        self.agents = list(self.possible_agents)
        return self._observations(), {agent: {} for agent in self.agents}

    def _swap_task(self, task: Task) -> None:
        same = (
            list(task.agents) == self.possible_agents
            and (task.n_actions, task.obs_dim, task.state_dim)
            == (self.task.n_actions, self.task.obs_dim, self.task.state_dim)
        )
        if not same:
            raise TaskError("task_for_seed must keep the agents and the array shapes of the first task")
        self.task = task

    def step(self, actions: Mapping[AgentId, int]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents:
            raise TaskError("step() after the episode ended; call reset()")
        missing = [agent for agent in self.agents if agent not in actions]
        if missing:
            raise TaskError(f"no action for {', '.join(missing)}")
        idx = np.array([int(actions[agent]) for agent in self.possible_agents], dtype=np.int64)
        outcome = self.task.step(self._state, self.task.actions_from_indices(self._state, idx))
        self._state = outcome.state
        self._steps += 1
        truncate = outcome.done and outcome.failure == "step_limit"
        if not outcome.done and self._steps >= self.task.step_limit:
            truncate = True
        terminate = outcome.done and not truncate
        info = {"success": outcome.success, "failure": outcome.failure, "feedback": outcome.feedback,
                **outcome.info}
        live = self.agents
        observations = self._observations()
        rewards = {agent: float(outcome.rewards.get(agent, 0.0)) for agent in live}
        terminations = dict.fromkeys(live, terminate)
        truncations = dict.fromkeys(live, truncate)
        infos = {agent: dict(info) for agent in live}
        if terminate or truncate:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def _observations(self) -> dict[AgentId, dict[str, np.ndarray]]:
        view = self.task.arrays(self._state)
        obs = np.asarray(view.obs, dtype=np.float32)
        mask = np.asarray(view.mask, dtype=np.int8)
        return {
            agent: {"observation": obs[i], "action_mask": mask[i]}
            for i, agent in enumerate(self.possible_agents)
            if agent in self.agents
        }

    def state(self) -> np.ndarray:
        return np.asarray(self.task.arrays(self._state).state, dtype=np.float32)

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self.task.state_text(self._state)
        return None

    def close(self) -> None:
        """Nothing to release: the task holds no resources."""
