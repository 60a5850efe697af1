"""The football environment on the real engine: the VecEnv face, seeding, and a short STEER run.

Needs the optional ``football`` extra. Without it these tests skip; under ``CI=true`` they fail only
where the set-up installs it (``LLAMAC_FOOTBALL=1``), since CI's default set-up leaves it out.
"""

from __future__ import annotations

from tests.rl_bridge.conftest import require_torch

require_torch()

import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tests.conftest import service_missing  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.football]
SCENARIO = "academy_pass_and_shoot_with_keeper"


@pytest.fixture(autouse=True)
def _gfootball() -> None:
    if importlib.util.find_spec("gfootball") is None:
        if os.environ.get("LLAMAC_FOOTBALL") == "1":
            service_missing("gfootball", "LLAMAC_FOOTBALL=1 but the football extra is not installed")
        pytest.skip("gfootball unavailable: the optional football extra is not installed (scripts/install_football.sh)")


def run(env, steps: int, seed: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    current = env.reset(seed)
    trace = [current.obs.copy()]
    for _ in range(steps):
        actions = np.stack([[rng.choice(np.flatnonzero(m)) for m in game] for game in current.mask])
        current, rewards, done = env.step(actions)
        trace.append(current.obs.copy())
    return np.stack(trace), rewards, done


def test_football_env_has_the_vec_env_face() -> None:
    from rl_bridge.football.env import FootballVecEnv

    env = FootballVecEnv(SCENARIO, n_envs=2, seed=0)
    current = env.reset(0)
    assert (env.n_agents, env.n_actions) == (2, 19)
    assert current.obs.shape == (2, 2, env.obs_dim) and current.obs.dtype == np.float32
    assert current.state.shape == (2, env.state_dim) and current.mask.shape == (2, 2, 19) and current.mask.dtype == bool
    assert current.mask.any(-1).all()
    _, rewards, done = run(env, 20, 1)
    assert rewards.shape == (2, 2) and rewards.dtype == np.float32 and done.shape == (2,) and done.dtype == bool
    env.close()


def test_football_env_is_reproducible_from_its_seed() -> None:
    from rl_bridge.football.env import FootballVecEnv

    traces = []
    for _ in range(2):
        env = FootballVecEnv(SCENARIO, n_envs=1, seed=3)
        traces.append(run(env, 30, 4)[0])
        env.close()
    assert np.array_equal(*traces)


@pytest.mark.slow
def test_short_steer_run_on_football_saves_a_run_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rl_bridge.evaluate
    from rl_bridge.train import main

    monkeypatch.setattr(rl_bridge.evaluate, "FOOTBALL_EPISODES", 2)  # the final evaluation, kept short

    assert main(["--algo", "steer", "--task", "football", "--scenario", SCENARIO, "--seeds", "0", "--steps", "200",
                 "--n-envs", "2", "--episode-length", "50", "--ppo-epochs", "2", "--out", str(tmp_path)]) == 0
    config = json.loads((tmp_path / "football_pass_and_shoot_with_keeper" / "steer" / "seed0" / "config.json").read_text())
    assert config["env"]["game"] == SCENARIO and 0.0 <= config["final"]["greedy_score"] <= 1.0
