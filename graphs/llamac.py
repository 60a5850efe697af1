"""LLaMAC: the TripletCritic (two critics + assessor) and decentralised actors, one graph per step.

    context -> exploration critic | exploitation critic   (concurrent; or one merged critic-pair call)
            -> assessor -> syntax check (re-plan <= 6) -> actors (Send, rule gate first)
            -> objections -> assessor revises ... until a round without objection or the round limit

Our knobs (defaults are the paper's): ``assessor="on-disagreement"`` skips the assessor's first call when
both critics propose the same plan; ``actor_gate="apply"`` lets actors take their gate's fix themselves.

The TripletCritic's members are in ``graphs/triplet_critic.py``. The graph is task-agnostic: it sees only the Task protocol (text views, parser, validator, rule gate),
so Grid Easy, Grid Hard and Resource Allocation run through the same nodes. The episode loop
(``graphs/episode.py``) executes the returned plan and keeps memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from graphs.context import CoordinatorContext, LLaMACConfig
from graphs.plan_confirmation import add_plan_confirmation
from graphs.prompts import critics as critic_prompts
from graphs.state import StepState
from graphs.step import context, run_step
from graphs.triplet_critic import assessor_node, critic, critic_pair
from llamac.runtime.contract import Gateway, Role
from tasks.base import Task
from tasks.coordinator import Decision, StepMemory

ASSESSOR = "assessor"


def build_llamac_graph(config: LLaMACConfig | None = None) -> CompiledStateGraph:
    """Compile the step graph; the task and gateway come per run as the runtime context."""
    config = config or LLaMACConfig()
    graph = StateGraph(StepState, context_schema=CoordinatorContext)
    graph.add_node("context", context)
    graph.add_node(ASSESSOR, assessor_node(config))

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
    # every assessor answer is syntax-checked (refused: the assessor repairs); the actors of an accepted
    # plan check their lines (rule gate first); an objection sends it back to the assessor for revision
    add_plan_confirmation(graph, ASSESSOR, gated=True)
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
