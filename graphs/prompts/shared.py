"""The part of every prompt shared by all roles in one step: rules, long-term memory, current state.

It is the whole system message of every call of the step (critics, assessor, actors, HMAS-2 planner and
agents), byte for byte, so a provider or local server that caches prompt prefixes computes it once per
step. Role instructions come after it, in the user message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphs.prompts.memory_window import memory_window
from llamac.runtime.contract import ChatMessage
from tasks.base import Task
from tasks.coordinator import StepMemory


def shared_prefix(task: Task, state: Any, history: Sequence[StepMemory], window_tokens: int,
                  window_steps: int | None = None) -> str:
    parts = [task.rules_text().strip()]
    memory = memory_window(history, window_tokens, window_steps)
    if memory:
        parts.append(
            "Previous steps (learn from them; do not repeat moves that made no progress):\n"
            + "\n".join(memory)
        )
    parts.append("Current state and doable actions:\n" + task.planner_view(state).strip())
    return "\n\n".join(parts)


def messages(prefix: str, instruction: str) -> list[ChatMessage]:
    """Shared prefix as the system message, the role's instruction last."""
    return [ChatMessage("system", prefix), ChatMessage("user", instruction)]


PLAN_FORMAT = (
    "Answer with the plan as one JSON object: keys are agent names exactly as in the doable list, each "
    "value one action copied from that agent's doable actions. Leave out agents with nothing to do."
)
