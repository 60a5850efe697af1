"""MAT: encoder-decoder transformer, agents decoded in order, one PPO update for all agents.

Like STEER it decodes agent by agent, but its critic is ``V(o_i)`` from the encoder (no conditioning on
superiors' actions) and actions enter through decoder self-attention + cross-attention.
"""

from __future__ import annotations

import torch

from rl_bridge.algorithms.ppo import PPOConfig, ValueNorm, adam, joint_ppo_update
from rl_bridge.networks.mat import MATNet, MATShape
from rl_bridge.rollout import Rollout


class MAT:
    name = "mat"

    def __init__(self, shape: MATShape, cfg: PPOConfig, seed: int = 0):
        self.cfg = cfg
        self.net = MATNet(shape)
        self.value_norm = ValueNorm(shape.n_agents)
        self.optimizer = adam(self.net.parameters(), cfg)
        self.generator = torch.Generator().manual_seed(seed)

    def act(self, obs: torch.Tensor, state: torch.Tensor, mask: torch.Tensor, deterministic: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.net.decode(obs, mask, deterministic)

    def joint_policy(self, obs: torch.Tensor, state: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """For ``policy_table``: log pi_i(. | o, a_<i) and the values of a stored joint action."""
        return self.net.joint_policy(obs, actions, mask)

    def update(self, rollout: Rollout) -> dict[str, float]:
        def evaluate(mb: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            return self.net.evaluate(mb["obs"], mb["actions"], mb["mask"])

        params = list(self.net.parameters())
        return joint_ppo_update(rollout, evaluate, params, self.optimizer, self.value_norm, self.cfg, self.generator)

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"net": self.net, "value_norm": self.value_norm}

    def shape(self) -> dict:
        return self.net.config()
