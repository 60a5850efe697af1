"""HMAS-2 (Chen et al.): a central planner, then every agent named in the plan confirms or objects.

    context -> planner -> syntax check (re-plan <= 6) -> every named agent (Send, no rule gate)
            -> objections -> planner revises ... within the same round limits as LLaMAC

Same runtime, prompts' shared prefix, memory window, budget and counters as LLaMAC, so the token and
Feedback comparison is like for like.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from graphs.context import CoordinatorContext, HMAS2Config
from graphs.plan_confirmation import (
    ACTOR,
    GATHER,
    actor,
    gather_objections,
    route_checked_plan,
    route_objections,
)
from graphs.prompts import planner as planner_prompt
from graphs.state import StepState
from graphs.step import context, run_step
from graphs.syntax_check import ask_for_plan, syntax_check
from llamac.runtime.contract import Gateway, Role
from tasks.base import Task
from tasks.coordinator import Decision, StepMemory

PLANNER = "planner"
SYNTAX_CHECK = "syntax_check"


def build_hmas2_graph(config: HMAS2Config | None = None) -> CompiledStateGraph:
    """Compile the HMAS-2 step graph; task and gateway come per run as the runtime context."""
    graph = StateGraph(StepState, context_schema=CoordinatorContext)
    graph.add_node("context", context)
    graph.add_node(PLANNER, ask_for_plan(Role.PLANNER, lambda _: planner_prompt.INSTRUCTION))
    graph.add_node(SYNTAX_CHECK, syntax_check)
    graph.add_node(ACTOR, actor)
    graph.add_node(GATHER, gather_objections)

    graph.add_edge(START, "context")
    graph.add_edge("context", PLANNER)
    # every planner answer is syntax-checked: refused -> planner repairs; accepted -> all named agents
    graph.add_edge(PLANNER, SYNTAX_CHECK)
    graph.add_conditional_edges(SYNTAX_CHECK, route_checked_plan(PLANNER, gated=False), [PLANNER, ACTOR, END])
    # agents fan in; any objection sends the plan back to the planner
    graph.add_edge(ACTOR, GATHER)
    graph.add_conditional_edges(GATHER, route_objections(PLANNER), [PLANNER, END])
    return graph.compile(checkpointer=False, name="hmas2")


class HMAS2Coordinator:
    name = "hmas2"

    def __init__(self, gateway: Gateway, config: HMAS2Config | None = None) -> None:
        self.gateway = gateway
        self.config = config or HMAS2Config()
        self.graph = build_hmas2_graph(self.config)

    async def decide(self, task: Task, state: Any, history: Sequence[StepMemory]) -> Decision:
        return await run_step(self.graph, CoordinatorContext(task, self.gateway, self.config), state, history)
