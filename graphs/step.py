"""What every coordinator step graph shares: the context node that opens a step and running one step."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from graphs.context import CoordinatorContext
from graphs.prompts.shared import shared_prefix
from graphs.state import StepState, decision_from, step_of
from tasks.coordinator import Decision, StepMemory

# run_step passes durability="exit" on purpose (see there); LangGraph warns that it is moot without a
# checkpointer, once per step. The message is silenced for that one case only.
warnings.filterwarnings("ignore", message="`durability` has no effect when no checkpointer", category=UserWarning)


async def context(state: StepState, runtime: Runtime[CoordinatorContext]) -> dict:
    """Short-term (current state) and long-term memory (history window) -> the step's shared prefix."""
    ctx = runtime.context
    prefix = shared_prefix(ctx.task, state["env_state"], state["history"], ctx.config.memory_window_tokens,
                           ctx.config.memory_steps, ctx.config.numbers_for(ctx.task))
    return {"prefix": prefix, "round": 0, "repairs": 0}


async def run_step(
    graph: CompiledStateGraph, context: CoordinatorContext, state: Any, history: Sequence[StepMemory]
) -> Decision:
    """One environment step through a coordinator graph (shared by LLaMAC and HMAS-2)."""
    # durability="exit": a step graph keeps no checkpoints of its own (checkpointer=False), and must not
    # inherit the episode graph's "sync" durability when it runs inside the episode's decide node
    final = await graph.ainvoke(
        {"env_state": state, "history": list(history), "step": step_of(history)},
        context=context,
        durability="exit",
    )
    return decision_from(final)
