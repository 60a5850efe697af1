"""Issuing a plan and its syntax check with bounded re-plan: shared by LLaMAC's assessor and HMAS-2's planner.

The check is the paper's rule-based internal feedback: the answer must parse (``task.parse_plan``) and
every line must be doable without conflicts (``task.validate_plan``). A refused answer is fed back with
the typed errors and the same role is re-prompted, at most ``syntax_replans`` times; then the episode
ends with ``syntactic_error``. Counting follows the authors: a syntax-repair episode of the step's first
plan counts towards Feedback (``first_plan_repairs``; repairs of revised plans are ``syntax_repairs``
only); an answer that is not JSON is also an ``invalid_answer``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from langgraph.runtime import Runtime

from graphs import plan_answers
from graphs.context import CoordinatorContext
from graphs.plan_answers import worded
from graphs.prompts import feedback
from graphs.prompts.shared import messages
from graphs.state import StepState, call_counters
from llamac.runtime.contract import ChatMessage, Role
from llamac.runtime.stops import RunStopped
from tasks.base import Plan, PlanError, PlanErrorKind, Task

SYNTACTIC_ERROR = "syntactic_error"
SYNTAX_CHECK = "syntax_check"
"""The node's name in both coordinators' step graphs."""


def plan_schema(task: Task, state: Any, refused: Sequence[tuple[str, str]] = (), numbers: bool = False) -> dict[str, Any]:
    """The task's plan schema, narrowed to this step's doable actions when it names no agents itself.

    A grid plan's schema only says "agent -> action string"; listing each agent's doable actions (or their
    numbers, ``answer_format="numbers"``) as an enum lets endpoints that turn schemas into grammars
    (llama.cpp) produce only doable lines, and tells the others the same. ``refused`` lines (those the
    syntax check blamed, e.g. a collision) are left out of a re-plan's enums, so a model at temperature 0
    cannot answer the refused plan again. Schemas that already name their agents (allocation's amounts)
    are kept as they are.
    """
    return plan_answers.schema(task, state, refused, numbers)


def plan_request(state: StepState) -> list[ChatMessage]:
    """The messages of the next plan call: the base conversation, then every refused answer with its errors.

    Refusals accumulate (bounded by ``syntax_replans``): at temperature 0 re-sending only the last one
    would often repeat the same prompt and so the same wrong answer.
    """
    return list(state["base_messages"]) + list(state.get("repair_turns", []))


def ask_for_plan(role: Role, first_instruction: Callable[[StepState], str]) -> Callable:
    """A node that asks ``role`` for a plan: first request, repair after a refusal, or revision.

    ``first_instruction`` words the step's first request (the assessor quotes the critics; the HMAS-2
    planner has none); repairs and revisions extend ``base_messages`` and are worded alike for both.
    """

    async def ask(state: StepState, runtime: Runtime[CoordinatorContext]) -> dict:
        if state.get("end_reason"):
            return {}
        ctx = runtime.context
        update: dict = {}
        numbers = ctx.config.numbers_for(ctx.task)
        if not state.get("base_messages"):
            update["base_messages"] = messages(state["prefix"], worded(first_instruction(state), numbers, ctx.task))
            state = {**state, **update}
        repairing = bool(state.get("repair_turns"))
        try:
            result = await ctx.gateway.call(
                role=role,
                agent=None,
                messages=plan_request(state),
                step=state["step"],
                schema=plan_schema(ctx.task, state["env_state"], state.get("refused_lines", []), numbers),
            )
        except RunStopped as stop:
            return {**update, "end_reason": stop.end_reason}
        answer = json.dumps(result.parsed) if result.parsed is not None else result.text
        counters = call_counters(result.record)
        if repairing:
            counters["syntax_repairs"] = 1
            update["repairs"] = state.get("repairs", 0) + 1
        return {**update, "plan_answer": answer, "counters": counters}

    return ask


def blamed_lines(parsed: Plan | PlanError, errors: Sequence[PlanError]) -> list[tuple[str, str]]:
    """The plan's (agent, action) lines an error names: what a re-plan must not propose again."""
    if not isinstance(parsed, Plan):
        return []
    lines = parsed.as_dict()
    return [(e.agent, str(lines[e.agent])) for e in errors if e.agent in lines]


def passing_lines(task: Task, env_state: Any, plan: Plan) -> Plan:
    """``syntax_repair="drop"``: the plan's lines in the order written, each kept only if the kept lines plus
    it pass the task's check (so a Hard collision drops the later of the two moves)."""
    kept: list[tuple[str, str]] = []
    for line in plan.assignments:
        if not task.validate_plan(env_state, Plan((*kept, line))):
            kept.append(line)
    return Plan(tuple(kept))


async def syntax_check(state: StepState, runtime: Runtime[CoordinatorContext]) -> dict:
    """Parse and validate the last answer against the step-start state; refuse with typed errors."""
    if state.get("end_reason"):
        return {}
    task = runtime.context.task
    numbers = runtime.context.config.numbers_for(task)
    answer = plan_answers.as_actions(task, state["env_state"], state["plan_answer"]) if numbers else state["plan_answer"]
    parsed = task.parse_plan(answer)
    errors = (parsed,) if not isinstance(parsed, Plan) else task.validate_plan(state["env_state"], parsed)
    dropped = 0
    if errors and isinstance(parsed, Plan) and runtime.context.config.syntax_repair == "drop":
        kept = passing_lines(task, state["env_state"], parsed)
        parsed, dropped, errors = kept, len(parsed) - len(kept), ()
    if not errors:
        return {
            "plan": parsed,
            "plan_errors": (),
            "repair_turns": [],
            "refused_lines": [],
            "counters": {"plan_rounds": 1, **({"dropped_lines": dropped} if dropped else {})},
        }
    counters: dict[str, float] = {}
    if any(e.kind is PlanErrorKind.NOT_JSON for e in errors):
        counters["invalid_answers"] = 1
    first_plan_of_step = state.get("round", 0) == 0
    if state.get("repairs", 0) == 0 and first_plan_of_step:
        counters["first_plan_repairs"] = 1  # a Feedback episode (graphs.state.feedback)
    turns = [ChatMessage("assistant", state["plan_answer"]), ChatMessage("user", worded(feedback.repair(errors), numbers, task))]
    update: dict = {
        "plan_errors": tuple(errors),
        "repair_turns": list(state.get("repair_turns", [])) + turns,
        "refused_lines": list(state.get("refused_lines", [])) + blamed_lines(parsed, errors),
        "counters": counters,
    }
    if state.get("repairs", 0) >= runtime.context.config.syntax_replans:
        update["end_reason"] = SYNTACTIC_ERROR
    return update
