"""``--follower-first``: the followers best-respond before their leaders learn (issue 19 item 4).

The schedule zeroes exactly the waiting agents' policy-loss weights; on a tiny run the leader's
policy does not move while it waits (the follower's does); the trainer records the option in
config.json and labels the run, and the report shows the label as its own row.
"""

from __future__ import annotations

from tests.rl_bridge.conftest import require_torch

require_torch()

import json  # noqa: E402
import math  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

from rl_bridge.algorithms import build  # noqa: E402
from rl_bridge.algorithms.ppo import PPOConfig, policy_weights  # noqa: E402
from rl_bridge.envs import EnvSpec  # noqa: E402
from rl_bridge.policy_table import rollout_act  # noqa: E402
from rl_bridge.report import main as report_main  # noqa: E402
from rl_bridge.rollout import collect  # noqa: E402
from rl_bridge.train import main as train_main  # noqa: E402
from rl_bridge.train import train_run  # noqa: E402
from rl_bridge.vec_env import network_shape  # noqa: E402

pytestmark = pytest.mark.torch


def test_schedule_switches_each_agent_on_after_its_followers() -> None:
    cfg = PPOConfig(total_steps=1000, follower_first=0.4, leader_timescale=0.1)
    # 3 agents: the last from step 0, the middle from 200, the leader from 400
    assert torch.allclose(policy_weights(3, cfg, 0), torch.tensor([0.0, 0.0, 1.0]))
    assert torch.allclose(policy_weights(3, cfg, 200), torch.tensor([0.0, 0.1, 1.0]))
    assert torch.allclose(policy_weights(3, cfg, 400), torch.tensor([0.01, 0.1, 1.0]))
    assert torch.equal(policy_weights(2, PPOConfig(), 0), torch.ones(2))  # the authors' default


def leader_and_follower_probs(algo, spec: EnvSpec) -> tuple[torch.Tensor, torch.Tensor]:
    game = spec.task()
    view = game.arrays(game.initial_state())
    obs = torch.as_tensor(view.obs)[None].float()
    state = torch.as_tensor(view.state)[None].float()
    mask = torch.as_tensor(view.mask)[None]
    with torch.no_grad():
        log_policy, _ = algo.joint_policy(obs, state, torch.zeros(1, 2, dtype=torch.long), mask)
    return log_policy[0, 0].exp(), log_policy[0, 1].exp()


def penalty_run(follower_first: float, updates: int = 5) -> tuple[object, list[torch.Tensor], list[torch.Tensor]]:
    """Penalty k=-100, 20 x 10 samples per update, entropy bonus off: the leader's probabilities
    and the leaders' actions in each rollout."""
    spec = EnvSpec("matrix", game="penalty", k=-100.0)
    cfg = replace(PPOConfig(n_envs=20, episode_length=10, entropy_coef=0.0), total_steps=200 * updates,
                  follower_first=follower_first)
    torch.manual_seed(0)
    env = spec.vec_env(cfg.n_envs, 0, cfg.gamma)
    algo = build("steer", network_shape(env), cfg, 0)
    leader, leader_actions = [leader_and_follower_probs(algo, spec)[0]], []
    current = env.reset(0)
    for _ in range(cfg.n_updates):
        rollout, current, _ = collect(rollout_act(algo, 2, 3), env, current, cfg.episode_length)
        leader_actions.append(rollout.actions[..., 0].flatten())
        algo.update(rollout)
        leader.append(leader_and_follower_probs(algo, spec)[0])
    return algo, leader, leader_actions


def test_waiting_leader_acts_uniformly_and_its_own_loss_is_off() -> None:
    algo, leader, actions = penalty_run(0.5, updates=4)
    assert algo.steps_done == 800
    # updates 1-2 (steps 0-399 < 0.5 * 800): uniform; counts of 200 draws stay near 1/3 each
    for a in actions[:2]:
        assert torch.bincount(a, minlength=3).min() > 45
    waited = float((leader[2] - leader[0]).abs().max())
    learned = float((leader[4] - leader[2]).abs().max())
    # while waiting only the shared trunk and actor head (the follower's and critics' gradients)
    # move the leader's probabilities; its own clipped surrogate moves them more
    assert 0 < waited < learned


@pytest.mark.parametrize("follower_first", [0.0, 0.9])
def test_rollout_log_probs_are_uniform_only_for_a_waiting_leader(follower_first: float) -> None:
    spec = EnvSpec("matrix", game="penalty", k=-100.0)
    cfg = replace(PPOConfig(n_envs=20, episode_length=5), total_steps=1000, follower_first=follower_first)
    torch.manual_seed(0)
    env = spec.vec_env(cfg.n_envs, 0, cfg.gamma)
    algo = build("steer", network_shape(env), cfg, 0)
    for act in (rollout_act(algo, 2, 3), algo.act):  # the policy table and autoregressive decoding
        rollout, _, _ = collect(act, env, env.reset(0), cfg.episode_length)
        uniform = torch.full_like(rollout.logp[..., 0], -math.log(3))
        assert torch.allclose(rollout.logp[..., 0], uniform, atol=1e-6) is bool(follower_first)
        assert not torch.allclose(rollout.logp[..., 1], uniform, atol=1e-6)  # the follower's own policy
    assert (algo.waiting() is None) is (not follower_first)


def test_option_is_recorded_labelled_and_reported(tmp_path: Path) -> None:
    assert train_main(["--algo", "steer", "--game", "penalty", "--k", "-100", "--seeds", "0", "--steps", "400",
                       "--n-envs", "20", "--episode-length", "10", "--leader-timescale", "0.1",
                       "--follower-first", "0.25", "--out", str(tmp_path)]) == 0
    config = json.loads((tmp_path / "penalty_k-100" / "steer-lt0.1-ff0.25" / "seed0" / "config.json").read_text())
    assert config["label"] == "steer-lt0.1-ff0.25"
    assert config["ppo"]["follower_first"] == 0.25 and config["ppo"]["leader_timescale"] == 0.1
    cfg = replace(PPOConfig(n_envs=20, episode_length=10), total_steps=200)
    train_run("steer", EnvSpec("matrix", game="penalty", k=-100.0), 0, cfg, tmp_path, log=False)
    assert report_main([str(tmp_path), "--md", str(tmp_path / "t.md")]) == 0
    rows = [line.split("|")[2].strip() for line in (tmp_path / "t.md").read_text().splitlines()[2:]]
    assert rows == ["steer", "steer-lt0.1-ff0.25"]


def test_follower_first_is_refused_for_other_algorithms(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert train_main(["--algo", "mappo", "--game", "mixing", "--follower-first", "0.2", "--out", str(tmp_path)]) == 2
    assert "--follower-first" in capsys.readouterr().err
