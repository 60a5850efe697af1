"""LLaMAC: the TripletCritic (two critics + assessor) and decentralised actors, one graph per step.

    context -> exploration critic | exploitation critic   (concurrent; or one merged critic-pair call)
            -> assessor -> syntax check (re-plan <= 6) -> actors (Send, rule gate first)
            -> objections -> assessor revises ... until a round without objection or the round limit

Our knobs (defaults are the paper's): ``assessor="on-disagreement"`` skips the assessor's first call when
both critics propose the same plan; ``actor_gate="apply"`` lets actors take their gate's fix themselves.

The graph is task-agnostic: it sees only the Task protocol (text views, parser, validator, rule gate),
so Grid Easy, Grid Hard and Resource Allocation run through the same nodes. The episode loop
(``graphs/episode.py``) executes the returned plan and keeps memory.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from graphs.context import CoordinatorContext, LLaMACConfig
from graphs.plan_check import plan_node, plan_schema, syntax_check
from graphs.plan_confirmation import (
    ACTOR,
    GATHER,
    actor,
    gather_objections,
    route_checked_plan,
    route_objections,
)
from graphs.prompts import assessor as assessor_prompt
from graphs.prompts import critics as critic_prompts
from graphs.prompts.shared import messages
from graphs.state import StepState, Suggestion, call_counters
from graphs.step import context, run_step
from llamac.gateway import Gateway, Role
from llamac.stops import RunStopped
from tasks.base import Plan, Task
from tasks.coordinator import Decision, StepMemory

ASSESSOR = "assessor"
SYNTAX_CHECK = "syntax_check"


def critic(role: Role, label: str, instruction: str):
    """One critic of the pair: its plan goes to the assessor as a suggestion (checked only there)."""

    async def propose(state: StepState, runtime: Runtime[CoordinatorContext]) -> dict:
        ctx = runtime.context
        try:
            result = await ctx.gateway.call(
                role=role,
                agent=None,
                messages=messages(state["prefix"], instruction),
                step=state["step"],
                schema=plan_schema(ctx.task, state["env_state"]),
            )
        except RunStopped as stop:
            return {"end_reason": stop.end_reason}
        counters = call_counters(result.record)
        if result.parsed is None:  # still shown to the assessor, whose own plan is what gets checked
            counters["invalid_answers"] = 1
        text = json.dumps(result.parsed) if result.parsed is not None else result.text
        return {"suggestions": [Suggestion(label, text)], "counters": counters}

    return propose


async def critic_pair(state: StepState, runtime: Runtime[CoordinatorContext]) -> dict:
    """The authors' merged critic: one call, two plans (far-sighted and current gain)."""
    ctx = runtime.context
    try:
        result = await ctx.gateway.call(
            role=Role.CRITIC_PAIR,
            agent=None,
            messages=messages(state["prefix"], critic_prompts.PAIR),
            step=state["step"],
            schema=critic_prompts.pair_schema(plan_schema(ctx.task, state["env_state"])),
        )
    except RunStopped as stop:
        return {"end_reason": stop.end_reason}
    parsed = result.parsed or {}
    counters = call_counters(result.record)
    if all(key in parsed for key, _ in critic_prompts.PAIR_KEYS):
        suggestions = [Suggestion(label, json.dumps(parsed[key])) for key, label in critic_prompts.PAIR_KEYS]
    else:  # the assessor still sees the raw text; its own plan is what the syntax check judges
        suggestions = [Suggestion("two plans", result.text)]
        counters["invalid_answers"] = 1
    return {"suggestions": suggestions, "counters": counters}


def agreed_plan(task: Task, suggestions: Sequence[Suggestion]) -> str | None:
    """The critics' common plan when both proposed the same assignments (in any order), else ``None``.

    Then the assessor has nothing to weigh: its veracity check is the syntax check's, which still runs.
    """
    if len(suggestions) != 2:
        return None
    plans = [task.parse_plan(s.text) for s in suggestions]
    if not all(isinstance(p, Plan) for p in plans) or plans[0].as_dict() != plans[1].as_dict():
        return None
    return suggestions[0].text


def assessor_node(config: LLaMACConfig):
    """The assessor; with ``assessor="on-disagreement"`` the step's first request is skipped when the
    critics agree (counted in ``assessor_skips``), and the agreed plan is its answer. Repairs and
    revisions extend the same conversation, so they read as if the assessor had issued that plan."""

    def first_instruction(state: StepState) -> str:
        return assessor_prompt.instruction(state.get("suggestions", []))

    ask = plan_node(Role.ASSESSOR, first_instruction)

    async def assess(state: StepState, runtime: Runtime[CoordinatorContext]) -> dict:
        if config.assessor == "on-disagreement" and not state.get("base_messages") and not state.get("end_reason"):
            agreed = agreed_plan(runtime.context.task, state.get("suggestions", []))
            if agreed is not None:
                return {
                    "base_messages": messages(state["prefix"], first_instruction(state)),
                    "plan_answer": agreed,
                    "counters": {"assessor_skips": 1},
                }
        return await ask(state, runtime)

    return assess


def build_llamac_graph(config: LLaMACConfig | None = None) -> CompiledStateGraph:
    """Compile the step graph; the task and gateway come per run as the runtime context."""
    config = config or LLaMACConfig()
    graph = StateGraph(StepState, context_schema=CoordinatorContext)
    graph.add_node("context", context)
    graph.add_node(ASSESSOR, assessor_node(config))
    graph.add_node(SYNTAX_CHECK, syntax_check)
    graph.add_node(ACTOR, actor)
    graph.add_node(GATHER, gather_objections)

    graph.add_edge(START, "context")
    if config.critics == "split":
        # the two critics run concurrently (one superstep); the assessor waits for both
        graph.add_node(
            "exploration_critic", critic(Role.EXPLORE_CRITIC, "far-sighted", critic_prompts.EXPLORATION)
        )
        graph.add_node(
            "exploitation_critic", critic(Role.EXPLOIT_CRITIC, "current gain", critic_prompts.EXPLOITATION)
        )
        graph.add_edge("context", "exploration_critic")
        graph.add_edge("context", "exploitation_critic")
        graph.add_edge(["exploration_critic", "exploitation_critic"], ASSESSOR)
    else:
        graph.add_node("critic_pair", critic_pair)
        graph.add_edge("context", "critic_pair")
        graph.add_edge("critic_pair", ASSESSOR)
    # every assessor answer is syntax-checked: refused -> assessor repairs; accepted -> actors (or done)
    graph.add_edge(ASSESSOR, SYNTAX_CHECK)
    graph.add_conditional_edges(
        SYNTAX_CHECK, route_checked_plan(ASSESSOR, gated=True), [ASSESSOR, ACTOR, END]
    )
    # actors fan in; any objection sends the plan back to the assessor for revision
    graph.add_edge(ACTOR, GATHER)
    graph.add_conditional_edges(GATHER, route_objections(ASSESSOR), [ASSESSOR, END])
    return graph.compile(checkpointer=False, name="llamac")


class LLaMACCoordinator:
    """The ``Coordinator`` the episode loop drives: one compiled LLaMAC graph, reused every step."""

    name = "llamac"

    def __init__(self, gateway: Gateway, config: LLaMACConfig | None = None) -> None:
        self.gateway = gateway
        self.config = config or LLaMACConfig()
        self.graph = build_llamac_graph(self.config)

    async def decide(self, task: Task, state: Any, history: Sequence[StepMemory]) -> Decision:
        return await run_step(self.graph, CoordinatorContext(task, self.gateway, self.config), state, history)
