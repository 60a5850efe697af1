"""The matrix games' baseline: an oracle that plays the Stackelberg path written in the game's data."""

from __future__ import annotations

from collections.abc import Sequence

from tasks.base import Task, TaskError
from tasks.coordinator import Decision, StepMemory
from tasks.matrix import Joint, MatrixGame, MatrixState


class MatrixGreedy:
    """Oracle planner for the matrix games: plays the Stackelberg path written in the game's data.

    It reads the equilibria, which no learner sees, so it is the reference an RL coordinator should
    reach, not a competitor. Named ``greedy`` so ``--coordinator greedy`` works on every family.
    """

    name = "greedy"

    async def decide(self, task: Task, state: MatrixState, history: Sequence[StepMemory]) -> Decision:
        if not isinstance(task, MatrixGame):
            raise TaskError(f"the matrix oracle plays the matrix games only, not {task.family!r}")
        return Decision(joint_action=task.actions_from_indices(state, self.oracle_joint(task, state)))

    @staticmethod
    def oracle_joint(task: MatrixGame, state: MatrixState) -> Joint:
        """The SE path's joint for this step; off the path (branch 1) keep the branch's coordinated pair."""
        if state.t == 0 or state.t == task.steps - 1 or state.branch == 0:
            return task.se_path[min(state.t, len(task.se_path) - 1)]
        return (2, 2)
