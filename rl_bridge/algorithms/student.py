"""The distilled students as an algorithm: one MLP per agent on its own observation (decentralised
execution). Trained by ``rl_bridge.distill``, loaded like any other algorithm by ``rl_bridge.algorithms.build``."""

from __future__ import annotations

from typing import Any

import torch
from torch.distributions import Categorical

from rl_bridge.errors import RLUsageError
from rl_bridge.networks.mlp import BatchedAgentMLP


class StudentPolicy:
    """The students as a policy: each agent's MLP on its own observation; ``state`` is ignored."""

    name = "student"

    def __init__(self, n_agents: int, obs_dim: int, n_actions: int, hidden: int = 64, **_: Any):
        self._shape = {"n_agents": n_agents, "obs_dim": obs_dim, "n_actions": n_actions, "hidden": hidden}
        self.students = BatchedAgentMLP(n_agents, obs_dim, n_actions, hidden)

    @torch.no_grad()
    def act(self, obs: torch.Tensor, state: torch.Tensor | None, mask: torch.Tensor | None, deterministic: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        dist = Categorical(logits=self.students(obs, mask))
        actions = dist.probs.argmax(-1) if deterministic else dist.sample()
        return actions, dist.log_prob(actions), torch.zeros(actions.shape)

    def update(self, rollout: Any) -> dict[str, float]:
        raise RLUsageError("students are trained by distillation, not PPO")

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"students": self.students}

    def shape(self) -> dict[str, Any]:
        return dict(self._shape)
