"""The feedback prompts: what the plan's author (LLaMAC's assessor, HMAS-2's planner) is told within a step.

Internal feedback: the syntax check refused the plan (its typed errors). External feedback: the actors
objected (their objections). Each counts towards the paper's Feedback metric (``graphs.state.feedback``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from graphs.prompts.shared import PLAN_FORMAT
from graphs.state import Objection
from tasks.base import PlanError


def repair(errors: Sequence[PlanError]) -> str:
    """Internal feedback of the syntax check: the typed errors, one per line."""
    lines = "\n".join(f"- {e.message()}" for e in errors)
    return f"That plan was refused:\n{lines}\nAnswer again with the whole corrected plan. " + PLAN_FORMAT


def revise(objections: Sequence[Objection], fix_lines: Mapping[str, Any] | None = None,
           name: Callable[[str], str] = str) -> str:
    """External feedback of plan confirmation: the actors' objections as ``Agent: text``.

    ``fix_lines``: the rule fixes as the plan lines an answer writes (``"Agent[1, 1]": 4``), for a plan
    answered with numbers: told only ``take 4 orange match instead``, Qwen 1.5B kept its old lines;
    ``name``: how the plan's keys name an agent (``graphs.plan_answers.key_of``)."""
    lines = "\n".join(o.line(name) for o in objections)
    fixes = ""
    if fix_lines:
        fixes = "Their fixes as plan lines: " + ", ".join(f"{json.dumps(a)}: {json.dumps(v)}" for a, v in fix_lines.items()) + "\n"
    return f"Agents objected to the plan:\n{lines}\n{fixes}Revise it and answer with the whole plan. " + PLAN_FORMAT
