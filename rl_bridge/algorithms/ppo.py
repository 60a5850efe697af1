"""The PPO machinery every algorithm shares (spec ``steer.md`` section 3).

Per-agent PPO: each agent has its own ratio (no product over agents, except HAPPO's weighting, which
that module adds), a clipped surrogate, an entropy bonus and a Huber value loss on value-normalised
returns with value clipping. Advantages come from per-agent GAE on each agent's *own* reward, so the
general-sum games work, and are normalised over the batch. Every algorithm module reads top to bottom
as: build the network, ``act`` for rollouts, ``update`` built from the functions here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from rl_bridge.rollout import Rollout, input_keys


@dataclass
class PPOConfig:
    """Hyper-parameters; the defaults are the authors' matrix-game settings."""

    lr: float = 5e-4
    """Adam learning rate (actor and critic share one optimiser where they share a trunk)."""
    adam_eps: float = 1e-5
    n_envs: int = 10
    """Environments stepped together as one batch (the authors' rollout threads)."""
    episode_length: int = 100
    """Steps per environment per update (the authors' ``episode_length``; episodes auto-reset)."""
    total_steps: int = 200_000
    """Environment steps over the whole run (summed over environments)."""
    ppo_epochs: int = 5
    n_minibatches: int = 1
    clip: float = 0.2
    entropy_coef: float = 0.05
    value_coef: float = 1.0
    huber_delta: float = 10.0
    max_grad_norm: float = 10.0
    gamma: float = 0.99
    gae_lambda: float = 0.95
    leader_timescale: float = 1.0
    """[ours] Agent i's policy loss is scaled by ``leader_timescale ** (n - 1 - i)``: below 1 the
    leaders learn slower than their followers (two-timescale Stackelberg learning). 1 = the authors'."""
    follower_first: float = 0.0
    """[ours, STEER] Followers best-respond first: until ``follower_first * (n - 1 - i) / (n - 1)``
    of ``total_steps`` are done, agent i acts uniformly at random in rollouts and its policy loss is
    off (weight 0; its entropy bonus and critic still train). The last agent learns from the start,
    against every action of its leaders; the leader starts last, against a follower that already
    answers each of its actions. 0 = the authors' (everyone learns and acts from the start)."""
    distinct_inputs: bool = True
    """[ours] Compute once per *distinct* network input. Update: the joint teacher-forced pass runs
    once per distinct (obs, state, mask, joint action) of a minibatch and is gathered back to every
    sample (the same loss and gradient up to float rounding). Rollout: ``policy_table`` tabulates
    each distinct input's distributions when the joint action space is small. Both pay off where
    inputs repeat (the matrix games: a few observations x 9 joint actions) and step aside where they
    do not. False = evaluate every sample, as the authors' code does."""

    @property
    def n_updates(self) -> int:
        return max(1, self.total_steps // (self.n_envs * self.episode_length))


def adam(params: Iterable[nn.Parameter], cfg: PPOConfig) -> torch.optim.Optimizer:
    """The authors' Adam; the fused kernel (same update, to float rounding) costs a quarter of the
    per-tensor loop for these many small tensors."""
    return torch.optim.Adam(params, lr=cfg.lr, eps=cfg.adam_eps, fused=True)


class ValueNorm(nn.Module):
    """Running mean/std of the returns, one per agent (the MAPPO/MAT ``ValueNorm``, beta 0.99999).

    Critics predict *normalised* returns; GAE works on de-normalised values.
    """

    mean: torch.Tensor
    mean_sq: torch.Tensor
    debias: torch.Tensor

    def __init__(self, n_agents: int, beta: float = 0.99999, eps: float = 1e-5):
        super().__init__()
        self.beta, self.eps = beta, eps
        self.register_buffer("mean", torch.zeros(n_agents, dtype=torch.float64))
        self.register_buffer("mean_sq", torch.zeros(n_agents, dtype=torch.float64))
        self.register_buffer("debias", torch.zeros((), dtype=torch.float64))

    def _stats(self) -> tuple[torch.Tensor, torch.Tensor]:
        d = self.debias.clamp(min=self.eps)
        mean, mean_sq = self.mean / d, self.mean_sq / d
        return mean.float(), (mean_sq - mean**2).clamp(min=1e-2).sqrt().float()

    @torch.no_grad()
    def update(self, returns: torch.Tensor) -> None:
        """``returns`` [..., n_agents]."""
        x = returns.reshape(-1, returns.shape[-1]).double()
        self.mean.mul_(self.beta).add_(x.mean(0) * (1 - self.beta))
        self.mean_sq.mul_(self.beta).add_((x**2).mean(0) * (1 - self.beta))
        self.debias.mul_(self.beta).add_(1 - self.beta)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        mean, std = self._stats()
        return (x - mean) / std

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        mean, std = self._stats()
        return x * std + mean


# ---------------------------------------------------------------------------------- advantages
@torch.no_grad()
def gae(rewards: torch.Tensor, values: torch.Tensor, last_values: torch.Tensor, dones: torch.Tensor, gamma: float, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-agent GAE: ``rewards``/``values`` [T, E, n] (values de-normalised), ``dones`` [T, E].

    Agent i's advantage uses only agent i's reward and agent i's own critic. ``dones[t]`` means the
    episode ended with step t, so no bootstrap crosses it. Returns advantages and returns, [T, E, n].
    """
    # numpy: the backward recursion is T tiny steps, where torch's per-op cost would dominate
    r, v = rewards.numpy(), values.numpy()
    alive = 1.0 - dones.numpy().astype(r.dtype)[..., None]
    delta = r + gamma * np.concatenate([v[1:], last_values.numpy()[None]]) * alive - v
    adv = np.zeros_like(r)
    running = np.zeros_like(r[0])
    for t in reversed(range(r.shape[0])):
        running = delta[t] + gamma * lam * alive[t] * running
        adv[t] = running
    adv_t = torch.from_numpy(adv)
    return adv_t, adv_t + values


def advantages_and_targets(rollout: Rollout, value_norm: ValueNorm, cfg: PPOConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """GAE on de-normalised values, then update the normaliser and return (normalised advantages,
    normalised returns), both flattened to [T*E, n]."""
    adv, returns = gae(
        rollout.rewards,
        value_norm.denormalize(rollout.values),
        value_norm.denormalize(rollout.last_values),
        rollout.dones,
        cfg.gamma,
        cfg.gae_lambda,
    )
    value_norm.update(returns)
    adv = adv.flatten(0, 1)
    adv = (adv - adv.mean()) / (adv.std() + 1e-5)
    return adv, value_norm.normalize(returns.flatten(0, 1))


# -------------------------------------------------------------------------------------- losses
def clipped_surrogate(logp: torch.Tensor, old_logp: torch.Tensor, adv: torch.Tensor, clip: float, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Per-element negated PPO-clip objective; ``weight`` is HAPPO's product of earlier agents' ratios."""
    ratio = torch.exp(logp - old_logp)
    w = 1.0 if weight is None else weight
    return -torch.min(w * ratio * adv, w * ratio.clamp(1 - clip, 1 + clip) * adv)


def huber(x: torch.Tensor, delta: float) -> torch.Tensor:
    return nn.functional.huber_loss(x, torch.zeros_like(x), delta=delta, reduction="none")


def clipped_value_loss(values: torch.Tensor, old_values: torch.Tensor, targets: torch.Tensor, clip: float, delta: float) -> torch.Tensor:
    """Huber loss on normalised returns, with the prediction clipped to ``old +- clip`` (max of both)."""
    clipped = old_values + (values - old_values).clamp(-clip, clip)
    return torch.max(huber(targets - values, delta), huber(targets - clipped, delta))


def minibatches(batch_size: int, n_minibatches: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    perm = torch.randperm(batch_size, generator=generator)
    yield from perm.chunk(n_minibatches)


Evaluate = Callable[[dict[str, torch.Tensor]], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
"""Teacher-forced pass over a minibatch -> (log-probs, entropies, values), each [B, n]."""


def timescales(n_agents: int, leader_timescale: float) -> torch.Tensor:
    """Per-agent policy-loss weights ``leader_timescale ** (n - 1 - i)`` (all 1 by default)."""
    return leader_timescale ** torch.arange(n_agents - 1, -1, -1, dtype=torch.float32)


def policy_weights(n_agents: int, cfg: PPOConfig, steps_done: int = 0) -> torch.Tensor:
    """Per-agent policy-loss weights after ``steps_done`` env steps: the timescales, with the agents
    still waiting for their followers (``follower_first``) at 0."""
    weights = timescales(n_agents, cfg.leader_timescale)
    if cfg.follower_first > 0 and n_agents > 1:
        rank = torch.arange(n_agents - 1, -1, -1, dtype=torch.float32) / (n_agents - 1)
        start = cfg.follower_first * cfg.total_steps * rank
        weights = torch.where(start <= steps_done, weights, torch.zeros(()))
    return weights


INPUT_FIELDS = ("obs", "state", "mask", "actions")
"""The rollout fields a teacher-forced pass reads; samples equal in all of them get equal outputs."""

WORTH_GROUPING = 0.5
"""Group a minibatch only when it has at most this share of distinct inputs (else gathering costs
more than the rows it saves)."""


class DistinctInputs:
    """Which samples of a flattened rollout share one network input (``INPUT_FIELDS``).

    Found once per update, by sorting each sample's input bytes as one opaque value (10x faster
    here than a row-wise unique); ``groups(idx)`` then narrows it to a minibatch with a 1-D unique.
    """

    def __init__(self, data: dict[str, torch.Tensor]):
        _, inverse = np.unique(input_keys(*(data[k] for k in INPUT_FIELDS)), return_inverse=True)
        self.inverse = torch.from_numpy(inverse.reshape(-1))

    def groups(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
        """For the minibatch ``idx``: (one position per distinct input, each sample's group), both
        indexing the minibatch; None when grouping would not pay."""
        distinct, local = torch.unique(self.inverse[idx], return_inverse=True)
        if distinct.shape[0] > WORTH_GROUPING * idx.shape[0]:
            return None
        first = torch.empty(distinct.shape[0], dtype=torch.long).scatter_(0, local, torch.arange(idx.shape[0]))
        return first, local


def evaluate_grouped(evaluate: Evaluate, mb: dict[str, torch.Tensor], groups: tuple[torch.Tensor, torch.Tensor] | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``evaluate(mb)``, computed once per distinct input when ``groups`` is given."""
    if groups is None:
        return evaluate(mb)
    first, local = groups
    logp, entropy, values = evaluate({k: mb[k][first] for k in INPUT_FIELDS})
    return logp[local], entropy[local], values[local]


def joint_ppo_update(rollout: Rollout, evaluate: Evaluate, params: list[nn.Parameter], optimizer: torch.optim.Optimizer, value_norm: ValueNorm, cfg: PPOConfig, generator: torch.Generator, steps_done: int = 0) -> dict[str, float]:
    """All agents' losses in one backward pass (STEER, MAPPO, MAT): mean over agents and samples of
    surrogate + value_coef * value loss - entropy_coef * entropy. ``steps_done`` (env steps before
    this update) places the update in the ``follower_first`` schedule."""
    adv, targets = advantages_and_targets(rollout, value_norm, cfg)
    weights = policy_weights(adv.shape[-1], cfg, steps_done)
    data = rollout.flat()
    distinct = DistinctInputs(data) if cfg.distinct_inputs else None
    stats: dict[str, float] = {}
    for _ in range(cfg.ppo_epochs):
        for idx in minibatches(adv.shape[0], cfg.n_minibatches, generator):
            mb = {k: v[idx] for k, v in data.items()}
            groups = None if distinct is None else distinct.groups(idx)
            loss, stats = joint_loss(evaluate, mb, adv[idx], targets[idx], cfg, groups, weights)
            optimizer.zero_grad()
            loss.backward()
            stats["grad_norm"] = float(nn.utils.clip_grad_norm_(params, cfg.max_grad_norm))
            optimizer.step()
    return stats


def joint_loss(evaluate: Evaluate, mb: dict[str, torch.Tensor], adv: torch.Tensor, targets: torch.Tensor, cfg: PPOConfig, groups: tuple[torch.Tensor, torch.Tensor] | None = None, weights: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """surrogate + value_coef * value loss - entropy_coef * entropy, each a mean over samples and
    agents; the surrogate weighted per agent (``policy_weights``, the timescales by default)."""
    logp, entropy, values = evaluate_grouped(evaluate, mb, groups)
    per_agent = clipped_surrogate(logp, mb["logp"], adv, cfg.clip).mean(0)
    w = timescales(per_agent.shape[0], cfg.leader_timescale) if weights is None else weights
    policy_loss = (per_agent * w).mean()
    value_loss = clipped_value_loss(values, mb["values"], targets, cfg.clip, cfg.huber_delta).mean()
    loss = policy_loss + cfg.value_coef * value_loss - cfg.entropy_coef * entropy.mean()
    stats = {"policy_loss": policy_loss.item(), "value_loss": value_loss.item(), "entropy": entropy.mean().item()}
    return loss, stats


# ------------------------------------------------------ sequential updates (HAPPO, STEP)
def critic_update(values_of: Callable[[torch.Tensor], torch.Tensor], params: list[nn.Parameter], optimizer: torch.optim.Optimizer, old_values: torch.Tensor, targets: torch.Tensor, cfg: PPOConfig, generator: torch.Generator) -> float:
    """Epochs of the clipped Huber value loss alone; ``values_of(idx)`` -> values [b, n]."""
    loss = torch.zeros(())
    for _ in range(cfg.ppo_epochs):
        for idx in minibatches(targets.shape[0], cfg.n_minibatches, generator):
            loss = clipped_value_loss(values_of(idx), old_values[idx], targets[idx], cfg.clip, cfg.huber_delta).mean()
            optimizer.zero_grad()
            (cfg.value_coef * loss).backward()
            nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
            optimizer.step()
    return loss.item()


AgentEvaluate = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
"""``evaluate(idx)`` -> one agent's (log-probs, entropies) [b] on the samples ``idx``."""


def agent_actor_update(evaluate: AgentEvaluate, params: list[nn.Parameter], optimizer: torch.optim.Optimizer, old_logp: torch.Tensor, adv: torch.Tensor, weight: torch.Tensor | None, cfg: PPOConfig, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
    """Epochs of one agent's clipped surrogate (optionally weighted, HAPPO) and entropy bonus.

    Returns the agent's new log-probs on the whole batch (to build the next agent's weight)."""
    stats: dict[str, float] = {}
    for _ in range(cfg.ppo_epochs):
        for idx in minibatches(adv.shape[0], cfg.n_minibatches, generator):
            logp, entropy = evaluate(idx)
            w = None if weight is None else weight[idx]
            policy_loss = clipped_surrogate(logp, old_logp[idx], adv[idx], cfg.clip, w).mean()
            loss = policy_loss - cfg.entropy_coef * entropy.mean()
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
            optimizer.step()
            stats = {"policy_loss": policy_loss.item(), "entropy": entropy.mean().item()}
    with torch.no_grad():
        new_logp, _ = evaluate(torch.arange(adv.shape[0]))
    return new_logp, stats
