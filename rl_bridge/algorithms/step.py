"""STEP, **our approximation** (no public code): a shared hypernetwork-conditioned policy on agent
priority and superiors' one-hot actions (``networks/hyper.py``), updated level by level.

Per update: the centralised critic ``V(s)`` (one output per agent) trains first; then level 1 (the
leader) takes its PPO epochs, then level 2 on the same batch with the policy level 1 left behind,
and so on -- sequential, unlike STEER's single joint backward pass.
"""

from __future__ import annotations

import torch

from rl_bridge.algorithms.ppo import (
    PPOConfig,
    ValueNorm,
    adam,
    advantages_and_targets,
    agent_actor_update,
    critic_update,
)
from rl_bridge.networks.hyper import HyperPolicy, HyperShape
from rl_bridge.networks.mlp import CentralCritic
from rl_bridge.rollout import Rollout


class STEP:
    name = "step"

    def __init__(self, shape: HyperShape, state_dim: int, cfg: PPOConfig, seed: int = 0):
        self.cfg, self.state_dim = cfg, state_dim
        self.policy = HyperPolicy(shape)
        self.critic = CentralCritic(state_dim, shape.n_agents, shape.hidden)
        self.value_norm = ValueNorm(shape.n_agents)
        self.policy_optimizer = adam(self.policy.parameters(), cfg)
        self.critic_optimizer = adam(self.critic.parameters(), cfg)
        self.generator = torch.Generator().manual_seed(seed)

    @torch.no_grad()
    def act(self, obs: torch.Tensor, state: torch.Tensor, mask: torch.Tensor, deterministic: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        actions, logp = self.policy.decode(obs, mask, deterministic)
        return actions, logp, self.critic(state)

    def update(self, rollout: Rollout) -> dict[str, float]:
        adv, targets = advantages_and_targets(rollout, self.value_norm, self.cfg)
        data = rollout.flat()
        value_loss = critic_update(
            lambda idx: self.critic(data["state"][idx]), list(self.critic.parameters()), self.critic_optimizer,
            data["values"], targets, self.cfg, self.generator,
        )
        stats: dict[str, float] = {}
        for level in range(self.policy.shape.n_agents):

            def evaluate(idx: torch.Tensor, level=level) -> tuple[torch.Tensor, torch.Tensor]:
                logp, entropy = self.policy.evaluate(data["obs"][idx], data["actions"][idx], data["mask"][idx])
                return logp[:, level], entropy[:, level]

            _, stats = agent_actor_update(
                evaluate, list(self.policy.parameters()), self.policy_optimizer, data["logp"][:, level],
                adv[:, level], None, self.cfg, self.generator,
            )
        return {**stats, "value_loss": value_loss}

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"policy": self.policy, "critic": self.critic, "value_norm": self.value_norm}

    def shape(self) -> dict:
        return {**self.policy.config(), "state_dim": self.state_dim}
