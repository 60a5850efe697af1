"""What a coordinator graph runs with: its config (fixed when the graph is built) and, per step, the task
and the gateway (LangGraph's runtime context, so the compiled graph itself needs no live model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from llamac.gateway import Gateway
from tasks.base import Task

OBJECTION_ROUNDS_BY_FAMILY = {"grid_easy": 1, "grid_hard": 3, "alloc": 1}
"""The papers' plan-confirmation rounds per step: 1 on Easy, up to 3 on Hard; allocation like Easy."""


@dataclass(frozen=True)
class CoordinatorConfig:
    """Knobs shared by LLaMAC and HMAS-2, so both run under the same limits."""

    actor_context: Literal["shared", "local"] = "shared"
    """LLaMAC actors' context. ``shared`` (default): the step's whole shared prefix (rules, memory, state)
    first, so a prefix cache serves it; ``local``: the rules plus the actor's own view only (the paper's
    decentralised actor), about half the prompt of a shared actor call on Easy 2x2 at step 0, less once
    memory fills its window. HMAS-2 agents always get the shared prefix: they see every agent's state
    and the history by design."""

    actor_gate: Literal["ask", "direct", "apply"] = "ask"
    """LLaMAC actors whose rule gate doubts their line and knows a better action (``Suspicious.fix``):
    ``ask`` (default, the paper's actor) asks the LLM all the same; ``direct`` objects with the fix
    without an LLM call, and the assessor revises; ``apply`` takes the fix itself: when every objection
    of a round is such a fix and the patched plan passes the task's check, it is the step's plan with no
    revision call (otherwise the round goes to the assessor as with ``direct``). HMAS-2 agents are
    always asked."""

    objection_rounds: int | None = None
    """Actor confirmation rounds per step; ``None`` derives it from ``task.family`` (1 Easy, 3 Hard)."""

    syntax_replans: int = 6
    """Re-prompts after a refused plan before the episode ends with ``syntactic_error`` (the authors' 6)."""

    memory_window_tokens: int = 300
    """Long-term memory: newest past steps are kept while their estimated tokens fit this window.
    Small on purpose: every call of the step repeats it, and the target is a third of the paper's tokens."""

    def rounds_for(self, task: Task) -> int:
        if self.objection_rounds is not None:
            return self.objection_rounds
        return OBJECTION_ROUNDS_BY_FAMILY.get(task.family, 1)


@dataclass(frozen=True)
class LLaMACConfig(CoordinatorConfig):
    critics: Literal["split", "merged"] = "split"
    """``split``: exploration and exploitation critics as two concurrent calls (the paper's description);
    ``merged``: the authors' single call asking for both plans."""

    assessor: Literal["always", "on-disagreement"] = "always"
    """``always`` (default, the paper's TripletCritic): the assessor is asked every step;
    ``on-disagreement``: when both critics propose the same plan it is taken without the assessor's call
    (the syntax check and the actors still check it)."""


@dataclass(frozen=True)
class HMAS2Config(CoordinatorConfig):
    """HMAS-2 has no critics; it shares every other limit with LLaMAC."""


@dataclass(frozen=True)
class CoordinatorContext:
    """LangGraph runtime context of one ``decide``: the same compiled graph serves any task."""

    task: Task
    gateway: Gateway
    config: CoordinatorConfig
