"""STEP's policy, **our approximation** (the STEP paper published no code).

STEP conditions each agent's policy on its priority level and on its superiors' actions through a
hypernetwork. Here: a shared MLP reads ``o_i``; a hypernetwork reads ``[onehot(i), onehot(a_j) for
j < i (zeros for j >= i)]`` and emits the weights and bias of agent i's output layer. Agents decode
in priority order, like STEER, but with no transformer and no per-prefix critic.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.distributions import Categorical

from rl_bridge.networks.blocks import init_linear
from rl_bridge.networks.mlp import mlp_trunk
from rl_bridge.networks.steer import masked_logits


@dataclass(frozen=True)
class HyperShape:
    n_agents: int
    obs_dim: int
    n_actions: int
    hidden: int = 64


class HyperPolicy(nn.Module):
    _superiors: torch.Tensor

    def __init__(self, shape: HyperShape):
        super().__init__()
        self.shape = shape
        n, a, h = shape.n_agents, shape.n_actions, shape.hidden
        self.trunk = mlp_trunk(shape.obs_dim, h)
        self.hyper = nn.Sequential(init_linear(nn.Linear(n + n * a, h), 2**0.5), nn.ReLU(), init_linear(nn.Linear(h, h * a + a), 0.01))
        # superiors[i, j] = 1 where j < i: agent i sees the actions of agents before it.
        self.register_buffer("_superiors", torch.tril(torch.ones(n, n), diagonal=-1), persistent=False)

    def logits(self, obs: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
        """``obs`` [B, n, d], ``onehot`` [B, n, A] of (known) actions -> raw logits [B, n, A]."""
        b, n, a, h = obs.shape[0], self.shape.n_agents, self.shape.n_actions, self.shape.hidden
        seen = (self._superiors.unsqueeze(-1) * onehot.unsqueeze(1)).reshape(b, n, n * a)
        context = torch.cat([torch.eye(n).expand(b, n, n), seen], dim=-1)
        params = self.hyper(context)
        weight, bias = params[..., : h * a].view(b, n, h, a), params[..., h * a :]
        return torch.einsum("bnh,bnha->bna", self.trunk(obs), weight) + bias

    def evaluate(self, obs: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        onehot = nn.functional.one_hot(actions.long(), self.shape.n_actions).float()
        dist = Categorical(logits=masked_logits(self.logits(obs, onehot), mask))
        return dist.log_prob(actions.long()), dist.entropy()

    @torch.no_grad()
    def decode(self, obs: torch.Tensor, mask: torch.Tensor | None, deterministic: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        b, n = obs.shape[0], self.shape.n_agents
        onehot = torch.zeros(b, n, self.shape.n_actions)
        actions = torch.zeros(b, n, dtype=torch.long)
        logp = torch.zeros(b, n)
        for i in range(n):
            dist = Categorical(logits=masked_logits(self.logits(obs, onehot)[:, i], None if mask is None else mask[:, i]))
            a = dist.probs.argmax(-1) if deterministic else dist.sample()
            actions[:, i], logp[:, i] = a, dist.log_prob(a)
            onehot[:, i] = nn.functional.one_hot(a, self.shape.n_actions).float()
        return actions, logp

    def config(self) -> dict:
        return asdict(self.shape)
