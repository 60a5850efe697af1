"""A tiny task for testing the episode loop without any real task family: agents walk to a goal.

Only the members the episode loop uses are real; it stands in for a task family so the loop's tests
do not depend on the grid's rules.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tasks.base import Outcome
from tasks.coordinator import Decision, StepMemory


@dataclass(frozen=True)
class WalkState:
    positions: tuple[int, ...]
    t: int = 0


@dataclass
class LineWalkTask:
    """Agents at ``start`` walk to ``goal``; one move of +1/-1/0 each per step."""

    n_agents: int = 2
    goal: int = 4
    step_limit: int = 10
    family: str = "line_walk"
    name: str = "line_walk"
    n_actions: int = 3
    obs_dim: int = 1
    state_dim: int = 1

    @property
    def agents(self) -> tuple[str, ...]:
        return tuple(f"Agent[{i}]" for i in range(self.n_agents))

    def initial_state(self) -> WalkState:
        return WalkState(positions=tuple(range(self.n_agents)))

    def step(self, state: WalkState, joint: Any) -> Outcome:
        moves = {"right": 1, "left": -1, "stay": 0}
        pos = tuple(
            min(self.goal, p + moves[joint.get(a, "stay")]) for a, p in zip(self.agents, state.positions, strict=True)
        )
        nxt = WalkState(pos, state.t + 1)
        success = all(p == self.goal for p in pos)
        limit = nxt.t >= self.step_limit and not success
        return Outcome(
            state=nxt,
            rewards={a: float(p == self.goal) for a, p in zip(self.agents, pos, strict=True)},
            done=success or limit,
            success=success,
            failure="step_limit" if limit else None,
            feedback=tuple(f"{a} already at the goal" for a, p in zip(self.agents, state.positions, strict=True)
                           if p == self.goal and joint.get(a) == "right"),
        )

    def state_text(self, state: WalkState) -> str:
        return f"positions={list(state.positions)}"

    def episode_metrics(self, states: Sequence[WalkState], outcomes: Sequence[Outcome]) -> dict[str, float]:
        return {"distance_left": float(sum(self.goal - p for p in states[-1].positions))}


class WalkRightCoordinator:
    """Scripted coordinator: everyone moves right; counts fake tokens; can fail once on step ``fail_at``."""

    name = "walk_right"

    def __init__(self, fail_at: int | None = None, end_at: int | None = None,
                 exc: type[BaseException] = RuntimeError, hang_at: int | None = None) -> None:
        self.fail_at, self.end_at, self.exc, self.hang_at = fail_at, end_at, exc, hang_at
        self.calls = 0
        self.hanging = asyncio.Event()

    async def decide(self, task: LineWalkTask, state: WalkState, history: Sequence[StepMemory]) -> Decision:
        self.calls += 1
        assert len(history) == state.t, "history must hold one memory per executed step"
        if self.fail_at is not None and state.t == self.fail_at:
            self.fail_at = None
            raise self.exc("scripted interruption")
        if self.hang_at is not None and state.t == self.hang_at:
            self.hang_at = None
            self.hanging.set()
            await asyncio.sleep(3600)  # until cancelled, as Ctrl-C cancels asyncio.run's main task
        counters = {"llm_calls": 2, "prompt_tokens": 100 + state.t, "completion_tokens": 10, "plan_rounds": 1}
        if self.end_at is not None and state.t == self.end_at:
            return Decision(joint_action={}, counters=counters, end_reason="budget_exhausted")
        return Decision(joint_action={a: "right" for a in task.agents}, counters=counters,
                        notes={"plan_text": "everyone right", "objections": []})
