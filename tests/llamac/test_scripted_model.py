"""ScriptedChatModel: the named fake for orchestration tests answers in order, with delay and usage."""

from __future__ import annotations

import asyncio
import time

import pytest
from langchain_core.messages import HumanMessage

from llamac.scripted_model import ScriptedChatModel, ScriptedModelExhausted


async def test_answers_in_order_with_usage_then_runs_out():
    fake = ScriptedChatModel(script=["first", "second answer"])
    one = await fake.ainvoke([HumanMessage("a" * 40)])
    two = await fake.ainvoke([HumanMessage("b")])
    assert (one.content, two.content) == ("first", "second answer")
    assert one.usage_metadata == {"input_tokens": 10, "output_tokens": 2, "total_tokens": 12}
    assert [c[0].content for c in fake.calls] == ["a" * 40, "b"]
    with pytest.raises(ScriptedModelExhausted):
        await fake.ainvoke([HumanMessage("c")])


async def test_cycle_and_callable_scripts():
    cycling = ScriptedChatModel(script=["x", "y"], cycle=True)
    assert [(await cycling.ainvoke("q")).content for _ in range(3)] == ["x", "y", "x"]
    echo = ScriptedChatModel(script=lambda messages: messages[-1].content.upper())
    assert (await echo.ainvoke("shout")).content == "SHOUT"


async def test_delay_is_awaited_so_concurrent_calls_overlap():
    fake = ScriptedChatModel(script=["ok"], cycle=True, delay_s=0.2)
    started = time.perf_counter()
    await asyncio.gather(*(fake.ainvoke("q") for _ in range(5)))
    assert 0.2 <= time.perf_counter() - started < 0.6
    assert fake.invoke("sync").content == "ok"
