"""Potential-based reward shaping from the task's own distance (Ng, Harada & Russell 1999).

The learner's reward is ``r + scale * (gamma * Phi(s') - Phi(s))`` with ``Phi(s) = -task.potential(s)``
(the grids: the summed distance of every box to its nearest same-colour target), and ``Phi = 0`` at a
terminal state, so the optimal policy is unchanged. Only the learner sees it: the environment's own
rewards, returns and success are what every curve, evaluation and results file records.
Allocation has no ``potential``: its reward is dense already, and its shaping term is 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tasks.base import Task


@dataclass(frozen=True)
class Shaping:
    scale: float = 0.0
    """0 = no shaping."""
    gamma: float = 0.99
    """The discount the learner uses (PPO's gamma), as the theorem needs."""

    def potential(self, task: Task, state: Any) -> float:
        distance = getattr(task, "potential", None)
        return 0.0 if distance is None else -float(distance(state))

    def term(self, task: Task, state: Any, next_state: Any, done: bool) -> float:
        """``scale * (gamma * Phi(s') - Phi(s))``, with ``Phi(terminal) = 0``."""
        if self.scale == 0.0:
            return 0.0
        after = 0.0 if done else self.potential(task, next_state)
        return self.scale * (self.gamma * after - self.potential(task, state))
