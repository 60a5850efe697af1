"""The assessor: scrutinises the critics' plans (veracity), balances them (belief correction), issues one.

The follow-ups it gets within a step (a refused plan, the actors' objections) are in ``feedback.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

from graphs.prompts.shared import PLAN_FORMAT
from graphs.state import Suggestion


def instruction(suggestions: Sequence[Suggestion]) -> str:
    # sorted: concurrent critics finish in any order, and the prompt must not depend on it
    shown = (
        "\n".join(f"{s.label}: {(s.shown or s.text).strip()}" for s in sorted(suggestions, key=lambda s: s.label))
        or "(none)"
    )
    return (
        "You are the assessor. Two critics suggested plans:\n"
        f"{shown}\n"
        "Check every line against the state and the doable lists and drop what is wrong or invented; "
        "then combine the far-sighted and the immediate gain into one joint plan. " + PLAN_FORMAT
    )
