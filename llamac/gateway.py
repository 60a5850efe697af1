"""The one gateway to models: every LLM call of every coordinator goes through ``Gateway.call``.

CONTRACT (stable; graphs/ code against it). The implementation picks the model for the role, binds
the schema the way the endpoint supports, reserves and settles the token budget, retries with
tenacity, records usage and latency, and logs with structlog. Nodes never touch ChatOpenAI, Redis or
the budget directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, Protocol, runtime_checkable


class Role(StrEnum):
    """Who is calling: picks the per-role model override and labels every record and prompt."""

    EXPLORE_CRITIC = "explore_critic"
    EXPLOIT_CRITIC = "exploit_critic"
    CRITIC_PAIR = "critic_pair"  # --critics merged: the authors' single two-plan call
    ASSESSOR = "assessor"
    ACTOR = "actor"
    PLANNER = "planner"  # HMAS-2 central planner
    AGENT = "agent"  # HMAS-2 local agent


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class CallRecord:
    """One metered LLM call (summed into the run's metrics, one JSON line in the run's calls log)."""

    run: str
    step: int
    role: str
    agent: str | None
    model: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    latency_s: float
    retries: int
    structured_path: str  # json_schema | json_object_schema | json_mode | plain | scripted
    valid: bool  # the answer parsed as a JSON object (when a schema was asked) / non-empty text
    reserved_tokens: int = 0


@dataclass(frozen=True)
class CallResult:
    text: str
    parsed: dict[str, Any] | None  # the JSON object when a schema was given and the answer parsed
    record: CallRecord


class BudgetExhausted(RuntimeError):
    """The shared token budget cannot cover the worst case of the next call: stop the run cleanly."""


@runtime_checkable
class Gateway(Protocol):
    run_id: str

    async def call(
        self,
        *,
        role: Role | str,
        agent: str | None,
        messages: list[ChatMessage],
        step: int,
        schema: dict[str, Any] | None = None,
    ) -> CallResult: ...
