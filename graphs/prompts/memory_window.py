"""The memory window: which past steps (read from the memory store) a prompt shows, and how.

Long-term memory keeps every step; a prompt shows the newest ones whose lines fit ``window_tokens``
(counted with llamac's one token estimate), oldest first, each as the state it started from, the plan
executed, the reward and the environment's feedback.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

from llamac.runtime.tokens import estimate_tokens
from tasks.coordinator import StepMemory

PlanText = Callable[[Mapping[str, str]], str]


def plan_json(plan: Mapping[str, str]) -> str:
    return json.dumps(dict(plan))


def memory_line(memory: StepMemory, plan_text: PlanText = plan_json) -> str:
    """One past step: the state it started from, the plan executed (as the task writes plans in its
    notation, ``plan_text``; JSON by default), the reward and the env's feedback."""
    reward = sum(memory.rewards.values())
    line = f"step {memory.t}: {memory.state_text} | plan {plan_text(memory.plan)} | reward {reward:g}"
    if memory.feedback:
        line += " | feedback: " + "; ".join(memory.feedback)
    return line


def memory_window(history: Sequence[StepMemory], window_tokens: int, steps: int | None = None,
                  plan_text: PlanText = plan_json) -> list[str]:
    """Newest steps first while they fit the window, then shown oldest first (reads as a story); with
    ``steps``, the newest ``steps`` steps whatever their length."""
    if steps is not None:
        return [memory_line(m, plan_text) for m in (history[-steps:] if steps else [])]
    kept: list[str] = []
    used = 0
    for memory in reversed(history):
        line = memory_line(memory, plan_text)
        cost = estimate_tokens(line)
        if used + cost > window_tokens:
            break
        kept.append(line)
        used += cost
    return list(reversed(kept))
