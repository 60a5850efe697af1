"""The shared PPO machinery: per-agent GAE, value normalisation, losses that fall on a fixed batch."""

from __future__ import annotations

import copy

from tests.rl_bridge.conftest import require_torch

require_torch()

import pytest  # noqa: E402
import torch  # noqa: E402

from rl_bridge.algorithms import ALGOS, build  # noqa: E402
from rl_bridge.algorithms.ppo import (  # noqa: E402
    DistinctInputs,
    PPOConfig,
    ValueNorm,
    advantages_and_targets,
    clipped_surrogate,
    clipped_value_loss,
    gae,
    joint_loss,
)
from rl_bridge.envs import EnvSpec  # noqa: E402
from rl_bridge.rollout import collect  # noqa: E402

pytestmark = pytest.mark.torch


def test_gae_uses_each_agents_own_reward_and_stops_at_episode_end() -> None:
    rewards = torch.tensor([[[1.0, 0.0]], [[0.0, 2.0]]])  # [T=2, E=1, n=2]
    values = torch.zeros(2, 1, 2)
    last = torch.tensor([[10.0, 10.0]])
    dones = torch.tensor([[True], [False]])
    adv, returns = gae(rewards, values, last, dones, gamma=0.5, lam=1.0)
    # step 0 ends an episode: no bootstrap into step 1; step 1 bootstraps from the last values.
    assert torch.allclose(adv[0, 0], torch.tensor([1.0, 0.0]))
    assert torch.allclose(adv[1, 0], torch.tensor([0.0 + 0.5 * 10, 2.0 + 0.5 * 10]))
    assert torch.equal(returns, adv + values)


def test_gae_matches_discounted_returns_when_lambda_is_one() -> None:
    torch.manual_seed(0)
    rewards = torch.randn(6, 3, 2)
    dones = torch.zeros(6, 3, dtype=torch.bool)
    values = torch.randn(6, 3, 2)
    _, returns = gae(rewards, values, torch.zeros(3, 2), dones, gamma=0.9, lam=1.0)
    expected = sum(0.9**t * rewards[t] for t in range(6))
    assert torch.allclose(returns[0], expected, atol=1e-5)


def test_value_norm_tracks_mean_and_std_per_agent() -> None:
    norm = ValueNorm(2, beta=0.9)
    data = torch.stack([torch.full((1000,), 5.0) + torch.randn(1000), torch.full((1000,), -100.0) + 10 * torch.randn(1000)], -1)
    for _ in range(100):
        norm.update(data)
    z = norm.normalize(data)
    assert torch.allclose(z.mean(0), torch.zeros(2), atol=0.05)
    assert torch.allclose(z.std(0), torch.ones(2), atol=0.05)
    assert torch.allclose(norm.denormalize(z), data, atol=1e-3)


def test_clipped_surrogate_stops_pushing_past_the_clip() -> None:
    old = torch.zeros(3)
    adv = torch.ones(3)
    logp = torch.log(torch.tensor([1.0, 1.1, 1.5])).requires_grad_()
    loss = clipped_surrogate(logp, old, adv, clip=0.2)
    loss.sum().backward()
    assert torch.allclose(loss.detach(), -torch.tensor([1.0, 1.1, 1.2]))
    assert logp.grad[2] == 0 and logp.grad[0] < 0


def test_value_loss_takes_the_worse_of_clipped_and_unclipped() -> None:
    old = torch.zeros(1)
    target = torch.ones(1)
    moved_past = torch.tensor([1.0])  # clipped to 0.2 -> error 0.8 dominates
    assert torch.allclose(clipped_value_loss(moved_past, old, target, 0.2, 10.0), torch.tensor([0.5 * 0.8**2]))


def first_batch(algo_name: str, spec: EnvSpec, cfg: PPOConfig):
    """A fresh algorithm, its first rollout, and the advantages and targets its update will compute
    (from a copy of its value normaliser, which the update would move)."""
    torch.manual_seed(0)
    env = spec.vec_env(cfg.n_envs, 0)
    shape = {"n_agents": 2, "obs_dim": env.obs_dim, "state_dim": env.state_dim, "n_actions": env.n_actions}
    algo = build(algo_name, shape, cfg, 0)
    rollout, _, _ = collect(algo.act, env, env.reset(0), cfg.episode_length)
    adv, targets = advantages_and_targets(rollout, copy.deepcopy(algo.value_norm), cfg)
    return algo, rollout, adv, targets


@pytest.mark.parametrize("algo_name", ALGOS)
def test_ppo_loss_falls_on_a_fixed_batch(algo_name: str) -> None:
    cfg = PPOConfig(n_envs=32, episode_length=8, ppo_epochs=10)
    algo, rollout, adv, targets = first_batch(algo_name, EnvSpec("matrix", game="penalty", k=-100.0), cfg)
    data = rollout.flat()

    def loss_now() -> float:
        with torch.no_grad():
            return joint_loss(lambda mb: evaluate_any(algo, mb), data, adv, targets, cfg)[0].item()

    before = loss_now()
    algo.update(rollout)
    assert loss_now() < before - 1e-3


def evaluate_any(algo, mb):
    """Teacher-forced (log-probs, entropies, values) for any of the five algorithms."""
    if algo.name == "steer":
        return algo.net.evaluate(mb["obs"], mb["state"], mb["actions"], mb["mask"])
    if algo.name == "mat":
        return algo.net.evaluate(mb["obs"], mb["actions"], mb["mask"])
    if algo.name == "mappo":
        dist = algo.policy(mb["obs"], mb["mask"])
        return dist.log_prob(mb["actions"]), dist.entropy(), algo.critic(mb["state"])
    if algo.name == "happo":
        logits = algo.actors(mb["obs"], mb["mask"])
    else:
        logp, entropy = algo.policy.evaluate(mb["obs"], mb["actions"], mb["mask"])
        return logp, entropy, algo.critic(mb["state"])
    dist = torch.distributions.Categorical(logits=logits)
    return dist.log_prob(mb["actions"]), dist.entropy(), algo.critic(mb["state"])


def test_leader_timescale_scales_only_the_leaders_gradient() -> None:
    from rl_bridge.algorithms.ppo import timescales

    assert torch.allclose(timescales(3, 0.1), torch.tensor([0.01, 0.1, 1.0]))
    assert torch.equal(timescales(2, 1.0), torch.ones(2))


@pytest.mark.parametrize("algo_name", ("steer", "mappo", "mat"))
def test_grouping_distinct_inputs_gives_the_same_loss_and_gradient(algo_name: str) -> None:
    cfg = PPOConfig(n_envs=16, episode_length=16)
    algo, rollout, adv, targets = first_batch(algo_name, EnvSpec("matrix", game="coordination"), cfg)
    data = rollout.flat()
    idx = torch.randperm(adv.shape[0])
    mb = {k: v[idx] for k, v in data.items()}
    groups = DistinctInputs(data).groups(idx)
    assert groups is not None and groups[0].shape[0] < 40  # 256 samples, a few obs x 9 joint actions

    def loss_and_grads(g):
        params = [p for m in algo.modules().values() for p in m.parameters() if p.requires_grad]
        for p in params:
            p.grad = None
        loss, _ = joint_loss(lambda b: evaluate_any(algo, b), mb, adv[idx], targets[idx], cfg, g)
        loss.backward()
        return loss.detach(), [p.grad.clone() for p in params if p.grad is not None]

    plain_loss, plain_grads = loss_and_grads(None)
    grouped_loss, grouped_grads = loss_and_grads(groups)
    assert torch.allclose(grouped_loss, plain_loss, rtol=1e-5, atol=1e-6)
    assert len(grouped_grads) == len(plain_grads) > 0
    for a, b in zip(grouped_grads, plain_grads, strict=True):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6)


def test_grouping_is_skipped_when_inputs_do_not_repeat() -> None:
    data = {"obs": torch.randn(64, 2, 5), "state": torch.randn(64, 5), "mask": torch.ones(64, 2, 3, dtype=torch.bool), "actions": torch.randint(0, 3, (64, 2))}
    assert DistinctInputs(data).groups(torch.arange(64)) is None
    repeated = {k: v[torch.arange(64) % 4] for k, v in data.items()}
    first, local = DistinctInputs(repeated).groups(torch.arange(64))
    assert first.shape[0] == 4
    assert all(torch.equal(repeated["obs"][first[local[i]]], repeated["obs"][i]) for i in range(64))
