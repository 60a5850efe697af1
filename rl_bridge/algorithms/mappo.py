"""MAPPO: a shared MLP actor ``pi(a_i | o_i, i)`` and a centralised critic ``V(s)`` (one output per
agent, so each agent's GAE uses its own reward). Agents act simultaneously: no agent sees another's
action, which is why it falls to a Nash equilibrium where STEER reaches the Stackelberg one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch.distributions import Categorical

from rl_bridge.algorithms.ppo import PPOConfig, ValueNorm, adam, joint_ppo_update
from rl_bridge.networks.mlp import CentralCritic, MLPActor, with_agent_id
from rl_bridge.rollout import Rollout


@dataclass(frozen=True)
class MLPShape:
    n_agents: int
    obs_dim: int
    n_actions: int
    state_dim: int
    hidden: int = 64


class MAPPO:
    name = "mappo"

    def __init__(self, shape: MLPShape, cfg: PPOConfig, seed: int = 0):
        self.cfg, self._shape = cfg, shape
        self.actor = MLPActor(shape.obs_dim + shape.n_agents, shape.n_actions, shape.hidden)
        self.critic = CentralCritic(shape.state_dim, shape.n_agents, shape.hidden)
        self.value_norm = ValueNorm(shape.n_agents)
        self.params = list(self.actor.parameters()) + list(self.critic.parameters())
        self.optimizer = adam(self.params, cfg)
        self.generator = torch.Generator().manual_seed(seed)

    def policy(self, obs: torch.Tensor, mask: torch.Tensor | None) -> Categorical:
        return Categorical(logits=self.actor(with_agent_id(obs), mask))

    @torch.no_grad()
    def act(self, obs: torch.Tensor, state: torch.Tensor, mask: torch.Tensor, deterministic: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        dist = self.policy(obs, mask)
        actions = dist.probs.argmax(-1) if deterministic else dist.sample()
        return actions, dist.log_prob(actions), self.critic(state)

    def joint_policy(self, obs: torch.Tensor, state: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """For ``policy_table``: every agent's log-policy (no agent reads another's action) and V(s)."""
        return torch.log_softmax(self.actor(with_agent_id(obs), mask), dim=-1), self.critic(state)

    def update(self, rollout: Rollout) -> dict[str, float]:
        def evaluate(mb: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            dist = self.policy(mb["obs"], mb["mask"])
            return dist.log_prob(mb["actions"]), dist.entropy(), self.critic(mb["state"])

        return joint_ppo_update(rollout, evaluate, self.params, self.optimizer, self.value_norm, self.cfg, self.generator)

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"actor": self.actor, "critic": self.critic, "value_norm": self.value_norm}

    def shape(self) -> dict:
        return asdict(self._shape)
