"""Recipes: they load and validate, a bad one is refused in one line, a run records its recipe, and
shaping changes what the learner sees but never the environment's own rewards or success."""

from __future__ import annotations

from tests.rl_bridge.conftest import require_torch

require_torch()

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rl_bridge.envs import EnvSpec  # noqa: E402
from rl_bridge.errors import RLUsageError  # noqa: E402
from rl_bridge.recipes import RECIPE_ALGOS, recipe, recipe_for, recipe_names  # noqa: E402
from rl_bridge.shaping import Shaping  # noqa: E402
from rl_bridge.train import main, train_recipe  # noqa: E402
from tasks.catalog import grid_task  # noqa: E402

pytestmark = pytest.mark.torch
NAMES = ("grid-easy-2x2", "grid-easy-2x4", "grid-easy-4x8", "grid-hard-2x2", "grid-hard-2x4", "alloc-5", "alloc-10", "alloc-50")


def test_every_named_recipe_validates_for_every_algorithm() -> None:
    assert recipe_names() == NAMES
    for name in NAMES:
        for algo in RECIPE_ALGOS:
            r = recipe(name, algo)
            assert r.algo == algo and r.env_spec().kind == r.task.kind
            assert r.ppo_config().total_steps > 0
            assert recipe_for(r.env_spec().__class__(r.task.kind, size=r.task.size, difficulty=r.task.difficulty,
                                                     agents=r.task.agents)) == name


def test_recipe_for_a_task_object_names_its_shape() -> None:
    assert recipe_for(grid_task("2x4", "hard", instance=0)) == "grid-hard-2x4"
    assert recipe_for(grid_task("3x3", "easy", seed=1)) is None


def test_unknown_recipe_is_one_line_naming_the_flag(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--recipe", "grid-easy-9x9", "--seeds", "0", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: --recipe: unknown recipe 'grid-easy-9x9'")
    assert "grid-easy-2x4" in err
    with pytest.raises(RLUsageError, match="--algo"):
        recipe("alloc-10", "student")


def test_a_recipe_with_an_unknown_ppo_setting_is_refused_by_field(tmp_path: Path) -> None:
    path = tmp_path / "recipes.toml"
    path.write_text('[recipes.x]\ntask = { kind = "grid" }\nbudget_minutes = 1\n'
                    'target = { metric = "success", at_least = 0.9, minutes = 1 }\nppo = { learning_rate = 1.0 }\n')
    with pytest.raises(RLUsageError, match=r"recipe x \(steer\) in recipes.toml: ppo: .*learning_rate"):
        recipe("x", path=path)


def test_a_recipe_run_records_its_recipe_in_config_json(tmp_path: Path) -> None:
    code = main(["--recipe", "grid-easy-2x2", "--seeds", "3", "--steps", "256", "--n-envs", "4",
                 "--episode-length", "32", "--out", str(tmp_path)])
    assert code == 0
    saved = json.loads((tmp_path / "grid_easy_2x2" / "steer" / "seed3" / "config.json").read_text())
    assert saved["recipe"]["name"] == "grid-easy-2x2" and saved["recipe"]["algo"] == "steer"
    assert saved["recipe"]["observation"] == saved["env"]["observation"] == "targets"
    assert saved["env"]["shaping"] == saved["recipe"]["shaping"] == 1.0
    assert saved["ppo"]["total_steps"] == 256 and saved["ppo"]["n_minibatches"] == saved["recipe"]["ppo"]["n_minibatches"]
    assert {"success", "fresh"} <= set(saved["final"]) and "success" in saved["final"]["fresh"]


def _drive(spec: EnvSpec, steps: int) -> tuple[list[np.ndarray], list[tuple[float, ...]]]:
    """Step a vectorised env with the same seeded random legal actions; the learner's rewards and the
    finished episodes' (returns, success, length)."""
    env = spec.vec_env(4, seed=7, gamma=0.99)
    current = env.reset(7)
    rng = np.random.default_rng(0)
    learner, ended = [], []
    for _ in range(steps):
        choice = np.array([[rng.choice(np.flatnonzero(m)) for m in env_mask] for env_mask in current.mask])
        current, rewards, _ = env.step(choice)
        learner.append(rewards.copy())
        ended += [(*e.returns.tolist(), float(e.success), float(e.length)) for e in env.finished]
        env.finished = []
    return learner, ended


@pytest.mark.parametrize("difficulty", ["easy", "hard"])
def test_shaping_changes_the_learners_reward_not_the_environments(difficulty: str) -> None:
    plain = EnvSpec("grid", size="2x2", difficulty=difficulty, observation="targets")
    shaped = EnvSpec("grid", size="2x2", difficulty=difficulty, observation="targets", shaping=1.0)
    plain_rewards, plain_ended = _drive(plain, 120)
    shaped_rewards, shaped_ended = _drive(shaped, 120)
    assert plain_ended and plain_ended == shaped_ended  # returns, success, lengths: the environment's own
    assert not np.allclose(np.stack(plain_rewards), np.stack(shaped_rewards))


def test_shaping_term_is_gamma_phi_next_minus_phi_and_zero_at_the_end() -> None:
    task = grid_task("2x4", "easy", instance=0)
    s0 = task.initial_state()
    joint = {task.agents[0]: task.doable(s0)[task.agents[0]][0]} if task.doable(s0)[task.agents[0]] else {}
    s1 = task.step(s0, joint).state
    shaping = Shaping(scale=2.0, gamma=0.9)
    assert shaping.term(task, s0, s1, False) == pytest.approx(2.0 * (-0.9 * task.potential(s1) + task.potential(s0)))
    assert shaping.term(task, s0, s1, True) == pytest.approx(2.0 * task.potential(s0))
    assert Shaping().term(task, s0, s1, False) == 0.0


def test_train_recipe_accepts_a_recipe_object_and_overrides(tmp_path: Path) -> None:
    _, config = train_recipe(recipe("alloc-10", "mappo"), seed=0, out=None,
                             overrides={"total_steps": 160, "n_envs": 2, "episode_length": 40}, log=False)
    assert config.recipe["algo"] == "mappo" and config.ppo.total_steps == 160
    assert "normalised_last" in config.final


SLOW_RECIPES = ["grid-easy-2x4", "grid-hard-2x4", "grid-easy-4x8", "alloc-50"]


def _improves(name: str, steps: int) -> tuple[float, float]:
    """Greedy score on 3 golden instances of the untrained policy and after ``steps`` of the recipe."""
    import torch

    from rl_bridge.algorithms import build
    from rl_bridge.evaluate import evaluate

    r = recipe(name)
    spec = r.env_spec()
    tiny = {"total_steps": steps, "n_envs": 8, "episode_length": 32}
    trained, config = train_recipe(r, seed=0, out=None, overrides=tiny, eval_every=10**6, log=False,
                                   evaluate_at_end=False)
    torch.manual_seed(0)  # the same initial weights the run started from
    untrained = build(r.algo, {**config.shape}, config.ppo, seed=0)
    return evaluate(untrained, spec, n_instances=3)["greedy_score"], evaluate(trained, spec, n_instances=3)["greedy_score"]


GRID_FAST_RECIPES = ["grid-easy-2x2", "grid-hard-2x2"]


@pytest.mark.parametrize("name", GRID_FAST_RECIPES)
def test_a_short_run_of_the_recipe_beats_the_untrained_policy(name: str) -> None:
    before, after = _improves(name, 4096)
    assert after > before + 0.1, (before, after)


def test_a_short_run_of_the_alloc_recipe_raises_its_sampled_return(tmp_path: Path) -> None:
    """Allocation: what a short run improves is the (sampled) policy it trains. Its *greedy* score
    after 8k-16k steps is chaotic: over training seeds 0-4 at 8,192 steps the greedy normalised reward
    of 3 instances went 0.53->0.71, 0.55->0.94, 0.43->0.23, 0.60->0.01, 0.15->0.53, and seed 0, which
    gives 358->449 here, gave 358->344 in one CI run (the cause there was not isolated). The sampled return
    of the last quarter of 64 updates beat the first quarter's (the untrained policy's own rollouts)
    by 1.23x-1.36x on training seeds 0-4 (16,384 steps); the test asks seed 0 for 1.1x."""
    import csv

    tiny = {"total_steps": 16384, "n_envs": 8, "episode_length": 32}
    train_recipe(recipe("alloc-10"), seed=0, out=tmp_path, overrides=tiny, eval_every=10**6, log=False,
                 evaluate_at_end=False)
    with next(tmp_path.rglob("curve.csv")).open() as f:
        returns = [float(row["train_return"]) for row in csv.DictReader(f)]
    quarter = len(returns) // 4
    first, last = np.mean(returns[:quarter]), np.mean(returns[-quarter:])
    assert quarter == 16 and last > 1.1 * first, (first, last)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW_RECIPES)
def test_a_short_run_of_the_large_recipes_beats_the_untrained_policy(name: str) -> None:
    before, after = _improves(name, 4096)
    assert after > before + 0.1, (before, after)


def test_warm_start_carries_a_2x4_policy_into_a_4x8_network() -> None:
    import torch

    from rl_bridge.algorithms import build
    from rl_bridge.recipes import shipped_policy
    from rl_bridge.run_folder import load_run
    from rl_bridge.warm_start import tiled, warm_start

    source = shipped_policy("grid-easy-2x4")
    assert source is not None
    small, config = load_run(source)
    big = build("steer", {**config.shape, "n_agents": 32}, config.ppo, seed=0)
    assert warm_start(big, source) == []
    assert torch.equal(big.net.actor[0].weight, small.net.actor[0].weight)
    assert torch.equal(big.net.position[0, 8:16], small.net.position[0])
    assert tiled(torch.zeros(3, 2), torch.Size([4, 2])) is None
    assert recipe("grid-easy-4x8").warm_start == "grid-easy-2x4"


def test_the_alloc_10_policy_warm_starts_the_alloc_50_network_before_any_training() -> None:
    """Allocation's per-agent encoding is the same for every N: the shipped alloc-10 STEER, tiled into a
    50-agent network, already allocates far better than the untrained network (0.54 -> 0.92 greedy G/G*
    on the last step of golden instances 0-4 when measured)."""
    import torch

    from rl_bridge.algorithms import build
    from rl_bridge.evaluate import evaluate
    from rl_bridge.recipes import shipped_policy
    from rl_bridge.vec_env import network_shape
    from rl_bridge.warm_start import warm_start

    r = recipe("alloc-50")
    assert r.warm_start == "alloc-10"
    spec, cfg = r.env_spec(), r.ppo_config()
    env = spec.vec_env(1, 0, cfg.gamma)
    torch.manual_seed(0)
    algo = build("steer", network_shape(env, dict(r.network)), cfg, seed=0)
    before = evaluate(algo, spec, n_instances=5)["normalised_last"]
    source = shipped_policy("alloc-10")
    assert source is not None and warm_start(algo, source) == []
    after = evaluate(algo, spec, n_instances=5)["normalised_last"]
    assert after > before + 0.2 and after > 0.8, (before, after)


@pytest.mark.slow
def test_recipe_report_tables_a_run_against_its_target_and_the_planner(tmp_path: Path) -> None:
    from rl_bridge.recipe_report import main as report

    assert main(["--recipe", "grid-hard-2x2", "--seeds", "0", "--steps", "256", "--n-envs", "4",
                 "--episode-length", "32", "--out", str(tmp_path / "runs")]) == 0
    assert report([str(tmp_path / "runs"), "--out", str(tmp_path / "rl_recipes")]) == 0
    table = (tmp_path / "rl_recipes.md").read_text()
    row = next(line for line in table.splitlines() if line.startswith("| grid-hard-2x2 | steer | 0 |"))
    assert "success >= 0.8 within 30 min" in row and row.rstrip(" |").endswith(("yes", "no"))
    assert (tmp_path / "rl_recipes_curves.png").is_file() and (tmp_path / "rl_recipes.csv").is_file()
    # the table says how to regenerate it: the run's own command, with the flags that changed the recipe
    runs = tmp_path / "runs"
    assert (f"    python -m rl_bridge.train --recipe grid-hard-2x2 --algo steer --seeds 0 --out {runs} --eval-every 10 "
            "--steps 256 --n-envs 4 --episode-length 32\n") in table
    assert f"    python -m rl_bridge.recipe_report {runs} --out {tmp_path / 'rl_recipes'}\n" in table


def test_a_recipe_that_selects_on_validation_keeps_its_best_network_and_says_so(tmp_path: Path) -> None:
    """``select = "validation"``: the saved network is the best the run saw on the validation instances
    (the warm start included), chosen on them alone, and config.json records which one it is."""
    import csv

    import torch

    from rl_bridge.evaluate import evaluate
    from rl_bridge.run_folder import load_run
    from rl_bridge.train import run_folder, train_recipe

    torch.set_num_threads(1)
    base = recipe("alloc-50")
    assert base.select == "validation"
    r = base.model_copy(update={"task": base.task.model_copy(update={"agents": 12})})
    # a learning rate far too high, so PPO moves the warm-started network a long way in a few updates
    _, config = train_recipe(r, 0, tmp_path, overrides={"total_steps": 8 * 80 * 4, "lr": 0.05}, eval_every=1, log=False)
    chosen = config.final["selected"]
    assert chosen["on"] == "validation" and chosen["metric"] == "normalised_last"
    folder = run_folder(tmp_path, r.env_spec(), "steer", 0)
    offered = [float(row["validation"]) for row in csv.DictReader((folder / "curve.csv").open())]
    assert len(offered) == 4  # one offer per update (eval_every=1), after the one before any update
    assert chosen["score"] >= max(offered) and (chosen["update"] == 0) == (chosen["score"] > max(offered))
    algo, _ = load_run(folder)  # the saved network is the chosen one, and the final figures are its own
    assert evaluate(algo, r.env_spec(), validation=True)["normalised_last"] == pytest.approx(chosen["score"])
    assert evaluate(algo, r.env_spec())["normalised_last"] == pytest.approx(config.final["normalised_last"])


def test_a_warm_start_that_is_not_shipped_is_trained_first_under_the_same_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The curriculum is followed even for an algorithm with no shipped policy of the smaller recipe: that
    recipe trains first under ``--out`` and the bigger one starts from it (alloc-10 -> alloc-50, MAPPO)."""
    import rl_bridge.train as train
    from rl_bridge.recipes import shipped_policy

    real = train.recipe

    def one_update(name: str, algo: str | None = None):  # the smaller recipe as it is, but one PPO update long
        r = real(name, algo)
        return r.model_copy(update={"ppo": {**r.ppo, "total_steps": r.ppo["n_envs"] * r.ppo["episode_length"]}})

    monkeypatch.setattr(train, "recipe", one_update)
    big = real("alloc-50", "mappo")
    assert big.warm_start == "alloc-10" and shipped_policy("alloc-10", "mappo") is None
    _, config = train.train_recipe(big, 0, tmp_path, overrides={"total_steps": 8 * 80}, eval_every=1, log=False,
                                   evaluate_at_end=False)
    first = train.run_folder(tmp_path, real("alloc-10", "mappo").env_spec(), "mappo", 0)
    assert (first / "model.pt").is_file() and config.final["warm_start"] == str(first)
    assert json.loads((first / "config.json").read_text())["recipe"]["name"] == "alloc-10"
    # asked again, the policy under --out is found, not trained again
    stamp = (first / "model.pt").stat().st_mtime_ns
    assert train.policy_for("alloc-10", "mappo", 0, tmp_path) == first
    assert (first / "model.pt").stat().st_mtime_ns == stamp
