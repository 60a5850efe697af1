"""Greedy (argmax) evaluation of a trained policy, the way the tables score it.

Matrix games: one episode of the greedy joint policy (leader's argmax, then the follower's argmax
given it) through ``MatrixGame.greedy_joint_return``; the score is the mean return over agents and
``at_se`` says whether it is the Stackelberg equilibrium. Grid/allocation: greedy episodes on the
evaluation instances (0..n-1, never used for training); score = mean return over agents, plus the
task's success rate and steps.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import torch

from rl_bridge.algorithms import Algorithm
from rl_bridge.envs import EnvSpec
from tasks.base import ArrayView, Outcome, Task
from tasks.matrix import MatrixGame


def greedy_indices(algo: Algorithm, view: ArrayView) -> np.ndarray:
    obs, state, mask = (torch.from_numpy(np.asarray(x)[None]) for x in (view.obs, view.state, view.mask))
    actions, _, _ = algo.act(obs.float(), state.float(), mask.bool(), deterministic=True)
    return actions[0].numpy()


def play_episode(algo: Algorithm, task: Task, spec: EnvSpec | None = None) -> dict[str, float]:
    """One greedy episode: mean return over agents, success, steps, plus the task's own metrics
    (``Task.episode_metrics``: e.g. allocation's normalised reward and regret)."""
    state = task.initial_state()
    states: list[Any] = [state]
    outcomes: list[Outcome] = []
    returns = np.zeros(len(task.agents))
    while not (outcomes and outcomes[-1].done) and len(outcomes) < task.step_limit:
        view = task.arrays(state) if spec is None else spec.observe(task, state)
        out = task.step(state, task.actions_from_indices(state, greedy_indices(algo, view)))
        returns += [out.rewards.get(a, 0.0) for a in task.agents]
        state = out.state
        states.append(state)
        outcomes.append(out)
    metrics = {k: float(v) for k, v in task.episode_metrics(states, outcomes).items() if isinstance(v, int | float)}
    return {**metrics, "score": float(returns.mean()), "success": float(outcomes[-1].success), "steps": float(len(outcomes))}


FOOTBALL_EPISODES, FOOTBALL_EVAL_SEED = 32, 999
"""Football: greedy episodes per evaluation (the authors' 32, four per game of 8; about 10 s on an
idle core, and the trainer evaluates once at the end) and the games' seed (never trained on)."""


def evaluate(algo: Algorithm, spec: EnvSpec, n_instances: int = 10, fresh: bool = False,
             validation: bool = False) -> dict[str, Any]:
    """Greedy scores on the evaluation instances 0..n-1 (the golden grids), or with ``fresh`` on
    ``n_instances`` random instances drawn from seeds no training run draws from (with ``validation``, the
    instances a trainer chooses its checkpoint on: ``EnvSpec.validation_task``). Football: greedy
    episodes on games seeded apart from training (every evaluation is fresh there); score = share
    of episodes in which we score."""
    if spec.kind == "football":
        from rl_bridge.football.env import play_greedy

        return play_greedy(algo.act, spec.game, FOOTBALL_EPISODES, FOOTBALL_EVAL_SEED)
    if spec.kind == "matrix":
        game = cast(MatrixGame, spec.task())
        result = game.greedy_joint_return(lambda view: [int(i) for i in greedy_indices(algo, view)])
        return {
            "greedy_score": result.score,
            "at_se": float(result.at_se),
            "greedy_joint": f"{result.joints[-1][0]},{result.joints[-1][1]}",
        }
    tasks = [spec.validation_task(i) if validation else spec.fresh_task(i) if fresh else spec.task(i)
             for i in range(n_instances)]
    episodes = [play_episode(algo, task, spec) for task in tasks]
    keys = [k for k in episodes[0] if all(k in e for e in episodes)]
    means = {k: float(np.nanmean([e[k] for e in episodes])) for k in keys}
    means["greedy_score"] = means.pop("score")
    return means
