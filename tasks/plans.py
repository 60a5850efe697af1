"""Reading plans out of LLM answers: the JSON object, then the grid's moves or one whole number per agent.

Models wrap plans in code fences, lead with prose, use single quotes or leave trailing commas; the
authors' ``re.search(r'{.*}')`` + ``json.loads`` turns each of those into a crash or a silent
re-use of the previous plan. Here every such answer yields either a ``dict`` or a typed
``PlanError`` a coordinator can feed back and count, never an exception.

The grid half parses coordinates as whole numbers (multi-digit, optionally decimal), so
``Agent[10, 3]``, ``Agent[0.5, 1.5]``, ``square[10,11]``, ``position(1.0, 2.0)`` and
``position[1, 2]`` all read correctly (the authors' ``\\d`` regex breaks at index 10). The
allocation and matrix tasks share ``parse_integer_plan``: one whole number per ``Agent[i]``.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tasks.base import AgentId, Plan, PlanError, PlanErrorKind

_FENCE = re.compile(r"```[A-Za-z0-9_-]*\s*\n?(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


# ------------------------------------------------------------------------------- JSON objects
def _balanced_objects(text: str) -> list[str]:
    """Every top-level ``{...}`` span, brace-balanced, ignoring braces inside quoted strings."""
    spans: list[str] = []
    depth, start, quote, escaped = 0, -1, "", False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
            continue
        if ch in "\"'" and depth > 0:
            # An apostrophe inside prose ("don't") must not open a string: only inside an object.
            quote = ch
        elif ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                spans.append(text[start : i + 1])
    return spans


def _load(candidate: str) -> Any:
    """Strict JSON first, then the unambiguous repairs: trailing commas, Python-literal quoting."""
    for attempt in (candidate, _TRAILING_COMMA.sub(r"\1", candidate)):
        try:
            return json.loads(attempt)
        except ValueError:
            pass
    try:
        return ast.literal_eval(_TRAILING_COMMA.sub(r"\1", candidate))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def extract_json_object(text: str) -> dict[str, Any] | PlanError:
    """The first JSON object in ``text`` (fenced blocks first), or a ``not_json`` PlanError.

    Tolerated: code fences, prose before/after, single quotes, trailing commas. A JSON value that
    is not an object (a list, a string) is ``not_json`` too: every plan in this project is an
    object keyed by agent.
    """
    if not isinstance(text, str) or not text.strip():
        return PlanError(PlanErrorKind.NOT_JSON, "the answer is empty; reply with one JSON object")
    blocks = [b for b in _FENCE.findall(text) if b.strip()]
    for source in [*blocks, text]:
        for span in _balanced_objects(source):
            value = _load(span)
            if isinstance(value, dict):
                return {str(k): v for k, v in value.items()}
    if "{" not in text:
        detail = "no JSON object found; reply with one JSON object like {\"Agent[0, 0]\": \"move(...)\"}"
    else:
        detail = "the JSON object could not be read (check quotes, commas and braces)"
    return PlanError(PlanErrorKind.NOT_JSON, detail)


# ------------------------------------------------------------------------------ grid actions
_MOVE = re.compile(r"^\s*move\s*\(\s*['\"]?\s*((?:box|target)_[A-Za-z]+)\s*['\"]?\s*,\s*(.+?)\s*\)\s*\.?\s*$",
                   re.DOTALL)
_TARGET = re.compile(r"^['\"]?\s*(target_[A-Za-z]+)\s*['\"]?$")
_PLACE = re.compile(r"^['\"]?\s*(square|position)\s*[\[(]\s*(.*?)\s*[\])]\s*['\"]?$")


@dataclass(frozen=True)
class GridMove:
    """One grid action read tolerantly: the item, then either a target name or a place."""

    item: str
    target: str | None = None
    place_word: str | None = None  # "square" or "position" as written
    place: tuple[float, ...] | None = None


def numbers(text: str) -> tuple[float, ...]:
    """All numbers in ``text`` as whole tokens (``10`` is ten, ``0.5`` is a half)."""
    return tuple(float(n) for n in NUMBER.findall(text))


def parse_agent_coords(key: str) -> tuple[float, float] | None:
    """The two coordinates in an agent key (``Agent[10, 3]``, ``Agent[0.5, 1.5]``, ``agent_0_0``)."""
    nums = numbers(key) if isinstance(key, str) else ()
    return (nums[0], nums[1]) if len(nums) == 2 else None


def parse_grid_move(value: str) -> GridMove | None:
    """Read ``move(box_red, square[1, 2])`` / ``position(1.0, 2.0)`` / ``target_red`` tolerantly."""
    if not isinstance(value, str):
        return None
    m = _MOVE.match(value.strip().strip("'\"`"))
    if not m:
        return None
    item, rest = m.group(1), m.group(2).strip()
    t = _TARGET.match(rest)
    if t:
        return GridMove(item=item, target=t.group(1))
    p = _PLACE.match(rest)
    if p:
        coords = numbers(p.group(2))
        if len(coords) == 2:
            return GridMove(item=item, place_word=p.group(1), place=coords)
    return None


def format_number(x: float) -> str:
    """``2`` for whole numbers, ``0.5`` otherwise: how Easy coordinates are written."""
    return str(int(x)) if float(x).is_integer() else str(x)


# --------------------------------------------------------------------------- integer plans
def parse_integer_plan(text: str, agents: Sequence[AgentId]) -> Plan | PlanError:
    """Read ``{"Agent[i]": <whole number>}`` tolerantly (fences, prose, ``"3"``, ``3.0``, ``Agent[ 3 ]``).

    Shared by the tasks whose action is one integer per indexed agent (allocation, matrix games).
    Range checks are ``validate_plan``'s job, so the error can name the allowed range.
    """
    found = extract_json_object(text)
    if isinstance(found, PlanError):
        return found
    assignments: list[tuple[AgentId, str]] = []
    for key, value in found.items():
        index = numbers(key)
        agent = key
        if key not in agents and len(index) == 1 and index[0].is_integer():
            agent = f"Agent[{int(index[0])}]"
        if agent not in agents:
            return PlanError(PlanErrorKind.UNKNOWN_AGENT, f"unknown agent {key!r}", agent=key)
        text_value = str(value).strip() if isinstance(value, int | float | str) and not isinstance(value, bool) else ""
        if not NUMBER.fullmatch(text_value) or not float(text_value).is_integer():
            return PlanError(PlanErrorKind.MALFORMED_ACTION, f"expected a whole number, got {value!r}", agent)
        assignments.append((agent, str(int(float(text_value)))))
    return Plan(tuple(assignments))


def every_agent_schema(agents: Sequence[str], value: dict[str, Any]) -> dict[str, Any]:
    """JSON schema of a plan that names every agent once, each with a value of ``value``'s schema (the
    allocation amounts, the matrix games' choices)."""
    return {
        "type": "object",
        "properties": dict.fromkeys(agents, value),
        "required": list(agents),
        "additionalProperties": False,
    }


def every_agent_chooses(agents: Sequence[str], n_choices: int, done: bool) -> dict[str, list[str]]:
    """The doable lists of a task where every agent picks one of ``0..n_choices-1`` (nothing once done)."""
    choices = [] if done else [str(a) for a in range(n_choices)]
    return {agent: list(choices) for agent in agents}
