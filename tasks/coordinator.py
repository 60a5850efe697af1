"""The one coordinator interface the CLI, sweeps and reports talk to.

Whatever is behind it (an LLM graph, the greedy planner, a trained STEER policy, a student), a
coordinator looks at a task state and the episode's memory and returns a joint action plus the
counters it spent. The episode loop (``graphs/episode.py``) owns stepping, memory, checkpointing and
results, so every coordinator gets them alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from tasks.base import JointAction, Task


@dataclass(frozen=True)
class StepMemory:
    """One past step as memory records it (long-term memory is a window of these)."""

    t: int
    state_text: str
    plan: Mapping[str, str]
    rewards: Mapping[str, float]
    feedback: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """A coordinator's answer for one step.

    ``end_reason`` stops the episode without executing (``syntactic_error``, ``budget_exhausted``).
    ``counters`` are summed into the episode metrics; their names are declared once, with their meaning,
    in ``llamac.runtime.counters`` (absent = 0).
    """

    joint_action: JointAction
    counters: Mapping[str, float] = field(default_factory=dict)
    end_reason: str | None = None
    notes: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Coordinator(Protocol):
    name: str

    async def decide(self, task: Task, state: Any, history: Sequence[StepMemory]) -> Decision: ...
