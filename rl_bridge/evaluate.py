"""Greedy (argmax) evaluation of a trained policy, the way the tables score it.

Matrix games: one episode of the greedy joint policy (leader's argmax, then the follower's argmax
given it) through ``MatrixGame.greedy_joint_return``; the score is the mean return over agents and
``at_se`` says whether it is the Stackelberg equilibrium. Grid/allocation: greedy episodes on the
evaluation instances (0..n-1, never used for training); score = mean return over agents, plus the
task's success rate and steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rl_bridge.algorithms import Algorithm
from rl_bridge.envs import EnvSpec
from tasks.base import ArrayView, Task


def greedy_indices(algo: Algorithm, view: ArrayView) -> np.ndarray:
    obs, state, mask = (torch.from_numpy(np.asarray(x)[None]) for x in (view.obs, view.state, view.mask))
    actions, _, _ = algo.act(obs.float(), state.float(), mask.bool(), deterministic=True)
    return actions[0].numpy()


def play_episode(algo: Algorithm, task: Task) -> dict[str, float]:
    state = task.initial_state()
    returns = np.zeros(len(task.agents))
    steps, success, done = 0, False, False
    while not done and steps < task.step_limit:
        out = task.step(state, task.actions_from_indices(state, greedy_indices(algo, task.arrays(state))))
        returns += [out.rewards.get(a, 0.0) for a in task.agents]
        state, success, done = out.state, out.success, out.done
        steps += 1
    return {"score": float(returns.mean()), "success": float(success), "steps": float(steps)}


def evaluate(algo: Algorithm, spec: EnvSpec, n_instances: int = 10) -> dict[str, Any]:
    if spec.kind == "matrix":
        game = spec.task()
        result = game.greedy_joint_return(lambda view: greedy_indices(algo, view))
        return {
            "greedy_score": result.score,
            "at_se": float(result.at_se),
            "greedy_joint": f"{result.joints[-1][0]},{result.joints[-1][1]}",
        }
    episodes = [play_episode(algo, spec.task(i)) for i in range(n_instances)]
    return {
        "greedy_score": float(np.mean([e["score"] for e in episodes])),
        "success": float(np.mean([e["success"] for e in episodes])),
        "steps": float(np.mean([e["steps"] for e in episodes])),
    }
