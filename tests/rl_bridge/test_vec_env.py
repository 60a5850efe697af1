"""Vectorised environments reproduce the task objects' own ``step`` exactly."""

from __future__ import annotations

from tests.rl_bridge.conftest import require_torch

require_torch()

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rl_bridge.envs import EnvSpec  # noqa: E402
from rl_bridge.vec_env import MatrixVecEnv  # noqa: E402
from tasks.matrix import GAMES, MatrixGame  # noqa: E402

pytestmark = pytest.mark.torch


@pytest.mark.parametrize("game", GAMES)
def test_matrix_vec_env_matches_task_step(game: str) -> None:
    task = MatrixGame(game, -100 if game == "penalty" else 0)
    env = MatrixVecEnv(task, n_envs=16)
    arrays = env.reset()
    states = [task.initial_state() for _ in range(16)]
    rng = np.random.default_rng(0)
    for _ in range(40):
        actions = rng.integers(0, task.n_actions, size=(16, 2))
        for e in range(16):
            assert np.array_equal(arrays.obs[e], task.arrays(states[e]).obs)
        arrays, rewards, done = env.step(actions)
        for e in range(16):
            out = task.step(states[e], task.actions_from_indices(states[e], actions[e]))
            assert np.allclose(rewards[e], [out.rewards[a] for a in task.agents])
            assert done[e] == out.done
            states[e] = task.initial_state() if out.done else out.state
    assert all(np.isclose(f.returns, f.returns).all() for f in env.finished)


def test_task_vec_env_steps_grid_instances_and_resets_them() -> None:
    env = EnvSpec("grid", size="2x2").vec_env(n_envs=3, seed=0)
    arrays = env.reset(0)
    assert arrays.obs.shape == (3, 4, env.obs_dim) and arrays.mask.shape == (3, 4, env.n_actions)
    rng = np.random.default_rng(1)
    ended = 0
    for _ in range(35):  # past the 30-step limit: every episode ends at least once
        probs = arrays.mask / arrays.mask.sum(-1, keepdims=True)
        actions = np.array([[rng.choice(env.n_actions, p=p) for p in env_probs] for env_probs in probs])
        arrays, rewards, done = env.step(actions)
        assert rewards.shape == (3, 4)
        ended += int(done.sum())
    assert ended >= 3 and len(env.finished) >= 3
