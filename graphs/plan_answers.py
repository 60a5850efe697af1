"""How a plan is written in an answer: the task's action strings (the paper's), or numbers.

With ``answer_format="numbers"`` (ours) each doable action is shown with its number in the prompt's
doable lists (``1 move(box_red, square[0, 1]) | 2 ...``) and the plan's schema asks for that number per
agent, so an answer is ``{"Agent[0, 1]": 2}`` instead of the whole action string: about a third of the
output tokens on the grids, where generating a token costs more than reading one. The numbers are turned
back into the task's action strings before the task's own parser and syntax check see the plan, so the
check, the actors, the memory and the results are the same in both formats. Tasks whose plans are
numbers already (allocation, the matrix games) are unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from graphs.prompts.shared import ACTION_VALUES, AGENT_KEYS, NUMBER_VALUES, PLAN_FORMAT, SQUARE_KEYS
from tasks.base import Task
from tasks.plans import extract_json_object


def numbered(task: Task) -> bool:
    """The task writes actions as strings an answer can replace by numbers (its schema names no agents)."""
    return not task.plan_json_schema().get("properties")


def key_of(task: Task, agent: str) -> str:
    """The key a plan answer writes for ``agent``: its name, or what the task's notation calls it (a compact
    grid: its square, ``[0,1]``, a third of ``Agent[0, 1]``'s tokens)."""
    agent_key = getattr(task, "agent_key", None)
    return agent_key(agent) if agent_key is not None else agent


def agent_of(task: Task, key: str) -> str:
    """The agent a plan answer's key names (``key_of`` the other way); an unknown key is returned as it is,
    so the syntax check names it."""
    agent_of_key = getattr(task, "agent_of_key", None)
    return agent_of_key(key) if agent_of_key is not None else key


def schema(task: Task, state: Any, refused: Sequence[tuple[str, str]] = (), numbers: bool = False) -> dict[str, Any]:
    """The plan schema of this step: every agent that can act, with the doable actions it may name (their
    numbers with ``numbers``); ``refused`` lines, those the syntax check blamed, are left out."""
    base = task.plan_json_schema()
    if base.get("properties"):
        return base
    blocked = set(refused)
    properties = {}
    for agent, actions in task.doable(state).items():
        allowed = [(i, a) for i, a in enumerate(actions, start=1) if (agent, a) not in blocked]
        if allowed:
            if numbers:
                properties[key_of(task, agent)] = {"type": "integer", "enum": [i for i, _ in allowed]}
            else:
                properties[key_of(task, agent)] = {"type": "string", "enum": [a for _, a in allowed]}
    if numbers or keyed_by_squares(task):
        # the task's description names action strings and agent names; an endpoint that shows the schema to the
        # model (OpenAI's structured outputs) must read the keys and values this answer really takes
        base = {**base, "description": worded(PLAN_FORMAT, numbers, task)}
    return {**base, "properties": properties, "additionalProperties": False}


def as_actions(task: Task, state: Any, answer: str) -> str:
    """A numbers answer rewritten with the task's action strings (a JSON object), for the task's parser.
    Anything that is not such an answer is returned as it is, so the parser reports it as it would."""
    obj = extract_json_object(answer)
    if not isinstance(obj, dict):
        return answer
    doable = task.doable(state)
    rewritten: dict[str, Any] = {}
    for key, value in obj.items():
        agent = agent_of(task, key)
        actions = doable.get(agent, [])
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= len(actions):
            rewritten[agent] = actions[value - 1]
        else:
            rewritten[agent] = value  # not a number of this agent: the syntax check names it
    return json.dumps(rewritten)


def keyed_by_squares(task: Task) -> bool:
    """Whether the task's plan answers key each agent by its square (``GridEasy.plan_keys``); other tasks key
    by agent name."""
    return getattr(task, "plan_keys", "agents") == "squares"


def as_numbers(task: Task, state: Any, plan: dict[str, str]) -> dict[str, Any]:
    """A plan of action strings as a numbers answer names it (``as_actions`` the other way); a line that is
    no doable action of its agent stays as written."""
    doable = task.doable(state)
    return {key_of(task, agent): doable[agent].index(action) + 1 if action in doable.get(agent, []) else action
            for agent, action in plan.items()}


def worded(text: str, numbers: bool, task: Task | None = None) -> str:
    """A plan request's text as the answer format asks (its one wording of plan values swapped), with the
    plan's keys as ``task`` writes them (its one wording of keys swapped, for a task that keys by squares)."""
    if task is not None and keyed_by_squares(task):
        text = text.replace(AGENT_KEYS, SQUARE_KEYS)
    return text.replace(ACTION_VALUES, NUMBER_VALUES) if numbers else text
