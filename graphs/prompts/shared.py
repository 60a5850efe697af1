"""The part of every prompt shared by all roles in one step: rules, long-term memory, current state.

It is the whole system message of every call of the step (critics, assessor, actors, HMAS-2 planner and
agents), byte for byte, so a provider or local server that caches prompt prefixes computes it once per
step. Role instructions come after it, in the user message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from graphs.prompts.memory_window import memory_window, plan_json
from llamac.runtime.contract import ChatMessage
from tasks.base import Task
from tasks.coordinator import StepMemory


def shared_prefix(task: Task, state: Any, history: Sequence[StepMemory], window_tokens: int,
                  window_steps: int | None = None, numbered: bool = False) -> str:
    parts = [task.rules_text().strip()]
    memory = memory_window(history, window_tokens, window_steps, partial(plan_text, task))
    if memory:
        parts.append(
            "Previous steps (learn from them; do not repeat moves that made no progress):\n"
            + "\n".join(memory)
        )
    view = task.planner_view(state, numbered=True) if numbered else task.planner_view(state)
    parts.append("Current state and doable actions:\n" + view.strip())
    return "\n\n".join(parts)


def plan_text(task: Task, plan: Mapping[str, str], state: Any = None) -> str:
    """A plan as the prompts write it: in the task's own notation when it has one (a compact grid's
    ``plan_text``; with ``state``, each move's number too), else JSON of its action strings."""
    own = getattr(task, "plan_text", None)
    return own(plan, state) if own is not None else plan_json(plan)


def messages(prefix: str, instruction: str) -> list[ChatMessage]:
    """Shared prefix as the system message, the role's instruction last."""
    return [ChatMessage("system", prefix), ChatMessage("user", instruction)]


ACTION_VALUES = "each value one action copied from that agent's doable actions"
"""How a plan's values are worded in every plan request (``graphs.plan_answers`` swaps it for numbers)."""
NUMBER_VALUES = "each value the number of one of that agent's doable actions"

AGENT_KEYS = "keys are agent names exactly as in the doable list"
"""How a plan's keys are worded in every plan request (``graphs.plan_answers`` swaps it for squares)."""
SQUARE_KEYS = "keys are the squares [i,j] of the agents that act"

PLAN_FORMAT = f"Answer with the plan as one JSON object: {AGENT_KEYS}, {ACTION_VALUES}. Leave out agents with nothing to do."
