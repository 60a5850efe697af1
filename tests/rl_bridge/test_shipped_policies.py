"""The policies shipped under rl_bridge/policies: each is a recipe's run, loads as a coordinator, still
solves its golden instances, and a sweep pointed at the folder finds it by task shape."""

from __future__ import annotations

from tests.rl_bridge.conftest import require_torch

require_torch()

import asyncio  # noqa: E402
import json  # noqa: E402

import pytest  # noqa: E402

from llamac.app.run_config import TaskSpec  # noqa: E402
from llamac.app.sweep.jobs import find_policy  # noqa: E402
from rl_bridge.coordinator import load_coordinator  # noqa: E402
from rl_bridge.recipes import POLICIES_DIR, recipe, recipe_names, shipped_policy  # noqa: E402

pytestmark = pytest.mark.torch
SHIPPED = sorted(p.parent for p in POLICIES_DIR.rglob("config.json"))


def test_policies_are_shipped_and_small() -> None:
    assert SHIPPED, "no policy is shipped"
    assert sum(p.stat().st_size for p in POLICIES_DIR.rglob("*") if p.is_file()) < 5_000_000


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: "/".join(p.parts[-3:]))
def test_a_shipped_policy_follows_its_recipe_and_still_reaches_its_target(folder) -> None:
    name, algo, seed = folder.parts[-3], folder.parts[-2], int(folder.parts[-1].removeprefix("seed"))
    assert name in recipe_names() and shipped_policy(name, algo, seed) == folder
    config = json.loads((folder / "config.json").read_text())
    r = recipe(name, algo)
    assert config["recipe"]["name"] == name and config["env"] == {**config["env"], **r.env_spec().__dict__}
    spec = r.env_spec()
    results = []
    for i in range(10):
        task = spec.task(i)
        coordinator = load_coordinator(algo, folder, task)
        state, outcome = task.initial_state(), None
        for _ in range(task.step_limit):
            decision = asyncio.run(coordinator.decide(task, state, []))
            outcome = task.step(state, decision.joint_action)
            state = outcome.state
            if outcome.done:
                break
        metrics = task.episode_metrics([task.initial_state()], [outcome])
        results.append(metrics.get("normalised_last", float(outcome.success)) if spec.kind == "alloc" else float(outcome.success))
    assert sum(results) / len(results) >= r.target.at_least - 1e-9


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: "/".join(p.parts[-3:]))
def test_a_sweep_pointed_at_the_shipped_policies_finds_them(folder) -> None:
    r = recipe(folder.parts[-3], folder.parts[-2])
    t = r.task
    if t.kind == "grid":
        rows, cols = (int(x) for x in t.size.split("x"))
        task = TaskSpec(family="grid", rows=rows, cols=cols, difficulty=t.difficulty, instance=0)
    else:
        task = TaskSpec(family="alloc", agents=t.agents, seed=0)
    assert find_policy(POLICIES_DIR, r.algo, task, 0) == folder
