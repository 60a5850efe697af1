"""The TripletCritic's two critics: same goal, opposite preferences (exploration vs exploitation).

``split`` (default) asks each critic in its own call, run concurrently; ``merged`` is the authors' single
call that asks for both plans at once.
"""

from __future__ import annotations

from typing import Any

from graphs.prompts.shared import PLAN_FORMAT

EXPLORATION = (
    "You are the exploration critic. Propose a far-sighted joint plan: prefer moves that set up the "
    "fastest completion over the next steps, even if they gain nothing right now. " + PLAN_FORMAT
)

EXPLOITATION = (
    "You are the exploitation critic. Propose a joint plan for the largest immediate gain: finish "
    "whatever can be finished now and move every agent that can make progress. " + PLAN_FORMAT
)

PAIR = (
    'You are the critic. Propose two joint plans: "far_sighted" favours completion over the next steps, '
    '"current" the largest immediate gain. Each is a JSON object mapping agent to action, using only '
    "actions from each agent's doable list, at most one per agent. Answer with "
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
