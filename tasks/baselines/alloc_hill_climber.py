"""The allocation baseline: a hill climber on the observed (total, reward) history (no LLM, no learning)."""

from __future__ import annotations

from collections.abc import Sequence

from tasks.alloc import AllocState, ResourceAllocation, hill_climb_total, spread_total
from tasks.base import Task, TaskError
from tasks.coordinator import Decision, StepMemory


class AllocHillClimber:
    """A non-LLM baseline: hill-climb the total on the observed (total, reward) history
    (``tasks.alloc.hill_climb_total``) and split it evenly. It is a pure function of the history, so
    resuming works."""

    name = "greedy"

    async def decide(self, task: Task, state: AllocState, history: Sequence[StepMemory]) -> Decision:
        if not isinstance(task, ResourceAllocation):
            raise TaskError(f"the hill climber plays the allocation task only, not {task.family!r}")
        total = hill_climb_total(state.history, task.max_total)
        amounts = spread_total(total, task.n_agents)
        return Decision(joint_action={a: str(x) for a, x in zip(task.agents, amounts, strict=True)})
