"""The assessor: scrutinises the critics' plans (veracity), balances them (belief correction), issues one.

The same module words the two follow-ups the assessor (or the HMAS-2 planner) gets within a step: a
refused plan (syntax check) and the actors' objections.
"""

from __future__ import annotations

from collections.abc import Sequence

from graphs.prompts.shared import PLAN_FORMAT
from graphs.state import Objection, Suggestion
from tasks.base import PlanError


def instruction(suggestions: Sequence[Suggestion]) -> str:
    # sorted: concurrent critics finish in any order, and the prompt must not depend on it
    shown = (
        "\n".join(f"{s.label}: {s.text.strip()}" for s in sorted(suggestions, key=lambda s: s.label))
        or "(none)"
    )
    return (
        "You are the assessor. Two critics suggested plans:\n"
        f"{shown}\n"
        "Check every line against the state and the doable lists and drop what is wrong or invented; "
        "then combine the far-sighted and the immediate gain into one joint plan. " + PLAN_FORMAT
    )


def repair(errors: Sequence[PlanError]) -> str:
    """Internal feedback of the syntax check: the typed errors, one per line."""
    lines = "\n".join(f"- {e.message()}" for e in errors)
    return f"That plan was refused:\n{lines}\nAnswer again with the whole corrected plan. " + PLAN_FORMAT


def revise(objections: Sequence[Objection]) -> str:
    """External feedback of plan confirmation: the actors' objections as ``Agent: text``."""
    lines = "\n".join(o.line() for o in objections)
    return f"Agents objected to the plan:\n{lines}\nRevise it and answer with the whole plan. " + PLAN_FORMAT
