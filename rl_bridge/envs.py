"""Which task a run trains on: a matrix game, a grid, or resource allocation, as one frozen spec.

The spec is saved in every run's ``config.json``, so a checkpoint knows the task it was trained on and
``coordinator``/``distill`` can rebuild it. Grid and allocation tasks are imported lazily: the matrix
games need nothing beyond ``tasks.matrix``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rl_bridge.errors import RLUsageError
from rl_bridge.shaping import Shaping
from rl_bridge.vec_env import MatrixVecEnv, TaskVecEnv, VecEnv
from tasks.base import ArrayView, Task

TRAIN_SEED_OFFSET = 1_000_000
"""Grid/allocation training instances are drawn from seeds above this, away from the evaluation
instances 0-9 (the golden instances)."""
FRESH_SEED_OFFSET = 100
"""Fresh evaluation instances: seeds 100, 101, ... (below the training seeds, apart from the golden ones)."""
VALIDATION_SEED_OFFSET = 10_000
"""Validation instances, for choosing a checkpoint during training (``select``): seeds 10,000, 10,001, ...
drawn like training instances, apart from the golden, the fresh and the training seeds, so a policy chosen
on them is still scored on instances nothing in its training saw."""


@dataclass(frozen=True)
class EnvSpec:
    kind: str
    """``matrix``, ``grid``, ``alloc`` or ``football``."""
    game: str = ""
    """A matrix game's name, or football's gfootball scenario (e.g. ``academy_3_vs_1_with_keeper``)."""
    k: float = 0.0
    size: str = "2x2"
    difficulty: str = "easy"
    agents: int = 10
    observation: str = "task"
    """What the policy reads (``rl_bridge.observations``): ``task`` (the task's own ``arrays``) or
    ``targets`` (each agent's targets named, the same width for every grid size)."""
    shaping: float = 0.0
    """Scale of the potential-based shaping term the learner adds (``rl_bridge.shaping``); 0 = none."""

    def observe(self, task: Task, state: Any) -> ArrayView:
        """The arrays a policy trained on this spec reads (training, evaluation, coordinators alike)."""
        from rl_bridge.observations import observe

        return observe(self.observation, task, state)

    @property
    def name(self) -> str:
        if self.kind == "matrix":
            return f"penalty_k{self.k:g}" if self.game == "penalty" else self.game
        if self.kind == "grid":
            return f"grid_{self.difficulty}_{self.size}"
        if self.kind == "football":
            return f"football_{self.game.removeprefix('academy_')}"
        return f"alloc_n{self.agents}"

    def task(self, instance: int = 0) -> Task:
        """Evaluation instance ``instance``: the golden grids 0-9, allocation seed ``instance``."""
        from tasks.catalog import alloc_task, grid_task, matrix_task

        if self.kind == "matrix":
            return matrix_task(self.game, self.k if self.game == "penalty" else None)
        if self.kind == "grid":
            return grid_task(self.size, self.difficulty, instance=instance)
        if self.kind == "alloc":
            return alloc_task(self.agents, instance)
        raise RLUsageError(f"unknown task kind {self.kind!r}")

    def training_task(self, seed: int) -> Task:
        """A fresh training instance drawn from ``TRAIN_SEED_OFFSET + seed`` (never an evaluation one)."""
        from tasks.catalog import alloc_task, grid_task

        if self.kind == "grid":
            return grid_task(self.size, self.difficulty, seed=TRAIN_SEED_OFFSET + seed)
        return alloc_task(self.agents, TRAIN_SEED_OFFSET + seed)

    def validation_task(self, k: int) -> Task:
        """Validation instance ``k`` (seed ``VALIDATION_SEED_OFFSET + k``): for choosing a checkpoint, never
        for reporting."""
        from tasks.catalog import alloc_task, grid_task

        if self.kind == "grid":
            return grid_task(self.size, self.difficulty, seed=VALIDATION_SEED_OFFSET + k)
        if self.kind != "alloc":
            raise RLUsageError(f"{self.kind} has no validation instances")
        return alloc_task(self.agents, VALIDATION_SEED_OFFSET + k)

    def fresh_task(self, k: int) -> Task:
        """Fresh evaluation instance ``k``: a random instance no training run draws."""
        from tasks.catalog import alloc_task, grid_task

        if self.kind == "grid":
            return grid_task(self.size, self.difficulty, seed=FRESH_SEED_OFFSET + k)
        return alloc_task(self.agents, FRESH_SEED_OFFSET + k)

    def vec_env(self, n_envs: int, seed: int, gamma: float = 0.99) -> VecEnv:
        """``gamma``: the learner's discount, which potential-based shaping must use."""
        if self.kind == "football":
            from rl_bridge.football.env import FootballVecEnv

            return FootballVecEnv(self.game, n_envs, seed)  # type: ignore[return-value]
        if self.kind == "matrix":
            return MatrixVecEnv(self.task(), n_envs)  # type: ignore[arg-type]

        def draw(rng: np.random.Generator) -> Task:
            return self.training_task(int(rng.integers(0, 2**31 - 1)))

        return TaskVecEnv(draw, n_envs, seed, observe=self.observe, shaping=Shaping(self.shaping, gamma))

    def ppo_defaults(self) -> dict[str, Any]:
        """Matrix games: the authors' settings (the PPOConfig defaults). Grid/alloc: ours."""
        if self.kind == "matrix":
            return {}
        if self.kind == "football":
            # the authors' lr, entropy, grad clip, epochs and clip; shorter rollouts (8 x 100 steps
            # instead of 10 x 400) so a few CPU minutes still give a few hundred updates
            return {"n_envs": 8, "episode_length": 100, "lr": 7e-4, "entropy_coef": 0.01, "max_grad_norm": 0.5,
                    "ppo_epochs": 15, "total_steps": 4_000_000}
        return {"n_envs": 16, "episode_length": 64, "entropy_coef": 0.01, "total_steps": 100_000}
