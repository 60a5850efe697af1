"""MLP actors and critics: MAPPO's shared actor, HAPPO's per-agent actors, centralised critics, students.

All follow the MAPPO code's defaults: input LayerNorm, two hidden layers of 64 with ReLU, orthogonal
init (gain sqrt(2), 0.01 on the policy output, 1 on the value output), zero bias.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.distributions import Categorical

from rl_bridge.networks.blocks import init_linear
from rl_bridge.networks.steer import masked_logits


def mlp_trunk(d_in: int, hidden: int = 64) -> nn.Sequential:
    return nn.Sequential(
        nn.LayerNorm(d_in),
        init_linear(nn.Linear(d_in, hidden), math.sqrt(2)),
        nn.ReLU(),
        init_linear(nn.Linear(hidden, hidden), math.sqrt(2)),
        nn.ReLU(),
    )


class MLPActor(nn.Module):
    """``pi(a | x)`` for one input vector per row; ``x`` is an observation (optionally + agent id)."""

    def __init__(self, d_in: int, n_actions: int, hidden: int = 64):
        super().__init__()
        self.trunk = mlp_trunk(d_in, hidden)
        self.out = init_linear(nn.Linear(hidden, n_actions), 0.01)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Masked logits (an unavailable action gets probability 0)."""
        return masked_logits(self.out(self.trunk(x)), mask)

    def dist(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> Categorical:
        return Categorical(logits=self(x, mask))


class CentralCritic(nn.Module):
    """``V(s)`` with one output per agent, so general-sum games get one critic per agent's reward."""

    def __init__(self, state_dim: int, n_agents: int, hidden: int = 64):
        super().__init__()
        self.trunk = mlp_trunk(state_dim, hidden)
        self.out = init_linear(nn.Linear(hidden, n_agents), 1.0)

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        return self.out(self.trunk(state))


class AgentActors(nn.Module):
    """One MLP per agent, each reading only its own observation: HAPPO's actors and the students.

    A student acts alone at execution time, with no global state and no other agent's action.
    """

    def __init__(self, n_agents: int, obs_dim: int, n_actions: int, hidden: int = 64):
        super().__init__()
        self.actors = nn.ModuleList(MLPActor(obs_dim, n_actions, hidden) for _ in range(n_agents))

    def forward(self, obs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``obs`` [B, n, obs_dim] -> masked logits [B, n, A]."""
        return torch.stack(
            [actor(obs[:, i], None if mask is None else mask[:, i]) for i, actor in enumerate(self.actors)], dim=1
        )


class BatchedAgentMLP(nn.Module):
    """One MLP per agent (LayerNorm, 2 x 64 ReLU, logits), all agents computed in one batched matmul.

    Same function as ``AgentActors`` -- each agent's network reads only its own observation -- but
    the n networks' weights are stacked ``[n, d_in, d_out]``, so a 32-agent decision is three
    ``bmm`` calls instead of 32 module calls. The distilled students use it (decision latency is
    their point); HAPPO keeps ``AgentActors`` because it needs one optimiser per agent.
    """

    def __init__(self, n_agents: int, obs_dim: int, n_actions: int, hidden: int = 64):
        super().__init__()
        self.ln_weight = nn.Parameter(torch.ones(n_agents, obs_dim))
        self.ln_bias = nn.Parameter(torch.zeros(n_agents, obs_dim))
        sizes = [(obs_dim, hidden, math.sqrt(2)), (hidden, hidden, math.sqrt(2)), (hidden, n_actions, 0.01)]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for d_in, d_out, gain in sizes:
            w = torch.empty(n_agents, d_in, d_out)
            for i in range(n_agents):
                nn.init.orthogonal_(w[i].T, gain=gain)  # as nn.Linear(d_in, d_out) would hold it
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(torch.zeros(n_agents, 1, d_out)))

    def forward(self, obs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``obs`` [B, n, obs_dim] -> masked logits [B, n, A]."""
        x = nn.functional.layer_norm(obs, obs.shape[-1:]) * self.ln_weight + self.ln_bias
        x = x.transpose(0, 1)  # [n, B, d]
        last = len(self.weights) - 1
        for k, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = torch.baddbmm(b, x, w)
            if k < last:
                x = torch.relu(x)
        return masked_logits(x.transpose(0, 1), mask)


def with_agent_id(obs: torch.Tensor) -> torch.Tensor:
    """Append a one-hot agent index, so MAPPO's shared actor can still tell agents apart."""
    b, n, _ = obs.shape
    ids = torch.eye(n).expand(b, n, n)
    return torch.cat([obs, ids], dim=-1)
