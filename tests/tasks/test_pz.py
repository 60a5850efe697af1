"""The PettingZoo Parallel wrapper: the official API test on every family, masks, state, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from tasks.alloc import ResourceAllocation
from tasks.base import Task, TaskError
from tasks.grid_easy import GridEasy
from tasks.grid_hard import GridHard
from tasks.matrix import MatrixGame
from tasks.pz import ParallelTaskEnv

FAMILIES = {
    "grid_easy_2x2": lambda: GridEasy.from_instance(2, 2, 0),
    "grid_easy_2x4": lambda: GridEasy.from_instance(2, 4, 3),
    "grid_hard_2x2": lambda: GridHard.from_instance(2, 2, 0),
    "grid_hard_2x4": lambda: GridHard.from_instance(2, 4, 3),
    "alloc_5": lambda: ResourceAllocation(5, 0),
    "alloc_50": lambda: ResourceAllocation(50, 1),
    "penalty_k-100": lambda: MatrixGame("penalty", -100),
    "mixing": lambda: MatrixGame("mixing"),
    "coordination": lambda: MatrixGame("coordination"),
    "cooperation": lambda: MatrixGame("cooperation"),
}


@pytest.mark.parametrize("name", list(FAMILIES))
def test_parallel_api_test_passes(name: str) -> None:
    parallel_api_test(ParallelTaskEnv(FAMILIES[name]()), num_cycles=60)


def random_episode(env: ParallelTaskEnv, seed: int) -> list[tuple]:
    """Masked random play; returns every step's observations, rewards and flags for comparison."""
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    trace = []
    while env.agents:
        actions = {a: int(rng.choice(np.flatnonzero(obs[a]["action_mask"]))) for a in env.agents}
        obs, rewards, terminated, truncated, _ = env.step(actions)
        trace.append((
            {a: o["observation"].tolist() for a, o in obs.items()}, rewards, terminated, truncated,
            env.state().tolist(),
        ))
    return trace


@pytest.mark.parametrize("name", list(FAMILIES))
def test_observations_fit_their_spaces_and_masks_are_honoured(name: str) -> None:
    task: Task = FAMILIES[name]()
    env = ParallelTaskEnv(task)
    obs, infos = env.reset(seed=1)
    rng = np.random.default_rng(1)
    while env.agents:
        for agent, o in obs.items():
            assert env.observation_space(agent).contains(o), agent
        assert env.state_space.contains(env.state())
        assert env.state().shape == (task.state_dim,)
        before = env._state
        mask = task.arrays(before).mask
        actions = {a: int(rng.choice(np.flatnonzero(obs[a]["action_mask"]))) for a in env.agents}
        assert all(mask[task.agents.index(a), i] for a, i in actions.items())
        expected = task.step(before, task.actions_from_indices(before, [actions[a] for a in task.agents]))
        obs, rewards, terminated, truncated, infos = env.step(actions)
        assert rewards == {a: pytest.approx(expected.rewards.get(a, 0.0)) for a in rewards}
        ended = expected.done or env._steps >= task.step_limit
        assert (not env.agents) == ended
        assert all(terminated[a] or truncated[a] for a in terminated) == ended
        assert infos.keys() == rewards.keys() == terminated.keys() == set(task.agents)


@pytest.mark.parametrize("name", ["grid_easy_2x2", "grid_hard_2x4", "alloc_5", "coordination"])
def test_reset_with_a_seed_is_reproducible(name: str) -> None:
    env = ParallelTaskEnv(FAMILIES[name]())
    assert random_episode(env, 4) == random_episode(env, 4)
    first, _ = env.reset(seed=4)
    sampled = [env.action_space(a).sample() for a in env.agents]
    env.reset(seed=4)
    assert sampled == [env.action_space(a).sample() for a in env.agents]
    assert first.keys() == set(env.possible_agents)


def test_task_for_seed_draws_a_fresh_instance_per_seed() -> None:
    env = ParallelTaskEnv(ResourceAllocation(5, 0), task_for_seed=lambda s: ResourceAllocation(5, s))
    env.reset(seed=11)
    mu_11 = env.task.mu
    env.reset(seed=12)
    assert env.task.mu != mu_11
    env.reset(seed=11)
    assert env.task.mu == mu_11
    env.reset()  # no seed: keep the instance
    assert env.task.mu == mu_11
    grid = ParallelTaskEnv(GridEasy.from_instance(2, 2, 0), task_for_seed=lambda s: GridEasy.from_seed(2, 2, s))
    a, _ = grid.reset(seed=21)
    b, _ = grid.reset(seed=21)
    assert all(np.array_equal(a[k]["observation"], b[k]["observation"]) for k in a)


def test_task_for_seed_must_keep_the_shapes() -> None:
    env = ParallelTaskEnv(ResourceAllocation(5, 0), task_for_seed=lambda s: ResourceAllocation(6, s))
    with pytest.raises(TaskError):
        env.reset(seed=1)


def test_alloc_episode_ends_terminated_after_twenty_steps() -> None:
    env = ParallelTaskEnv(ResourceAllocation(5, 0))
    env.reset(seed=0)
    for _ in range(19):
        env.step(dict.fromkeys(env.agents, 4))
        assert env.agents
    _, rewards, terminated, truncated, infos = env.step(dict.fromkeys(env.agents, 4))
    assert not env.agents
    assert all(terminated.values()) and not any(truncated.values())
    assert len(set(rewards.values())) == 1 and "normalised" in infos["Agent[0]"]
    with pytest.raises(TaskError):
        env.step({})


def test_missing_action_is_refused_and_render_is_text() -> None:
    env = ParallelTaskEnv(MatrixGame("mixing"), render_mode="ansi")
    env.reset()
    with pytest.raises(TaskError, match="Agent\\[1\\]"):
        env.step({"Agent[0]": 0})
    assert "step 0 of 1" in env.render()
    assert ParallelTaskEnv(MatrixGame("mixing")).render() is None
