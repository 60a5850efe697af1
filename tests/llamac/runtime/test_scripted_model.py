"""ScriptedChatModel: the named fake for orchestration tests answers in order, with delay and usage."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.messages import HumanMessage

from llamac.runtime.scripted_model import ScriptedChatModel, ScriptedModelExhausted


async def test_answers_in_order_with_usage_then_runs_out():
    fake = ScriptedChatModel(script=["first", "second answer"])
    one = await fake.ainvoke([HumanMessage("a" * 40)])
    two = await fake.ainvoke([HumanMessage("b")])
    assert (one.content, two.content) == ("first", "second answer")
    assert one.usage_metadata == {"input_tokens": 14, "output_tokens": 2, "total_tokens": 16}  # llamac.runtime.tokens
    assert [c[0].content for c in fake.calls] == ["a" * 40, "b"]
    with pytest.raises(ScriptedModelExhausted):
        await fake.ainvoke([HumanMessage("c")])


async def test_cycle_and_callable_scripts():
    cycling = ScriptedChatModel(script=["x", "y"], cycle=True)
    assert [(await cycling.ainvoke("q")).content for _ in range(3)] == ["x", "y", "x"]
    echo = ScriptedChatModel(script=lambda messages: messages[-1].content.upper())
    assert (await echo.ainvoke("shout")).content == "SHOUT"


async def test_delay_is_awaited_so_concurrent_calls_overlap():
    fake = ScriptedChatModel(script=["ok"], cycle=True, delay_s=30)
    calls = [asyncio.create_task(fake.ainvoke("q")) for _ in range(5)]
    await asyncio.sleep(0.05)  # had the delay blocked the loop, this would come back after 150 s
    assert not any(c.done() for c in calls) and fake.calls == []  # all five are waiting at once
    for c in calls:
        c.cancel()
    quick = ScriptedChatModel(script=["ok"], cycle=True, delay_s=0.01)
    assert [m.content for m in await asyncio.gather(*(quick.ainvoke("q") for _ in range(5)))] == ["ok"] * 5
    assert quick.invoke("sync").content == "ok"
