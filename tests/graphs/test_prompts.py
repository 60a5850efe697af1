"""Prompts: the shared prefix is byte-identical across a step's calls and the role's part comes last."""

from __future__ import annotations

import json

from graphs.context import HMAS2Config, LLaMACConfig
from graphs.hmas2 import HMAS2Coordinator
from graphs.llamac import LLaMACCoordinator
from graphs.prompts import critics
from graphs.prompts.actor import agrees
from graphs.prompts.memory_window import memory_window
from graphs.prompts.shared import shared_prefix
from llamac.runtime.tokens import estimate_tokens
from tasks.base import Suspicious
from tasks.coordinator import StepMemory
from tests.graphs.scripted_gateway import scripted_gateway
from tests.graphs.toy_task import ToyLineTask

PLAN = json.dumps({"Agent[0]": "step", "Agent[1]": "step"})


def history(n):
    return [
        StepMemory(t, f"Agent[0]@{t} Agent[1]@{t}", {"Agent[0]": "step"}, {"Agent[0]": 1.0}) for t in range(n)
    ]


def answer(role, agent, messages):
    return "No, wait." if role in ("actor", "agent") else PLAN


async def test_llamac_shared_prefix_is_identical_across_critics_assessor_and_actors():
    gw = scripted_gateway(answer)
    task = ToyLineTask(gate=lambda a: Suspicious("doubt"))
    await LLaMACCoordinator(gw, LLaMACConfig()).decide(task, task.initial_state(), history(3))
    roles = {c.role for c in gw.calls}
    assert roles == {"explore_critic", "exploit_critic", "assessor", "actor"}
    prefixes = {c.messages[0].content for c in gw.calls}
    assert len(prefixes) == 1
    (prefix,) = prefixes
    assert all(c.messages[0].role == "system" for c in gw.calls)
    assert prefix.startswith(task.rules_text()) and task.planner_view(task.initial_state()) in prefix
    assert "step 2:" in prefix  # memory is part of the shared prefix
    # the role's instruction is last, and the gateway's label comes after everything else
    model_calls = gw.inner.chat_model("assessor").calls
    assert all(str(m[0].content) == prefix for m in model_calls)
    assert all(str(m[-1].content).rsplit("\n", 1)[-1].startswith("[role=") for m in model_calls)


async def test_hmas2_shares_the_same_prefix_as_llamac():
    task = ToyLineTask()
    gw_l, gw_h = scripted_gateway(answer), scripted_gateway(answer)
    await LLaMACCoordinator(gw_l).decide(task, task.initial_state(), history(2))
    await HMAS2Coordinator(gw_h, HMAS2Config()).decide(task, task.initial_state(), history(2))
    assert {c.messages[0].content for c in gw_l.calls} == {c.messages[0].content for c in gw_h.calls}


def test_memory_window_keeps_the_newest_steps_oldest_first():
    lines = memory_window(history(50), window_tokens=60)
    assert 0 < len(lines) < 50
    assert lines[-1].startswith("step 49:") and lines[0].startswith(f"step {50 - len(lines)}:")
    assert sum(estimate_tokens(line) for line in lines) <= 60
    assert memory_window(history(5), window_tokens=0) == []
    task = ToyLineTask()
    assert "Previous steps" not in shared_prefix(task, task.initial_state(), [], 300)


def test_actor_agreement_forms():
    for text in ("I Agree", "I agree.", '"I Agree"', "I Agree. The box gets closer."):
        assert agrees(text), text
    for text in ("I agree, but Agent[0] should wait.", "No: move the box left.", "Disagree", ""):
        assert not agrees(text), text


def test_merged_critic_schema_nests_the_task_plan_schema():
    plan_schema = ToyLineTask().plan_json_schema()
    schema = critics.pair_schema(plan_schema)
    assert schema["required"] == ["far_sighted", "current"]
    assert schema["properties"]["current"] == plan_schema


async def test_local_actor_context_sends_rules_and_own_view_only():
    gw = scripted_gateway(answer)
    task = ToyLineTask(gate=lambda a: Suspicious("doubt"))
    config = LLaMACConfig(actor_context="local")
    await LLaMACCoordinator(gw, config).decide(task, task.initial_state(), history(3))
    actors = [c for c in gw.calls if c.role == "actor"]
    others = [c for c in gw.calls if c.role != "actor"]
    assert actors and all(c.messages[0].content == task.rules_text() for c in actors)
    assert all(c.messages[0].content.startswith(task.rules_text()) for c in others)  # rules: a common prefix
    assert all("step 2:" not in c.messages[0].content for c in actors)


def test_the_memory_window_in_steps_shows_exactly_the_newest_steps():
    long = history(50)
    lines = memory_window(long, window_tokens=60, steps=7)
    assert len(lines) == 7 and lines[0].startswith("step 43:") and lines[-1].startswith("step 49:")
    assert memory_window(long, window_tokens=60, steps=0) == []
    assert len(memory_window(long[:3], window_tokens=60, steps=7)) == 3


def test_the_memory_steps_knob_reaches_every_prompt_of_a_step():
    from graphs.context import LLaMACConfig
    from graphs.prompts.shared import shared_prefix

    task = ToyLineTask()
    config = LLaMACConfig(memory_steps=5)
    prefix = shared_prefix(task, task.initial_state(), history(20), config.memory_window_tokens, config.memory_steps)
    assert prefix.count("\nstep ") == 5 and "step 19:" in prefix and "step 14:" not in prefix
