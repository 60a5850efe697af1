"""Training runs end to end: STEER learns Penalty k=0, run folders round-trip, the CLI honours seeds."""

from __future__ import annotations

from tests.rl_bridge.conftest import require_torch

require_torch()

import json  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

from rl_bridge.algorithms import ALGOS  # noqa: E402
from rl_bridge.algorithms.ppo import PPOConfig  # noqa: E402
from rl_bridge.envs import EnvSpec  # noqa: E402
from rl_bridge.run_folder import load_run  # noqa: E402
from rl_bridge.train import main, train_run  # noqa: E402

pytestmark = pytest.mark.torch
PENALTY_0 = EnvSpec("matrix", game="penalty", k=0.0)
FAST = PPOConfig(n_envs=100, episode_length=10)


def test_short_steer_run_on_penalty_k0_reaches_10(tmp_path: Path) -> None:
    _, config = train_run("steer", PENALTY_0, seed=0, cfg=replace(FAST, total_steps=10_000), out=tmp_path, log=False)
    assert config.final["greedy_score"] == 10.0
    assert config.final["at_se"] == 1.0
    folder = tmp_path / "penalty_k0" / "steer" / "seed0"
    assert {p.name for p in folder.iterdir()} >= {"model.pt", "config.json", "curve.csv", "curve.png"}
    rows = (folder / "curve.csv").read_text().splitlines()
    assert len(rows) == 1 + 10  # header + one row per update


@pytest.mark.parametrize("algo_name", ALGOS)
def test_checkpoint_round_trip_gives_identical_actions(tmp_path: Path, algo_name: str) -> None:
    spec = EnvSpec("matrix", game="coordination")
    trained, config = train_run(algo_name, spec, seed=1, cfg=replace(PPOConfig(n_envs=8, episode_length=10), total_steps=160), out=tmp_path, log=False)
    loaded, loaded_config = load_run(tmp_path / "coordination" / algo_name / "seed1")
    assert loaded_config == config
    torch.manual_seed(5)
    obs = torch.rand(50, 2, spec.task().obs_dim)
    state = obs[:, 0]
    mask = torch.ones(50, 2, 3, dtype=torch.bool)
    greedy = [m.act(obs, state, mask, deterministic=True) for m in (trained, loaded)]
    assert all(torch.equal(a, b) for a, b in zip(*greedy, strict=True))
    sampled = []
    for m in (trained, loaded):
        torch.manual_seed(6)
        sampled.append(m.act(obs, state, mask)[0])
    assert torch.equal(*sampled)


def test_training_is_reproducible_from_the_seed(tmp_path: Path) -> None:
    cfg = replace(FAST, total_steps=2000)
    runs = [train_run("steer", EnvSpec("matrix", game="mixing"), 4, cfg, tmp_path / str(i), log=False)[1] for i in range(2)]
    curves = [(tmp_path / str(i) / "mixing" / "steer" / "seed4" / "curve.csv").read_text() for i in range(2)]
    drop_wall = [[line.split(",")[:2] + line.split(",")[3:] for line in c.splitlines()] for c in curves]
    assert drop_wall[0] == drop_wall[1]
    assert runs[0].final["greedy_score"] == runs[1].final["greedy_score"]


def test_cli_trains_exactly_the_listed_seeds(tmp_path: Path) -> None:
    code = main(["--algo", "mappo", "--game", "penalty", "--k", "-100", "--seeds", "3,1", "--steps", "200",
                 "--n-envs", "20", "--episode-length", "10", "--out", str(tmp_path)])
    assert code == 0
    folders = sorted(p.name for p in (tmp_path / "penalty_k-100" / "mappo").iterdir())
    assert folders == ["seed1", "seed3"]
    saved = json.loads((tmp_path / "penalty_k-100" / "mappo" / "seed3" / "config.json").read_text())
    assert saved["seed"] == 3 and saved["env"]["k"] == -100 and saved["ppo"]["total_steps"] == 200
    assert saved["ppo"]["distinct_inputs"] is True


def test_every_sample_trains_the_same_game_the_authors_way(tmp_path: Path) -> None:
    """``--every-sample`` switches off the distinct-input shortcuts; the run still learns Penalty k=0."""
    code = main(["--algo", "steer", "--game", "penalty", "--k", "0", "--seeds", "0", "--steps", "10000",
                 "--n-envs", "100", "--episode-length", "10", "--every-sample", "--out", str(tmp_path)])
    assert code == 0
    saved = json.loads((tmp_path / "penalty_k0" / "steer" / "seed0" / "config.json").read_text())
    assert saved["ppo"]["distinct_inputs"] is False
    assert saved["final"]["greedy_score"] == 10.0


@pytest.mark.parametrize(
    "argv",
    [
        ["--algo", "dqn", "--game", "penalty"],
        ["--algo", "steer", "--game", "penalty", "--seeds", "1,x"],
        ["--algo", "steer", "--game", "penalty", "--seeds", "-1"],
        ["--algo", "steer"],
        ["--algo", "steer", "--game", "penalty", "--task", "grid"],
        ["--algo", "steer", "--task", "grid", "--size", "2by2"],
        ["--algo", "steer", "--game", "penalty", "--k", "5"],
        ["--algo", "steer", "--game", "penalty", "--steps", "0"],
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    assert not list(tmp_path.iterdir())
