"""Rollouts by table lookup: the same distributions, log-probs and values as the autoregressive
decode; masked actions never drawn; the table steps aside where it cannot pay."""

from __future__ import annotations

from tests.rl_bridge.conftest import require_torch

require_torch()

import pytest  # noqa: E402
import torch  # noqa: E402

import rl_bridge.policy_table as policy_table  # noqa: E402
from rl_bridge.algorithms import build  # noqa: E402
from rl_bridge.algorithms.ppo import PPOConfig  # noqa: E402
from rl_bridge.envs import EnvSpec  # noqa: E402
from rl_bridge.policy_table import PolicyTable, rollout_act  # noqa: E402

pytestmark = pytest.mark.torch


def trained_a_little(algo_name: str, seed: int = 0):
    """An algorithm on Coordination whose policy is no longer uniform (one PPO update)."""
    from rl_bridge.rollout import collect

    torch.manual_seed(seed)
    spec = EnvSpec("matrix", game="coordination")
    cfg = PPOConfig(n_envs=20, episode_length=10)
    env = spec.vec_env(cfg.n_envs, seed)
    shape = {"n_agents": 2, "obs_dim": env.obs_dim, "state_dim": env.state_dim, "n_actions": env.n_actions}
    algo = build(algo_name, shape, cfg, seed)
    rollout, current, _ = collect(algo.act, env, env.reset(seed), cfg.episode_length)
    algo.update(rollout)
    return algo, env, current


def teacher_forced(algo, obs, state, actions, mask):
    log_policy, values = algo.joint_policy(obs, state, actions, mask)
    return log_policy.gather(-1, actions.unsqueeze(-1)).squeeze(-1), values


@pytest.mark.parametrize("algo_name", ("steer", "mat", "mappo", "happo"))
def test_table_log_probs_and_values_are_the_decoders(algo_name: str) -> None:
    algo, env, current = trained_a_little(algo_name)
    table = rollout_act(algo, env.n_agents, env.n_actions)
    assert isinstance(table, PolicyTable)
    obs, state, mask = (torch.from_numpy(x) for x in (current.obs, current.state, current.mask))
    actions, logp, values = table(obs, state, mask)
    with torch.no_grad():
        want_logp, want_values = teacher_forced(algo, obs, state, actions, mask)
        _, decode_logp, decode_values = algo.act(obs, state, mask, deterministic=True)
        greedy, _, _ = table(obs, state, mask, deterministic=True)
        decoded, _, _ = algo.act(obs, state, mask, deterministic=True)
    assert torch.allclose(logp, want_logp, atol=1e-5)
    assert torch.allclose(values, want_values, atol=1e-5)
    assert torch.equal(greedy, decoded)


def test_table_draws_follow_the_policy() -> None:
    algo, env, current = trained_a_little("steer")
    table = rollout_act(algo, env.n_agents, env.n_actions)
    one = [torch.from_numpy(x[:1]).repeat_interleave(20_000, 0) for x in (current.obs, current.state, current.mask)]
    actions, _, _ = table(*one)
    log_policy, _ = algo.joint_policy(one[0][:1], one[1][:1], torch.zeros(1, 2, dtype=torch.long), one[2][:1])
    leader = torch.bincount(actions[:, 0], minlength=3).float() / 20_000
    assert torch.allclose(leader, log_policy[0, 0].exp().detach(), atol=0.015)
    # the follower's draws, given the leader's action 0, follow pi_2(. | s, a_1 = 0)
    after0 = actions[actions[:, 0] == 0, 1]
    follower, _ = algo.joint_policy(one[0][:1], one[1][:1], torch.zeros(1, 2, dtype=torch.long), one[2][:1])
    freq = torch.bincount(after0, minlength=3).float() / after0.shape[0]
    assert torch.allclose(freq, follower[0, 1].exp().detach(), atol=0.03)


def test_masked_actions_are_never_drawn_from_the_table() -> None:
    torch.manual_seed(3)
    algo = build("steer", {"n_agents": 2, "obs_dim": 4, "state_dim": 4, "n_actions": 3}, PPOConfig(), 3)
    table = rollout_act(algo, 2, 3)
    obs = torch.randn(4, 2, 4).repeat_interleave(500, 0)
    mask = torch.ones(2000, 2, 3, dtype=torch.bool)
    mask[:, 0, 1] = False  # the leader may not take action 1
    mask[:, 1, 0] = mask[:, 1, 2] = False  # the follower must take action 1
    actions, logp, _ = table(obs, obs[:, 0], mask)
    assert not (actions[:, 0] == 1).any()
    assert (actions[:, 1] == 1).all()
    assert torch.isfinite(logp).all() and (logp[:, 1].abs() < 1e-5).all()


def test_a_renewed_table_follows_the_new_weights() -> None:
    algo, env, current = trained_a_little("steer")
    obs, state, mask = (torch.from_numpy(x) for x in (current.obs, current.state, current.mask))
    old = rollout_act(algo, env.n_agents, env.n_actions)
    old(obs, state, mask)
    with torch.no_grad():
        for p in algo.net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    renewed = rollout_act(algo, env.n_agents, env.n_actions, previous=old)
    assert isinstance(renewed, PolicyTable) and renewed.index.keys() == old.index.keys()
    actions, logp, values = renewed(obs, state, mask)
    with torch.no_grad():
        want_logp, want_values = teacher_forced(algo, obs, state, actions, mask)
    assert torch.allclose(logp, want_logp, atol=1e-5) and torch.allclose(values, want_values, atol=1e-5)


def test_the_table_steps_aside_where_it_cannot_pay(monkeypatch: pytest.MonkeyPatch) -> None:
    algo, env, current = trained_a_little("steer")
    assert rollout_act(algo, env.n_agents, env.n_actions, enabled=False) == algo.act
    assert rollout_act(algo, 4, 9) == algo.act  # 9^4 joint actions: too many rows per input
    step = build("step", {"n_agents": 2, "obs_dim": env.obs_dim, "state_dim": env.state_dim, "n_actions": 3}, PPOConfig(), 0)
    assert rollout_act(step, 2, 3) == step.act  # no joint_policy: decodes as ever
    # inputs that do not repeat fill the table; from then on it hands over to the decoder
    monkeypatch.setattr(policy_table, "MAX_INPUTS", 4)
    table = rollout_act(algo, 2, 3)
    obs = torch.randn(8, 2, env.obs_dim)
    actions, logp, values = table(obs, obs[:, 0], torch.ones(8, 2, 3, dtype=torch.bool))
    assert table.overflowed and actions.shape == (8, 2) and logp.shape == values.shape == (8, 2)
    assert rollout_act(algo, 2, 3, previous=table) == algo.act  # and the next rollouts decode
