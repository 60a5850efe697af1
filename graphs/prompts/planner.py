"""The HMAS-2 central planner: one call issues the plan (no critics); follow-ups as the assessor's."""

from __future__ import annotations

from graphs.prompts.shared import PLAN_FORMAT

INSTRUCTION = (
    "You are the central planner. Issue the joint plan for this step: give every agent that can "
    "contribute to the goal an action. " + PLAN_FORMAT
)
