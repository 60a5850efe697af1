"""The runtime's real gateway (budget, metering path, labels) over a ScriptedChatModel, for graph unit tests.

The script is one function of (role, agent, messages) -> answer; the role and agent are read back from
the ``[role=.. agent=..]`` label the gateway appends last. ``TimedGateway`` records when each call
started and ended, so tests can prove that concurrent branches overlap.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import BaseMessage

from llamac.runtime.budget import InProcessBudget
from llamac.runtime.gateway import CallResult, ChatMessage, LLMGateway, Role
from llamac.runtime.scripted_model import ScriptedChatModel
from llamac.runtime.settings import Settings

LABEL = re.compile(r"\[role=(?P<role>\S+) agent=(?P<agent>.+)\]\s*$")

Answer = Callable[[str, str | None, list[BaseMessage]], str]


def label_of(messages: list[BaseMessage]) -> tuple[str, str | None]:
    match = LABEL.search(str(messages[-1].content))
    assert match, "the gateway labels the last message"
    agent = match["agent"]
    return match["role"], None if agent == "-" else agent


@dataclass
class Call:
    role: str
    agent: str | None
    messages: list[ChatMessage]
    schema: dict[str, Any] | None
    started: float
    ended: float


@dataclass
class TimedGateway:
    """Delegates to a real gateway and keeps every call's messages and start/end times."""

    inner: LLMGateway
    calls: list[Call] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return self.inner.run_id

    async def call(
        self,
        *,
        role: Role | str,
        agent: str | None,
        messages: list[ChatMessage],
        step: int,
        schema: dict[str, Any] | None = None,
    ) -> CallResult:
        started = time.perf_counter()
        result = await self.inner.call(role=role, agent=agent, messages=messages, step=step, schema=schema)
        self.calls.append(Call(str(role), agent, messages, schema, started, time.perf_counter()))
        return result

    def of(self, role: Role) -> list[Call]:
        return [c for c in self.calls if c.role == role.value]


def scripted_gateway(answer: Answer, delay_s: float = 0.0, budget_tokens: int | None = None) -> TimedGateway:
    model = ScriptedChatModel(script=lambda msgs: answer(*label_of(msgs), msgs), delay_s=delay_s)
    budget = InProcessBudget("test", budget_tokens)
    gateway = LLMGateway(Settings(), "test", budget=budget, chat_model_factory=lambda name, role: model)
    return TimedGateway(gateway)


def last_user_text(messages: list[BaseMessage]) -> str:
    return str(messages[-1].content)
