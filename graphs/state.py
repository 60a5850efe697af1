"""Typed state of one coordinator step (LLaMAC or HMAS-2) and the reducers of its fan-ins.

One graph run is one environment step: it starts from the step's state and memory and ends with an
accepted plan (or an end reason). Concurrent branches (the two critics, the actors) write to the same
keys, so those keys have reducers: lists append, counters add, and the first end reason wins.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypedDict

from llamac.runtime.contract import CallRecord, ChatMessage
from llamac.runtime.counters import NAMES as COUNTERS
from llamac.runtime.counters import add_counters
from tasks.base import WITHDRAW, Plan, PlanError
from tasks.coordinator import Decision, StepMemory


def first_reason(left: str | None, right: str | None) -> str | None:
    """Fan-in of end reasons: several actors may hit the exhausted budget together; one reason is kept."""
    return left if left is not None else right


def call_counters(record: CallRecord) -> dict[str, float]:
    """What one metered call adds to the step's counters."""
    return {
        "llm_calls": 1,
        "prompt_tokens": record.prompt_tokens,
        "completion_tokens": record.completion_tokens,
        "cached_tokens": record.cached_tokens,
        "retries": record.retries,
        "usage_estimated": int(record.usage_estimated),
    }


@dataclass(frozen=True)
class Suggestion:
    """A critic's proposal handed to the assessor (``label`` says which preference it follows)."""

    label: str
    text: str
    shown: str | None = None
    """How the assessor is shown the plan when the task's notation numbers the moves (a compact grid: the
    numbers answer it must write, ``{"Agent[0, 1]": 2}``); ``None``: ``text`` as it is."""


@dataclass(frozen=True)
class Objection:
    """One actor's answer against its line of the plan, in a given confirmation round."""

    agent: str
    text: str
    round: int
    source: Literal["llm", "rule"]
    fix: str | None = None
    """The action the actor's rule gate would take instead (``actor_gate="apply"`` may take it)."""

    def line(self, name: Callable[[str], str] = str) -> str:
        """``Agent: text``, the agent named by ``name`` (as a plan's keys name it: ``plan_answers.key_of``)."""
        return f"{name(self.agent)}: {self.text}"


class StepState(TypedDict, total=False):
    """The graph state of one coordinator step."""

    step: int
    env_state: Any
    history: Sequence[StepMemory]
    prefix: str
    """The shared prompt prefix (rules, memory, state, doable actions): byte-identical in every call."""
    suggestions: Annotated[list[Suggestion], operator.add]
    base_messages: list[ChatMessage]
    """The conversation the next plan request extends (grows by answer + objections per revision)."""
    repair_turns: list[ChatMessage]
    """Refused answers and their errors since the last accepted plan (the syntax check's feedback)."""
    refused_lines: list[tuple[str, str]]
    """(agent, action) lines the syntax check blamed since the last accepted plan: left out of re-plans."""
    plan_answer: str
    plan: Plan | None
    plan_errors: tuple[PlanError, ...]
    repairs: int
    """Re-prompts spent on the current plan (reset when objections ask for a revision)."""
    round: int
    """Confirmation rounds done this step."""
    objections: Annotated[list[Objection], operator.add]
    fixed_round: int
    """The confirmation round whose objections were all rule fixes, applied to the plan (``apply``)."""
    counters: Annotated[dict[str, float], add_counters]
    end_reason: Annotated[str | None, first_reason]


class ActorInput(TypedDict):
    """What ``Send`` hands one actor: its own name plus the plan it must confirm."""

    agent: str
    round: int
    gated: bool
    plan: Plan
    env_state: Any
    prefix: str
    step: int


def step_of(history: Sequence[StepMemory]) -> int:
    return history[-1].t + 1 if history else 0


def feedback(counters: Mapping[str, float]) -> float:
    """The paper's Feedback of a step, defined here once: +1 per objection round (external feedback), +1
    when the step's first plan needed syntax repair (internal feedback; later repairs are not counted)."""
    return counters.get("objection_rounds", 0.0) + counters.get("first_plan_repairs", 0.0)


def decision_from(final: StepState) -> Decision:
    """The step's answer to the episode loop: the accepted plan, or an end reason and no action."""
    counters = {key: 0.0 for key in COUNTERS}
    counters.update(add_counters({}, final.get("counters")))
    counters["feedback"] = feedback(counters)
    end_reason = final.get("end_reason")
    plan = final.get("plan")
    joint = plan.as_dict() if plan is not None and end_reason is None else {}
    counters["plan_lines"] = float(len(joint))  # executed lines: gate_fixes / plan_lines is the rules' share
    notes = {
        "plan_text": final.get("plan_answer", ""),
        "suggestions": [s.text for s in final.get("suggestions", [])],
        "objections": [o.line() for o in final.get("objections", [])],
        "applied_fixes": [f"{o.agent}: {o.fix}" for o in final.get("objections", [])
                          if o.fix is not None and o.round == final.get("fixed_round") and joint.get(o.agent) == o.fix],
        "withdrawn_lines": [o.agent for o in final.get("objections", [])
                            if o.fix == WITHDRAW and o.round == final.get("fixed_round") and o.agent not in joint],
        "plan_errors": [e.message() for e in final.get("plan_errors", ())],
    }
    return Decision(joint_action=joint, counters=counters, end_reason=end_reason, notes=notes)
