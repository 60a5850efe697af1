"""Actors confirm or object to their own line of the plan (LLaMAC actors and HMAS-2 agents).

A LLaMAC actor is asked only when its rule gate finds the line suspicious, and is told why; an HMAS-2
agent is always asked and sees the whole plan. Both answer "I Agree" or one objection.
"""

from __future__ import annotations

import re

AGREE = "I Agree"
_AGREE_RE = re.compile(r"^\W*i\s+agree\b", re.IGNORECASE)
_BUT_RE = re.compile(r"\b(but|however|instead)\b", re.IGNORECASE)


def llamac_actor(agent: str, view: str, reason: str) -> str:
    return (
        f"You are {agent}, checking your own line of the central plan.\n{view.strip()}\n"
        f"Your rule check doubts it: {reason}\n"
        f'If the line is right, answer exactly "{AGREE}". Otherwise answer in one sentence what is '
        "wrong and which doable action you would take instead."
    )


def hmas2_agent(agent: str, view: str, plan: str) -> str:
    """``plan``: the whole plan as the task writes plans (JSON of action strings, or a compact grid's)."""
    return (
        f"You are {agent}. The central planner's whole plan: {plan}\n{view.strip()}\n"
        f'If your part of the plan is right, answer exactly "{AGREE}". Otherwise answer in one sentence '
        "what is wrong and which doable action you would take instead."
    )


def agrees(answer: str) -> bool:
    """Agreement: the answer starts with "I Agree" (any case or quoting) and takes nothing back.

    The authors' Easy code demanded the exact string and Hard a substring. Small models decorate ("I Agree.
    The box gets closer."), which we accept; "I agree, but ..." carries an objection, which we pass on.
    """
    return bool(_AGREE_RE.match(answer)) and not _BUT_RE.search(answer)
