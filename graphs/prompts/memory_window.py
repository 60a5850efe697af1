"""The memory window: which past steps (read from the memory store) a prompt shows, and how.

Long-term memory keeps every step; a prompt shows the newest ones whose lines fit ``window_tokens``
(counted with llamac's one token estimate), oldest first, each as the state it started from, the plan
executed, the reward and the environment's feedback.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from llamac.runtime.tokens import estimate_tokens
from tasks.coordinator import StepMemory


def memory_line(memory: StepMemory) -> str:
    """One past step: the state it started from, the plan executed, the reward and the env's feedback."""
    reward = sum(memory.rewards.values())
    line = f"step {memory.t}: {memory.state_text} | plan {json.dumps(dict(memory.plan))} | reward {reward:g}"
    if memory.feedback:
        line += " | feedback: " + "; ".join(memory.feedback)
    return line


def memory_window(history: Sequence[StepMemory], window_tokens: int, steps: int | None = None) -> list[str]:
    """Newest steps first while they fit the window, then shown oldest first (reads as a story); with
    ``steps``, the newest ``steps`` steps whatever their length."""
    if steps is not None:
        return [memory_line(m) for m in (history[-steps:] if steps else [])]
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
