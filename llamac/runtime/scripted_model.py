"""ScriptedChatModel: a fake chat model that answers from a script, for unit tests and orchestration
benchmarks only.

It is a real langchain-core ``BaseChatModel`` so it goes through the same gateway path as
``ChatOpenAI`` (budget, metering, parsing), but nothing about its answers is learned: each call
returns the next scripted text (or what a callable computes from the messages), after an optional
delay that stands in for a provider's latency. Its token counts are llamac's one estimate
(``llamac.runtime.tokens``), reported as ``usage_metadata`` like a provider would.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, Field, PrivateAttr

from llamac.runtime.tokens import estimate_tokens

Script = Sequence[str] | Callable[[list[BaseMessage]], str]


class ScriptedModelExhausted(RuntimeError):
    """The script has no answer left for this call (a test asked for more calls than it scripted)."""


class ScriptedChatModel(BaseChatModel):
    """Answers from ``script`` in order (or ``script(messages)`` when it is callable).

    ``delay_s`` is awaited (or slept) before each answer; ``cycle`` restarts the script instead of
    raising ``ScriptedModelExhausted``. ``calls`` keeps the messages of every call for assertions.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    script: Any = Field(default_factory=list)
    delay_s: float = 0.0
    cycle: bool = False
    model_name: str = "scripted"
    _next: int = PrivateAttr(default=0)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _calls: list[list[BaseMessage]] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def calls(self) -> list[list[BaseMessage]]:
        return self._calls

    def _answer(self, messages: list[BaseMessage]) -> ChatResult:
        with self._lock:
            self._calls.append(list(messages))
            if callable(self.script):
                text = self.script(list(messages))
            else:
                if self._next >= len(self.script):
                    if not self.cycle or not self.script:
                        raise ScriptedModelExhausted(
                            f"ScriptedChatModel has no answer left for call {self._next + 1}"
                        )
                    self._next = 0
                text = self.script[self._next]
                self._next += 1
        prompt = "\n".join(str(m.content) for m in messages)
        usage = {
            "input_tokens": estimate_tokens(prompt),
            "output_tokens": estimate_tokens(text),
            "total_tokens": estimate_tokens(prompt) + estimate_tokens(text),
        }
        message = AIMessage(content=text, usage_metadata=usage, response_metadata={"model_name": self.model_name})
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.delay_s:
            time.sleep(self.delay_s)
        return self._answer(messages)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return self._answer(messages)
