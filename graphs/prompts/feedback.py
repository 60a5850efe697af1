"""The feedback prompts: what the plan's author (LLaMAC's assessor, HMAS-2's planner) is told within a step.

Internal feedback: the syntax check refused the plan (its typed errors). External feedback: the actors
objected (their objections). Each counts towards the paper's Feedback metric (``graphs.state.feedback``).
"""

from __future__ import annotations

from collections.abc import Sequence

from graphs.prompts.shared import PLAN_FORMAT
from graphs.state import Objection
from tasks.base import PlanError


def repair(errors: Sequence[PlanError]) -> str:
    """Internal feedback of the syntax check: the typed errors, one per line."""
    lines = "\n".join(f"- {e.message()}" for e in errors)
    return f"That plan was refused:\n{lines}\nAnswer again with the whole corrected plan. " + PLAN_FORMAT


def revise(objections: Sequence[Objection]) -> str:
    """External feedback of plan confirmation: the actors' objections as ``Agent: text``."""
    lines = "\n".join(o.line() for o in objections)
    return f"Agents objected to the plan:\n{lines}\nRevise it and answer with the whole plan. " + PLAN_FORMAT
