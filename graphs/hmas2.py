"""HMAS-2 (Chen et al.): a central planner, then every agent named in the plan confirms or objects.

    context -> planner -> syntax check (re-plan <= 6) -> every named agent (Send, no rule gate)
            -> objections -> planner revises ... within the same round limits as LLaMAC

Same runtime, prompts' shared prefix, memory window, budget and counters as LLaMAC, so the token and
Feedback comparison is like for like.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from graphs.context import CoordinatorContext, HMAS2Config
from graphs.plan_confirmation import add_plan_confirmation
from graphs.prompts import planner as planner_prompt
from graphs.state import StepState
from graphs.step import context, run_step
from graphs.syntax_check import ask_for_plan
from llamac.runtime.contract import Gateway, Role
from tasks.base import Task
from tasks.coordinator import Decision, StepMemory

PLANNER = "planner"


def build_hmas2_graph(config: HMAS2Config | None = None) -> CompiledStateGraph:
    """Compile the HMAS-2 step graph; task and gateway come per run as the runtime context."""
    graph = StateGraph(StepState, context_schema=CoordinatorContext)
    graph.add_node("context", context)
    graph.add_node(PLANNER, ask_for_plan(Role.PLANNER, lambda _: planner_prompt.INSTRUCTION))
    graph.add_edge(START, "context")
    graph.add_edge("context", PLANNER)
    # every planner answer is syntax-checked (refused: the planner repairs); every agent named in an
    # accepted plan confirms or objects (no rule gate); an objection sends it back to the planner
    add_plan_confirmation(graph, PLANNER, gated=False)
    return graph.compile(checkpointer=False, name="hmas2")


class HMAS2Coordinator:
    name = "hmas2"

    def __init__(self, gateway: Gateway, config: HMAS2Config | None = None) -> None:
        self.gateway = gateway
        self.config = config or HMAS2Config()
        self.graph = build_hmas2_graph(self.config)

    async def decide(self, task: Task, state: Any, history: Sequence[StepMemory]) -> Decision:
        return await run_step(self.graph, CoordinatorContext(task, self.gateway, self.config), state, history)
