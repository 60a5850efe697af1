"""Plan confirmation: the plan's agents check their own lines concurrently, objections go back to the planner.

LLaMAC actors run their task's ``rule_gate`` first and call the LLM only on a suspicious line (``Agree``:
no call, counted as a gate skip; ``DirectFeedback``: the rule's objection, no call; a suspicious line
whose gate knows the fix: that fix as the objection, no call, when ``actor_gate`` is ``direct``, or that
fix taken in place of the line, with no revision call, when it is ``apply``).
HMAS-2 agents are all asked. Actors are fanned out with LangGraph ``Send`` (one task per agent, run
concurrently in one superstep) and their objections are gathered by the ``objections`` reducer. Any
objection costs +1 Feedback and asks for a revision; the revised plan is syntax-checked and confirmed
again, until a round passes without objection or the round limit is reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langgraph.graph import END, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send

from graphs.context import CoordinatorContext
from graphs.plan_answers import as_numbers, key_of, keyed_by_squares, worded
from graphs.prompts import actor as actor_prompts
from graphs.prompts import feedback
from graphs.prompts.shared import messages, plan_text
from graphs.state import ActorInput, Objection, StepState, call_counters
from graphs.syntax_check import SYNTAX_CHECK, syntax_check
from llamac.runtime.contract import ChatMessage, Role
from llamac.runtime.stops import RunStopped
from tasks.base import WITHDRAW, Agree, DirectFeedback, Plan

ACTOR = "actor"
GATHER = "gather_objections"


def route_checked_plan(replan_node: str, gated: bool):
    """After the syntax check: end, re-plan the refused answer, or send the plan to its actors."""

    def route(state: StepState, runtime: Runtime[CoordinatorContext]) -> str | list[Send]:
        if state.get("end_reason"):
            return END
        if state.get("plan_errors"):
            return replan_node
        plan = state["plan"]
        if state.get("round", 0) >= runtime.context.config.rounds_for(runtime.context.task):
            return END
        agents = list(plan.agents)
        if gated and state.get("round", 0) == 0:  # an empty plan still has its volunteers
            agents += volunteers(runtime.context, state["env_state"], plan)
        if not agents:
            return END
        return [
            Send(
                ACTOR,
                ActorInput(
                    agent=agent,
                    round=state.get("round", 0),
                    gated=gated,
                    plan=plan,
                    env_state=state["env_state"],
                    prefix=state["prefix"],
                    step=state["step"],
                ),
            )
            for agent in agents
        ]

    return route


def volunteers(ctx: CoordinatorContext, env_state: object, plan: Plan) -> list[str]:
    """The agents the plan leaves idle that have a useful move of their own (``idle_actors="volunteer"``)."""
    idle_move = getattr(ctx.task, "idle_move", None)
    if getattr(ctx.config, "idle_actors", "wait") != "volunteer" or idle_move is None:
        return []
    named = set(plan.agents)
    return [a for a in ctx.task.agents if a not in named and idle_move(env_state, a, ctx.config.gate_goal) is not None]


def written(task: Any, state: Any, agent: str, action: str) -> str:
    """A move as the prompts write it: the action string, or in a task's own notation (a compact grid:
    its number and move, ``3 purple match``, as the assessor's numbered answer names it)."""
    move_text = getattr(task, "move_text", None)
    return move_text(agent, action, state) if move_text is not None else action


def who(task: Any, agent: str) -> str:
    """How an actor is addressed: by its name, or by its square where plans key agents by squares."""
    return f"the agent of square {key_of(task, agent)}" if keyed_by_squares(task) else agent


async def actor(job: ActorInput, runtime: Runtime[CoordinatorContext]) -> dict:
    """One actor's plan confirmation: rule gate first (LLaMAC), the LLM only when it is needed."""
    ctx = runtime.context
    agent, plan = job["agent"], job["plan"]
    if job["gated"] and agent not in plan.as_dict():  # a volunteer (see ``volunteers``)
        move = ctx.task.idle_move(job["env_state"], agent, ctx.config.gate_goal)
        text = f"the plan leaves {key_of(ctx.task, agent)} idle; take {written(ctx.task, job['env_state'], agent, str(move))}"
        return {"objections": [Objection(agent, text, job["round"], "rule", move)]}
    if job["gated"]:
        verdict = ctx.task.rule_gate(job["env_state"], plan, agent, ctx.config.gate_goal)
        if isinstance(verdict, Agree):
            return {"counters": {"gate_skips": 1}}
        if isinstance(verdict, DirectFeedback):
            return {"objections": [Objection(agent, verdict.text, job["round"], "rule")]}
        if verdict.fix is not None and ctx.config.actor_gate in ("direct", "apply"):
            env_state = job["env_state"]
            instead = ("withdraw this line" if verdict.fix == WITHDRAW
                       else f"take {written(ctx.task, env_state, agent, verdict.fix)} instead")
            text = f"{written(ctx.task, env_state, agent, plan.as_dict()[agent])}: {verdict.reason}; {instead}"
            return {"objections": [Objection(agent, text, job["round"], "rule", verdict.fix)]}
        role = Role.ACTOR
        instruction = actor_prompts.llamac_actor(
            who(ctx.task, agent), ctx.task.actor_view(job["env_state"], agent, plan), verdict.reason
        )
        # "local": the paper's actor sees only its own view; the rules stay first, a prefix of the step's
        prefix = job["prefix"] if ctx.config.actor_context == "shared" else ctx.task.rules_text().strip()
    else:
        role = Role.AGENT
        instruction = actor_prompts.hmas2_agent(
            who(ctx.task, agent), ctx.task.actor_view(job["env_state"], agent, plan), plan_text(ctx.task, plan.as_dict(), job["env_state"])
        )
        prefix = job["prefix"]  # HMAS-2 agents see every agent's state and the history by design
    try:
        result = await ctx.gateway.call(
            role=role, agent=agent, messages=messages(prefix, instruction), step=job["step"]
        )
    except RunStopped as stop:
        return {"end_reason": stop.end_reason}
    counters = call_counters(result.record)
    answer = result.text.strip()
    if not answer:
        counters["invalid_answers"] = 1
        return {"counters": counters}
    if actor_prompts.agrees(answer):
        return {"counters": counters}
    return {"counters": counters, "objections": [Objection(agent, answer, job["round"], "llm")]}


def applied_fixes(raised: Sequence[Objection], plan: Plan, env_state: object, ctx: CoordinatorContext) -> Plan | None:
    """The plan with the actors' own fixes in place of their lines, when ``apply`` may take it.

    Only when every objection of the round is a rule fix (an LLM objection needs the assessor) and the
    patched plan passes the task's check (Grid Hard: two fixes may aim at one corner); else ``None``.
    A ``WITHDRAW`` fix takes its line out of the plan.
    Volunteers' lines are optional: one that would break the check is left out, the rest are added.
    """
    if ctx.config.actor_gate != "apply" or any(o.fix is None for o in raised):
        return None
    fixes = {o.agent: o.fix for o in raised}
    named = set(plan.agents)
    patched = Plan(tuple((agent, fixes.get(agent, action)) for agent, action in plan.assignments
                         if fixes.get(agent) != WITHDRAW))
    if ctx.task.validate_plan(env_state, patched):
        return None
    for o in raised:  # volunteers' lines, in agent order, each kept only if the plan still passes the check
        if o.agent not in named:  # (Grid Hard: two squares share a corner, so two volunteers may aim at one)
            longer = Plan(patched.assignments + ((o.agent, o.fix),))
            if not ctx.task.validate_plan(env_state, longer):
                patched = longer
    return patched


def fix_lines(raised: Sequence[Objection], env_state: object, ctx: CoordinatorContext) -> dict[str, Any]:
    """The round's rule fixes as the numbered plan lines the assessor answers with, in the compact notation
    (where every move is written with its number); empty otherwise, so other prompts are unchanged."""
    if not getattr(ctx.task, "compact", False) or not ctx.config.numbers_for(ctx.task):
        return {}
    fixes = {o.agent: o.fix for o in raised if o.fix is not None and o.fix != WITHDRAW}
    return as_numbers(ctx.task, env_state, fixes) if fixes else {}


def revision_request(raised: Sequence[Objection], env_state: object, ctx: CoordinatorContext) -> str:
    """The objections of a round as the plan's author reads them: each agent named as its plans key it."""
    task = ctx.task
    return worded(feedback.revise(raised, fix_lines(raised, env_state, ctx), name=lambda agent: key_of(task, agent)),
                  ctx.config.numbers_for(task), task)


async def gather_objections(state: StepState, runtime: Runtime[CoordinatorContext]) -> dict:
    """Fan-in of one confirmation round: any objection asks the planner for a revision (a Feedback round).

    Under ``actor_gate="apply"`` a round whose objections are all rule fixes ends the step with the
    patched plan instead (no revision call, no Feedback: the critic is not asked again).
    """
    this_round = state.get("round", 0)
    update: dict = {"round": this_round + 1}
    if state.get("end_reason"):
        return update
    order = {agent: i for i, agent in enumerate(state["plan"].agents)}
    raised = sorted(
        (o for o in state.get("objections", []) if o.round == this_round), key=lambda o: order.get(o.agent, 0)
    )
    patched = applied_fixes(raised, state["plan"], state["env_state"], runtime.context) if raised else None
    if patched is not None:
        update["plan"] = patched
        update["fixed_round"] = this_round
        final = patched.as_dict()
        update["counters"] = {"gate_fixes": sum(final.get(o.agent) == o.fix for o in raised)}
    elif raised:
        update["counters"] = {"objection_rounds": 1}  # a Feedback round (graphs.state.feedback)
        update["base_messages"] = list(state["base_messages"]) + [
            ChatMessage("assistant", state["plan_answer"]),
            ChatMessage("user", revision_request(raised, state["env_state"], runtime.context)),
        ]
        update["repairs"] = 0
        update["plan_errors"] = ()
        update["repair_turns"] = []
        update["refused_lines"] = []
    return update


def route_objections(replan_node: str):
    def route(state: StepState) -> str:
        if state.get("end_reason"):
            return END
        last = state["round"] - 1
        if state.get("fixed_round") == last:  # the actors' fixes were applied: the plan stands
            return END
        raised = any(o.round == last for o in state.get("objections", []))
        return replan_node if raised else END

    return route


def add_plan_confirmation(graph: StateGraph, author: str, *, gated: bool) -> None:
    """Wire what both coordinators do with a plan: every answer of ``author`` (LLaMAC's assessor, HMAS-2's
    planner) goes to the syntax check (refused: the author repairs it); an accepted plan goes to its
    actors (``Send``, through the rule gate when ``gated``); the actors fan in, and any objection sends the
    plan back to the author for revision, within the round limit."""
    graph.add_node(SYNTAX_CHECK, syntax_check)
    graph.add_node(ACTOR, actor)
    graph.add_node(GATHER, gather_objections)
    graph.add_edge(author, SYNTAX_CHECK)
    graph.add_conditional_edges(SYNTAX_CHECK, route_checked_plan(author, gated=gated), [author, ACTOR, END])
    graph.add_edge(ACTOR, GATHER)
    graph.add_conditional_edges(GATHER, route_objections(author), [author, END])
