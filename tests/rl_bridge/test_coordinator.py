"""Trained policies as coordinators on the shared tasks (what ``--coordinator steer|mappo|happo|mat|step|student``
loads)."""

from __future__ import annotations

from tests.rl_bridge.conftest import require_torch

require_torch()

import asyncio  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from rl_bridge.algorithms import ALGOS  # noqa: E402
from rl_bridge.algorithms.ppo import PPOConfig  # noqa: E402
from rl_bridge.coordinator import load_coordinator  # noqa: E402
from rl_bridge.distill import DistillConfig, distill  # noqa: E402
from rl_bridge.envs import EnvSpec  # noqa: E402
from rl_bridge.errors import RLUsageError  # noqa: E402
from rl_bridge.train import train_run  # noqa: E402
from tasks.base import Task  # noqa: E402
from tasks.catalog import grid_task, matrix_task  # noqa: E402
from tasks.coordinator import Coordinator  # noqa: E402

pytestmark = pytest.mark.torch
GRID = EnvSpec("grid", size="2x2", difficulty="easy")
TINY = replace(PPOConfig(), n_envs=4, episode_length=8, total_steps=32)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    for algo in ALGOS:
        train_run(algo, GRID, seed=0, cfg=TINY, out=out, log=False, eval_every=100)
    distill(out / GRID.name / "steer" / "seed0", DistillConfig(teacher_steps=64, n_envs=4, epochs=2), out / "student")
    return out


def play(coordinator: Coordinator, task: Task) -> int:
    """Run an episode through ``decide``; every joint action must be doable. Returns steps."""
    state, steps = task.initial_state(), 0
    while True:
        decision = asyncio.run(coordinator.decide(task, state, []))
        doable = task.doable(state)
        assert all(action in doable[agent] for agent, action in decision.joint_action.items())
        outcome = task.step(state, decision.joint_action)
        state, steps = outcome.state, steps + 1
        if outcome.done:
            return steps


@pytest.mark.parametrize("kind,folder", [*((a, f"grid_easy_2x2/{a}/seed0") for a in ALGOS), ("student", "student")])
def test_trained_policies_play_the_grid_with_doable_actions_only(runs: Path, kind: str, folder: str) -> None:
    task = grid_task("2x2", "easy", instance=4)
    coordinator = load_coordinator(kind, runs / folder, task)
    assert isinstance(coordinator, Coordinator) and coordinator.name == kind
    assert 1 <= play(coordinator, task) <= task.step_limit


def test_greedy_coordinator_is_deterministic(runs: Path) -> None:
    task = grid_task("2x2", "easy", instance=2)
    coordinator = load_coordinator("steer", runs / "grid_easy_2x2" / "steer" / "seed0", task)
    first = asyncio.run(coordinator.decide(task, task.initial_state(), []))
    again = asyncio.run(coordinator.decide(task, task.initial_state(), []))
    assert first.joint_action == again.joint_action and first.counters["policy_calls"] == 1


def test_a_converged_steer_run_plays_the_penalty_se(tmp_path: Path) -> None:
    cfg = replace(PPOConfig(), n_envs=100, episode_length=10, total_steps=10_000)
    train_run("steer", EnvSpec("matrix", game="penalty", k=0.0), seed=0, cfg=cfg, out=tmp_path, log=False)
    game = matrix_task("penalty", 0)
    decision = asyncio.run(load_coordinator("steer", tmp_path, game).decide(game, game.initial_state(), []))
    assert decision.joint_action == {"Agent[0]": "0", "Agent[1]": "2"}


def test_mismatches_are_user_errors(runs: Path) -> None:
    grid = grid_task("2x2", "easy", instance=0)
    with pytest.raises(RLUsageError, match="needs a mappo run"):
        load_coordinator("mappo", runs / "grid_easy_2x2" / "steer" / "seed0", grid)
    with pytest.raises(RLUsageError, match="trained on grid_easy_2x2"):
        load_coordinator("steer", runs / "grid_easy_2x2" / "steer" / "seed0", matrix_task("penalty", 0))
    with pytest.raises(RLUsageError, match=f"holds {len(ALGOS)} runs"):
        load_coordinator("steer", runs / "grid_easy_2x2", grid)
    with pytest.raises(RLUsageError):
        load_coordinator("dqn", runs / "student", grid)
