"""HAPPO: one MLP actor per agent, updated one agent at a time in a fresh random order each update.

Agent k's clipped surrogate is weighted by the product of the new/old probability ratios of the agents
updated before it in this iteration (the heterogeneous-agent trust-region step). A centralised critic
``V(s)`` (one output per agent) is trained first.
"""

from __future__ import annotations

from dataclasses import asdict

import torch
from torch.distributions import Categorical

from rl_bridge.algorithms.mappo import MLPShape
from rl_bridge.algorithms.ppo import (
    PPOConfig,
    ValueNorm,
    adam,
    advantages_and_targets,
    agent_actor_update,
    critic_update,
)
from rl_bridge.networks.mlp import AgentActors, CentralCritic
from rl_bridge.rollout import Rollout


class HAPPO:
    name = "happo"

    def __init__(self, shape: MLPShape, cfg: PPOConfig, seed: int = 0):
        self.cfg, self._shape = cfg, shape
        self.actors = AgentActors(shape.n_agents, shape.obs_dim, shape.n_actions, shape.hidden)
        self.critic = CentralCritic(shape.state_dim, shape.n_agents, shape.hidden)
        self.value_norm = ValueNorm(shape.n_agents)
        self.actor_optimizers = [adam(a.parameters(), cfg) for a in self.actors.actors]
        self.critic_optimizer = adam(self.critic.parameters(), cfg)
        self.generator = torch.Generator().manual_seed(seed)

    @torch.no_grad()
    def act(self, obs: torch.Tensor, state: torch.Tensor, mask: torch.Tensor, deterministic: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        dist = Categorical(logits=self.actors(obs, mask))
        actions = dist.probs.argmax(-1) if deterministic else dist.sample()
        return actions, dist.log_prob(actions), self.critic(state)

    def joint_policy(self, obs: torch.Tensor, state: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """For ``policy_table``: every agent's log-policy (no agent reads another's action) and V(s)."""
        return torch.log_softmax(self.actors(obs, mask), dim=-1), self.critic(state)

    def update(self, rollout: Rollout) -> dict[str, float]:
        adv, targets = advantages_and_targets(rollout, self.value_norm, self.cfg)
        data = rollout.flat()
        value_loss = critic_update(
            lambda idx: self.critic(data["state"][idx]), list(self.critic.parameters()), self.critic_optimizer,
            data["values"], targets, self.cfg, self.generator,
        )
        weight = torch.ones(adv.shape[0])
        stats: dict[str, float] = {}
        for i in torch.randperm(self._shape.n_agents, generator=self.generator).tolist():
            actor = self.actors.actors[i]

            def evaluate(idx: torch.Tensor, actor=actor, i=i) -> tuple[torch.Tensor, torch.Tensor]:
                dist = actor.dist(data["obs"][idx, i], data["mask"][idx, i])
                return dist.log_prob(data["actions"][idx, i]), dist.entropy()

            new_logp, stats = agent_actor_update(
                evaluate, list(actor.parameters()), self.actor_optimizers[i], data["logp"][:, i], adv[:, i],
                weight, self.cfg, self.generator,
            )
            weight = weight * torch.exp(new_logp - data["logp"][:, i])
        return {**stats, "value_loss": value_loss}

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"actors": self.actors, "critic": self.critic, "value_norm": self.value_norm}

    def shape(self) -> dict:
        return asdict(self._shape)
