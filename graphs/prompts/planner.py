"""The HMAS-2 central planner: one call issues the plan (no critics); follow-ups as the assessor's."""

from __future__ import annotations

from graphs.prompts.shared import PLAN_FORMAT

INSTRUCTION = (
    "You are the central planner. Issue the joint plan for this step: move every agent that can make "
    "progress towards the goal. " + PLAN_FORMAT
)
