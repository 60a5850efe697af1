"""Trained policies as coordinators: STEER, MAPPO (or any trained run) and distilled students.

``load_coordinator(kind, policy_dir, task)`` is what the CLI calls (lazily) for
``--coordinator steer|mappo|happo|mat|step|student --policy RUN_DIR``. The coordinator reads the task's arrays through the run's observation encoding
(observations, global state, action masks), picks the argmax joint action by default (sampling on
request), and hands back ``task.actions_from_indices(...)``: the same strings every other coordinator
sends, through the same episode loop, metrics and results files.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rl_bridge.algorithms import Algorithm
from rl_bridge.errors import RLUsageError
from rl_bridge.run_folder import TrainingRecord, find_runs, load_run
from tasks.base import Task
from tasks.coordinator import Coordinator, Decision, StepMemory

KINDS = {"steer": ("steer",), "mappo": ("mappo",), "happo": ("happo",), "mat": ("mat",), "step": ("step",),
         "student": ("student",), "rl": ("steer", "mappo", "happo", "mat", "step", "student")}
"""Coordinator kind -> run algorithms it accepts (``rl`` takes any trained run)."""


class PolicyCoordinator:
    """A trained policy deciding every agent's action from the task's array view."""

    def __init__(self, name: str, policy: Algorithm, config: TrainingRecord, deterministic: bool = True, seed: int = 0):
        self.name, self.policy, self.config, self.deterministic = name, policy, config, deterministic
        self.generator = torch.Generator().manual_seed(seed)

    def indices(self, view: Any) -> np.ndarray:
        obs, state, mask = (torch.from_numpy(np.asarray(x)[None]) for x in (view.obs, view.state, view.mask))
        with torch.no_grad():
            if not self.deterministic:
                torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=self.generator)))
            actions, _, _ = self.policy.act(obs.float(), state.float(), mask.bool(), deterministic=self.deterministic)
        return actions[0].numpy()

    async def decide(self, task: Task, state: Any, history: Sequence[StepMemory]) -> Decision:
        start = time.perf_counter()
        idx = self.indices(self.config.env.observe(task, state))
        return Decision(
            joint_action=task.actions_from_indices(state, idx),
            counters={"policy_calls": 1},
            notes={"decide_ms": 1000 * (time.perf_counter() - start), "action_indices": [int(i) for i in idx]},
        )


def resolve_run(policy_dir: str | Path) -> Path:
    """A run folder itself, or a folder holding exactly one run."""
    path = Path(policy_dir)
    if (path / "config.json").is_file():
        return path
    runs = find_runs(path)
    if len(runs) != 1:
        raise RLUsageError(f"{path} holds {len(runs)} runs; point --policy at one run folder (with config.json)")
    return runs[0]


def load_coordinator(kind: str, policy_dir: str | Path, task: Task, deterministic: bool = True) -> Coordinator:
    """Load a trained run as a coordinator for ``task``; refuses runs of another kind or shape."""
    torch.set_num_threads(1)
    if kind not in KINDS:
        raise RLUsageError(f"unknown RL coordinator {kind!r}; choose one of {', '.join(KINDS)}")
    policy, config = load_run(resolve_run(policy_dir))
    if config.algo not in KINDS[kind]:
        raise RLUsageError(f"--coordinator {kind} needs a {'/'.join(KINDS[kind])} run; {policy_dir} is {config.algo}")
    view = config.env.observe(task, task.initial_state())
    n_agents, obs_dim = view.obs.shape
    wanted = (config.shape["n_agents"], config.shape["obs_dim"], config.shape["n_actions"])
    if (n_agents, obs_dim, view.mask.shape[1]) != wanted:
        raise RLUsageError(
            f"the policy in {policy_dir} was trained on {config.env.name} (agents, obs, actions = {wanted}); "
            f"this task has {(n_agents, obs_dim, view.mask.shape[1])}"
        )
    return PolicyCoordinator(kind, policy, config, deterministic)  # type: ignore[return-value]
