"""The TripletCritic's two critics: same goal, opposite preferences (exploration vs exploitation).

``split`` (default) asks each critic in its own call, run concurrently; ``merged`` is the authors' single
call that asks for both plans at once.
"""

from __future__ import annotations

from typing import Any

from graphs.prompts.shared import ACTION_VALUES, AGENT_KEYS, PLAN_FORMAT

EXPLORATION = (
    "You are the exploration critic. Propose a far-sighted joint plan: prefer actions that lead to the "
    "goal fastest over the next steps, or that find out what the history does not show yet, even if they "
    "gain nothing right now. " + PLAN_FORMAT
)

EXPLOITATION = (
    "You are the exploitation critic. Propose the joint plan with the largest gain this step: take every "
    "action that completes part of the goal now, and give every agent that can contribute an action. "
    + PLAN_FORMAT
)

PAIR = (
    'You are the critic. Propose two joint plans: "far_sighted" leads to the goal fastest over the next '
    f'steps, "current" has the largest gain this step. Each is a JSON object: {AGENT_KEYS}, {ACTION_VALUES}. Answer with '
    '{"far_sighted": {...}, "current": {...}}.'
)

PAIR_KEYS = (("far_sighted", "far-sighted"), ("current", "current gain"))
"""Keys of the merged answer and how the assessor is told about each."""


def pair_schema(plan_schema: dict[str, Any]) -> dict[str, Any]:
    """The merged call's structured output: two plans under fixed keys."""
    return {
        "type": "object",
        "properties": {key: plan_schema for key, _ in PAIR_KEYS},
        "required": [key for key, _ in PAIR_KEYS],
    }
