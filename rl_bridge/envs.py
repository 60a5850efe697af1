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
from rl_bridge.vec_env import MatrixVecEnv, TaskVecEnv, VecEnv
from tasks.base import Task

TRAIN_SEED_OFFSET = 1_000_000
"""Grid/allocation training instances are drawn from seeds above this, away from the evaluation
instances 0-9 (the golden instances)."""


@dataclass(frozen=True)
class EnvSpec:
    kind: str
    """``matrix``, ``grid``, ``alloc`` or ``football``."""
    game: str = ""
    k: float = 0.0
    size: str = "2x2"
    difficulty: str = "easy"
    agents: int = 10
    scenario: str = ""
    """Football: the gfootball academy scenario."""

    @property
    def name(self) -> str:
        if self.kind == "matrix":
            return f"penalty_k{self.k:g}" if self.game == "penalty" else self.game
        if self.kind == "grid":
            return f"grid_{self.difficulty}_{self.size}"
        if self.kind == "football":
            return f"football_{self.scenario.removeprefix('academy_')}"
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

    def vec_env(self, n_envs: int, seed: int) -> VecEnv:
        if self.kind == "football":
            from rl_bridge.football.env import FootballVecEnv

            return FootballVecEnv(self.scenario, n_envs, seed)  # type: ignore[return-value]
        if self.kind == "matrix":
            return MatrixVecEnv(self.task(), n_envs)  # type: ignore[arg-type]

        def draw(rng: np.random.Generator) -> Task:
            return self.training_task(int(rng.integers(0, 2**31 - 1)))

        return TaskVecEnv(draw, n_envs, seed)

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
