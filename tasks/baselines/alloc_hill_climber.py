"""The allocation baseline: a hill climber on the observed (total, reward) history (no LLM, no learning)."""

from __future__ import annotations

from collections.abc import Sequence

from tasks.alloc import AllocState, ResourceAllocation, spread_total
from tasks.base import Task, TaskError
from tasks.coordinator import Decision, StepMemory


class AllocHillClimber:
    """A non-LLM baseline: hill-climb the total on the observed (total, reward) history.

    Starts at half the range, probes one step of a quarter range from the best total seen, turns
    round when a probe does worse, halves the step after failing both ways, and settles on the best
    total once steps of 1 fail both ways. It is a pure function of the history, so resuming works.
    """

    name = "greedy"

    async def decide(self, task: Task, state: AllocState, history: Sequence[StepMemory]) -> Decision:
        if not isinstance(task, ResourceAllocation):
            raise TaskError(f"the hill climber plays the allocation task only, not {task.family!r}")
        total = self.next_total(state.history, task.max_total)
        amounts = spread_total(total, task.n_agents)
        return Decision(joint_action={a: str(x) for a, x in zip(task.agents, amounts, strict=True)})

    @staticmethod
    def next_total(history: Sequence[tuple[int, float]], max_total: int) -> int:
        if not history:
            return max_total // 2
        step, direction, failures, settled = max(1, max_total // 4), 1, 0, False
        best_x, best_g = history[0]
        for x, g in history[1:]:
            if g > best_g:
                best_x, best_g, failures = x, g, 0
                continue
            direction, failures = -direction, failures + 1
            if failures == 2:
                settled = step == 1
                step, failures = max(1, step // 2), 0
        if settled:
            return best_x
        probe = min(max(best_x + direction * step, 0), max_total)
        if probe == best_x:  # at an edge of the range: probe inwards
            probe = min(max(best_x - direction * step, 0), max_total)
        return probe
