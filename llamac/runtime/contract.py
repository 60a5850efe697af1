"""The runtime's contract: what the coordinator graphs, the budget, the metering and the app agree on.

Types only (no model client, no Redis): the graphs code against ``Gateway``, ``Role``, ``ChatMessage`` and
``CallResult``; the gateway draws on a ``TokenBudget`` and hands every ``CallRecord`` to a ``CallSink``
(the metering). Keeping them here lets each of those modules import the others' types without importing
each other.
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
    malformed: int = 0  # response bodies that were not a chat completion (HTML, no choices), each retried
    usage_estimated: bool = False  # the provider's usage was missing or impossible: the reservation was charged


@dataclass(frozen=True)
class CallResult:
    text: str
    parsed: dict[str, Any] | None  # the JSON object when a schema was given and the answer parsed
    record: CallRecord




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


class GatewayConfigError(ValueError):
    """The settings do not name a reachable model (e.g. local provider without a server URL)."""


@runtime_checkable
class CallSink(Protocol):
    """Where the gateway hands every call's record (``llamac.runtime.metering.Metering``)."""

    def record(self, record: CallRecord) -> None: ...


@dataclass(frozen=True)
class Reservation:
    id: str
    tokens: int


@dataclass(frozen=True)
class BudgetLedger:
    """Cumulative token flows of one run's budget (``total`` is None for an unlimited budget)."""

    total: int | None
    reserved: int
    settled: int
    refunded: int
    excess: int
    outstanding: int
    reservations: int
    refusals: int

    @property
    def remaining(self) -> int | None:
        return None if self.total is None else self.total - self.settled - self.outstanding


@runtime_checkable
class TokenBudget(Protocol):
    run_id: str

    async def reserve(self, tokens: int) -> Reservation:
        """Hold ``tokens`` or raise ``BudgetExhausted``."""
        ...

    async def settle(self, reservation: Reservation, used: int) -> None:
        """Charge ``used`` tokens against a held reservation and refund the rest (once per reservation)."""
        ...

    async def ledger(self) -> BudgetLedger: ...

    async def aclose(self) -> None: ...
