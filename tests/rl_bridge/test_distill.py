"""Distillation: the loss falls and the per-agent students reproduce the STEER teacher's argmax."""

from __future__ import annotations

from tests.rl_bridge.conftest import require_torch

require_torch()

from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

from rl_bridge.algorithms.ppo import PPOConfig  # noqa: E402
from rl_bridge.distill import DistillConfig, distill, distill_loss, main  # noqa: E402
from rl_bridge.envs import EnvSpec  # noqa: E402
from rl_bridge.errors import RLUsageError  # noqa: E402
from rl_bridge.run_folder import load_run  # noqa: E402
from rl_bridge.train import train_run  # noqa: E402

pytestmark = pytest.mark.torch
COORDINATION = EnvSpec("matrix", game="coordination")


@pytest.fixture(scope="module")
def teacher_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A STEER teacher trained briefly on Coordination (observations change with step and branch)."""
    out = tmp_path_factory.mktemp("teacher")
    cfg = replace(PPOConfig(), n_envs=50, episode_length=20, total_steps=20_000)
    train_run("steer", COORDINATION, seed=0, cfg=cfg, out=out, log=False)
    return out / "coordination" / "steer" / "seed0"


@pytest.mark.parametrize("variant", ["sampled", "full"])
def test_distillation_loss_falls_and_students_match_teacher_argmax(teacher_dir: Path, tmp_path: Path, variant: str) -> None:
    cfg = DistillConfig(variant=variant, teacher_steps=3000, epochs=60, seed=0)
    student, config, curve = distill(teacher_dir, cfg, tmp_path / variant)
    assert curve[-1]["loss"] < curve[0]["loss"] - 0.05
    assert curve[-1]["rmse"] < curve[0]["rmse"]
    assert config.final["argmax_agreement"] >= 0.95
    # students act alone: the greedy joint policy of the students scores like the teacher's
    assert config.final["student"]["greedy_score"] == pytest.approx(config.final["teacher"]["greedy_score"])
    loaded, _ = load_run(tmp_path / variant)
    obs = torch.rand(20, 2, COORDINATION.task().obs_dim)
    assert torch.equal(loaded.act(obs, None, None, True)[0], student.act(obs, None, None, True)[0])


def test_distill_loss_is_the_log_space_rmse_minus_entropy() -> None:
    teacher = torch.log(torch.tensor([[[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]]]))
    student = torch.log(torch.tensor([[[0.25, 0.5, 0.25], [0.1, 0.8, 0.1]]]))
    actions = torch.tensor([[0, 1]])
    mask = torch.ones(1, 2, 3)
    loss, rmse = distill_loss(student, teacher, actions, mask, "sampled", eta=0.0)
    expected = torch.sqrt(((torch.log(torch.tensor(0.25)) - torch.log(torch.tensor(0.5))) ** 2 + 0.0) / 2)
    assert torch.allclose(rmse, expected, atol=1e-5) and torch.allclose(loss, rmse)
    with_entropy, _ = distill_loss(student, teacher, actions, mask, "sampled", eta=0.5)
    entropy = -(student.exp() * student).sum()
    assert torch.allclose(with_entropy, rmse - 0.5 * entropy, atol=1e-5)
    full_loss, full_rmse = distill_loss(student, teacher, actions, mask, "full", eta=0.0)
    assert torch.allclose(full_rmse, ((student - teacher) ** 2).mean().sqrt(), atol=1e-5)


def test_only_a_steer_run_can_teach(tmp_path: Path) -> None:
    cfg = replace(PPOConfig(), n_envs=10, episode_length=10, total_steps=100)
    train_run("mappo", COORDINATION, seed=0, cfg=cfg, out=tmp_path, log=False)
    with pytest.raises(RLUsageError):
        distill(tmp_path / "coordination" / "mappo" / "seed0", DistillConfig(teacher_steps=100, epochs=1))


def test_distill_cli_bad_teacher_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--teacher", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
