"""The part of every prompt shared by all roles in one step: rules, long-term memory, current state.

It is the whole system message of every call of the step (critics, assessor, actors, HMAS-2 planner and
agents), byte for byte, so a provider or local server that caches prompt prefixes computes it once per
step. Role instructions come after it, in the user message.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from llamac.gateway import ChatMessage
from llamac.tokens import estimate_tokens
from tasks.base import Task
from tasks.coordinator import StepMemory


def memory_line(memory: StepMemory) -> str:
    """One past step: the state it started from, the plan executed, the reward and the env's feedback."""
    reward = sum(memory.rewards.values())
    line = f"step {memory.t}: {memory.state_text} | plan {json.dumps(dict(memory.plan))} | reward {reward:g}"
    if memory.feedback:
        line += " | feedback: " + "; ".join(memory.feedback)
    return line


def long_term_memory(history: Sequence[StepMemory], window_tokens: int) -> list[str]:
    """Newest steps first while they fit the window, then shown oldest first (reads as a story)."""
    kept: list[str] = []
    used = 0
    for memory in reversed(history):
        line = memory_line(memory)
        cost = estimate_tokens(line)
        if used + cost > window_tokens:
            break
        kept.append(line)
        used += cost
    return list(reversed(kept))


def shared_prefix(task: Task, state: Any, history: Sequence[StepMemory], window_tokens: int) -> str:
    parts = [task.rules_text().strip()]
    memory = long_term_memory(history, window_tokens)
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
