"""The TripletCritic of LLaMAC: an exploration critic, an exploitation critic and the assessor.

The two critics propose plans from two preferences (far-sighted, current gain), concurrently or as the
authors' one merged call (``critic_pair``); the assessor weighs them and writes the step's plan, which
the syntax check and the actors then check (``graphs/syntax_check.py``, ``graphs/plan_confirmation.py``).
``agreed_plan`` lets the assessor's first call be skipped when both critics propose the same plan
(``assessor="on-disagreement"``, ours).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langgraph.runtime import Runtime

from graphs.context import CoordinatorContext, LLaMACConfig
from graphs.plan_answers import as_actions, as_numbers, worded
from graphs.prompts import assessor as assessor_prompt
from graphs.prompts import critics as critic_prompts
from graphs.prompts.shared import messages
from graphs.state import StepState, Suggestion, call_counters
from graphs.syntax_check import ask_for_plan, plan_schema
from llamac.runtime.contract import Role
from llamac.runtime.stops import RunStopped
from tasks.base import Plan, Task


def suggestion(task: Task, state: Any, label: str, text: str) -> Suggestion:
    """A critic's plan (action strings, as the syntax check reads them), shown to the assessor as the assessor
    must answer when the task's notation numbers the moves (a compact grid: ``{"Agent[0, 1]": 2}``, each
    number a doable move of the view)."""
    plan = task.parse_plan(text) if getattr(task, "compact", False) else None
    if not isinstance(plan, Plan):
        return Suggestion(label, text)
    return Suggestion(label, text, json.dumps(as_numbers(task, state, plan.as_dict())))


def critic(role: Role, label: str, instruction: str):
    """One critic of the pair: its plan goes to the assessor as a suggestion (checked only there)."""

    async def propose(state: StepState, runtime: Runtime[CoordinatorContext]) -> dict:
        ctx = runtime.context
        numbers = ctx.config.numbers_for(ctx.task)
        try:
            result = await ctx.gateway.call(
                role=role,
                agent=None,
                messages=messages(state["prefix"], worded(instruction, numbers, ctx.task)),
                step=state["step"],
                schema=plan_schema(ctx.task, state["env_state"], numbers=numbers),
            )
        except RunStopped as stop:
            return {"end_reason": stop.end_reason}
        counters = call_counters(result.record)
        if result.parsed is None:  # still shown to the assessor, whose own plan is what gets checked
            counters["invalid_answers"] = 1
        text = json.dumps(result.parsed) if result.parsed is not None else result.text
        if numbers:  # the assessor weighs plans by their actions, as in the paper
            text = as_actions(ctx.task, state["env_state"], text)
        return {"suggestions": [suggestion(ctx.task, state["env_state"], label, text)], "counters": counters}

    return propose


async def critic_pair(state: StepState, runtime: Runtime[CoordinatorContext]) -> dict:
    """The authors' merged critic: one call, two plans (far-sighted and current gain)."""
    ctx = runtime.context
    numbers = ctx.config.numbers_for(ctx.task)
    try:
        result = await ctx.gateway.call(
            role=Role.CRITIC_PAIR,
            agent=None,
            messages=messages(state["prefix"], worded(critic_prompts.PAIR, numbers, ctx.task)),
            step=state["step"],
            schema=critic_prompts.pair_schema(plan_schema(ctx.task, state["env_state"], numbers=numbers)),
        )
    except RunStopped as stop:
        return {"end_reason": stop.end_reason}
    parsed = result.parsed or {}
    counters = call_counters(result.record)
    if all(key in parsed for key, _ in critic_prompts.PAIR_KEYS):
        texts = {key: json.dumps(parsed[key]) for key, _ in critic_prompts.PAIR_KEYS}
        if numbers:  # the assessor weighs plans by their actions, as in the paper
            texts = {key: as_actions(ctx.task, state["env_state"], text) for key, text in texts.items()}
        suggestions = [suggestion(ctx.task, state["env_state"], label, texts[key]) for key, label in critic_prompts.PAIR_KEYS]
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

    ask = ask_for_plan(Role.ASSESSOR, first_instruction)

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
