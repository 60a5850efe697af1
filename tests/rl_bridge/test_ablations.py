"""STEER's ablations: each switch changes what the network computes, and the trainer records it.

Causality tests: without the OTB agent i's policy ignores a_<i (with it, it does not); without the
ITB agent i's policy ignores the other agents' observations; with a priority order the decoding
follows the rank columns (the leader ignores every action, masks follow the order, decode and
teacher forcing agree); the priority wrapper draws a new order per episode.
"""

from __future__ import annotations

from tests.rl_bridge.conftest import require_torch

require_torch()

import json  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from rl_bridge.algorithms.ppo import PPOConfig  # noqa: E402
from rl_bridge.envs import EnvSpec  # noqa: E402
from rl_bridge.networks.steer import SteerNet, SteerShape  # noqa: E402
from rl_bridge.priority import PriorityVecEnv  # noqa: E402
from rl_bridge.report import main as report_main  # noqa: E402
from rl_bridge.train import main as train_main  # noqa: E402
from rl_bridge.train import train_run  # noqa: E402
from tests.rl_bridge.test_networks import OBS, STATE, A, B, N, inputs, perturbed, random_mask  # noqa: E402

pytestmark = pytest.mark.torch


def net(**options: object) -> SteerNet:
    torch.manual_seed(0)
    return perturbed(SteerNet(SteerShape(N, OBS, A, STATE, d=32, **options)))  # type: ignore[arg-type]


def with_ranks(obs: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """Append each agent's rank (one-hot) for the decoding ``order`` [B, n]."""
    rank = order.argsort(-1)
    return torch.cat([obs, torch.nn.functional.one_hot(rank, N).float()], dim=-1)


@pytest.mark.parametrize("otb", [True, False])
def test_without_otb_agent_i_ignores_earlier_actions(otb: bool) -> None:
    model = net(otb=otb)
    obs, state = inputs()
    torch.manual_seed(2)
    actions = torch.randint(0, A, (B, N))
    changed = actions.clone()
    changed[:, :-1] = (actions[:, :-1] + 1) % A  # every a_<n changes
    same = torch.allclose(model.log_policy(obs, state, actions, None), model.log_policy(obs, state, changed, None), atol=1e-6)
    assert same is (not otb)


@pytest.mark.parametrize("itb", [True, False])
def test_without_itb_agent_i_ignores_the_others_observations(itb: bool) -> None:
    model = net(itb=itb)
    obs, state = inputs()
    actions = torch.randint(0, A, (B, N))
    other = obs.clone()
    other[:, 1:] = torch.randn(B, N - 1, OBS)  # only agent 0's observation is kept
    leader = [model.log_policy(o, state, actions, None)[:, 0] for o in (obs, other)]
    assert torch.allclose(*leader, atol=1e-6) is (not itb)


def random_orders(b: int = B) -> torch.Tensor:
    torch.manual_seed(7)
    return torch.stack([torch.randperm(N) for _ in range(b)])


def test_priority_order_decides_who_sees_whose_action() -> None:
    """pi_i depends on the actions of agents ranked before i, never on those ranked after."""
    model = net(priority="random")
    obs, state = inputs()
    order = random_orders()
    obs_r = with_ranks(obs, order)
    rank = order.argsort(-1)
    torch.manual_seed(2)
    actions = torch.randint(0, A, (B, N))
    base = model.log_policy(obs_r, state, actions, None)
    for position in range(N):
        changed = actions.clone()
        later = rank >= position  # agents at this position or after it
        changed[later] = (actions[later] + 1) % A
        other = model.log_policy(obs_r, state, changed, None)
        unchanged = rank <= position  # agents up to this position see only earlier ranks
        assert torch.allclose(base[unchanged], other[unchanged], atol=1e-6)
        if position < N - 1:
            assert not torch.allclose(base[~unchanged], other[~unchanged], atol=1e-4)


def test_priority_decode_agrees_with_teacher_forcing_and_masks_follow_the_order() -> None:
    model = net(priority="random")
    obs, state = inputs(512)
    order = random_orders(512)
    mask = random_mask(512)
    actions, logp, values = model.decode(with_ranks(obs, order), state, mask)
    assert mask.gather(-1, actions.unsqueeze(-1)).all()
    logp_tf, _, values_tf = model.evaluate(with_ranks(obs, order), state, actions, mask)
    assert torch.allclose(logp, logp_tf, atol=1e-5) and torch.allclose(values, values_tf, atol=1e-5)


def test_observation_without_rank_columns_is_the_fixed_order() -> None:
    model = net(priority="random")
    obs, state = inputs()
    actions = torch.randint(0, A, (B, N))
    identity = torch.arange(N).expand(B, N)
    assert torch.allclose(model.log_policy(obs, state, actions, None),
                          model.log_policy(with_ranks(obs, identity), state, actions, None))


def leaders(rule: str, episodes: int = 12) -> np.ndarray:
    env = PriorityVecEnv(EnvSpec("matrix", game="penalty").vec_env(4, 0), rule, seed=3)
    arrays = env.reset(3)
    out = []
    for _ in range(episodes):
        out.append(arrays.obs[:, :, -2:].argmax(-1).argmin(-1))  # the agent with rank 0, per env
        arrays, _, done = env.step(np.zeros((4, 2), dtype=np.int64))
        assert done.all()  # Penalty: one step per episode
    return np.stack(out)


def test_random_priority_changes_the_leader_across_episodes() -> None:
    lead = leaders("random")
    assert 0 < lead.mean() < 1 and all(len(set(lead[:, e])) == 2 for e in range(4))


def test_rotating_priority_passes_the_lead_on_every_episode() -> None:
    lead = leaders("rotate")
    assert (lead[1:] != lead[:-1]).all()


@pytest.mark.parametrize("flags,label", [(["--no-itb"], "steer-no-itb"), (["--no-otb"], "steer-no-otb"),
                                         (["--priority", "random"], "steer-prio-random"),
                                         (["--priority", "rotate"], "steer-prio-rotate")])
def test_each_ablation_trains_and_is_recorded_in_config_json(tmp_path: Path, flags: list[str], label: str) -> None:
    assert train_main(["--algo", "steer", "--game", "coordination", "--seeds", "0", "--steps", "400",
                       "--n-envs", "20", "--episode-length", "10", "--out", str(tmp_path), *flags]) == 0
    config = json.loads((tmp_path / "coordination" / label / "seed0" / "config.json").read_text())
    assert config["label"] == label
    shape = config["shape"]
    assert (shape["itb"], shape["otb"], shape["priority"]) == (
        "--no-itb" not in flags, "--no-otb" not in flags, flags[1] if flags[0] == "--priority" else "fixed")


def test_ablation_flags_are_refused_for_other_algorithms(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert train_main(["--algo", "mappo", "--game", "mixing", "--no-otb", "--out", str(tmp_path)]) == 2
    assert "STEER ablations" in capsys.readouterr().err


def test_report_shows_each_ablation_as_its_own_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = replace(PPOConfig(n_envs=20, episode_length=10), total_steps=200)
    for options in ({}, {"otb": False}, {"priority": "random"}):
        train_run("steer", EnvSpec("matrix", game="mixing"), 0, cfg, tmp_path, net_options=options, log=False)
    assert report_main([str(tmp_path), "--md", str(tmp_path / "t.md")]) == 0
    rows = [line.split("|")[2].strip() for line in (tmp_path / "t.md").read_text().splitlines()[2:]]
    assert rows == ["steer", "steer-no-otb", "steer-prio-random"]
