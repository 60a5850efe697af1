"""HMAS-2 step graph with a ScriptedChatModel behind the real gateway: every named agent is asked."""

from __future__ import annotations

import json

from graphs.context import HMAS2Config
from graphs.hmas2 import HMAS2Coordinator, build_hmas2_graph
from llamac.runtime.contract import Role
from tasks.base import Agree
from tasks.coordinator import Coordinator
from tests.graphs.scripted_gateway import scripted_gateway
from tests.graphs.toy_task import ToyLineTask

BOTH_STEP = json.dumps({"Agent[0]": "step", "Agent[1]": "step"})
ONE_WAITS = json.dumps({"Agent[0]": "wait", "Agent[1]": "step"})


def answers(planner=(BOTH_STEP,), agent="I Agree"):
    said = {"planner": 0}

    def answer(role, who, messages):
        if role == "planner":
            i = min(said["planner"], len(planner) - 1)
            said["planner"] += 1
            return planner[i]
        if role == "agent":
            return agent(who) if callable(agent) else agent
        raise AssertionError(role)

    return answer


async def decide(task, gateway, **config):
    return await HMAS2Coordinator(gateway, HMAS2Config(**config)).decide(task, task.initial_state(), [])


def test_coordinator_protocol_and_graph_build_without_a_model():
    assert isinstance(HMAS2Coordinator(gateway=object()), Coordinator)
    mermaid = build_hmas2_graph().get_graph().draw_mermaid()
    assert "planner" in mermaid and "actor" in mermaid and "critic" not in mermaid


async def test_every_agent_named_in_the_plan_is_asked_without_a_gate():
    gw = scripted_gateway(answers(planner=(json.dumps({"Agent[1]": "step", "Agent[2]": "wait"}),)))
    decision = await decide(ToyLineTask(n_agents=3, gate=lambda a: Agree()), gw)
    assert sorted(c.agent for c in gw.of(Role.AGENT)) == ["Agent[1]", "Agent[2]"]
    assert decision.counters["gate_skips"] == 0
    assert decision.counters["llm_calls"] == 3
    whole_plan = gw.of(Role.AGENT)[0].messages[-1].content
    assert '"Agent[2]": "wait"' in whole_plan  # each agent sees the whole plan


async def test_objection_makes_the_planner_revise_within_the_round_limit():
    gw = scripted_gateway(
        answers(planner=(BOTH_STEP, ONE_WAITS), agent=lambda a: "No, wait." if a == "Agent[0]" else "I Agree")
    )
    decision = await decide(ToyLineTask(), gw)
    assert dict(decision.joint_action) == json.loads(ONE_WAITS)
    assert len(gw.of(Role.PLANNER)) == 2 and len(gw.of(Role.AGENT)) == 2
    assert "Agent[0]: No, wait." in gw.of(Role.PLANNER)[1].messages[-1].content
    assert decision.counters["feedback"] == 1 and decision.counters["objection_rounds"] == 1

    gw = scripted_gateway(answers(agent="No."))
    decision = await decide(ToyLineTask(family="grid_hard"), gw)
    assert decision.counters["objection_rounds"] == 3 and len(gw.of(Role.PLANNER)) == 4


async def test_syntax_repair_bound_ends_with_syntactic_error():
    gw = scripted_gateway(answers(planner=("```json\n{oops",)))
    decision = await decide(ToyLineTask(), gw)
    assert decision.end_reason == "syntactic_error" and dict(decision.joint_action) == {}
    assert len(gw.of(Role.PLANNER)) == 7
    assert decision.counters["invalid_answers"] == 7 and decision.counters["feedback"] == 1


async def test_agents_are_asked_concurrently():
    task = ToyLineTask(n_agents=5)
    plan = json.dumps({a: "step" for a in task.agents})
    gw = scripted_gateway(answers(planner=(plan,)), delay_s=0.2)
    await decide(task, gw)
    agents = gw.of(Role.AGENT)
    assert len(agents) == 5
    assert max(c.started for c in agents) < min(c.ended for c in agents)


async def test_budget_exhaustion_at_the_planner_stops_cleanly():
    gw = scripted_gateway(answers(), budget_tokens=100)
    decision = await decide(ToyLineTask(), gw)
    assert decision.end_reason == "budget_exhausted" and decision.counters["llm_calls"] == 0
