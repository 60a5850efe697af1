"""STEER: the Stackelberg decision transformer trained with per-agent PPO, all agents in one pass.

Rollout: ``SteerNet.decode`` samples a_1, then a_2 given a_1, ... (each agent sees its superiors'
actual actions). Update: one teacher-forced pass over the stored joint action gives every agent's
log-prob, entropy and ``V_i(s, a_<i)``; the per-agent PPO losses are averaged and back-propagated
together, unlike STEP or bi-level actor-critic which update agents one after another.
"""

from __future__ import annotations

import torch

from rl_bridge.algorithms.ppo import PPOConfig, ValueNorm, adam, joint_ppo_update, policy_weights
from rl_bridge.networks.steer import SteerNet, SteerShape, masked_logits
from rl_bridge.rollout import Rollout


class Steer:
    name = "steer"

    def __init__(self, shape: SteerShape, cfg: PPOConfig, seed: int = 0):
        self.cfg = cfg
        self.net = SteerNet(shape)
        self.value_norm = ValueNorm(shape.n_agents)
        self.optimizer = adam(self.net.parameters(), cfg)
        self.generator = torch.Generator().manual_seed(seed)
        self.steps_done = 0
        """Environment steps trained on so far (the ``follower_first`` schedule reads it)."""
        self.tabulable = shape.priority == "fixed"
        """Rollouts may use ``policy_table``, which samples agents in index order: only in the fixed order."""

    def waiting(self) -> torch.Tensor | None:
        """[n] bool: the agents whose followers still go first (``follower_first``); None if none.
        A waiting agent acts uniformly at random in rollouts, so its followers meet every one of its
        actions and learn their best response to each; greedy evaluation still uses its own policy."""
        waiting = policy_weights(self.net.shape.n_agents, self.cfg, self.steps_done) == 0
        return waiting if bool(waiting.any()) else None

    def act(self, obs: torch.Tensor, state: torch.Tensor, mask: torch.Tensor, deterministic: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.net.decode(obs, state, mask, deterministic, uniform=self.waiting())

    def joint_policy(self, obs: torch.Tensor, state: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """For ``policy_table``: log pi_i(. | s, a_<i) and V_i(s, a_<i) of a stored joint action
        (uniform over the available actions for a waiting agent, as ``act`` samples it)."""
        log_policy, values = self.net.joint_policy(obs, state, actions, mask)
        waiting = self.waiting()
        if waiting is not None:
            flat = torch.log_softmax(masked_logits(torch.zeros_like(log_policy), mask), dim=-1)
            log_policy = torch.where(waiting[:, None], flat, log_policy)
        return log_policy, values

    def update(self, rollout: Rollout) -> dict[str, float]:
        def evaluate(mb: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            return self.net.evaluate(mb["obs"], mb["state"], mb["actions"], mb["mask"])

        params = list(self.net.parameters())
        stats = joint_ppo_update(rollout, evaluate, params, self.optimizer, self.value_norm, self.cfg, self.generator,
                                 self.steps_done)
        self.steps_done += rollout.rewards.shape[0] * rollout.rewards.shape[1]
        return stats

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"net": self.net, "value_norm": self.value_norm}

    def shape(self) -> dict:
        return self.net.config()
